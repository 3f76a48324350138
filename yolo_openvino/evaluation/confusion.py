"""The confusion matrix of a validation, in the reference's layout and with its matching rule.

Detection-style tasks: (nc + 1, nc + 1) counts, rows the predicted class, columns the true class, the last row
and column "background" (a true object nothing found: last row; a detection of nothing: last column).
Detections scoring above ``conf`` (0.25) are matched to the image's true objects by box overlap above ``iou``
(0.45), each pair at most once, best overlaps first. Oriented boxes overlap by probabilistic IoU.
Classifiers: (nc, nc) counts of top-1 class against the true class.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np

CONF, IOU = 0.25, 0.45  # the reference's thresholds for its confusion matrix


class ConfusionMatrix:
    """``matrix`` (nc + 1, nc + 1) or, for a classifier, (nc, nc): rows predicted, columns true."""

    def __init__(self, names: dict[int, str], background: bool = True):
        self.names = dict(names)
        self.nc = max(self.names, default=-1) + 1
        self.background = background
        self.matrix = np.zeros((self.nc + background,) * 2, np.int64)

    @classmethod
    def of_detections(cls, names: dict[int, str], truths: list[dict], detections: list[dict]) -> "ConfusionMatrix":
        """From COCO-style dicts (``bbox`` x, y, w, h pixels, or ``xywhr``), as validation collects them."""
        cm = cls(names)
        truths_of, dets_of = defaultdict(list), defaultdict(list)
        for t in truths:
            truths_of[t["image_id"]].append(t)
        for d in detections:
            if d["score"] > CONF:
                dets_of[d["image_id"]].append(d)
        for image_id in set(truths_of) | set(dets_of):
            cm.add_image(truths_of.get(image_id, []), dets_of.get(image_id, []))
        return cm

    def add_image(self, truths: list[dict], detections: list[dict]) -> None:
        """Count one image's matches, misses (true object -> background) and false detections (background)."""
        bg = self.nc
        true_cls = np.array([t["category_id"] for t in truths], np.int64)
        det_cls = np.array([d["category_id"] for d in detections], np.int64)
        pairs = _matches(_overlaps(detections, truths)) if len(truths) and len(detections) else np.zeros((0, 2), int)
        for d, t in pairs:
            self.matrix[det_cls[d], true_cls[t]] += 1
        for t in np.setdiff1d(np.arange(len(truths)), pairs[:, 1]):
            self.matrix[bg, true_cls[t]] += 1
        for d in np.setdiff1d(np.arange(len(detections)), pairs[:, 0]):
            self.matrix[det_cls[d], bg] += 1

    def add_labels(self, predicted: np.ndarray, true: np.ndarray) -> None:
        """Classifier: (N,) top-1 class ids against (N,) true ids."""
        np.add.at(self.matrix, (np.asarray(predicted, np.int64), np.asarray(true, np.int64)), 1)

    def tp_fp(self) -> tuple[np.ndarray, np.ndarray]:
        """(nc,) true positives (the diagonal) and false positives (the row's rest) per class, background left out."""
        tp = self.matrix.diagonal()[:self.nc]
        return tp, self.matrix[:self.nc].sum(1) - tp

    def summary(self, normalize: bool = False, decimals: int = 5) -> list[dict]:
        """One dict per predicted class (row): ``Predicted`` and a count (or column share) per true class."""
        labels = self._labels()
        table = self._normalized() if normalize else self.matrix
        return [{"Predicted": labels[i], **{labels[j]: round(float(v), decimals) for j, v in enumerate(row)}}
                for i, row in enumerate(table)]

    def plot(self, normalize: bool = True, save_dir: str | Path = "", names=(), on_plot=None) -> Path | None:
        """Write ``confusion_matrix[_normalized].png`` in ``save_dir`` (matplotlib; None without it) and return it.
        ``normalize``: each column (true class) sums to 1."""
        from .plots import heatmap

        labels = list(names) + (["background"] if self.background else []) if names else self._labels()
        path = Path(save_dir) / f"confusion_matrix{'_normalized' if normalize else ''}.png"
        written = heatmap(self._normalized() if normalize else self.matrix, labels, path,
                          "Confusion Matrix" + (" Normalized" if normalize else ""), integers=not normalize)
        if written and on_plot:
            on_plot(written)
        return written

    def _normalized(self) -> np.ndarray:
        return self.matrix / np.maximum(self.matrix.sum(0, keepdims=True), 1)

    def _labels(self) -> list[str]:
        return [self.names.get(i, str(i)) for i in range(self.nc)] + (["background"] if self.background else [])

    def __repr__(self) -> str:
        return f"ConfusionMatrix({self.matrix.shape[0]}x{self.matrix.shape[1]}, {int(self.matrix.sum())} counted)"


def _overlaps(detections: list[dict], truths: list[dict]) -> np.ndarray:
    """(D, T) IoU of axis-aligned boxes (``bbox``), or probabilistic IoU of oriented ones (``xywhr``)."""
    if "xywhr" in truths[0]:
        from ..runtime.rotated import probiou

        return probiou(np.array([d["xywhr"] for d in detections], np.float32),
                       np.array([t["xywhr"] for t in truths], np.float32))
    from ..runtime.processing import box_iou

    a = np.array([d["bbox"] for d in detections], np.float64)  # x, y, w, h -> x1, y1, x2, y2
    b = np.array([t["bbox"] for t in truths], np.float64)
    a[:, 2:] += a[:, :2]
    b[:, 2:] += b[:, :2]
    return box_iou(a, b)


def _matches(ious: np.ndarray) -> np.ndarray:
    """(M, 2) (detection, truth) pairs overlapping above IOU, each detection and each truth at most once, the
    largest overlaps first."""
    d, t = np.nonzero(ious > IOU)
    if not len(d):
        return np.zeros((0, 2), int)
    order = np.argsort(-ious[d, t], kind="stable")
    pairs = np.stack((d[order], t[order]), 1)
    pairs = pairs[np.unique(pairs[:, 0], return_index=True)[1]]
    pairs = pairs[np.argsort(-ious[pairs[:, 0], pairs[:, 1]], kind="stable")]
    return pairs[np.unique(pairs[:, 1], return_index=True)[1]]
