"""Oriented boxes without torch: corners, probabilistic IoU, rotated NMS, and the reference's angle convention.

A rotated box is (cx, cy, w, h, r): centre, side lengths, and the angle r in radians that turns the box's
width axis from the image's x axis (clockwise on screen, since y points down).
"""

from __future__ import annotations

import math

import numpy as np

EPS = 1e-7


def corners(xywhr: np.ndarray) -> np.ndarray:
    """(N, 5) rotated boxes -> (N, 4, 2) corners, in the reference's order: centre + w/2 + h/2, + w/2 - h/2,
    - w/2 - h/2, - w/2 + h/2 along the box's own axes."""
    centre, w, h, r = xywhr[:, :2], xywhr[:, 2:3], xywhr[:, 3:4], xywhr[:, 4:5]
    cos, sin = np.cos(r), np.sin(r)
    along_w = np.concatenate((w / 2 * cos, w / 2 * sin), 1)  # (N, 2)
    along_h = np.concatenate((-h / 2 * sin, h / 2 * cos), 1)
    return np.stack((centre + along_w + along_h, centre + along_w - along_h, centre - along_w - along_h,
                     centre - along_w + along_h), 1).astype(np.float32)


def from_corners(points: np.ndarray) -> np.ndarray:
    """(N, 4, 2) quadrilaterals in pixels (labels) -> (N, 5) their minimum-area rotated rectangles (OpenCV's
    ``minAreaRect``, angle in radians), as the reference reads OBB labels."""
    import cv2

    out = np.zeros((len(points), 5), np.float32)
    for i, quad in enumerate(points):
        (x, y), (w, h), angle = cv2.minAreaRect(quad.astype(np.float32))
        out[i] = (x, y, w, h, math.radians(angle))
    return out


def _covariance(boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(a, b, c) of each box's Gaussian: the covariance [[a, c], [c, b]] of a uniform w x h rectangle turned by r."""
    w2, h2 = boxes[:, 2] ** 2 / 12, boxes[:, 3] ** 2 / 12
    cos, sin = np.cos(boxes[:, 4]), np.sin(boxes[:, 4])
    return w2 * cos ** 2 + h2 * sin ** 2, w2 * sin ** 2 + h2 * cos ** 2, (w2 - h2) * cos * sin


def probiou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, M) probabilistic IoU of (N, 5) and (M, 5) rotated boxes: 1 - the Hellinger distance of their Gaussians
    (Llerena et al., "Gaussian Bounding Boxes and Probabilistic Intersection-over-Union", 2021), the overlap the
    reference's rotated NMS and OBB metrics use. Computed in float64: thin boxes make the determinants tiny."""
    a, b = a.astype(np.float64), b.astype(np.float64)
    a1, b1, c1 = (v[:, None] for v in _covariance(a))
    a2, b2, c2 = (v[None, :] for v in _covariance(b))
    dx = a[:, None, 0] - b[None, :, 0]
    dy = a[:, None, 1] - b[None, :, 1]
    sa, sb, sc = a1 + a2, b1 + b2, c1 + c2
    det = sa * sb - sc ** 2
    t1 = (sa * dy ** 2 + sb * dx ** 2) / (det + EPS) * 0.25
    t2 = (sc * -dx * dy) / (det + EPS) * 0.5
    own = np.sqrt((a1 * b1 - c1 ** 2).clip(0)) * np.sqrt((a2 * b2 - c2 ** 2).clip(0))
    t3 = np.log(det / (4 * own + EPS) + EPS) * 0.5
    bhattacharyya = np.clip(t1 + t2 + t3, EPS, 100.0)
    return (1 - np.sqrt(1 - np.exp(-bhattacharyya) + EPS)).astype(np.float32)


def _fast_nms(boxes: np.ndarray, iou: float, block: int = 1024) -> np.ndarray:
    """Keep mask of (N, 5) boxes sorted by descending score: a box goes when any higher-scoring box overlaps it
    by ``iou`` or more, whether or not that box was kept (Fast-NMS, Bolya et al. 2019; the reference's rotated
    NMS). Computed a block of columns at a time, so memory stays (N x block)."""
    keep = np.ones(len(boxes), bool)
    for start in range(0, len(boxes), block):
        stop = min(start + block, len(boxes))
        overlap = probiou(boxes[:stop], boxes[start:stop])  # rows: every box up to the block's last
        overlap = np.triu(overlap, k=1 - start)  # only higher-scoring boxes (earlier rows) count
        keep[start:stop] = ~(overlap >= iou).any(0)
    return keep


def rotated_nms_indices(boxes: np.ndarray, scores: np.ndarray, iou: float, max_det: int) -> np.ndarray:
    """Indices of the first ``max_det`` (N, 5) boxes rotated NMS keeps, best first.

    A box's fate depends only on higher-scoring boxes, so running on the top k candidates decides them exactly
    as the full run would; k grows until ``max_det`` are kept (validation's conf 0.001 gives thousands)."""
    if len(boxes) == 0:
        return np.zeros(0, np.int64)
    order = np.argsort(-scores, kind="stable")
    k = 4 * max_det
    while True:
        top = order[:k]
        kept = top[_fast_nms(boxes[top], iou)]
        if len(kept) >= max_det or k >= len(order):
            return kept[:max_det]
        k *= 4


def regularize(xywhr: np.ndarray) -> np.ndarray:
    """(N, 5) boxes in the reference's convention: width the longer side, the angle in [-pi/4, 3pi/4). A box turned
    by r is the same box with its sides swapped turned by r + pi/2, and the same box turned by r + pi."""
    out = xywhr.astype(np.float32, copy=True)
    swap = out[:, 2] < out[:, 3]
    out[swap, 2], out[swap, 3] = xywhr[swap, 3], xywhr[swap, 2]
    out[swap, 4] += math.pi / 2
    out[:, 4] = np.mod(out[:, 4] + math.pi / 4, math.pi) - math.pi / 4
    return out
