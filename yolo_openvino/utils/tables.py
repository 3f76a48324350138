"""Plain-text tables and CSV text (the per-format benchmark table, the modes report) and counted nouns."""

from __future__ import annotations

import csv
import io

_DOUBLE_WIDTH = ("✅", "❎", "❌")  # the status emoji take two terminal columns


def counted(count: int, noun: str) -> str:
    """``'1 image'``, ``'4 images'``: console lines say what Ultralytics users read, not ``image(s)``."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def display_width(text: str) -> int:
    return len(text) + sum(text.count(c) for c in _DOUBLE_WIDTH)


def text_table(head: list[str], body: list[list[str]]) -> list[str]:
    """Lines of a ``|``-separated table, each column as wide as its widest cell."""
    widths = [max([display_width(h), *(display_width(row[i]) for row in body)]) for i, h in enumerate(head)]

    def line(cells):
        return " | ".join(c + " " * (w - display_width(c)) for c, w in zip(cells, widths))

    return [line(head), "-+-".join("-" * w for w in widths), *map(line, body)]


def csv_text(rows: list[dict], fieldnames: list[str]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fieldnames, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()
