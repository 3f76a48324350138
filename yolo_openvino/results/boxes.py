"""Boxes of one image: ``Detections`` (``Result.boxes``), and ``PerBox``, what it shares with a task's oriented boxes
(``Result.obb``): N boxes, each with a score, a class and, when tracking, an id; checked once, selected alike, with
the reference's attribute names."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..utils.arrays import Values, checked, values


class PerBox:
    """A mixin for a dataclass with a geometry field, ``confidence``, ``class_id``, ``orig_shape`` and ``track_id``.

    ``GEOMETRY``: (the geometry field's name, its columns): ("xyxy", 4) or ("xywhr", 5). Arrays of another shape are
    refused, never reshaped (2 boxes with 3 scores is an error, not 3 boxes). Iterating yields one-box copies;
    ``len()`` counts boxes; a boolean mask or indices select boxes, with their ids.
    """

    GEOMETRY: tuple[str, int]

    def _check(self) -> None:
        name, columns = self.GEOMETRY
        owner = type(self).__name__
        geometry = values(checked(getattr(self, name), np.float32, (None, columns), name, owner))
        setattr(self, name, geometry)
        n = len(geometry)
        self.confidence = values(checked(self.confidence, np.float32, (n,), "confidence", owner))
        self.class_id = values(checked(self.class_id, np.int64, (n,), "class_id", owner))
        if self.track_id is not None:
            self.track_id = values(checked(self.track_id, np.int64, (n,), "track_id", owner))
        if self.orig_shape is not None:
            self.orig_shape = (int(self.orig_shape[0]), int(self.orig_shape[1]))

    @property
    def _geometry(self) -> np.ndarray:
        return getattr(self, self.GEOMETRY[0])

    def __len__(self) -> int:
        return len(self._geometry)

    def __getitem__(self, index):
        index = np.atleast_1d(np.arange(len(self))[index])
        return replace(self, **{self.GEOMETRY[0]: self._geometry[index]}, confidence=self.confidence[index],
                       class_id=self.class_id[index],
                       track_id=None if self.track_id is None else self.track_id[index])

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    # -- the reference's attribute names ---------------------------------------------------------------------------
    @property
    def conf(self) -> Values:
        """(N,) scores."""
        return self.confidence

    @property
    def cls(self) -> Values:
        """(N,) class ids as float32, as the reference gives them (``int(box.cls)`` works on one box)."""
        return values(self.class_id.astype(np.float32))

    @property
    def id(self) -> Values | None:
        """(N,) int64 track ids when tracking (``model.track``), else None."""
        return self.track_id

    @property
    def is_track(self) -> bool:
        return self.track_id is not None

    @property
    def data(self) -> Values:
        """(N, G + 2) rows of the geometry, conf, cls; when tracking (N, G + 3): the geometry, id, conf, cls."""
        ids = [] if self.track_id is None else [self.track_id[:, None].astype(np.float32)]
        return values(np.concatenate((self._geometry, *ids, self.confidence[:, None], self.cls[:, None]), 1))

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self), self.GEOMETRY[1] + (2 if self.track_id is None else 3))

    def cpu(self):
        """Already on the host (numpy): returns itself, so ``boxes.cpu().numpy()`` code runs unchanged."""
        return self

    def numpy(self):
        return self


@dataclass
class Detections(PerBox):
    """Boxes of one image, validated, with the attributes of Ultralytics' ``Results.boxes`` (``PerBox``).

    xyxy: (N, 4) float32 corners in original-image pixels; confidence: (N,) float32; class_id: (N,) int64;
    orig_shape: (h, w) of the image, for the normalised forms; track_id: (N,) int64 when tracking, else None.
    ``data`` is (N, 6) x1, y1, x2, y2, conf, cls, or (N, 7) with the id before conf. Class names are the Result's.
    """

    GEOMETRY = ("xyxy", 4)

    xyxy: np.ndarray
    confidence: np.ndarray
    class_id: np.ndarray
    orig_shape: tuple[int, int] | None = None
    track_id: np.ndarray | None = None

    def __post_init__(self):
        self._check()

    @classmethod
    def from_rows(cls, rows: np.ndarray, orig_shape: tuple[int, int] | None = None) -> "Detections":
        """From (N, 6) rows of x1, y1, x2, y2, score, class."""
        rows = checked(rows, np.float32, (None, 6), "rows")
        return cls(rows[:, :4], rows[:, 4], rows[:, 5].round().astype(np.int64), orig_shape)

    @property
    def xywh(self) -> Values:
        """(N, 4) centre x, centre y, width, height in pixels."""
        xy = (self.xyxy[:, :2] + self.xyxy[:, 2:]) / 2
        return values(np.concatenate((xy, self.xyxy[:, 2:] - self.xyxy[:, :2]), 1))

    @property
    def xyxyn(self) -> Values:
        """(N, 4) corners divided by the image width and height."""
        return values(self.xyxy / self._size())

    @property
    def xywhn(self) -> Values:
        """(N, 4) centre and size divided by the image width and height."""
        return values(self.xywh / self._size())

    def _size(self) -> np.ndarray:
        if self.orig_shape is None:
            raise ValueError("normalised boxes need the image size: these Detections have no orig_shape")
        h, w = self.orig_shape
        return np.array([w, h, w, h], dtype=np.float32)
