"""mAP of oriented boxes: COCO's evaluation (greedy matching by score, 101-point interpolated precision, mean over
IoU 0.50:0.95) with the rotated boxes' probabilistic IoU, which COCOeval cannot compute. Vectorised per image."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from ..options import DEFAULT_MAX_DET

IOU_THRESHOLDS = np.linspace(0.5, 0.95, 10)
RECALL_POINTS = np.linspace(0.0, 1.0, 101)


def _match(ious: np.ndarray) -> np.ndarray:
    """(T, D) True where detection d (sorted by descending score) matches a ground truth at threshold t: each takes
    the unmatched ground truth it overlaps most, at least t (COCO's rule). ``ious`` (D, G)."""
    matched = np.zeros((len(IOU_THRESHOLDS), len(ious)), bool)
    for t, threshold in enumerate(IOU_THRESHOLDS):
        free = np.ones(ious.shape[1], bool)
        for d, row in enumerate(ious):
            candidates = np.where(free & (row >= threshold), row, -1.0)
            g = int(candidates.argmax()) if len(candidates) else -1
            if g >= 0 and candidates[g] >= 0:
                free[g] = False
                matched[t, d] = True
    return matched


def _average_precision(scores: np.ndarray, matched: np.ndarray, n_truth: int):
    """(T,) AP per threshold from every image's detections of one class: precision made monotone, read at 101
    recall points (COCO's interpolation); and at IoU 0.5 that precision and the score reaching each recall point
    (101,) each, 0 where never reached (COCO's ``precision`` and ``scores`` tables: the curves)."""
    order = np.argsort(-scores, kind="mergesort")
    tp = np.cumsum(matched[:, order], 1)
    fp = np.cumsum(~matched[:, order], 1)
    recall = tp / n_truth
    precision = tp / np.maximum(tp + fp, np.finfo(np.float64).eps)
    ap = np.zeros(len(IOU_THRESHOLDS))
    for t in range(len(IOU_THRESHOLDS)):
        envelope = np.maximum.accumulate(precision[t][::-1])[::-1]
        at = np.searchsorted(recall[t], RECALL_POINTS, side="left")
        reached = at < len(envelope)
        points = np.where(reached, envelope[np.minimum(at, len(envelope) - 1)], 0.0)
        ap[t] = points.mean()
        if t == 0:
            pr50 = (points, np.where(reached, scores[order][np.minimum(at, len(order) - 1)], 0.0))
    return ap, pr50


def rotated_map(truths: list[dict], detections: list[dict], class_ids: list[int], max_det: int = DEFAULT_MAX_DET):
    """(mAP50-95, mAP50, mAP75, {class id: AP50-95}, {class id: (precision, score) at IoU 0.5, 101 recall points})
    over the classes with ground truth.

    ``truths``: dicts with image_id, category_id, xywhr (pixels, radians); ``detections``: the same plus score."""
    from ..runtime.rotated import probiou

    truth_of, dets_of = defaultdict(list), defaultdict(list)
    for t in truths:
        truth_of[t["image_id"], t["category_id"]].append(t["xywhr"])
    by_image = defaultdict(list)
    for d in detections:
        by_image[d["image_id"]].append(d)
    for image_id, dets in by_image.items():  # COCO's maxDets: the image's best max_det, all classes together
        for d in sorted(dets, key=lambda d: -d["score"])[:max_det]:
            dets_of[image_id, d["category_id"]].append(d)
    per_class, pr50 = {}, {}
    for cls in class_ids:
        keys = {k for k in list(truth_of) + list(dets_of) if k[1] == cls}
        n_truth = sum(len(truth_of.get(k, ())) for k in keys)
        if not n_truth:
            continue
        scores, matched = [], []
        for key in keys:
            dets = sorted(dets_of.get(key, []), key=lambda d: -d["score"])
            if not dets:
                continue
            gts = np.array(truth_of.get(key, []), np.float32).reshape(-1, 5)
            boxes = np.array([d["xywhr"] for d in dets], np.float32)
            ious = probiou(boxes, gts) if len(gts) else np.zeros((len(dets), 0), np.float32)
            scores.append([d["score"] for d in dets])
            matched.append(_match(ious))
        none = (np.zeros(len(IOU_THRESHOLDS)), (np.zeros(len(RECALL_POINTS)), np.zeros(len(RECALL_POINTS))))
        per_class[cls], pr50[cls] = (_average_precision(np.concatenate(scores), np.concatenate(matched, 1), n_truth)
                                     if scores else none)
    if not per_class:
        return 0.0, 0.0, 0.0, {}, {}
    table = np.array(list(per_class.values()))  # (classes, T)
    return (float(table.mean()), float(table[:, 0].mean()), float(table[:, 5].mean()),
            {cls: float(ap.mean()) for cls, ap in per_class.items()}, pr50)
