"""predict's ``embed`` and ``visualize``: what a ``.pt``'s layers compute, through predict's own preprocessing."""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Iterator

import numpy as np

from ..errors import UsageError

LOGGER = logging.getLogger("yolo_openvino")
MAPS_SHOWN = 32  # channels drawn per layer (all of them go into the .npy)


def embed_stream(backend, network, settings: dict, entries: list, layers: list[int]) -> Iterator:
    """One feature vector per readable image of ``entries``: a torch tensor (C,), the listed layers' outputs
    average-pooled and joined (model/features.py), as the reference's ``embed``."""
    import torch

    from ..model.features import check_layers, embeddings
    from ..runtime.predictor import PredictSettings, Predictor

    try:
        layers = check_layers(network, layers)
    except ValueError as e:
        raise UsageError(str(e)) from None
    predictor = Predictor(backend, PredictSettings(**settings))
    for batch, group in predictor.batches(entries):
        yield from embeddings(network, torch.from_numpy(batch), layers)[:len(group)].unbind(0)


def save_feature_maps(backend, network, settings: dict, entries: list, folder: Path) -> int:
    """For every readable image: ``folder/<stem>/stage<i>_<Layer>_features.png`` (its first 32 channels) and
    ``.npy`` (all of them) for each layer before the head, as the reference's ``visualize``. Returns the images."""
    import torch

    from ..model.features import feature_maps
    from ..runtime.predictor import PredictSettings, Predictor

    plt = _pyplot()
    predictor = Predictor(backend, PredictSettings(**{**settings, "batch": 1}))
    count = 0
    for batch, group in predictor.batches(entries):
        item = group[0].item
        stem = Path(item.name).stem if item.name != "array" else f"image{count}"
        image_dir = folder / (stem if item.frame is None else f"{stem}_{item.frame}")
        image_dir.mkdir(parents=True, exist_ok=True)
        for index, kind, fmap in feature_maps(network, torch.from_numpy(batch[:1])):
            path = image_dir / f"stage{index}_{kind}_features.png"
            _draw(plt, fmap.float().numpy(), path)
            np.save(path.with_suffix(".npy"), fmap.float().numpy())
        count += 1
    LOGGER.info("feature maps of %d image(s) saved to %s", count, folder)
    return count


def _draw(plt, fmap: np.ndarray, path: Path) -> None:
    """(C, h, w) -> its first channels in a grid of 8 columns, each scaled to its own range."""
    shown = min(MAPS_SHOWN, len(fmap))
    rows = math.ceil(shown / 8)
    fig, axes = plt.subplots(rows, 8, figsize=(8, rows), tight_layout=True, squeeze=False)
    for k, ax in enumerate(axes.flat):
        if k < shown:
            ax.imshow(fmap[k])
        ax.axis("off")
    fig.savefig(path, dpi=150)
    plt.close(fig)


def _pyplot():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise UsageError("visualize=True draws feature maps with matplotlib: pip install 'yolo-openvino[report]'") from None
    return plt
