"""Segmentation labels: ``class x1 y1 x2 y2 ... xk yk`` polygon lines (normalised, k >= 3)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..label_files import COORD_TOLERANCE, LabelIssues, label_lines


def polygon_problem(values: list[str], nc: int) -> tuple[str, str] | None:
    """(kind, reason) when a segmentation label line must be dropped, else None."""
    if len(values) == 5:
        return "corrupt", "a box (class cx cy w h), not a polygon: no mask to score it against"
    if len(values) % 2 == 0:
        return "corrupt", f"{len(values) - 1} coordinates, expected x y pairs (class x1 y1 x2 y2 ...)"
    if len(values) < 7:
        return "corrupt", f"{(len(values) - 1) // 2} points, a polygon needs 3 or more"
    try:
        numbers = np.array(values, dtype=np.float64)
    except ValueError:
        return "corrupt", "not numbers"
    if not np.isfinite(numbers).all():
        return "corrupt", "NaN or infinite value"
    if ((numbers[1:] < -COORD_TOLERANCE) | (numbers[1:] > 1 + COORD_TOLERANCE)).any():
        return "corrupt", "point outside the image (normalised coordinates beyond [0, 1])"
    if numbers[0] != round(numbers[0]) or not 0 <= numbers[0] < nc:
        return "out_of_range", f"class {values[0]} outside the dataset's {nc} classes (0..{nc - 1})"
    return None


def read_polygons(image: Path, nc: int, issues: LabelIssues) -> list[tuple[int, np.ndarray]]:
    """(class, (K, 2) float32 normalised x, y) per polygon of ``image``'s segmentation labels; every dropped line
    (a box, an odd coordinate count, fewer than 3 points, NaN, outside [0, 1], an unknown class) is in ``issues``."""
    polygons = []
    for path, number, values in label_lines(image, issues):
        problem = polygon_problem(values, nc)
        if problem:
            kind, reason = problem
            getattr(issues, kind).append(f"{path}:{number}: {reason}")
        else:
            polygons.append((int(float(values[0])), np.array(values[1:], np.float32).reshape(-1, 2)))
    return polygons
