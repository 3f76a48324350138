"""``Result.obb``: oriented boxes of one image, as the reference's ``OBB`` results."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...utils.arrays import Values, values
from ...results.per_box import PerBox


@dataclass
class OrientedBoxes(PerBox):
    """xywhr: (N, 5) float32 centre x, centre y, width, height in original-image pixels and the angle in radians
    in [-pi/4, 3pi/4), width the longer side (the reference's convention; see ``rotated.regularize``);
    confidence (N,); class_id (N,) int64; orig_shape (h, w); track_id (N,) int64 when tracking, else None (the
    rest as ``per_box.PerBox``). ``data`` is (N, 7) cx, cy, w, h, angle, conf, cls, or (N, 8) with the id before
    conf. Boxes are not clipped: a turned box may reach past the image's edge."""

    GEOMETRY = ("xywhr", 5)

    xywhr: np.ndarray
    confidence: np.ndarray
    class_id: np.ndarray
    orig_shape: tuple[int, int]
    track_id: np.ndarray | None = None

    def __post_init__(self):
        self._check()

    @property
    def xyxyxyxy(self) -> Values:
        """(N, 4, 2) corners in pixels, in the reference's order."""
        from ...runtime.rotated import corners

        return values(corners(self.xywhr))

    @property
    def xyxyxyxyn(self) -> Values:
        """(N, 4, 2) corners divided by the image width and height."""
        h, w = self.orig_shape
        return values(self.xyxyxyxy / np.array([w, h], np.float32))

    @property
    def xyxy(self) -> Values:
        """(N, 4) the axis-aligned box enclosing each oriented box (not clipped)."""
        points = self.xyxyxyxy
        return values(np.concatenate((points.min(1), points.max(1)), 1))
