"""Validation's figures as PNGs (matplotlib, ``pip install "yolo-openvino[report]"``): None and one warning without it."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..utils.figures import pyplot


def heatmap(table: np.ndarray, labels: list[str], path: Path, title: str, integers: bool) -> Path | None:
    """A (n, n) table drawn as a heatmap, rows 'Predicted', columns 'True', each cell annotated when n <= 30."""
    plt = pyplot("validation plots")
    if plt is None:
        return None
    n = len(table)
    fig, ax = plt.subplots(figsize=(max(6, n * 0.6 + 2), max(5, n * 0.5 + 2)), tight_layout=True)
    image = ax.imshow(table, cmap="Blues", vmin=0)
    fig.colorbar(image, ax=ax, fraction=0.046)
    ticks = range(n)
    ax.set_xticks(ticks, labels if n <= 60 else [], rotation=90)
    ax.set_yticks(ticks, labels if n <= 60 else [])
    if n <= 30:
        top = table.max() or 1
        for (i, j), v in np.ndenumerate(table):
            if v:
                ax.text(j, i, f"{int(v)}" if integers else f"{v:.2f}", ha="center", va="center", fontsize=8,
                        color="white" if v > top / 2 else "black")
    ax.set(xlabel="True", ylabel="Predicted", title=title)
    return _save(fig, plt, path)


def curve_plot(x: np.ndarray, y: np.ndarray, classes: list[str], xlabel: str, ylabel: str, title: str,
               path: Path) -> Path | None:
    """(classes, points) curves against ``x``, one line per class when there are fewer than 21, and their mean
    in bold (labelled with its best value, or for precision-recall the area under it: mAP50)."""
    plt = pyplot("validation plots")
    if plt is None:
        return None
    fig, ax = plt.subplots(figsize=(9, 6), tight_layout=True)
    if len(classes) < 21:
        for name, row in zip(classes, y):
            ax.plot(x, row, linewidth=1, label=name)
    else:
        ax.plot(x, y.T, linewidth=1, color="grey")
    mean = y.mean(0) if len(y) else np.zeros_like(x)
    figure = f"{mean.mean():.3f} mAP@0.5" if xlabel == "Recall" else f"{mean.max():.2f} at {x[mean.argmax()]:.3f}"
    ax.plot(x, mean, linewidth=3, color="blue", label=f"all classes {figure}")
    ax.set(xlabel=xlabel, ylabel=ylabel, xlim=(0, 1), ylim=(0, 1), title=title)
    ax.legend(bbox_to_anchor=(1.04, 1), loc="upper left")
    return _save(fig, plt, path)


def _save(fig, plt, path: Path) -> Path:
    from ..utils.files import atomic_output

    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(path) as tmp:
        fig.savefig(tmp, dpi=150, format="png")
    plt.close(fig)
    return path
