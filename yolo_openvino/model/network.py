"""YOLOModel: a YOLOv8 / YOLO11 / YOLO26 model of any supported task, built from an architecture dict.

The module tree is ``model.{i}.<block attributes>`` as in official checkpoints, so their weights load with
``load_state_dict(strict=True)``. ``forward`` takes (B, 3, H, W) float RGB in [0, 1] and returns the head's
outputs as the reference's exports lay them out (see ``heads.py``): detect (B, 4 + nc, A) boxes (cx, cy, w, h)
in input pixels then class probabilities; segment a tuple of that with 32 mask coefficients per anchor
appended, and the prototypes; pose the keypoints appended (3K channels); obb the angle (the boxes rotated ones).
"""

from __future__ import annotations

import ast
import math

import torch
from torch import nn

from . import modules as M
from ..tasks import task_of_head
from .blocks import BLOCKS, HEADS, Place
from ..options import DEFAULT_MAX_DET

# Sanity limits on an architecture read from a file, checked before anything is built. The official models
# stay far below them (yolov8x: 23 layers, repeats <= 6, 640 channels); a hostile file that asks for
# 10 million repeats or 50 million classes is refused instead of exhausting memory.
# argument: any other int argument (kernel, stride, groups, upsample scale); keypoints: a pose head's K.
LIMITS = {"layers": 256, "repeats": 64, "blocks": 1024, "channels": 8192, "nc": 10_000, "multiplier": 4.0,
          "argument": 64, "keypoints": 1000}
# Head arguments a file names by the architecture's own keys, as the reference's yaml does: ['nc', 'kpt_shape'],
# with the reference's default for a key the architecture lacks.
ARCH_KEYS = {"nc": None, "kpt_shape": [17, 3]}


class ArchitectureError(ValueError):
    """An architecture dict that is malformed, over a sanity limit, or does not match its weights."""


def _scale_multipliers(arch: dict) -> tuple[float, float, float, str | None]:
    """(depth, width, max_channels, scale) from the ``scales`` form or the older ``*_multiple`` form."""
    scales = arch.get("scales")
    if scales:
        scale = arch.get("scale") or next(iter(scales))
        depth, width, max_channels = scales[scale]
        return depth, width, max_channels, scale
    return arch.get("depth_multiple", 1.0), arch.get("width_multiple", 1.0), float("inf"), None


def check_architecture(arch: dict) -> None:
    """Raise ArchitectureError naming the first limit or rule ``arch`` breaks; build nothing."""
    if not isinstance(arch, dict):
        raise ArchitectureError(f"architecture is a {type(arch).__name__}, expected a dict")
    nc = arch.get("nc")
    if not isinstance(nc, int) or isinstance(nc, bool) or not 1 <= nc <= LIMITS["nc"]:
        raise ArchitectureError(f"nc={nc!r}: expected an int in [1, {LIMITS['nc']}] (limit 'nc')")
    kpt_shape = arch.get("kpt_shape", ARCH_KEYS["kpt_shape"])
    if not (isinstance(kpt_shape, (list, tuple)) and len(kpt_shape) == 2 and all(
            isinstance(v, int) and not isinstance(v, bool) for v in kpt_shape)
            and 1 <= kpt_shape[0] <= LIMITS["keypoints"] and kpt_shape[1] in (2, 3)):
        raise ArchitectureError(f"kpt_shape={kpt_shape!r:.40}: expected [keypoints, 2 or 3] with 1 to "
                                f"{LIMITS['keypoints']} keypoints (limit 'keypoints')")
    try:
        depth, width, max_channels, _ = _scale_multipliers(arch)
    except (KeyError, TypeError, ValueError, StopIteration) as e:
        raise ArchitectureError(f"unreadable scales {arch.get('scales')!r:.80} ({type(e).__name__}: {e})") from None
    for label, value in (("depth", depth), ("width", width)):
        if not isinstance(value, (int, float)) or not 0 < value <= LIMITS["multiplier"]:
            raise ArchitectureError(f"{label} multiple {value!r}: expected (0, {LIMITS['multiplier']}] (limit 'multiplier')")
    if not isinstance(max_channels, (int, float)) or isinstance(max_channels, bool) or not max_channels >= 1:
        raise ArchitectureError(f"max channels {max_channels!r}: expected a number >= 1")
    specs = arch.get("backbone", []) + arch.get("head", [])
    if not isinstance(specs, list) or not 0 < len(specs) <= LIMITS["layers"]:
        raise ArchitectureError(f"{len(specs) if isinstance(specs, list) else specs!r} layers: expected 1 to "
                                f"{LIMITS['layers']} (limit 'layers')")
    blocks = 0
    for i, spec in enumerate(specs):
        if not (isinstance(spec, (list, tuple)) and len(spec) == 4 and isinstance(spec[3], (list, tuple))):
            raise ArchitectureError(f"layer {i}: expected [from, repeats, module, args], got {spec!r:.80}")
        source, repeats, name, args = spec
        sources = [source] if isinstance(source, int) else source
        if not isinstance(sources, (list, tuple)) or not all(isinstance(j, int) and -i <= j < i or j == -1
                                                             for j in sources) or (i == 0 and sources != [-1]):
            raise ArchitectureError(f"layer {i}: input index {source!r} is not an earlier layer")
        if not isinstance(repeats, int) or not 1 <= repeats <= LIMITS["repeats"]:
            raise ArchitectureError(f"layer {i}: repeats={repeats!r}: expected 1 to {LIMITS['repeats']} (limit 'repeats')")
        blocks += max(round(repeats * depth), 1)
        if not isinstance(name, str) or name not in BLOCKS:
            raise ArchitectureError(f"layer {i}: block '{name!s:.40}' is not supported "
                                    f"(supported: {sorted(BLOCKS)})")
        if (name in HEADS) != (i == len(specs) - 1):
            raise ArchitectureError(f"layer {i}: a model ends with exactly one head ({', '.join(HEADS)}); "
                                    f"'{name}' is {'a head' if name in HEADS else 'not a head'}")
        channel_args = BLOCKS[name].channel_args
        for j, value in enumerate(args):
            if j in channel_args:
                _check_channels(i, nc if value == "nc" else value, width, max_channels)
            else:
                _check_argument(i, value)
    if blocks > LIMITS["blocks"]:
        raise ArchitectureError(f"{blocks} blocks after depth scaling: more than {LIMITS['blocks']} (limit 'blocks')")


def _check_channels(layer: int, channels, width: float, max_channels: float) -> None:
    if not isinstance(channels, int) or isinstance(channels, bool) or not (
            1 <= min(channels, max_channels) * width <= LIMITS["channels"]):
        raise ArchitectureError(f"layer {layer}: {channels!r:.40} output channels: expected 1 to "
                                f"{LIMITS['channels']} after scaling (limit 'channels')")


def _check_argument(layer: int, value) -> None:
    """Block arguments beyond the channel count: small ints (kernel 1e7 would hang a pooling layer,
    an upsample scale of 1e6 exhaust memory), finite floats such as expansion ratios, a few strings."""
    if isinstance(value, bool) or value is None or value in (*ARCH_KEYS, "None", "nearest"):
        return
    if isinstance(value, int) and 0 <= value <= LIMITS["argument"]:
        return
    if isinstance(value, float) and math.isfinite(value) and 0 < value <= LIMITS["multiplier"]:
        return
    raise ArchitectureError(f"layer {layer}: argument {value!r:.40} outside the sane range: ints 0 to "
                            f"{LIMITS['argument']}, floats in (0, {LIMITS['multiplier']}] (limit 'argument')")


def build_checked(arch: dict, names: dict[int, str], state_dict: dict, max_bytes: int,
                  train_args: dict | None = None) -> "YOLOModel":
    """Build ``arch`` and load ``state_dict`` strictly, refusing before any allocation when they disagree.

    The model is first built on torch's meta device (shapes only, no memory): its parameters must fit in
    ``max_bytes`` at float32 and match the stored tensors key by key and shape by shape. Only then is the real
    model allocated. Any failure is an ArchitectureError saying what did not match.
    """
    check_architecture(arch)
    try:
        with torch.device("meta"):
            skeleton = YOLOModel(arch, names=names)
    except Exception as e:  # noqa: BLE001 - malformed block arguments from a file: report, do not crash
        raise ArchitectureError(f"cannot build the stored architecture ({type(e).__name__}: {e})") from None
    expected = skeleton.state_dict()
    size = sum(t.numel() for t in expected.values()) * 4
    if size > max_bytes:
        raise ArchitectureError(f"the architecture needs {size / 1e6:.0f} MB of float32 weights, more than the "
                                f"file could hold ({max_bytes / 2e6:.0f} MB at fp16)")
    missing, unexpected = sorted(set(expected) - set(state_dict)), sorted(set(state_dict) - set(expected))
    if missing or unexpected:
        raise ArchitectureError(f"weights do not match the stored architecture: missing {missing[:3]}, "
                                f"unexpected {unexpected[:3]} ({len(missing)} and {len(unexpected)} in all)")
    for key, tensor in state_dict.items():
        if not isinstance(tensor, torch.Tensor) or tuple(tensor.shape) != tuple(expected[key].shape):
            raise ArchitectureError(f"weight '{key}' has shape {tuple(getattr(tensor, 'shape', ()))}, the "
                                    f"architecture needs {tuple(expected[key].shape)}")
    model = YOLOModel(arch, names=names, train_args=train_args)
    model.load_state_dict(state_dict, strict=True)
    return model


def _resolve_args(args: list, arch: dict) -> list:
    """Checkpoint args may be strings: 'nc', 'kpt_shape', 'None', numbers. Resolve them like literals."""
    resolved = []
    for a in args:
        if isinstance(a, str):
            if a in ARCH_KEYS:
                a = arch.get(a, ARCH_KEYS[a])
            else:
                try:
                    a = ast.literal_eval(a)
                except (ValueError, SyntaxError):
                    pass  # a genuine string argument such as 'nearest'
        resolved.append(a)
    return resolved


def build_layers(arch: dict, in_channels: int = 3) -> tuple[nn.Sequential, list[int]]:
    """Instantiate the layer list with the BLOCKS table. Returns (layers, indices whose outputs later layers read)."""
    depth, width, max_channels, scale = _scale_multipliers(arch)
    channels = [in_channels]
    layers, saved = [], []
    for i, (source, repeats, name, args) in enumerate(arch["backbone"] + arch["head"]):
        if name not in BLOCKS:
            raise ArchitectureError(f"Layer {i}: block '{name}' is not supported (supported: {sorted(BLOCKS)}).")
        sources = [source] if isinstance(source, int) else list(source)
        repeats = max(round(repeats * depth), 1) if repeats > 1 else repeats
        place = Place([channels[j] for j in sources], repeats, arch, width, max_channels, scale)
        block, c_out = BLOCKS[name].build(place, _resolve_args(list(args), arch))
        block.i, block.f = i, source
        saved.extend(j % i for j in sources if j != -1)
        layers.append(block)
        if i == 0:
            channels = []
        channels.append(c_out)
    return nn.Sequential(*layers), sorted(saved)


class YOLOModel(nn.Module):
    """A YOLO detector: ``model`` (the layer Sequential), ``names``, ``stride``, ``yaml``, and ``args``: the
    checkpoint's ``train_args`` (its ``imgsz`` is the default size of predict, val and export), {} for a model
    built from an architecture name."""

    def __init__(self, arch: dict, names: dict[int, str] | None = None, in_channels: int = 3,
                 train_args: dict | None = None):
        super().__init__()
        self.yaml = arch
        self.model, self.save = build_layers(arch, in_channels)
        self.nc = arch["nc"]
        self.names = names or {i: str(i) for i in range(self.nc)}
        task = task_of_head((arch["backbone"] + arch["head"])[-1][2])
        self.task = task.name
        for module in self.modules():  # the reference trains classifiers with torch's default epsilon (1e-5)
            if isinstance(module, nn.BatchNorm2d):
                module.eps = task.batchnorm_eps
        self.args = dict(train_args or {})
        head = self.model[-1]
        if hasattr(head, "strides"):  # a dense head: strides from a probe forward, the factor of each level it reads
            with torch.no_grad():
                probe = 64  # small: only the feature map sizes matter (64/8, 64/16, 64/32)
                features = self._features(torch.zeros(1, in_channels, probe, probe))
            head.strides = [probe / f.shape[-2] for f in features]
            self._initialize_head_biases()

    @property
    def stride(self) -> torch.Tensor:
        """(levels,) downsampling factor of each feature map the head reads: tensor([8., 16., 32.]); a classifier,
        which reads one pooled map, tensor([1.]) (as the reference: its input needs no stride multiple)."""
        return torch.tensor(getattr(self.model[-1], "strides", [1.0]))

    @torch.no_grad()
    def _initialize_head_biases(self) -> None:
        """Prior for an untrained head: ~5 objects per 640 image, so fresh models predict (almost) nothing.

        Checkpoint weights overwrite this; it only matters for models built from an architecture name.
        """
        head = self.model[-1]
        for one2one in (False, True) if head.has_one2one else (False,):
            for box_branch, cls_branch, stride in zip(*head.branches(one2one), head.strides):
                box_branch[-1].bias.fill_(1.0)
                cls_branch[-1].bias.fill_(math.log(5 / head.nc / (640 / stride) ** 2))

    def _run(self, x: torch.Tensor, stop_before_head: bool = False, one2one: bool = False, max_det: int = DEFAULT_MAX_DET):
        outputs = []
        for layer in self.model:
            if layer is self.model[-1]:
                if isinstance(layer.f, int):  # a classifier's head reads the last map alone
                    return x if stop_before_head else layer(x)
                features = [outputs[j] if j != -1 else x for j in layer.f]
                return features if stop_before_head else layer(features, one2one=one2one, max_det=max_det)
            if layer.f != -1:
                x = outputs[layer.f] if isinstance(layer.f, int) else [x if j == -1 else outputs[j] for j in layer.f]
            x = layer(x)
            outputs.append(x if layer.i in self.save else None)
        return x

    def _features(self, x: torch.Tensor) -> list[torch.Tensor]:
        return self._run(x, stop_before_head=True)

    def forward(self, x: torch.Tensor, one2one: bool = False, max_det: int = DEFAULT_MAX_DET):
        """(B, 3, H, W) RGB in [0, 1] -> the one-to-many ``output0`` (B, 4 + nc + E, A), or with ``one2one``
        (YOLO26 heads only) (B, max_det, 6 + E) rows x1, y1, x2, y2, score, class from a top-k of ``max_det``;
        a tuple with ``output1`` (the prototypes) for segmentation. E: the task's extra channels (heads.py)."""
        return self._run(x, one2one=one2one, max_det=max_det)

    @property
    def kpt_shape(self) -> tuple[int, int] | None:
        """(keypoints, values per keypoint) of a pose model, else None."""
        return getattr(self.model[-1], "kpt_shape", None)

    @property
    def has_one2one(self) -> bool:
        """True when the head also has the NMS-free one-to-one branch (YOLO26)."""
        return bool(self.model[-1].has_one2one)

    def for_inference(self) -> "YOLOModel":
        """Float32, eval mode, no gradients, and fused, except a model with a one-to-one branch (YOLO26).

        The one place that decides fusing. YOLO26 stays unfused: it amplifies any last-bit change, and
        folding one BatchNorm moves its boxes by 0.02-0.04 px, while the unfused model matches the reference's
        outputs within 0.003 px. Its exports lose nothing: OpenVINO and the ONNX export fold BatchNorm themselves.
        """
        self.float().eval()
        self.requires_grad_(False)
        return self if self.has_one2one else self.fuse()

    def fuse(self) -> "YOLOModel":
        """Fold every BatchNorm into its convolution, in place. Returns self."""
        for module in self.modules():
            if isinstance(module, M.Conv) and module.bn is not None:
                module.fuse()
        return self

    @property
    def is_fused(self) -> bool:
        return not any(isinstance(m, nn.BatchNorm2d) for m in self.modules())
