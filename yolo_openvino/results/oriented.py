"""``Result.obb``: oriented boxes of one image, as the reference's ``OBB`` results."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..utils.arrays import Values, checked, values


@dataclass
class OrientedBoxes:
    """xywhr: (N, 5) float32 centre x, centre y, width, height in original-image pixels and the angle in radians
    in [-pi/4, 3pi/4), width the longer side (the reference's convention; see ``rotated.regularize``); confidence (N,); class_id (N,) int64;
    orig_shape (h, w); track_id (N,) int64 when tracking, else None. Boxes are not clipped: a turned box may reach
    past the image's edge."""

    xywhr: np.ndarray
    confidence: np.ndarray
    class_id: np.ndarray
    orig_shape: tuple[int, int]
    track_id: np.ndarray | None = None

    def __post_init__(self):
        self.xywhr = values(checked(self.xywhr, np.float32, (None, 5), "xywhr", "OrientedBoxes"))
        n = len(self.xywhr)
        self.confidence = values(checked(self.confidence, np.float32, (n,), "confidence", "OrientedBoxes"))
        self.class_id = values(checked(self.class_id, np.int64, (n,), "class_id", "OrientedBoxes"))
        self.orig_shape = (int(self.orig_shape[0]), int(self.orig_shape[1]))
        if self.track_id is not None:
            self.track_id = values(checked(self.track_id, np.int64, (n,), "track_id", "OrientedBoxes"))

    def __len__(self) -> int:
        return len(self.xywhr)

    def __getitem__(self, index) -> "OrientedBoxes":
        index = np.atleast_1d(np.arange(len(self))[index])
        return OrientedBoxes(self.xywhr[index], self.confidence[index], self.class_id[index], self.orig_shape,
                             None if self.track_id is None else self.track_id[index])

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    conf = property(lambda self: self.confidence, doc="(N,) scores.")
    cls = property(lambda self: values(self.class_id.astype(np.float32)), doc="(N,) class ids as float32.")
    id = property(lambda self: self.track_id, doc="(N,) int64 track ids when tracking, else None.")
    is_track = property(lambda self: self.track_id is not None)

    @property
    def data(self) -> Values:
        """(N, 7) rows of cx, cy, w, h, angle, conf, cls; when tracking (N, 8): cx, cy, w, h, angle, id, conf, cls."""
        ids = [] if self.track_id is None else [self.track_id[:, None].astype(np.float32)]
        return values(np.concatenate((self.xywhr, *ids, self.confidence[:, None], self.cls[:, None]), 1))

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self), 7 if self.track_id is None else 8)

    @property
    def xyxyxyxy(self) -> Values:
        """(N, 4, 2) corners in pixels, in the reference's order."""
        from ..runtime.rotated import corners

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

    def cpu(self) -> "OrientedBoxes":
        return self

    def numpy(self) -> "OrientedBoxes":
        return self
