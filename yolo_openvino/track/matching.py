"""Associating tracks with detections: overlap costs and a thresholded optimal assignment."""

from __future__ import annotations

import numpy as np


def iou_cost(tracks: np.ndarray, detections: np.ndarray) -> np.ndarray:
    """(T, D) 1 - IoU of track and detection boxes: (T, 4) and (D, 4) x1, y1, x2, y2, or (T, 5) and (D, 5)
    cx, cy, w, h, angle for oriented boxes (probabilistic IoU, as their NMS)."""
    if not len(tracks) or not len(detections):
        return np.zeros((len(tracks), len(detections)), np.float32)
    if tracks.shape[1] == 5:
        from ..runtime.rotated import probiou

        return 1 - probiou(tracks, detections)
    return 1 - _box_iou(tracks, detections)


def _box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, M) IoU of (N, 4) and (M, 4) x1, y1, x2, y2 boxes, float32; column by column, since at tracking's sizes
    (tens of boxes) numpy's per-call cost, not arithmetic, is the time."""
    a, b = a.astype(np.float32), b.astype(np.float32)
    w = np.minimum(a[:, 2:3], b[:, 2]) - np.maximum(a[:, 0:1], b[:, 0])
    h = np.minimum(a[:, 3:4], b[:, 3]) - np.maximum(a[:, 1:2], b[:, 1])
    inter = np.maximum(w, 0) * np.maximum(h, 0)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return inter / (area_a[:, None] + area_b - inter + 1e-7)


def fuse_score(cost: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """(T, D) cost with each detection's IoU weighted by its score (D,): a confident detection matches first."""
    return 1 - (1 - cost) * scores[None, :]


def assign(cost: np.ndarray, limit: float) -> tuple[list[tuple[int, int]], list[int], list[int]]:
    """The assignment of rows to columns of least total ``cost`` (R, C) where a pair costing more than ``limit`` is
    never made: (pairs (row, col) by row, unmatched rows, unmatched cols), each ascending.

    Leaving a row or a column unmatched costs ``limit / 2`` each, so a pair is made only where it costs less
    than leaving both alone; the optimum is over that extended (R + C) x (R + C) problem, not a threshold
    applied after an unconstrained assignment (which can pair A with B at 0.81 and leave a 0.3 pair unmade).
    """
    from scipy.optimize import linear_sum_assignment

    rows, cols = cost.shape
    if not rows or not cols:
        return [], list(range(rows)), list(range(cols))
    extended = np.full((rows + cols, rows + cols), limit / 2, np.float64)
    extended[:rows, :cols] = cost
    extended[rows:, cols:] = 0
    row_index, col_index = linear_sum_assignment(extended)
    real = (row_index < rows) & (col_index < cols)
    row_index, col_index = row_index[real], col_index[real]
    kept = cost[row_index, col_index] <= limit
    row_index, col_index = row_index[kept], col_index[kept]  # ascending rows, as linear_sum_assignment gives them
    free_rows, free_cols = np.ones(rows, bool), np.ones(cols, bool)
    free_rows[row_index], free_cols[col_index] = False, False
    return (list(zip(row_index.tolist(), col_index.tolist())), np.flatnonzero(free_rows).tolist(),
            np.flatnonzero(free_cols).tolist())
