"""``Result.keypoints``: the keypoints of each detected object, as the reference's ``Keypoints``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...utils.arrays import Values, values

# Keypoints whose visibility is below this are reported at (0, 0), as the reference reports them: a point it
# believes hidden or outside the image has no position worth drawing.
VISIBLE = 0.5


@dataclass
class Keypoints:
    """data: (N, K, D) float32 in original-image pixels, D = 3 (x, y, visibility in [0, 1]) or 2 (x, y).

    As the reference, x and y of a keypoint whose visibility is below 0.5 are 0. ``orig_shape`` (h, w) gives
    the normalised forms. One-object views (``kpts[0]``) and boolean or index selections work as for boxes.
    """

    data: np.ndarray
    orig_shape: tuple[int, int]

    def __post_init__(self):
        data = np.array(self.data, np.float32)  # a copy: the hidden points are zeroed below
        if data.ndim != 3 or data.shape[2] not in (2, 3):
            raise ValueError(f"Keypoints: data has shape {data.shape}, expected (N, K, 2) or (N, K, 3)")
        if data.shape[2] == 3:
            data[..., :2][data[..., 2] < VISIBLE] = 0
        self.data = values(data)
        self.orig_shape = (int(self.orig_shape[0]), int(self.orig_shape[1]))

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index) -> "Keypoints":
        index = np.atleast_1d(np.arange(len(self))[index])
        return Keypoints(self.data[index], self.orig_shape)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def has_visible(self) -> bool:
        """True when the model gives a visibility per keypoint (kpt_shape [K, 3])."""
        return self.data.shape[2] == 3

    @property
    def xy(self) -> Values:
        """(N, K, 2) x, y in pixels."""
        return values(self.data[..., :2])

    @property
    def xyn(self) -> Values:
        """(N, K, 2) x, y divided by the image width and height."""
        h, w = self.orig_shape
        return values(self.data[..., :2] / np.array([w, h], np.float32))

    @property
    def conf(self) -> Values | None:
        """(N, K) visibilities in [0, 1], or None for a model without them."""
        return values(self.data[..., 2]) if self.has_visible else None

    def cpu(self) -> "Keypoints":
        return self

    def numpy(self) -> "Keypoints":
        return self
