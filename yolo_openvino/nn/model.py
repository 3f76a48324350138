"""DetectionModel: a YOLOv8 / YOLO11 detector built from an architecture dict.

The module tree is ``model.{i}.<block attributes>`` as in official checkpoints, so their weights load with
``load_state_dict(strict=True)``. ``forward`` takes (B, 3, H, W) float RGB in [0, 1] and returns the head
output (B, 4 + nc, A): boxes (cx, cy, w, h) in input pixels, then class probabilities.
"""

from __future__ import annotations

import ast
import math

import torch
from torch import nn

from . import modules as M

# Blocks whose first arg is the output channel count (scaled by width) and whose input is ch[from].
_CHANNEL_BLOCKS = {"Conv": M.Conv, "DWConv": M.DWConv, "Bottleneck": M.Bottleneck, "C2f": M.C2f, "C3": M.C3,
                   "C3k": M.C3k, "C3k2": M.C3k2, "SPPF": M.SPPF, "C2PSA": M.C2PSA}
# Blocks that take the repeat count as an argument instead of being stacked in a Sequential.
_REPEAT_BLOCKS = {"C2f", "C3", "C3k", "C3k2", "C2PSA"}
SUPPORTED_BLOCKS = set(_CHANNEL_BLOCKS) | {"Concat", "Detect", "nn.Upsample"}


def make_divisible(x: float, divisor: int = 8) -> int:
    return int(math.ceil(x / divisor) * divisor)


def _scale_multipliers(arch: dict) -> tuple[float, float, float, str | None]:
    """(depth, width, max_channels, scale) from the ``scales`` form or the older ``*_multiple`` form."""
    scales = arch.get("scales")
    if scales:
        scale = arch.get("scale") or next(iter(scales))
        depth, width, max_channels = scales[scale]
        return depth, width, max_channels, scale
    return arch.get("depth_multiple", 1.0), arch.get("width_multiple", 1.0), float("inf"), None


def _resolve_args(args: list, nc: int) -> list:
    """Checkpoint args may be strings: 'nc', 'None', numbers. Resolve them like literals."""
    resolved = []
    for a in args:
        if isinstance(a, str):
            if a == "nc":
                a = nc
            else:
                try:
                    a = ast.literal_eval(a)
                except (ValueError, SyntaxError):
                    pass  # a genuine string argument such as 'nearest'
        resolved.append(a)
    return resolved


def build_layers(arch: dict, in_channels: int = 3) -> tuple[nn.Sequential, list[int]]:
    """Instantiate the layer list. Returns (layers, indices whose outputs later layers read)."""
    nc = arch["nc"]
    depth, width, max_channels, scale = _scale_multipliers(arch)
    layer_specs = arch["backbone"] + arch["head"]
    legacy_head = not any(spec[2] == "C3k2" for spec in layer_specs)  # YOLO11 heads use depth-wise convs
    channels = [in_channels]
    layers, saved = [], []
    for i, (source, repeats, name, args) in enumerate(layer_specs):
        if name not in SUPPORTED_BLOCKS:
            raise NotImplementedError(f"Layer {i}: block '{name}' is not supported yet (supported: {sorted(SUPPORTED_BLOCKS)}).")
        args = _resolve_args(list(args), nc)
        repeats = max(round(repeats * depth), 1) if repeats > 1 else repeats
        if name in _CHANNEL_BLOCKS:
            c_in, c_out = channels[source], args[0]
            if c_out != nc:
                c_out = make_divisible(min(c_out, max_channels) * width, 8)
            args = [c_in, c_out, *args[1:]]
            if name in _REPEAT_BLOCKS:
                args.insert(2, repeats)
                repeats = 1
            if name == "C3k2" and scale in ("m", "l", "x"):
                args[3] = True  # the larger YOLO11 scales use C3k inner blocks
            block_cls = _CHANNEL_BLOCKS[name]
        elif name == "Concat":
            c_out = sum(channels[j] for j in source)
            block_cls = M.Concat
        elif name == "Detect":
            args = [args[0], [channels[j] for j in source], legacy_head]
            c_out = None
            block_cls = M.Detect
        else:  # nn.Upsample
            c_out = channels[source]
            block_cls = nn.Upsample
        block = nn.Sequential(*(block_cls(*args) for _ in range(repeats))) if repeats > 1 else block_cls(*args)
        block.i, block.f = i, source
        sources = [source] if isinstance(source, int) else source
        saved.extend(j % i for j in sources if j != -1)
        layers.append(block)
        if i == 0:
            channels = []
        channels.append(c_out)
    return nn.Sequential(*layers), sorted(saved)


class DetectionModel(nn.Module):
    """A YOLO detector: ``model`` (the layer Sequential), ``names``, ``stride``, ``yaml``."""

    def __init__(self, arch: dict, names: dict[int, str] | None = None, in_channels: int = 3):
        super().__init__()
        self.yaml = arch
        self.model, self.save = build_layers(arch, in_channels)
        self.nc = arch["nc"]
        self.names = names or {i: str(i) for i in range(self.nc)}
        self.task = "detect"
        head = self.model[-1]
        # Strides from a probe forward: downsampling factor of each feature map the head reads.
        with torch.no_grad():
            probe = 256
            features = self._features(torch.zeros(1, in_channels, probe, probe))
        head.stride_values = [probe / f.shape[-2] for f in features]
        head.stride = torch.tensor(head.stride_values)
        self.stride = head.stride
        self._initialize_head_biases()

    @torch.no_grad()
    def _initialize_head_biases(self) -> None:
        """Prior for an untrained head: ~5 objects per 640 image, so fresh models predict (almost) nothing.

        Checkpoint weights overwrite this; it only matters for models built from an architecture name.
        """
        head = self.model[-1]
        for box_branch, cls_branch, stride in zip(head.cv2, head.cv3, head.stride_values):
            box_branch[-1].bias.fill_(1.0)
            cls_branch[-1].bias.fill_(math.log(5 / head.nc / (640 / stride) ** 2))

    def _run(self, x: torch.Tensor, stop_before_head: bool = False):
        outputs = []
        for layer in self.model:
            if stop_before_head and layer is self.model[-1]:
                return [outputs[j] if j != -1 else x for j in layer.f]
            if layer.f != -1:
                x = outputs[layer.f] if isinstance(layer.f, int) else [x if j == -1 else outputs[j] for j in layer.f]
            x = layer(x)
            outputs.append(x if layer.i in self.save else None)
        return x

    def _features(self, x: torch.Tensor) -> list[torch.Tensor]:
        return self._run(x, stop_before_head=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._run(x)

    def fuse(self) -> "DetectionModel":
        """Fold every BatchNorm into its convolution, in place. Returns self."""
        for module in self.modules():
            if isinstance(module, M.Conv) and module.bn is not None:
                module.fuse()
        return self

    @property
    def is_fused(self) -> bool:
        return not any(isinstance(m, nn.BatchNorm2d) for m in self.modules())
