"""From a layer spec ``[from, repeats, name, args]`` to a module: one small constructor per block name (``BLOCKS``).

``model.build_layers`` builds with this table and ``model.check_architecture`` checks a file's architecture
against it (which names exist, which arguments are channel counts), so the two never disagree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

from torch import nn

from . import heads as H
from . import modules as M
from .architectures import depthwise_class_branch


def make_divisible(x: float, divisor: int = 8) -> int:
    return int(math.ceil(x / divisor) * divisor)


@dataclass(frozen=True)
class Place:
    """Where a layer is built: the channels of its inputs, its repeat count after depth scaling, and the
    architecture's class count, scale and width."""

    c_in: list[int]
    repeats: int
    arch: dict
    width: float
    max_channels: float
    scale: str | None

    def channels(self, c: int) -> int:
        """A channel argument scaled by the width and capped, as the reference scales it (nc is never scaled)."""
        return c if c == self.arch["nc"] else make_divisible(min(c, self.max_channels) * self.width, 8)

    def head_kwargs(self) -> dict:
        """What every head takes from the architecture: its inputs' channels and the family's head style."""
        return {"ch": self.c_in, "legacy": not depthwise_class_branch(self.arch),
                "reg_max": int(self.arch.get("reg_max", 16)), "has_one2one": bool(self.arch.get("end2end", False))}


@dataclass(frozen=True)
class Block:
    """``build(place, args)`` -> (module, output channels; None for a head). ``channel_args``: the indices of
    ``args`` that are channel counts (scaled by the width, checked against the channel limit)."""

    build: Callable[[Place, list], tuple[nn.Module, int | None]]
    channel_args: tuple[int, ...] = (0,)


def _stacked(make: Callable[[], nn.Module], repeats: int) -> nn.Module:
    return nn.Sequential(*(make() for _ in range(repeats))) if repeats > 1 else make()


def _plain(cls) -> Block:
    """Blocks stacked ``repeats`` times in a Sequential: cls(c1, c2, *args)."""
    def build(p: Place, args: list):
        c2 = p.channels(args[0])
        return _stacked(lambda: cls(p.c_in[0], c2, *args[1:]), p.repeats), c2
    return Block(build)


def _csp(cls) -> Block:
    """CSP blocks that take the repeat count themselves: cls(c1, c2, n, *args)."""
    def build(p: Place, args: list):
        c2 = p.channels(args[0])
        return cls(p.c_in[0], c2, p.repeats, *args[1:]), c2
    return Block(build)


def _c3k2(p: Place, args: list):
    c2, rest = p.channels(args[0]), list(args[1:])
    if p.scale in ("m", "l", "x"):  # the larger scales use C3k inner blocks (the reference's rule)
        rest = [True, *rest[1:]]
    return M.C3k2(p.c_in[0], c2, p.repeats, *rest), c2


def _segment(proto26: bool) -> Block:
    def build(p: Place, args: list):
        nc, nm, npr = (list(args) + [32, 256])[:3]
        return H.Segment(nc, nm, p.channels(npr), proto26=proto26, **p.head_kwargs()), None
    return Block(build, channel_args=(2,))


def _pose(cls) -> Block:
    def build(p: Place, args: list):
        return cls(args[0], args[1], **p.head_kwargs()), None
    return Block(build, channel_args=())


def _obb(cls) -> Block:
    def build(p: Place, args: list):
        return cls(args[0], (list(args) + [1])[1], **p.head_kwargs()), None
    return Block(build, channel_args=())


BLOCKS: dict[str, Block] = {
    "Conv": _plain(M.Conv), "DWConv": _plain(M.DWConv), "Bottleneck": _plain(M.Bottleneck), "SPPF": _plain(M.SPPF),
    "C2f": _csp(M.C2f), "C3": _csp(M.C3), "C3k": _csp(M.C3k), "C2PSA": _csp(M.C2PSA), "C3k2": Block(_c3k2),
    "Concat": Block(lambda p, args: (M.Concat(*args), sum(p.c_in)), channel_args=()),
    "nn.Upsample": Block(lambda p, args: (nn.Upsample(*args), p.c_in[0]), channel_args=()),
    "Detect": Block(lambda p, args: (H.Detect(args[0], **p.head_kwargs()), None), channel_args=()),
    "Segment": _segment(proto26=False),
    "Segment26": _segment(proto26=True),
    "Pose": _pose(H.Pose), "Pose26": _pose(H.Pose26),
    "OBB": _obb(H.OBB), "OBB26": _obb(H.OBB26),
    "Classify": Block(lambda p, args: (H.Classify(p.c_in[0], args[0]), None), channel_args=()),
}
HEADS = ("Detect", "Segment", "Segment26", "Pose", "Pose26", "OBB", "OBB26", "Classify")  # blocks that end a model: their output is the model's
