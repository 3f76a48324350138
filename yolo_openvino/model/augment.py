"""Test-time augmentation of a detector, as the reference runs ``augment=True`` on its PyTorch models.

The batch goes through the network three times: at full size, at 0.83 flipped left-right, and at 0.67 (each
resized, then padded on the right and bottom to a multiple of the stride). Each pass's boxes are mapped back to
the input's pixels and the anchors are joined, so one NMS merges the three views. Two levels are left out:
the full-size pass's coarsest (its largest boxes are the smaller passes' job) and the smallest pass's finest
(its smallest boxes are the full-size pass's).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

VIEWS = ((1.0, False), (0.83, True), (0.67, False))  # (scale, flipped left-right)
PAD = 0.447  # the padding value of the reference's rescaled views (ImageNet's mean grey)


def augmented_forward(network, x: torch.Tensor) -> torch.Tensor:
    """(B, 3, H, W) -> (B, 4 + nc, A1 + A2 + A3): the raw outputs of the three views, boxes (cx, cy, w, h) in the
    input's pixels."""
    h, w = x.shape[-2:]
    stride = int(max(network.stride))
    outputs = []
    for scale, flipped in VIEWS:
        view = _rescaled(x.flip(-1) if flipped else x, scale, stride)
        raw = network(view).clone()
        raw[:, :4] /= scale
        if flipped:
            raw[:, 0] = w - raw[:, 0]
        outputs.append(raw)
    levels = len(network.model[-1].strides)
    outputs[0] = outputs[0][..., :-_level_size(outputs[0], levels, coarsest=True)]
    outputs[-1] = outputs[-1][..., _level_size(outputs[-1], levels, coarsest=False):]
    return torch.cat(outputs, -1)


def _rescaled(x: torch.Tensor, scale: float, stride: int) -> torch.Tensor:
    """``x`` resized by ``scale`` (bilinear) and padded to a multiple of ``stride``; ``x`` itself at scale 1."""
    if scale == 1.0:
        return x
    h, w = x.shape[-2:]
    size = (int(h * scale), int(w * scale))
    resized = F.interpolate(x, size=size, mode="bilinear", align_corners=False)
    padded_h, padded_w = (math.ceil(side * scale / stride) * stride for side in (h, w))
    return F.pad(resized, [0, padded_w - size[1], 0, padded_h - size[0]], value=PAD)


def _level_size(raw: torch.Tensor, levels: int, coarsest: bool) -> int:
    """Anchors of the coarsest (or finest) level of ``raw`` (B, C, A): each level has 4x the anchors of the next
    coarser one, so A = coarsest x (1 + 4 + ... + 4^(levels - 1))."""
    coarse = raw.shape[-1] // sum(4 ** k for k in range(levels))
    return coarse if coarsest else coarse * 4 ** (levels - 1)
