"""Arrays of results: numpy views that convert like torch tensors, and shape checks that never reshape."""

from __future__ import annotations

import numpy as np


class Values(np.ndarray):
    """A numpy array that, holding one element, converts to ``int`` and ``float`` as a torch tensor does.

    Ultralytics code iterates boxes and writes ``int(box.cls)``, ``float(box.conf)`` or ``box.cls[0]``; numpy
    2 refuses ``int()`` of a (1,) array, so one-box views return these. Everything else is plain numpy.
    """

    def _scalar(self):
        if self.size != 1:
            raise TypeError(f"only one-element arrays convert to a Python number, this one has shape {self.shape}")
        return self.reshape(-1)[0].item()

    def __int__(self) -> int:
        return int(self._scalar())

    def __float__(self) -> float:
        return float(self._scalar())

    # torch's spellings, so ``boxes.id.int().cpu().tolist()`` (the reference's tracking idiom) runs unchanged
    def int(self) -> "Values":
        return self.astype(np.int64)

    def float(self) -> "Values":
        return self.astype(np.float32)

    def cpu(self) -> "Values":
        return self

    def numpy(self) -> "Values":
        return self


def values(array: np.ndarray) -> Values:
    return np.asarray(array).view(Values)


def checked(array, dtype, shape: tuple, name: str, owner: str = "Detections") -> np.ndarray:
    """``array`` as ``dtype`` if its shape is ``shape`` (None: any length), else a ValueError naming it."""
    array = np.asarray(array, dtype=dtype)
    if array.ndim != len(shape) or any(want is not None and got != want for got, want in zip(array.shape, shape)):
        expected = "(" + ", ".join("N" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"
        raise ValueError(f"{owner}: {name} has shape {array.shape}, expected {expected}")
    return array
