"""CLEAR-MOT and identity metrics of tracks against ground truth in MOTChallenge text form, by ``motmetrics``.

Rows are ``frame, id, x, y, w, h, ...`` (frame from 1, top-left corner and size in pixels). motmetrics 1.4's own
IoU helper calls ``np.asfarray``, which numpy 2 removed; the IoU distances are therefore computed here (boxes
further apart than ``1 - min_iou`` cannot match) and motmetrics does the rest: matching, MOTA, IDF1, switches.
``pip install motmetrics``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

METRICS = ("mota", "idf1", "num_switches", "num_false_positives", "num_misses", "precision", "recall")


def read_mot(path: str | Path) -> np.ndarray:
    """(N, 6) frame, id, x, y, w, h of a MOTChallenge text file (its other columns ignored)."""
    rows = np.loadtxt(path, delimiter=",", ndmin=2)
    return rows[:, :6] if rows.size else np.zeros((0, 6))


def mot_rows(results) -> np.ndarray:
    """(N, 6) frame (from 1), id, x, y, w, h of tracked Results (``model.track``) of one video."""
    rows = [(r.frame + 1 if r.frame is not None else k + 1, int(i), x1, y1, x2 - x1, y2 - y1)
            for k, r in enumerate(results) if r.boxes.track_id is not None
            for (x1, y1, x2, y2), i in zip(r.boxes.xyxy.astype(np.float64), r.boxes.track_id)]
    return np.array(rows, np.float64).reshape(-1, 6)


def _distances(truth: np.ndarray, tracks: np.ndarray, min_iou: float) -> np.ndarray:
    """(T, H) 1 - IoU of x, y, w, h boxes; NaN where the IoU is below ``min_iou`` (no match possible)."""
    from ..runtime.processing import box_iou

    def corners(b):
        return np.concatenate((b[:, :2], b[:, :2] + b[:, 2:]), 1)

    cost = 1 - box_iou(corners(truth), corners(tracks))
    cost[cost > 1 - min_iou] = np.nan
    return cost


def mot_metrics(truth: np.ndarray, tracks: np.ndarray, min_iou: float = 0.5) -> dict[str, float]:
    """MOTA, IDF1, ID switches, false positives, misses, precision and recall of ``tracks`` against ``truth``
    (both (N, 6) frame, id, x, y, w, h), over every frame either has."""
    import motmetrics

    accumulator = motmetrics.MOTAccumulator(auto_id=False)
    for frame in np.union1d(truth[:, 0], tracks[:, 0]).astype(int):
        t, h = truth[truth[:, 0] == frame], tracks[tracks[:, 0] == frame]
        accumulator.update(t[:, 1].astype(int), h[:, 1].astype(int), _distances(t[:, 2:6], h[:, 2:6], min_iou),
                           frameid=frame)
    summary = motmetrics.metrics.create().compute(accumulator, metrics=list(METRICS), name="all")
    return {name: float(summary[name].iloc[0]) for name in METRICS}
