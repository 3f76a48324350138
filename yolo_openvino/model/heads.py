"""The heads of YOLOv8 / YOLO11 / YOLO26 models: detection, and segmentation, pose and oriented boxes on top of it.

Attribute names (``cv2``, ``cv3``, ``cv4``, ``proto``, ``one2one_*``) are the official checkpoints', so their
weights load with ``strict=True``. Outputs are laid out as the reference's exports give them:
- one-to-many (every head): ``output0`` (B, 4 + nc + extra, A): boxes (cx, cy, w, h) in input pixels, class
  probabilities, then the task's extra channels per anchor (segment: 32 mask coefficients; pose: K keypoints of
  x, y in input pixels and a visibility; obb: the angle in radians, the box then being the rotated one's);
- one-to-one (YOLO26's NMS-free branch): ``output0`` (B, max_det, 6 + extra) rows x1, y1, x2, y2 (obb: cx, cy,
  w, h), score, class, extra, after a top-k;
- segment adds ``output1`` (B, 32, H/4, W/4): the mask prototypes.
"""

from __future__ import annotations

import copy
import math

import torch
import torch.nn.functional as F
from torch import nn

from .modules import Conv, DWConv
from ..options import DEFAULT_MAX_DET


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

    def extra(self, features: list[torch.Tensor], one2one: bool, anchors: torch.Tensor,
              strides: torch.Tensor) -> torch.Tensor | None:
        """(B, E, A) per-anchor channels after the class scores (segment: mask coefficients; pose: decoded
        keypoints; obb: the angle); None for detect. ``anchors`` (1, 2, A) centres in grid units, ``strides`` (1, A)."""
        return None

    def outputs(self, features: list[torch.Tensor]) -> tuple[torch.Tensor, ...]:
        """Outputs after ``output0`` (segment: the prototypes); none for detect."""
        return ()

    def boxes(self, distances: torch.Tensor, anchors: torch.Tensor, strides: torch.Tensor,
              extra: torch.Tensor | None) -> torch.Tensor:
        """(B, 4, A) boxes in input pixels as the one-to-one rows carry them: corners x1, y1, x2, y2.
        ``distances`` (B, 4, A): left, top, right, bottom in stride units."""
        return torch.cat((anchors - distances[:, :2], anchors + distances[:, 2:]), 1) * strides

    def centre_size(self, boxes: torch.Tensor) -> torch.Tensor:
        """:meth:`boxes` as the one-to-many ``output0`` carries them: cx, cy, w, h."""
        return torch.cat(((boxes[:, :2] + boxes[:, 2:]) / 2, boxes[:, 2:] - boxes[:, :2]), 1)

    def branch_outputs(self, branches: nn.ModuleList, features: list[torch.Tensor], channels: int) -> torch.Tensor:
        """(B, channels, A): one branch per level, flattened and joined, P3's anchors first."""
        b = features[0].shape[0]
        return torch.cat([branch(f).view(b, channels, -1) for branch, f in zip(branches, features)], 2)

    def forward(self, features: list[torch.Tensor], one2one: bool = False, max_det: int = DEFAULT_MAX_DET):
        """``output0`` alone (detect), or a tuple (``output0``, ``output1``, ...) where the head has more."""
        box_branches, cls_branches = self.branches(one2one)
        distances = self.dfl(self.branch_outputs(box_branches, features, 4 * self.reg_max))  # (B, 4, A)
        scores = self.branch_outputs(cls_branches, features, self.nc).sigmoid()
        # Python floats, not a tensor: tracing then records constants instead of warning about them.
        anchors, strides = make_anchors(features, self.strides)
        anchors, strides = anchors.transpose(0, 1).unsqueeze(0), strides.transpose(0, 1)
        extra = self.extra(features, one2one, anchors, strides)
        boxes = self.boxes(distances, anchors, strides, extra)
        if one2one:
            out = top_k_rows(boxes, scores, max_det, extra)
        else:
            out = torch.cat((self.centre_size(boxes), scores) + (() if extra is None else (extra,)), 1)
        more = self.outputs(features)
        return (out, *more) if more else out


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

    def extra(self, features: list[torch.Tensor], one2one: bool, anchors, strides) -> torch.Tensor:
        return self.branch_outputs(self.one2one_cv4 if one2one else self.cv4, features, self.nm)

    def outputs(self, features: list[torch.Tensor]) -> tuple[torch.Tensor]:
        return (self.proto(features if isinstance(self.proto, Proto26) else features[0]),)


class Pose(Detect):
    """Detect plus ``kpt_shape`` = (K, D) keypoints per anchor (``cv4``): x, y and, when D is 3, a visibility.

    Keypoints are decoded in the graph, as the reference exports them: x = (2 t + grid) * stride, where grid is
    the anchor's cell index, so a keypoint may lie up to two strides outside its own cell per unit of t.
    """

    def __init__(self, nc: int = 80, kpt_shape: tuple = (17, 3), ch: tuple = (), legacy: bool = True,
                 reg_max: int = 16, has_one2one: bool = False):
        super().__init__(nc, ch, legacy, reg_max, has_one2one)
        self.kpt_shape = tuple(int(v) for v in kpt_shape)
        self.nk = self.kpt_shape[0] * self.kpt_shape[1]
        self.cv4 = self._keypoint_branches(ch)
        if has_one2one:
            self.one2one_cv4 = copy.deepcopy(self.cv4)

    def _keypoint_branches(self, ch: tuple) -> nn.ModuleList:
        return nn.ModuleList(_branch_pair(c, max(ch[0] // 4, self.nk), self.nk) for c in ch)

    def raw_keypoints(self, features: list[torch.Tensor], one2one: bool) -> torch.Tensor:
        """(B, K * D, A) keypoint regressions before decoding."""
        return self.branch_outputs(self.one2one_cv4 if one2one else self.cv4, features, self.nk)

    def extra(self, features: list[torch.Tensor], one2one: bool, anchors, strides) -> torch.Tensor:
        """(B, K * D, A) keypoints per anchor: x, y in input pixels (and visibility in [0, 1]) for each keypoint."""
        raw = self.raw_keypoints(features, one2one)
        b, _, a = raw.shape
        k, d = self.kpt_shape
        per_point = raw.view(b, k, d, a)
        xy = self.keypoint_xy(per_point[:, :, :2], anchors.unsqueeze(1)) * strides
        parts = (xy, per_point[:, :, 2:].sigmoid()) if d == 3 else (xy,)
        return torch.cat(parts, 2).view(b, k * d, a)

    def keypoint_xy(self, t: torch.Tensor, anchors: torch.Tensor) -> torch.Tensor:
        """(B, K, 2, A) keypoint offsets -> positions in stride units; ``anchors`` (1, 1, 2, A) cell centres."""
        return t * 2.0 + (anchors - 0.5)


class RealNVP(nn.Module):
    """The normalising flow YOLO26-pose trains its keypoint likelihood with (residual log-likelihood estimation).

    Inference never runs it: it is here so that checkpoints, which hold its weights, load with ``strict=True``.
    """

    def __init__(self, layers: int = 6, hidden: int = 64):
        super().__init__()
        self.register_buffer("loc", torch.zeros(2))
        self.register_buffer("cov", torch.eye(2))
        self.register_buffer("mask", torch.tensor([[0.0, 1.0], [1.0, 0.0]] * (layers // 2)))

        def net(last: nn.Module | None) -> nn.Sequential:
            parts = [nn.Linear(2, hidden), nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU(), nn.Linear(hidden, 2)]
            return nn.Sequential(*parts, *([last] if last else []))
        self.s = nn.ModuleList(net(nn.Tanh()) for _ in range(layers))
        self.t = nn.ModuleList(net(None) for _ in range(layers))


class Pose26(Pose):
    """YOLO26's pose head: a shared keypoint trunk (``cv4``), then the keypoints (``cv4_kpts``) and their
    uncertainties (``cv4_sigma``, training only); keypoints decode as x = (t + grid centre) * stride."""

    def __init__(self, nc: int = 80, kpt_shape: tuple = (17, 3), ch: tuple = (), legacy: bool = True,
                 reg_max: int = 16, has_one2one: bool = False):
        super().__init__(nc, kpt_shape, ch, legacy, reg_max, has_one2one)
        k = self.kpt_shape[0]
        hidden = self.cv4[0][0].conv.out_channels
        self.cv4_kpts = nn.ModuleList(nn.Conv2d(hidden, self.nk, 1) for _ in ch)
        self.cv4_sigma = nn.ModuleList(nn.Conv2d(hidden, 2 * k, 1) for _ in ch)
        self.flow_model = RealNVP()
        if has_one2one:
            self.one2one_cv4_kpts = copy.deepcopy(self.cv4_kpts)
            self.one2one_cv4_sigma = copy.deepcopy(self.cv4_sigma)

    def _keypoint_branches(self, ch: tuple) -> nn.ModuleList:
        hidden = max(ch[0] // 4, self.kpt_shape[0] * (self.kpt_shape[1] + 2))  # room for 2 sigmas per keypoint
        return nn.ModuleList(nn.Sequential(Conv(c, hidden, 3), Conv(hidden, hidden, 3)) for c in ch)

    def raw_keypoints(self, features: list[torch.Tensor], one2one: bool) -> torch.Tensor:
        trunks, outs = (self.one2one_cv4, self.one2one_cv4_kpts) if one2one else (self.cv4, self.cv4_kpts)
        b = features[0].shape[0]
        return torch.cat([out(trunk(f)).view(b, self.nk, -1) for trunk, out, f in zip(trunks, outs, features)], 2)

    def keypoint_xy(self, t: torch.Tensor, anchors: torch.Tensor) -> torch.Tensor:
        return t + anchors


class OBB(Detect):
    """Detect plus a rotation angle per anchor (``cv4``): boxes are (cx, cy, w, h, angle), the angle in radians
    in [-pi/4, 3pi/4). The box sides are regressed in the box's own frame, then turned by the angle."""

    def __init__(self, nc: int = 80, ne: int = 1, ch: tuple = (), legacy: bool = True, reg_max: int = 16,
                 has_one2one: bool = False):
        super().__init__(nc, ch, legacy, reg_max, has_one2one)
        self.ne = ne
        self.cv4 = nn.ModuleList(_branch_pair(c, max(ch[0] // 4, ne), ne) for c in ch)
        if has_one2one:
            self.one2one_cv4 = copy.deepcopy(self.cv4)

    def extra(self, features: list[torch.Tensor], one2one: bool, anchors, strides) -> torch.Tensor:
        """(B, 1, A) the angle in radians."""
        raw = self.branch_outputs(self.one2one_cv4 if one2one else self.cv4, features, self.ne)
        return self.angle(raw)

    def angle(self, raw: torch.Tensor) -> torch.Tensor:
        return (raw.sigmoid() - 0.25) * math.pi

    def boxes(self, distances, anchors, strides, extra) -> torch.Tensor:
        """(B, 4, A) rotated boxes cx, cy, w, h in input pixels (the angle is ``extra``): the centre is the
        anchor moved by half the difference of opposite distances, turned by the angle."""
        left_top, right_bottom = distances[:, :2], distances[:, 2:]
        half = (right_bottom - left_top) / 2
        cos, sin = extra.cos(), extra.sin()
        dx, dy = half[:, :1], half[:, 1:]
        centre = torch.cat((dx * cos - dy * sin, dx * sin + dy * cos), 1) + anchors
        return torch.cat((centre, left_top + right_bottom), 1) * strides

    def centre_size(self, boxes: torch.Tensor) -> torch.Tensor:
        return boxes  # already cx, cy, w, h


class OBB26(OBB):
    """YOLO26's OBB head: as OBB, with the angle regressed directly (no sigmoid range)."""

    def angle(self, raw: torch.Tensor) -> torch.Tensor:
        return raw



class Classify(nn.Module):
    """Image classification: the last feature map -> 1x1 conv to 1280 channels -> global average pool -> Linear ->
    softmax. In (B, c1, h, w) -> out (B, nc) class probabilities (``output0``)."""

    has_one2one = False
    hidden = 1280  # the reference's width before the Linear, at every scale

    def __init__(self, c1: int, nc: int):
        super().__init__()
        self.nc = nc
        self.conv = Conv(c1, self.hidden, 1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.drop = nn.Dropout(p=0.0, inplace=True)
        self.linear = nn.Linear(self.hidden, nc)

    def forward(self, x: torch.Tensor, one2one: bool = False, max_det: int = DEFAULT_MAX_DET) -> torch.Tensor:
        return self.linear(self.drop(self.pool(self.conv(x)).flatten(1))).softmax(1)


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
    # The candidate slot and class of each flat index (flat = slot * nc + class), read from index tables instead
    # of divided out: an integer division exports int64 Floor / Divide / FloorMod, which NPUs refuse and GPUs
    # compute inexactly. The tables are (k * nc,) ranges broadcast, constants of the graph.
    slots = torch.arange(k, device=flat.device)[:, None].expand(k, nc).reshape(-1)
    classes = torch.arange(nc, device=flat.device)[None, :].expand(k, nc).reshape(-1)
    anchor = anchors.gather(1, slots[flat])
    channels = per_anchor.shape[1]
    values = per_anchor.transpose(1, 2).gather(1, anchor.unsqueeze(-1).expand(b, k, channels))  # (B, k, 4 + E)
    cls = classes[flat].unsqueeze(-1).to(values.dtype)
    return torch.cat((values[..., :4], best.unsqueeze(-1), cls, values[..., 4:]), -1)
