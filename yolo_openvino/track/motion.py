"""Camera-motion compensation: how the whole picture moved since the last frame, as a 2x3 affine warp.

Corners found in the previous frame (half size, grey) are followed into this one with OpenCV's pyramidal
Lucas-Kanade optical flow; a rotation + scale + shift fitted to them with RANSAC is the camera's motion
(moving objects are outliers to it). Tracks' predicted states are then warped by it, so a panning camera
does not look like every object moving at once.
"""

from __future__ import annotations

import logging

import numpy as np

LOGGER = logging.getLogger("yolo_openvino")
IDENTITY = np.eye(2, 3)
_CORNERS = dict(maxCorners=1000, qualityLevel=0.01, minDistance=1, blockSize=3, useHarrisDetector=False, k=0.04)


def small_grey(image: np.ndarray, downscale: int = 2) -> np.ndarray:
    """(H // downscale, W // downscale) uint8 grey of a BGR (H, W, 3) image: what the flow is computed on."""
    import cv2

    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    h, w = grey.shape[:2]
    return cv2.resize(grey, (w // downscale, h // downscale)) if downscale > 1 else grey


class SparseOpticalFlow:
    """Feed frames in order; :meth:`warp` returns each one's motion (2, 3) relative to the previous frame."""

    def __init__(self, downscale: int = 2):
        self.downscale = downscale
        self.previous: np.ndarray | None = None  # the last frame, small and grey
        self.corners: np.ndarray | None = None  # (K, 1, 2) float32 corners of it

    def reset(self) -> None:
        self.previous = self.corners = None

    def warp(self, image: np.ndarray) -> np.ndarray:
        """(2, 3) affine warp from the previous frame to ``image`` (BGR (H, W, 3)) in full-size pixels; identity for the
        first frame, a blank one, or where too few corners could be followed."""
        import cv2

        frame = small_grey(image, self.downscale)
        corners = cv2.goodFeaturesToTrack(frame, mask=None, **_CORNERS)
        warp = IDENTITY.copy()
        if self.previous is not None and self.corners is not None and self.previous.shape == frame.shape:
            followed, status, _ = cv2.calcOpticalFlowPyrLK(self.previous, frame, self.corners, None)
            good = status.reshape(-1).astype(bool)
            if good.sum() > 4:
                fitted, _ = cv2.estimateAffinePartial2D(self.corners[good], followed[good], method=cv2.RANSAC)
                if fitted is not None:
                    warp = fitted
                    warp[:, 2] *= self.downscale  # the shift back to full-size pixels
            else:
                LOGGER.debug("camera motion: %d corners followed, too few; assuming none", int(good.sum()))
        self.previous, self.corners = frame, corners
        return warp
