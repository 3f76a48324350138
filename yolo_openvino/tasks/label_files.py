"""YOLO label files, as every task's label reader (``tasks/<name>/labels.py``) reads them: where an image's labels
are, their lines, what is wrong with a box, and the tally of what was dropped (``LabelIssues``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

# Normalised coordinates may overshoot [0, 1] by this much (annotation tools round outward); beyond it a
# box is corrupt. Ultralytics' own check allows the same order of slack.
COORD_TOLERANCE = 0.01


@dataclass
class LabelIssues:
    """What was odd about the labels, reported rather than silently dropped.

    ``missing`` and ``empty`` name images (background, evaluated as such); ``corrupt`` and ``out_of_range``
    hold one ``file:line: reason`` entry per dropped line, and ``unreadable`` label files that could not be
    decoded. Everything else in those files is evaluated.
    """

    missing: list[str] = field(default_factory=list)
    empty: list[str] = field(default_factory=list)
    corrupt: list[str] = field(default_factory=list)
    out_of_range: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)

    def summary(self) -> str:
        parts = [f"{len(v)} {k.replace('_', ' ')}" for k, v in vars(self).items() if v]
        return ", ".join(parts) if parts else "no label issues"

    def examples(self, count: int = 3) -> str:
        """A few of the dropped lines with their reasons, for the warning."""
        shown = (self.corrupt + self.out_of_range + self.unreadable)[:count]
        return "; ".join(shown)


def label_path(image: Path) -> Path:
    """``.../images/x/a.jpg`` -> ``.../labels/x/a.txt`` (the last ``images`` folder in the path is swapped)."""
    parts = list(image.parts)
    for i in range(len(parts) - 1, -1, -1):
        if parts[i] == "images":
            parts[i] = "labels"
            break
    return Path(*parts).with_suffix(".txt")


def box_problem(values: list[str], nc: int) -> tuple[str, str] | None:
    """(kind, reason) when a label line must be dropped, else None."""
    if len(values) != 5:
        return "corrupt", (f"{len(values)} columns, expected 5 (class cx cy w h) or a polygon (class and 3 or more "
                           "x y pairs)")
    try:
        cls, cx, cy, w, h = (float(v) for v in values)
    except ValueError:
        return "corrupt", "not numbers"
    if not all(np.isfinite([cls, cx, cy, w, h])):
        return "corrupt", "NaN or infinite value"
    if w <= 0 or h <= 0:
        return "corrupt", f"width or height <= 0 ({w:g}, {h:g})"
    low, high = -COORD_TOLERANCE, 1 + COORD_TOLERANCE
    if not all(low <= v <= high for v in (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)):
        return "corrupt", "box outside the image (normalised coordinates beyond [0, 1])"
    if cls != round(cls) or not 0 <= cls < nc:
        return "out_of_range", f"class {values[0]} outside the dataset's {nc} classes (0..{nc - 1})"
    return None


def label_lines(image: Path, issues: LabelIssues):
    """(path, line number, values) of each non-empty line of ``image``'s label file; a missing, empty or
    undecodable file is recorded in ``issues`` (missing and empty ones are background)."""
    path = label_path(image)
    if not path.exists():
        issues.missing.append(image.name)
        return
    try:
        text = path.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError) as e:
        issues.unreadable.append(f"{path}: {type(e).__name__}")
        return
    if not text.strip():
        issues.empty.append(image.name)
        return
    for number, line in enumerate(text.splitlines(), 1):
        if line.split():
            yield path, number, line.split()
