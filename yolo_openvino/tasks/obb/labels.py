"""Oriented-box labels: four corners per line, ``class x1 y1 x2 y2 x3 y3 x4 y4`` (normalised, DOTA's order)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..label_files import LabelIssues, label_lines
from ..segment.labels import polygon_problem


def read_quadrilaterals(image: Path, nc: int, issues: LabelIssues) -> list[tuple[int, np.ndarray]]:
    """(class, (4, 2) normalised corners) per object of ``image``'s OBB labels ``class x1 y1 x2 y2 x3 y3 x4 y4``;
    any other line (a box, another point count, bad values) is dropped into ``issues``."""
    quads = []
    for path, number, values in label_lines(image, issues):
        problem = polygon_problem(values, nc) or (None if len(values) == 9 else (
            "corrupt", f"{(len(values) - 1) // 2} points, an oriented box has 4 (class x1 y1 x2 y2 x3 y3 x4 y4)"))
        if problem:
            kind, reason = problem
            getattr(issues, kind).append(f"{path}:{number}: {reason}")
        else:
            quads.append((int(float(values[0])), np.array(values[1:], np.float32).reshape(4, 2)))
    return quads
