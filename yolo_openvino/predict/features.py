"""predict's ``embed`` and ``visualize``: what a ``.pt``'s layers compute, through predict's own preprocessing."""

from __future__ import annotations

import logging
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
    from ..utils.files import write_image

    predictor = Predictor(backend, PredictSettings(**{**settings, "batch": 1}))
    count = 0
    for batch, group in predictor.batches(entries):
        item = group[0].item
        stem = Path(item.name).stem if item.name != "array" else f"image{count}"
        image_dir = folder / (stem if item.frame is None else f"{stem}_{item.frame}")
        for index, kind, fmap in feature_maps(network, torch.from_numpy(batch[:1])):
            path = image_dir / f"stage{index}_{kind}_features.png"
            maps = fmap.float().numpy()
            write_image(path, mosaic(maps[:MAPS_SHOWN]))
            np.save(path.with_suffix(".npy"), maps)
        count += 1
    LOGGER.info("feature maps of %d image(s) saved to %s", count, folder)
    return count


def mosaic(maps: np.ndarray, columns: int = 8, tile: int = 64, gap: int = 2) -> np.ndarray:
    """(C, h, w) -> a BGR image of the channels in rows of ``columns``, each scaled to its own range, coloured
    (viridis) and enlarged to at least ``tile`` pixels on its shorter side, ``gap`` pixels apart."""
    import cv2

    c, h, w = maps.shape
    k = max(1, -(-tile // min(h, w)))  # an integer enlargement: each feature-map cell stays a square block
    lo, hi = maps.min((1, 2), keepdims=True), maps.max((1, 2), keepdims=True)
    scaled = ((maps - lo) / np.maximum(hi - lo, 1e-12) * 255).astype(np.uint8)
    rows = -(-c // columns)
    canvas = np.full((rows * (h * k + gap) - gap, min(c, columns) * (w * k + gap) - gap, 3), 255, np.uint8)
    for i, channel in enumerate(scaled):
        r, col = divmod(i, columns)
        y, x = r * (h * k + gap), col * (w * k + gap)
        big = cv2.resize(channel, (w * k, h * k), interpolation=cv2.INTER_NEAREST)
        canvas[y:y + h * k, x:x + w * k] = cv2.applyColorMap(big, cv2.COLORMAP_VIRIDIS)
    return canvas
