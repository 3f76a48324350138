"""What ``Detections`` (``Result.boxes``) and ``OrientedBoxes`` (``Result.obb``) share: N boxes of one image, each
with a score, a class and, when tracking, an id; checked once, selected alike, with the reference's attribute names."""

from __future__ import annotations

from dataclasses import replace

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
