"""A constant-velocity Kalman filter for boxes, vectorised over tracks.

The state of a track is 8 numbers: 4 box quantities and their velocities (per frame). ByteTrack measures
x, y (centre), a (width / height) and h; BoT-SORT measures x, y, w, h. Noise is proportional to the box's
size (1/20 of it for positions, 1/160 for velocities), as in both papers, so a large box may move more
in pixels than a small one; ByteTrack's aspect ratio gets small constant noise instead.

Shapes: ``mean`` (N, 8), ``covariance`` (N, 8, 8), ``measurement`` (N, 4); N tracks at once (N may be 0).
"""

from __future__ import annotations

import numpy as np

POSITION_WEIGHT = 1 / 20
VELOCITY_WEIGHT = 1 / 160
_TRANSITION = np.eye(8) + np.eye(8, k=4)  # x' = x + v (one frame)


class KalmanFilter:
    """``aspect=True``: x, y, a, h (ByteTrack); ``False``: x, y, w, h (BoT-SORT)."""

    def __init__(self, aspect: bool = True):
        self.aspect = aspect
        # std = size x weight + constant, per box quantity: the aspect ratio's is a constant (its weight 0)
        free = np.array([1.0, 1, 0, 1]) if aspect else np.ones(4)
        fixed = np.array([0, 0, 1.0, 0]) if aspect else np.zeros(4)
        self._initial = (np.r_[2 * POSITION_WEIGHT * free, 10 * VELOCITY_WEIGHT * free], np.r_[1e-2 * fixed, 1e-5 * fixed])
        self._process = (np.r_[POSITION_WEIGHT * free, VELOCITY_WEIGHT * free], np.r_[1e-2 * fixed, 1e-5 * fixed])
        self._measured = (POSITION_WEIGHT * free, 1e-1 * fixed)

    def _sizes(self, boxes: np.ndarray, repeat: int = 1) -> np.ndarray:
        """(N, 4 x repeat) the size each quantity's noise is proportional to: h (xyah) or w, h, w, h (xywh)."""
        return boxes[:, [3, 3, 3, 3] * repeat] if self.aspect else boxes[:, [2, 3, 2, 3] * repeat]

    def initiate(self, measurement: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """A new track per measurement (N, 4): the box, zero velocity, uncertain velocity."""
        measurement = np.asarray(measurement, np.float64).reshape(-1, 4)
        weight, constant = self._initial
        std = self._sizes(measurement, 2) * weight + constant
        mean = np.concatenate((measurement, np.zeros_like(measurement)), 1)
        return mean, _diagonal(std**2)

    def predict(self, mean: np.ndarray, covariance: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One frame ahead: (N, 8), (N, 8, 8); the process noise from each box's current size."""
        weight, constant = self._process
        noise = (self._sizes(mean, 2) * weight + constant) ** 2
        mean = mean @ _TRANSITION.T
        covariance = _TRANSITION @ covariance @ _TRANSITION.T + _diagonal(noise)
        return mean, covariance

    def project(self, mean: np.ndarray, covariance: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The state as a measurement would see it: (N, 4) and its covariance (N, 4, 4) with measurement noise."""
        weight, constant = self._measured
        noise = (self._sizes(mean) * weight + constant) ** 2
        return mean[:, :4], covariance[:, :4, :4] + _diagonal(noise)
    def update(self, mean: np.ndarray, covariance: np.ndarray, measurement: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Correct (N, 8), (N, 8, 8) with measurements (N, 4)."""
        projected, innovation_cov = self.project(mean, covariance)
        cross = covariance[:, :, :4]  # P H^T: (N, 8, 4)
        variances = np.diagonal(innovation_cov, axis1=1, axis2=2)  # (N, 4)
        if np.count_nonzero(innovation_cov) == np.count_nonzero(variances):
            # S diagonal (the four box quantities uncorrelated, as they stay unless a camera warp mixed them):
            # the gain K = P H^T S^-1 is a division
            gain = cross / variances[:, None, :]
        else:  # through a solve with the symmetric S rather than an inverse
            gain = np.linalg.solve(innovation_cov, cross.transpose(0, 2, 1)).transpose(0, 2, 1)
        innovation = np.asarray(measurement, np.float64).reshape(-1, 4) - projected
        mean = mean + np.einsum("nij,nj->ni", gain, innovation)
        covariance = covariance - gain @ innovation_cov @ gain.transpose(0, 2, 1)
        return mean, covariance


def _diagonal(values: np.ndarray) -> np.ndarray:
    """(N, K) -> (N, K, K) diagonal matrices."""
    return values[:, :, None] * np.eye(values.shape[-1])
