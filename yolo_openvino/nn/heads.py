"""The heads of YOLOv8 / YOLO11 / YOLO26 models: detection, and segmentation on top of it.

Attribute names (``cv2``, ``cv3``, ``cv4``, ``proto``, ``one2one_*``) are the official checkpoints', so their
weights load with ``strict=True``. Outputs are laid out as the reference's exports give them:
- one-to-many (every head): ``output0`` (B, 4 + nc + extra, A): boxes (cx, cy, w, h) in input pixels, class
  probabilities, then the task's extra channels per anchor (segment: 32 mask coefficients);
- one-to-one (YOLO26's NMS-free branch): ``output0`` (B, max_det, 6 + extra) rows x1, y1, x2, y2, score, class,
  extra, after a top-k;
- segment adds ``output1`` (B, 32, H/4, W/4): the mask prototypes.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

from .modules import Conv, DWConv


class DFL(nn.Module):
    """Distribution focal loss integral: expected value of a 16-bin distance distribution.

    In (B, 4*bins, A) logits -> out (B, 4, A) distances in stride units.
    """

    def __init__(self, c1: int = 16):
        super().__init__()
        self.conv = nn.Conv2d(c1, 1, 1, bias=False).requires_grad_(False)
        self.conv.weight.data[:] = torch.arange(c1, dtype=torch.float).view(1, c1, 1, 1)
        self.c1 = c1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, _, a = x.shape
        probs = x.view(b, 4, self.c1, a).transpose(2, 1).softmax(1)  # (B, bins, 4, A)
        return self.conv(probs).view(b, 4, a)


def make_anchors(features: list[torch.Tensor], strides: list[float], offset: float = 0.5):
    """Anchor centres in grid units (A, 2) and their stride (A, 1) for each feature map, P3 first."""
    points, stride_column = [], []
    dtype, device = features[0].dtype, features[0].device
    for feature, stride in zip(features, strides):
        h, w = feature.shape[2:]
        xs = torch.arange(w, device=device, dtype=dtype) + offset
        ys = torch.arange(h, device=device, dtype=dtype) + offset
        grid_y, grid_x = torch.meshgrid(ys, xs, indexing="ij")
        points.append(torch.stack((grid_x, grid_y), -1).view(-1, 2))
        stride_column.append(torch.full((h * w, 1), stride, dtype=dtype, device=device))
    return torch.cat(points), torch.cat(stride_column)


def _branch_pair(c: int, hidden: int, out: int) -> nn.Sequential:
    """Conv 3x3 -> Conv 3x3 -> 1x1 projection: the shape of every regression branch (boxes, mask coefficients)."""
    return nn.Sequential(Conv(c, hidden, 3), Conv(hidden, hidden, 3), nn.Conv2d(hidden, out, 1))


class Detect(nn.Module):
    """Anchor-free decoupled head: boxes and class scores per anchor of every level.

    ``legacy`` selects YOLOv8's classification branch (plain 3x3 convs) over the depth-wise one of YOLO11/YOLO26.
    ``reg_max`` 16 regresses each box side as a distribution (DFL); 1 (YOLO26) regresses the distance directly.
    ``has_one2one`` (YOLO26) adds a one-to-one branch (``one2one_cv2``/``one2one_cv3``, same shapes), trained to
    give one box per object: ``forward(features, one2one=True, max_det=k)`` returns rows after a top-k of k,
    with no NMS. Subclasses add per-anchor channels (:meth:`extra`) and outputs (:meth:`outputs`).
    """

    def __init__(self, nc: int = 80, ch: tuple = (), legacy: bool = True, reg_max: int = 16,
                 has_one2one: bool = False):
        super().__init__()
        self.nc = nc
        self.nl = len(ch)
        self.reg_max = reg_max
        self.no = nc + 4 * reg_max
        self.has_one2one = has_one2one
        self.strides: list[float] = []  # of each level, P3 first: set by the model builder from a probe
        box_channels = max(16, ch[0] // 4, 4 * reg_max)
        cls_channels = max(ch[0], min(nc, 100))
        self.cv2 = nn.ModuleList(_branch_pair(c, box_channels, 4 * reg_max) for c in ch)
        if legacy:
            self.cv3 = nn.ModuleList(_branch_pair(c, cls_channels, nc) for c in ch)
        else:
            self.cv3 = nn.ModuleList(
                nn.Sequential(
                    nn.Sequential(DWConv(c, c, 3), Conv(c, cls_channels, 1)),
                    nn.Sequential(DWConv(cls_channels, cls_channels, 3), Conv(cls_channels, cls_channels, 1)),
                    nn.Conv2d(cls_channels, nc, 1),
                )
                for c in ch
            )
        self.dfl = DFL(reg_max) if reg_max > 1 else nn.Identity()
        if has_one2one:
            self.one2one_cv2 = copy.deepcopy(self.cv2)
            self.one2one_cv3 = copy.deepcopy(self.cv3)

    def branches(self, one2one: bool = False) -> tuple[nn.ModuleList, nn.ModuleList]:
        """(box branches, class branches) of the one-to-many or the one-to-one head."""
        if one2one:
            if not self.has_one2one:
                raise ValueError("this head has no one-to-one branch (only YOLO26-style end-to-end heads do)")
            return self.one2one_cv2, self.one2one_cv3
        return self.cv2, self.cv3

    def extra(self, features: list[torch.Tensor], one2one: bool) -> torch.Tensor | None:
        """(B, E, A) per-anchor channels after the class scores (segment: mask coefficients); None for detect."""
        return None

    def outputs(self, features: list[torch.Tensor]) -> tuple[torch.Tensor, ...]:
        """Outputs after ``output0`` (segment: the prototypes); none for detect."""
        return ()

    def forward(self, features: list[torch.Tensor], one2one: bool = False, max_det: int = 300):
        """``output0`` alone (detect), or a tuple (``output0``, ``output1``, ...) where the head has more."""
        corners, scores = self.decode(features, one2one)
        extra = self.extra(features, one2one)
        if one2one:
            out = top_k_rows(corners, scores, max_det, extra)
        else:
            xy, wh = (corners[:, :2] + corners[:, 2:]) / 2, corners[:, 2:] - corners[:, :2]
            out = torch.cat((xy, wh, scores) + (() if extra is None else (extra,)), 1)
        more = self.outputs(features)
        return (out, *more) if more else out

    def decode(self, features: list[torch.Tensor], one2one: bool) -> tuple[torch.Tensor, torch.Tensor]:
        """(corners (B, 4, A) x1, y1, x2, y2 in input pixels, class probabilities (B, nc, A))."""
        box_branches, cls_branches = self.branches(one2one)
        b = features[0].shape[0]
        box = torch.cat([branch(f).view(b, 4 * self.reg_max, -1) for branch, f in zip(box_branches, features)], 2)
        cls = torch.cat([branch(f).view(b, self.nc, -1) for branch, f in zip(cls_branches, features)], 2)
        # Python floats, not a tensor: tracing then records constants instead of warning about them.
        anchors, strides = make_anchors(features, self.strides)
        distances = self.dfl(box)  # (B, 4, A): left, top, right, bottom in stride units
        anchors, strides = anchors.transpose(0, 1).unsqueeze(0), strides.transpose(0, 1)
        corners = torch.cat((anchors - distances[:, :2], anchors + distances[:, 2:]), 1) * strides
        return corners, cls.sigmoid()


class Proto(nn.Module):
    """Mask prototypes from the P3 features: (B, c1, H/8, W/8) -> (B, nm, H/4, W/4)."""

    def __init__(self, c1: int, c_: int = 256, c2: int = 32):
        super().__init__()
        self.cv1 = Conv(c1, c_, 3)
        self.upsample = nn.ConvTranspose2d(c_, c_, 2, 2, 0, bias=True)
        self.cv2 = Conv(c_, c_, 3)
        self.cv3 = Conv(c_, c2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.cv3(self.cv2(self.upsample(self.cv1(x))))


class Proto26(Proto):
    """YOLO26's prototypes: P4 and P5 refined to P3's channels, upsampled and added to P3, fused, then as Proto.

    ``semseg`` is a semantic-segmentation branch the reference trains with; inference never runs it, but the
    checkpoints hold its weights, so it is here for strict loading.
    """

    def __init__(self, ch: tuple, c_: int = 256, c2: int = 32, nc: int = 80):
        super().__init__(c_, c_, c2)
        self.feat_refine = nn.ModuleList(Conv(c, ch[0], 1) for c in ch[1:])
        self.feat_fuse = Conv(ch[0], c_, 3)
        self.semseg = nn.Sequential(Conv(ch[0], c_, 3), Conv(c_, c_, 3), nn.Conv2d(c_, nc, 1))

    def forward(self, features: list[torch.Tensor]) -> torch.Tensor:
        fused = features[0]
        for refine, feature in zip(self.feat_refine, features[1:]):
            fused = fused + F.interpolate(refine(feature), size=fused.shape[2:], mode="nearest")
        return super().forward(self.feat_fuse(fused))


class Segment(Detect):
    """Detect plus 32 mask coefficients per anchor (``cv4``) and the prototypes (``proto``) to combine them with.

    ``proto26`` selects YOLO26's prototype module, which reads every level instead of P3 alone.
    """

    def __init__(self, nc: int = 80, nm: int = 32, npr: int = 256, ch: tuple = (), legacy: bool = True,
                 reg_max: int = 16, has_one2one: bool = False, proto26: bool = False):
        super().__init__(nc, ch, legacy, reg_max, has_one2one)
        self.nm, self.npr = nm, npr
        self.proto = Proto26(ch, npr, nm, nc) if proto26 else Proto(ch[0], npr, nm)
        hidden = max(ch[0] // 4, nm)
        self.cv4 = nn.ModuleList(_branch_pair(c, hidden, nm) for c in ch)
        if has_one2one:
            self.one2one_cv4 = copy.deepcopy(self.cv4)

    def extra(self, features: list[torch.Tensor], one2one: bool) -> torch.Tensor:
        branches = self.one2one_cv4 if one2one else self.cv4
        b = features[0].shape[0]
        return torch.cat([branch(f).view(b, self.nm, -1) for branch, f in zip(branches, features)], 2)

    def outputs(self, features: list[torch.Tensor]) -> tuple[torch.Tensor]:
        return (self.proto(features if isinstance(self.proto, Proto26) else features[0]),)


def top_k_rows(boxes: torch.Tensor, scores: torch.Tensor, k: int, extra: torch.Tensor | None = None) -> torch.Tensor:
    """The k best (anchor, class) pairs per image, best first: (B, k, 6 + E) rows x1, y1, x2, y2, score, class, extra.

    boxes (B, 4, A) xyxy, scores (B, nc, A), extra (B, E, A) or None (per-anchor channels carried along, such as
    mask coefficients). First the k anchors with the highest best-class score, then the k highest scores among
    their k x nc (anchor, class) pairs, so one anchor may give rows for two classes.

    With fewer anchors than k (inputs below 128 px for k = 300) only the first A rows are real, as in the
    reference; the rest are placeholders scoring -1, which every confidence threshold drops. The shape stays
    (B, k, 6 + E) and nothing reads the anchor count in Python, so a dynamic export traced at 640 runs on such
    inputs too (a k taken from the trace made the runtime fail there).
    """
    a = scores.shape[2]
    per_anchor = torch.cat((boxes,) + (() if extra is None else (extra,)), 1)  # (B, 4 + E, A)
    # Placeholder anchors scoring -1, below every real (sigmoid) score: topk always has k to choose from.
    scores = torch.cat((scores, torch.full_like(scores[..., :1], -1.0).expand(-1, -1, k)), 2)
    per_anchor = torch.cat((per_anchor, torch.zeros_like(per_anchor[..., :1]).expand(-1, -1, k)), 2)
    b, nc, _ = scores.shape
    scores_per_anchor = scores.transpose(1, 2)  # (B, A + k, nc)
    anchors = scores_per_anchor.amax(-1).topk(k, dim=1).indices  # (B, k)
    candidates = scores_per_anchor.gather(1, anchors.unsqueeze(-1).expand(b, k, nc))  # (B, k, nc)
    best, flat = candidates.flatten(1).topk(k, dim=1)  # (B, k)
    best = best.masked_fill(torch.arange(k, device=best.device) >= a, -1.0)  # at most A real rows
    anchor = anchors.gather(1, torch.div(flat, nc, rounding_mode="floor"))
    channels = per_anchor.shape[1]
    values = per_anchor.transpose(1, 2).gather(1, anchor.unsqueeze(-1).expand(b, k, channels))  # (B, k, 4 + E)
    cls = (flat % nc).unsqueeze(-1).to(values.dtype)
    return torch.cat((values[..., :4], best.unsqueeze(-1), cls, values[..., 4:]), -1)
