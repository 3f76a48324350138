"""The report's plot: throughput against p50 latency with min-max bars, the recommended points starred, the labels kept
apart (matplotlib, ``pip install "yolo-openvino[report]"``)."""

from __future__ import annotations

import os
from pathlib import Path

from .measure import Measurement


# -- plot -------------------------------------------------------------------------------------------------------------------------
def label_box(annotation, renderer):
    """The text's own box in display pixels (an Annotation's extent would include its leader line)."""
    from matplotlib.text import Text

    annotation.update_positions(renderer)  # where the offset text lands, before any draw
    return Text.get_window_extent(annotation, renderer)


def place_labels(ax, points: list[tuple[float, float, str]], fontsize: float = 7) -> list:
    """Annotate each (x, y, text) at the first nearby offset where its box stays inside the axes and covers
    no other label and no marker.

    Tries 8 directions at growing distances (points); a label moved away from its point gets a thin
    leader line. Returns the annotation artists. Needs a figure that can render (Agg).
    """
    from matplotlib.transforms import Bbox

    ax.figure.canvas.draw()  # settle the axis limits first: the extents below are in display pixels
    ax.set_autoscale_on(False)
    renderer = ax.figure.canvas.get_renderer()
    inside = ax.get_window_extent(renderer)
    marker = 5 * ax.figure.dpi / 72  # half a marker, in pixels
    obstacles = [Bbox.from_extents(px - marker, py - marker, px + marker, py + marker)
                 for px, py in ax.transData.transform([(x, y) for x, y, _ in points])] if points else []
    artists = []
    directions = [(1, 1), (1, -1), (-1, 1), (-1, -1), (1, 0), (-1, 0), (0, 1), (0, -1)]
    for x, y, text in points:
        annotation = None
        for distance, (dx, dy) in ((d, v) for d in (5, 14, 26, 40, 56, 76, 100) for v in directions):
            if annotation is not None:
                annotation.remove()
            annotation = ax.annotate(
                text, (x, y), xytext=(dx * distance, dy * distance), textcoords="offset points", fontsize=fontsize,
                ha="left" if dx > 0 else "right" if dx < 0 else "center",
                va="bottom" if dy > 0 else "top" if dy < 0 else "center",
                arrowprops=None if distance == 5 else {"arrowstyle": "-", "lw": 0.5, "color": "0.5"})
            box = label_box(annotation, renderer)
            fits = inside.containsx(box.x0) and inside.containsx(box.x1) and inside.containsy(box.y0) \
                and inside.containsy(box.y1)
            if fits and not any(box.expanded(1.05, 1.15).overlaps(other) for other in obstacles):
                break
        obstacles.append(label_box(annotation, renderer))
        artists.append(annotation)
    return artists


def plot_tradeoff(title: str, measurements: list[Measurement], recommendation: dict, png: Path) -> Path | None:
    """Latency (p50) against throughput with min–max bars; the recommended points starred; None without matplotlib."""
    from ..utils.figures import pyplot

    plt = pyplot("plot")
    if plt is None:
        return None
    fig, ax = plt.subplots(figsize=(11, 6), dpi=120)
    labels = []
    for kind, marker in (("inference", "o"), ("end_to_end", "s")):
        points = [m for m in measurements if m.kind == kind]
        if not points:
            continue
        ax.errorbar([m.fps for m in points], [m.p50_ms for m in points], fmt=marker, ms=5, capsize=2, lw=0.8,
                    xerr=[[m.fps - m.fps_min for m in points], [m.fps_max - m.fps for m in points]],
                    yerr=[[m.p50_ms - m.p50_min for m in points], [m.p50_max - m.p50_ms for m in points]],
                    label=f"{kind.replace('_', ' ')} (median, min-max)")
        labels += [(m.fps, m.p50_ms, m.name + (" (e2e)" if kind == "end_to_end" else "")) for m in points]
    tags: dict[str, list[str]] = {}
    for goal, color in (("latency", "crimson"), ("throughput", "darkgreen")):
        rec = recommendation.get(goal)
        if rec is None:
            continue
        m = next(m for m in measurements if m.kind == "inference" and m.name == rec["name"])
        ax.scatter([m.fps], [m.p50_ms], marker="*", s=300, facecolors="none", edgecolors=color, linewidths=1.4,
                   zorder=5, label=f"recommended for {goal}")
        tags.setdefault(m.name, []).append(goal)
    labels = [(x, y, t + (f"  [best for {' and '.join(tags[t])}]" if t in tags else "")) for x, y, t in labels]
    ax.set_xlabel("throughput (images/s), higher is better")
    ax.set_ylabel("latency p50 (ms per inference), lower is better")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.margins(0.15)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1), borderaxespad=0)  # beside: data stays clear
    fig.tight_layout()
    place_labels(ax, labels)
    png.parent.mkdir(parents=True, exist_ok=True)
    tmp = png.with_name(png.name + ".tmp.png")
    fig.savefig(tmp)
    plt.close(fig)
    os.replace(tmp, png)
    return png


