"""The torch module that gets traced: the detector, plus what in-graph NMS needs (or, for oriented boxes, the NMS)."""

from __future__ import annotations

import torch
from torch import nn
from ..options import DEFAULT_MAX_DET

# Oriented boxes: the in-graph NMS compares the best CANDIDATES anchors pairwise (a CANDIDATES^2 overlap matrix).
# The host runs the same Fast-NMS on every anchor above conf; a box's fate depends only on higher-scoring boxes,
# so the two agree on every box ranked within CANDIDATES (max_det 300 rarely reaches past it).
CANDIDATES = 1000
EPS = 1e-7


class ExportModule(nn.Module):
    """Wrap a YOLOModel for export.

    Without NMS: (B, 3, H, W) -> raw (B, 4 + nc + E, A) (and the head's further outputs: segment's prototypes);
    with ``one2one`` (YOLO26) the NMS-free head's rows (B, max_det, 6 + E), its top-k traced into the graph.

    With ``nms_in_graph``, axis-aligned boxes: OpenVINO's NMS op is appended to the converted graph
    (export/openvino.py); this module prepares its inputs: boxes (B, A, 4) x1 y1 x2 y2, scores (B, C, A), best
    class (B, A) and the anchors' extra channels (B, A, E) (mask coefficients, keypoints) the rows carry along,
    then the head's further outputs. Class-aware: C = nc with every score but the anchor's best class zeroed, so
    each anchor competes only under its predicted class, exactly as the host-side NMS does. Agnostic: C = 1.

    Oriented boxes (``rotated``): no OpenVINO op overlaps them, so the NMS is traced here: rows (B, max_det, 7)
    cx, cy, w, h, score, class, angle, by the host's rule (Fast-NMS over probabilistic IoU, runtime/rotated.py).
    """

    def __init__(self, model: nn.Module, nms_in_graph: bool = False, agnostic: bool = False, one2one: bool = False,
                 max_det: int = DEFAULT_MAX_DET, conf: float = 0.25, iou: float = 0.7, rotated: bool = False):
        super().__init__()
        self.model = model
        self.nms_in_graph = nms_in_graph
        self.agnostic = agnostic
        self.one2one = one2one
        self.max_det = max_det
        self.conf, self.iou, self.rotated = conf, iou, rotated

    def forward(self, x: torch.Tensor):
        if self.one2one:
            return self.model(x, one2one=True, max_det=self.max_det)
        out = self.model(x)
        if not self.nms_in_graph:
            return out
        raw, more = (out[0], tuple(out[1:])) if isinstance(out, tuple) else (out, ())
        nc = self.model.nc
        xywh, scores, extra = raw[:, :4], raw[:, 4:4 + nc], raw[:, 4 + nc:]
        best_score, best_class = scores.max(1, keepdim=True)  # (B, 1, A)
        if self.rotated:
            return rotated_nms_rows(xywh, best_score[:, 0], best_class[:, 0], extra[:, 0], self.conf, self.iou,
                                    self.max_det, self.agnostic)
        half = xywh[:, 2:] / 2
        boxes = torch.cat((xywh[:, :2] - half, xywh[:, :2] + half), 1).transpose(1, 2)  # (B, A, 4)
        nms_scores = best_score if self.agnostic else scores * (scores == best_score).to(scores.dtype)
        return (boxes, nms_scores, best_class.squeeze(1).to(scores.dtype), extra.transpose(1, 2), *more)


def rotated_nms_rows(xywh: torch.Tensor, score: torch.Tensor, cls: torch.Tensor, angle: torch.Tensor, conf: float,
                     iou: float, max_det: int, agnostic: bool) -> torch.Tensor:
    """(B, max_det, 7) rows cx, cy, w, h, score, class, angle of rotated NMS, best first; padding rows score -1.

    xywh (B, 4, A), score, cls and angle (B, A). The best CANDIDATES anchors by score (placeholder anchors scoring
    -1 keep the shape fixed for any A, as ``heads.top_k_rows`` does), then Fast-NMS: a candidate above ``conf``
    goes when a higher-scoring one of its class (any class if ``agnostic``) above ``conf`` overlaps it by ``iou``.
    """
    b = score.shape[0]
    per_anchor = torch.cat((xywh, angle.unsqueeze(1), cls.to(xywh.dtype).unsqueeze(1)), 1)  # (B, 6, A)
    per_anchor = torch.cat((per_anchor, torch.zeros_like(per_anchor[..., :1]).expand(-1, -1, CANDIDATES)), 2)
    score = torch.cat((score, torch.full_like(score[:, :1], -1.0).expand(-1, CANDIDATES)), 1)
    top_score, top = score.topk(CANDIDATES, dim=1)  # (B, K), descending
    boxes = per_anchor.gather(2, top.unsqueeze(1).expand(b, 6, CANDIDATES)).transpose(1, 2)  # (B, K, 6)
    overlap = _probiou(boxes[..., :5])  # (B, K, K)
    alive = top_score > conf
    counts = alive.unsqueeze(2) & alive.unsqueeze(1)  # both candidates above conf
    if not agnostic:
        counts = counts & (boxes[..., 5].unsqueeze(2) == boxes[..., 5].unsqueeze(1))
    earlier = torch.ones_like(overlap[0], dtype=torch.bool).triu(1)  # (K, K): row ranks above column
    suppressed = ((overlap >= iou) & counts & earlier).any(1)  # (B, K)
    kept_score = torch.where(alive & ~suppressed, top_score, torch.full_like(top_score, -1.0))
    best, order = kept_score.topk(max_det, dim=1)  # kept candidates stay in score order
    rows = boxes.gather(1, order.unsqueeze(2).expand(b, max_det, 6))
    return torch.cat((rows[..., :4], best.unsqueeze(2), rows[..., 5:6], rows[..., 4:5]), 2)


def _probiou(boxes: torch.Tensor) -> torch.Tensor:
    """(B, K, K) probabilistic IoU of (B, K, 5) rotated boxes with each other, as ``runtime.rotated.probiou``
    (float32 here: the graph's precision; the host computes in float64)."""
    w2, h2 = boxes[..., 2] ** 2 / 12, boxes[..., 3] ** 2 / 12
    cos, sin = boxes[..., 4].cos(), boxes[..., 4].sin()
    a, b_, c = w2 * cos ** 2 + h2 * sin ** 2, w2 * sin ** 2 + h2 * cos ** 2, (w2 - h2) * cos * sin
    a1, b1, c1 = a.unsqueeze(2), b_.unsqueeze(2), c.unsqueeze(2)
    a2, b2, c2 = a.unsqueeze(1), b_.unsqueeze(1), c.unsqueeze(1)
    dx = boxes[..., 0].unsqueeze(2) - boxes[..., 0].unsqueeze(1)
    dy = boxes[..., 1].unsqueeze(2) - boxes[..., 1].unsqueeze(1)
    sa, sb, sc = a1 + a2, b1 + b2, c1 + c2
    det = sa * sb - sc ** 2
    t1 = (sa * dy ** 2 + sb * dx ** 2) / (det + EPS) * 0.25
    t2 = (sc * -dx * dy) / (det + EPS) * 0.5
    own = (a1 * b1 - c1 ** 2).clamp(min=0).sqrt() * (a2 * b2 - c2 ** 2).clamp(min=0).sqrt()
    t3 = torch.log(det / (4 * own + EPS) + EPS) * 0.5
    bhattacharyya = (t1 + t2 + t3).clamp(EPS, 100.0)
    return 1 - (1 - torch.exp(-bhattacharyya) + EPS).sqrt()
