"""Precision-recall, F1, precision and recall curves of a validation, at IoU 0.5, from COCO's accumulated tables.

COCO's evaluation keeps, per class, the interpolated precision and the score of the detection reaching each of
its 101 recall points; the reference's four curves follow from them: precision against recall, and precision,
recall and F1 against the confidence threshold (1000 points), per class and their mean.
"""

from __future__ import annotations

import numpy as np

RECALL = np.linspace(0.0, 1.0, 101)
CONFIDENCE = np.linspace(0.0, 1.0, 1000)
CURVES = (("Precision-Recall", "PR", "Recall", "Precision"), ("F1-Confidence", "F1", "Confidence", "F1"),
          ("Precision-Confidence", "P", "Confidence", "Precision"), ("Recall-Confidence", "R", "Confidence", "Recall"))


def curves(pr50: dict[str, tuple[np.ndarray, np.ndarray]]) -> list[tuple[np.ndarray, np.ndarray, str, str]]:
    """The four curves as (x, y (classes, points), x label, y label), in CURVES' order.

    ``pr50``: class name -> (precision (101,), score (101,)) at the recall points; a score of 0 marks a recall the
    class's detections never reach (COCO's convention)."""
    precision = np.array([p for p, _ in pr50.values()], np.float64).reshape(-1, len(RECALL)).clip(0)
    score = np.array([s for _, s in pr50.values()], np.float64).reshape(-1, len(RECALL))
    reached = (score[:, None, :] >= CONFIDENCE[None, :, None]) & (score[:, None, :] > 0)  # (K, 1000, 101)
    any_reached = reached.any(2)
    last = len(RECALL) - 1 - reached[..., ::-1].argmax(2)  # the highest recall point still reached at that threshold
    recall_at = np.where(any_reached, RECALL[last], 0.0)
    precision_at = np.where(any_reached, np.take_along_axis(precision, last.reshape(len(precision), -1), 1), 1.0)
    f1 = 2 * precision_at * recall_at / np.maximum(precision_at + recall_at, 1e-16)
    return [(RECALL, precision, "Recall", "Precision"), (CONFIDENCE, f1, "Confidence", "F1"),
            (CONFIDENCE, precision_at, "Confidence", "Precision"), (CONFIDENCE, recall_at, "Confidence", "Recall")]


def curve_names(suffixes) -> list[str]:
    """The reference's ``metrics.curves``: 'Precision-Recall(B)', 'F1-Confidence(B)', ... per metric kind."""
    return [f"{name}({suffix})" for suffix in suffixes for name, *_ in CURVES]


def save_curves(suffix: str, classes: list[str], results, save_dir) -> list:
    """Write BoxPR_curve.png, BoxF1_curve.png, BoxP_curve.png, BoxR_curve.png (Mask..., Pose...) in ``save_dir``."""
    from pathlib import Path

    from ..tasks import SCORE_KINDS
    from .plots import curve_plot

    written = []
    for (name, short, *_), (x, y, xlabel, ylabel) in zip(CURVES, results):
        path = Path(save_dir) / f"{SCORE_KINDS.get(suffix, suffix)}{short}_curve.png"
        written.append(curve_plot(x, y, classes, xlabel, ylabel, f"{name} Curve", path))
    return [p for p in written if p]
