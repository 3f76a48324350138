"""The torch module that gets traced: the detector, plus the box decoding in-model NMS needs."""

from __future__ import annotations

import torch
from torch import nn
from ..options import DEFAULT_MAX_DET


class ExportModule(nn.Module):
    """Wrap a YOLOModel for export.

    Without NMS: (B, 3, H, W) -> raw (B, 4 + nc, A); with ``one2one`` (YOLO26) the NMS-free head's rows
    (B, max_det, 6) x1, y1, x2, y2, score, class, its top-k traced into the graph.
    With ``nms_in_graph`` the NMS op itself is appended in the runtime's graph; this module prepares its inputs:
    boxes (B, A, 4) x1 y1 x2 y2, scores (B, C, A) and best class (B, A). Class-aware: C = nc with every
    score but the anchor's best class zeroed, so each anchor competes only under its predicted class,
    exactly as the host-side NMS does. Agnostic: C = 1, the best score.
    """

    def __init__(self, model: nn.Module, nms_in_graph: bool = False, agnostic: bool = False, one2one: bool = False,
                 max_det: int = DEFAULT_MAX_DET):
        super().__init__()
        self.model = model
        self.nms_in_graph = nms_in_graph
        self.agnostic = agnostic
        self.one2one = one2one
        self.max_det = max_det

    def forward(self, x: torch.Tensor):
        if self.one2one:
            return self.model(x, one2one=True, max_det=self.max_det)
        raw = self.model(x)
        if not self.nms_in_graph:
            return raw
        xywh, scores = raw[:, :4], raw[:, 4:]
        half = xywh[:, 2:] / 2
        boxes = torch.cat((xywh[:, :2] - half, xywh[:, :2] + half), 1).transpose(1, 2)  # (B, A, 4)
        best_score, best_class = scores.max(1, keepdim=True)  # (B, 1, A)
        if self.agnostic:
            nms_scores = best_score
        else:
            nms_scores = scores * (scores == best_score).to(scores.dtype)
        return boxes, nms_scores, best_class.squeeze(1).to(scores.dtype)
