"""Associating tracks with detections: overlap costs and a thresholded optimal assignment."""

from __future__ import annotations

import numpy as np


def iou_cost(tracks: np.ndarray, detections: np.ndarray) -> np.ndarray:
    """(T, D) 1 - IoU of track and detection boxes: (T, 4) and (D, 4) x1, y1, x2, y2, or (T, 5) and (D, 5)
    cx, cy, w, h, angle for oriented boxes (probabilistic IoU, as their NMS)."""
    if not len(tracks) or not len(detections):
        return np.zeros((len(tracks), len(detections)), np.float32)
    if tracks.shape[1] == 5:
        from ..rotated import probiou

        return 1 - probiou(tracks, detections)
    from ..processing import box_iou

    return (1 - box_iou(tracks.astype(np.float32), detections.astype(np.float32))).astype(np.float32)


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
    pairs = [(int(r), int(c)) for r, c in zip(row_index, col_index) if r < rows and c < cols and cost[r, c] <= limit]
    matched_rows = {r for r, _ in pairs}
    matched_cols = {c for _, c in pairs}
    return (pairs, [r for r in range(rows) if r not in matched_rows], [c for c in range(cols) if c not in matched_cols])
