"""Pose labels: a box then ``kpt_shape`` keypoints per line, ``class cx cy w h x1 y1 [v1] ...`` (normalised)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..label_files import COORD_TOLERANCE, LabelIssues, box_problem, label_lines


def _keypoint_problem(values: list[str], nc: int, kpt_shape: tuple[int, int]) -> tuple[str, str] | None:
    """(kind, reason) when a pose label line must be dropped, else None."""
    k, d = kpt_shape
    if len(values) != 5 + k * d:
        return "corrupt", (f"{len(values)} columns, expected {5 + k * d} for kpt_shape [{k}, {d}] "
                           f"(class cx cy w h, then {k} keypoints of {d} values)")
    problem = box_problem(values[:5], nc)
    if problem:
        return problem
    try:
        points = np.array(values[5:], dtype=np.float64).reshape(k, d)
    except ValueError:
        return "corrupt", "keypoints are not numbers"
    if not np.isfinite(points).all():
        return "corrupt", "NaN or infinite keypoint value"
    xy = points[:, :2]
    if (xy < -COORD_TOLERANCE).any() or (xy > 1 + COORD_TOLERANCE).any():  # the reference rejects them too
        return "corrupt", f"keypoint outside [0, 1] (x, y normalised), e.g. {xy[(xy < 0) | (xy > 1)][0]:g}"
    return None


def read_keypoints(image: Path, nc: int, kpt_shape, issues: LabelIssues) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """(class, (4,) normalised cx cy w h, (K, D) normalised keypoints) per object of ``image``'s pose labels;
    lines with the wrong column count for ``kpt_shape`` (or bad values) are dropped into ``issues``."""
    kpt_shape = (int(kpt_shape[0]), int(kpt_shape[1]))
    objects = []
    for path, number, values in label_lines(image, issues):
        problem = _keypoint_problem(values, nc, kpt_shape)
        if problem:
            kind, reason = problem
            getattr(issues, kind).append(f"{path}:{number}: {reason}")
        else:
            numbers = np.array(values, np.float32)
            objects.append((int(numbers[0]), numbers[1:5], numbers[5:].reshape(kpt_shape)))
    return objects
