"""Pre- and post-processing shared by every backend (numpy + OpenCV, no torch).

Images are BGR uint8 (H, W, 3) as OpenCV reads them. Raw model output is (B, 4 + nc + E, A): boxes
(cx, cy, w, h) in model-input pixels, per-class scores in [0, 1], then a task's E extra channels per anchor.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from ..options import DEFAULT_MAX_DET

PAD_VALUE = 114
# Class-aware NMS shifts each class's boxes by class x offset so that classes never overlap: the reference's 7680,
# or the boxes' own extent where an input is larger (imgsz goes to 8192) and boxes reach past it.
MAX_WH = 7680
MAX_NMS_CANDIDATES = 30000


@dataclass(frozen=True)
class Letterbox:
    """How an image was mapped into the model input: ``model_x = image_x * scale_x + pad_x`` (same for y).

    Per-axis scales are those of the actual (integer-sized) resize, so mapping back undoes it exactly.
    """

    scale_x: float
    scale_y: float
    pad_x: int
    pad_y: int


PAD_MODES = ("square", "minimal", "val")


def letterbox_shape(image_shape: tuple[int, int], target: tuple[int, int], pad: str = "square",
                    stride: int = 32) -> tuple[tuple[int, int], tuple[int, int]]:
    """Resized (h, w) and padded input (h, w) for an image of ``image_shape`` (h, w).

    The image is scaled to fit ``target`` keeping its aspect ratio, then padded:
    - ``square``: to ``target`` (static models);
    - ``minimal``: to the next multiple of ``stride`` (dynamic models, least compute);
    - ``val``: to the next multiple of ``stride`` after adding half a stride, the reference's
      rectangular validation shapes (so our mAP is comparable with its published figures).
    """
    h0, w0 = image_shape
    scale = min(target[0] / h0, target[1] / w0)
    resized = (int(round(h0 * scale)), int(round(w0 * scale)))
    if pad == "square":
        padded = (int(target[0]), int(target[1]))
    elif pad == "minimal":
        padded = tuple(int(np.ceil(r / stride) * stride) for r in resized)
    elif pad == "val":
        padded = tuple(int(np.ceil(r / stride + 0.5) * stride) for r in resized)
    else:
        raise ValueError(f"letterbox pad='{pad}': expected one of {PAD_MODES}")
    return resized, padded


def letterbox(image: np.ndarray, target: tuple[int, int], pad: str = "square", stride: int = 32,
              out: np.ndarray | None = None, full_shape: tuple[int, int] | None = None) -> tuple[np.ndarray, Letterbox]:
    """Resize keeping aspect ratio and pad (value 114) centred; see :func:`letterbox_shape` for ``pad``.

    Returns the (h, w, 3) uint8 input and its :class:`Letterbox`. ``out`` may be a preallocated
    (h, w, 3) uint8 buffer of the padded shape, to avoid allocations in a throughput loop. ``full_shape``:
    the original's (h, w) when ``image`` is a reduced decode of it; the geometry (and the Letterbox, which
    maps back to original pixels) is then the original's.
    """
    full_shape = tuple(full_shape or image.shape[:2])
    resized, padded = letterbox_shape(full_shape, target, pad, stride)
    dh, dw = (padded[0] - resized[0]) / 2, (padded[1] - resized[1]) / 2
    # Same split of an odd padding as the reference (the extra pixel goes bottom/right).
    top, left = int(round(dh - 0.1)), int(round(dw - 0.1))
    if out is None or out.shape[:2] != padded:
        out = np.empty((*padded, 3), dtype=np.uint8)
    bottom, right = top + resized[0], left + resized[1]
    # Fill only the borders: the region is overwritten anyway (a whole-image fill costs as much as the copy).
    out[:top], out[bottom:], out[top:bottom, :left], out[top:bottom, right:] = PAD_VALUE, PAD_VALUE, PAD_VALUE, PAD_VALUE
    region = out[top:bottom, left:right]
    if resized == image.shape[:2]:
        region[...] = image
    else:
        cv2.resize(image, (resized[1], resized[0]), dst=region, interpolation=cv2.INTER_LINEAR)
    h0, w0 = full_shape
    return out, Letterbox(resized[1] / w0, resized[0] / h0, left, top)


def round_to_stride(imgsz, stride: int, warn: bool = True) -> tuple[int, int]:
    """int or (h, w) -> (h, w) rounded up to multiples of ``stride``, warning when changed."""
    size = (int(imgsz), int(imgsz)) if np.isscalar(imgsz) else (int(imgsz[0]), int(imgsz[-1]))
    rounded = tuple(int(np.ceil(s / stride) * stride) for s in size)
    if rounded != size and warn:
        import logging

        logging.getLogger("yolo_openvino").warning(
            "imgsz %s is not a multiple of the model stride %d; using %s", list(size), stride, list(rounded))
    return rounded


def to_nchw_float(batch_hwc_bgr: np.ndarray) -> np.ndarray:
    """(B, H, W, 3) uint8 BGR -> (B, 3, H, W) float32 RGB in [0, 1], contiguous."""
    return np.stack([to_chw_float(image) for image in batch_hwc_bgr])


def to_chw_float(image_hwc_bgr: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 BGR -> (3, H, W) float32 RGB in [0, 1], contiguous.

    OpenCV splits the planes (one contiguous pass), each is widened into its place in the output, then one
    in-place scale: 0.29 ms at 640x640 against 0.66 ms for a strided pass per plane, and 6x faster than
    converting the transposed array in one expression (2-core AVX512_BF16 VM).
    """
    out = np.empty((3, *image_hwc_bgr.shape[:2]), dtype=np.float32)
    blue, green, red = cv2.split(np.ascontiguousarray(image_hwc_bgr))
    out[0], out[1], out[2] = red, green, blue
    out *= np.float32(1 / 255)
    return out


def xywh_to_xyxy(boxes: np.ndarray) -> np.ndarray:
    """(N, 4) centre-size boxes -> corner boxes."""
    half = boxes[:, 2:4] / 2
    return np.concatenate((boxes[:, :2] - half, boxes[:, :2] + half), axis=1)


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise IoU of (N, 4) and (M, 4) xyxy boxes -> (N, M)."""
    top_left = np.maximum(a[:, None, :2], b[None, :, :2])
    bottom_right = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.clip(bottom_right - top_left, 0, None).prod(2)
    area_a = (a[:, 2:] - a[:, :2]).prod(1)
    area_b = (b[:, 2:] - b[:, :2]).prod(1)
    return inter / (area_a[:, None] + area_b[None, :] - inter + 1e-9)


def _greedy_nms(boxes: np.ndarray, scores: np.ndarray, iou: float) -> np.ndarray:
    """Greedy NMS by OpenCV's C++ implementation on (N, 4) xyxy boxes; kept indices by descending score."""
    xywh = np.concatenate((boxes[:, :2], boxes[:, 2:] - boxes[:, :2]), 1).astype(np.float64)
    keep = cv2.dnn.NMSBoxes(xywh, scores.astype(np.float32), 0.0, float(iou))
    return np.asarray(keep, dtype=np.int64).reshape(-1)


def _nms_indices(boxes: np.ndarray, scores: np.ndarray, iou: float, max_det: int) -> np.ndarray:
    """The first ``max_det`` boxes greedy NMS keeps, computed on as few candidates as possible.

    Greedy NMS visits boxes by descending score and a box is only ever suppressed by a higher-scoring one,
    so running it on the top-k candidates gives exactly the full run's kept boxes among them. We grow k
    until ``max_det`` boxes are kept (or all candidates are used): low thresholds (validation's conf 0.001)
    give tens of thousands of candidates, of which only the best few thousand matter.
    """
    if len(boxes) == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.argsort(-scores, kind="stable")
    k = 8 * max_det
    while True:
        top = order[:k]
        keep = top[_greedy_nms(boxes[top], scores[top], iou)]
        if len(keep) >= max_det or k >= len(order):
            return keep[:max_det]
        k *= 4


def _class_offset(boxes: np.ndarray) -> float:
    """The class offset of class-aware NMS for (4, K) boxes (centre and size, or corners): beyond every box."""
    extent = float(np.abs(boxes).max(initial=0.0)) * 2 + 1  # a centre plus half its size, with room
    return max(MAX_WH, extent)


def non_max_suppression(prediction: np.ndarray, conf: float = 0.25, iou: float = 0.7, max_det: int = DEFAULT_MAX_DET,
                        classes: list[int] | None = None, agnostic: bool = False,
                        multi_label: bool = False, nc: int | None = None, rotated: bool = False) -> list[np.ndarray]:
    """Filter raw output (B, 4 + nc + E, A) into per-image (N, 6 + E) arrays of x1, y1, x2, y2, score, class and the
    anchor's E extra channels (segment: mask coefficients); ``nc`` defaults to every row after the box.

    Class-aware by default (boxes of different classes never suppress each other). ``multi_label``
    keeps every (box, class) pair above ``conf``, as validation does. ``rotated``: oriented boxes, whose angle is
    the first extra channel: rows keep the box as cx, cy, w, h, and the overlap is the rotated boxes' (runtime/rotated.py).
    """
    from .rotated import rotated_nms_indices

    results = []
    nc = prediction.shape[1] - 4 if nc is None else nc
    for image_pred in prediction:
        class_scores = image_pred[4:4 + nc]  # (nc, A): reductions over axis 0 read contiguous rows
        if multi_label:
            anchor_idx, class_idx = np.nonzero((class_scores > conf).T)  # anchor-major, as the reference orders ties
            scores = class_scores[class_idx, anchor_idx]
        else:
            # Filter on the best score first, then argmax only the few survivors.
            anchor_idx = np.nonzero(class_scores.max(0) > conf)[0]
            candidate_scores = class_scores[:, anchor_idx]
            class_idx = candidate_scores.argmax(0)
            scores = candidate_scores[class_idx, np.arange(len(anchor_idx))]
        if classes is not None:
            wanted = np.isin(class_idx, np.asarray(classes))
            anchor_idx, class_idx, scores = anchor_idx[wanted], class_idx[wanted], scores[wanted]
        if len(scores) > MAX_NMS_CANDIDATES:
            top = np.argpartition(-scores, MAX_NMS_CANDIDATES)[:MAX_NMS_CANDIDATES]
            anchor_idx, class_idx, scores = anchor_idx[top], class_idx[top], scores[top]
        offsets = 0 if agnostic else class_idx[:, None].astype(np.float32) * _class_offset(image_pred[:4, anchor_idx])
        if rotated:
            boxes = image_pred[:4, anchor_idx].T
            shifted = np.concatenate((boxes[:, :2] + offsets, boxes[:, 2:], image_pred[4 + nc:5 + nc, anchor_idx].T), 1)
            keep = rotated_nms_indices(shifted, scores, iou, max_det)
        else:
            boxes = xywh_to_xyxy(image_pred[:4, anchor_idx].T)
            keep = _nms_indices(boxes + offsets, scores, iou, max_det)
        extra = image_pred[4 + nc:, anchor_idx[keep]].T  # (N, E)
        results.append(np.concatenate((boxes[keep], scores[keep, None], class_idx[keep, None].astype(np.float32),
                                       extra), 1).astype(np.float32))
    return results


def filter_rows(prediction: np.ndarray, conf: float, max_det: int, classes: list[int] | None = None) -> list[np.ndarray]:
    """Per-image rows of a rows output (B, K, 6) x1, y1, x2, y2, score, class (in-graph NMS or the NMS-free
    head's top-k) scoring above ``conf``, at most ``max_det`` of them (padding rows dropped)."""
    results = []
    for rows in prediction:
        keep = rows[:, 4] > conf
        if classes is not None:
            keep &= np.isin(rows[:, 5].astype(np.int64), np.asarray(classes))
        results.append(np.ascontiguousarray(rows[keep][:max_det], dtype=np.float32))
    return results


def scale_boxes(boxes: np.ndarray, lb: Letterbox, image_shape: tuple[int, int]) -> np.ndarray:
    """Map (N, 4) xyxy boxes from model-input pixels back to the original image, clipped to it."""
    out = boxes.copy()
    out[:, [0, 2]] = (out[:, [0, 2]] - lb.pad_x) / lb.scale_x
    out[:, [1, 3]] = (out[:, [1, 3]] - lb.pad_y) / lb.scale_y
    out[:, [0, 2]] = out[:, [0, 2]].clip(0, image_shape[1])
    out[:, [1, 3]] = out[:, [1, 3]].clip(0, image_shape[0])
    return out
