"""What a network's layers compute on the way: average-pooled feature vectors (``embed``) and feature maps
(``visualize``), read with forward hooks so the network's own forward runs unchanged."""

from __future__ import annotations

import contextlib

import torch
import torch.nn.functional as F


@contextlib.contextmanager
def recorded_layers(network, layers):
    """Yield a dict that fills with ``{layer index: output}`` of ``layers`` (indices into ``network.model``)
    while the network runs inside the block."""
    seen: dict[int, torch.Tensor] = {}
    hooks = [network.model[i].register_forward_hook(lambda module, args, out, i=i: seen.__setitem__(i, out))
             for i in layers]
    try:
        yield seen
    finally:
        for hook in hooks:
            hook.remove()


def check_layers(network, layers) -> list[int]:
    """``layers`` as sorted indices of ``network.model``, or ValueError naming the range."""
    count = len(network.model)
    if any(not 0 <= i < count for i in layers):
        raise ValueError(f"embed={list(layers)}: this model's layers are 0 to {count - 1}")
    return sorted(set(layers))


def embeddings(network, x: torch.Tensor, layers: list[int]) -> torch.Tensor:
    """(B, 3, H, W) -> (B, C): each listed layer's output averaged over its spatial positions, joined in layer
    order (C: the sum of their channels)."""
    with torch.inference_mode(), recorded_layers(network, layers) as seen:
        network(x)
    pooled = [F.adaptive_avg_pool2d(_tensor(seen[i]), 1).flatten(1) for i in layers]
    return torch.cat(pooled, 1)


def feature_maps(network, x: torch.Tensor) -> list[tuple[int, str, torch.Tensor]]:
    """(1, 3, H, W) -> (layer index, layer type, (C, h, w) output) for every layer before the head whose output is
    a feature map (concatenations and upsamplings included)."""
    layers = list(range(len(network.model) - 1))
    with torch.inference_mode(), recorded_layers(network, layers) as seen:
        network(x)
    return [(i, type(network.model[i]).__name__, _tensor(seen[i])[0]) for i in layers
            if _tensor(seen[i]).dim() == 4 and min(_tensor(seen[i]).shape[-2:]) > 1]


def _tensor(output):
    """A layer's output as one tensor (a module returning several gives its first)."""
    return output[0] if isinstance(output, (tuple, list)) else output
