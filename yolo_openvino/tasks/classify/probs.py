"""``Result.probs``: a classifier's class probabilities for one image, as the reference's ``Probs``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...utils.arrays import Values, values


@dataclass
class Probs:
    """data: (nc,) float32 probabilities (softmax), summing to 1."""

    data: np.ndarray
    FIELD = "probs"  # the Result attribute (per image, not per box: not a parts.BoxPart)

    def __post_init__(self):
        data = np.asarray(self.data, np.float32)
        if data.ndim != 1 or not len(data):
            raise ValueError(f"Probs: data has shape {data.shape}, expected (nc,)")
        self.data = values(data)

    @classmethod
    def from_reference(cls, values, orig_shape=None) -> "Probs":
        """From the reference's ``Results.update(probs=)``: (nc,) probabilities."""
        return cls(np.asarray(values, np.float32))

    @classmethod
    def from_answer(cls, answer: dict, orig_shape=None) -> "Probs | None":
        """From our JSON form's ``probabilities`` (every class, in class order)."""
        return cls(np.asarray(answer["probabilities"], np.float32)) if answer.get("probabilities") else None

    def __len__(self) -> int:
        return len(self.data)

    @property
    def top5(self) -> list[int]:
        """The (up to) five most probable classes, most probable first."""
        return [int(i) for i in np.argsort(-self.data, kind="stable")[:5]]

    @property
    def top1(self) -> int:
        return int(np.argmax(self.data))

    @property
    def top5conf(self) -> Values:
        return values(self.data[self.top5])

    @property
    def top1conf(self) -> Values:
        return values(self.data[self.top1])

    @property
    def shape(self) -> tuple[int]:
        return self.data.shape

    def cpu(self) -> "Probs":
        return self

    def numpy(self) -> "Probs":
        return self
