"""A detector's labels: ``class cx cy w h`` lines (normalised); a polygon line is read as its box, as the reference
reads segmentation labels for a detector."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..label_files import LabelIssues, box_problem, label_lines


def _as_box(values: list[str]) -> list[str]:
    """A polygon line ``class x1 y1 ... xk yk`` (k >= 3, a segmentation label) as the box ``class cx cy w h``
    of its extents, as the reference reads segmentation labels for a detector; any other line as it is."""
    if len(values) < 7 or len(values) % 2 == 0:
        return values
    try:
        xy = np.array(values[1:], dtype=np.float64).reshape(-1, 2)
    except ValueError:
        return values  # not numbers: said as such below
    (x1, y1), (x2, y2) = xy.min(0), xy.max(0)
    return [values[0], *(repr(float(v)) for v in ((x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1))]


def read_labels(image: Path, nc: int, issues: LabelIssues) -> np.ndarray:
    """(N, 5) float32 rows ``class cx cy w h`` (normalised) for ``image``, polygons read as their boxes; every
    dropped line is in ``issues``."""
    rows = []
    for path, number, values in label_lines(image, issues):
        values = _as_box(values)
        problem = box_problem(values, nc)
        if problem:
            kind, reason = problem
            getattr(issues, kind).append(f"{path}:{number}: {reason}")
        else:
            rows.append([float(v) for v in values])
    return np.array(rows, np.float32).reshape(-1, 5)
