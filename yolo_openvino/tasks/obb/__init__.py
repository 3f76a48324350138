"""Oriented boxes: a rotated box (cx, cy, w, h, angle) per object; ``Result.obb``.

Rows carry the box as centre and size (the reference's OBB rows): cx, cy, w, h, score, class, angle, both after
rotated NMS on the host and from YOLO26's NMS-free head.
"""

from __future__ import annotations

import numpy as np

from ..task import Task
from ..detect import rows_of


def postprocess(outputs: list[np.ndarray], meta, settings, max_det: int) -> list[dict]:
    """Per image (N, 7) rows cx, cy, w, h, score, class, angle in model-input pixels, after rotated NMS."""
    return [{"rows": rows} for rows in rows_of(outputs[0], meta, settings, max_det, extra=1, rotated=True)]


def scale_rotated(xywhr: np.ndarray, letterbox) -> np.ndarray:
    """(N, 5) boxes in model-input pixels -> original-image pixels (not clipped: a turned box may reach past the
    image's edge, as the reference keeps it)."""
    from ...runtime.rotated import regularize

    out = regularize(xywhr)
    out[:, 0] = (out[:, 0] - letterbox.pad_x) / letterbox.scale_x
    out[:, 1] = (out[:, 1] - letterbox.pad_y) / letterbox.scale_y
    out[:, 2:4] /= letterbox.scale_x  # the letterbox scales both axes alike
    return out


def fields(prediction: dict, letterbox, orig_shape, input_hw, settings) -> dict:
    from .oriented import OrientedBoxes
    from ...results.boxes import Detections

    rows = prediction["rows"]
    xywhr = scale_rotated(np.concatenate((rows[:, :4], rows[:, 6:7]), 1), letterbox)
    obb = OrientedBoxes(xywhr, rows[:, 4], rows[:, 5].round().astype(np.int64), orig_shape)
    h, w = orig_shape  # Result.boxes: the enclosing axis-aligned boxes, clipped to the image as boxes are
    enclosing = np.clip(obb.xyxy, 0, np.array([w, h, w, h], np.float32))
    return {"boxes": Detections(enclosing, obb.confidence, obb.class_id, orig_shape), "obb": obb}


def ground_truth(image, image_id: int, shape: tuple[int, int], dataset, issues) -> list[dict]:
    """Rotated boxes (pixels) of ``image``'s labels ``class x1 y1 x2 y2 x3 y3 x4 y4`` (normalised corners)."""
    from .labels import read_quadrilaterals
    from ...runtime.rotated import from_corners

    h, w = shape
    labels = read_quadrilaterals(image, len(dataset.names), issues)
    if not labels:
        return []
    quads = np.stack([points for _, points in labels]) * np.array([w, h], np.float32)
    return [{"image_id": image_id, "category_id": cls, "xywhr": box.tolist()}
            for (cls, _), box in zip(labels, from_corners(quads))]


def coco_detections(result, image_id: int) -> list[dict]:
    obb = result.obb
    return [{"image_id": image_id, "category_id": int(cls), "score": float(score), "xywhr": box.tolist()}
            for box, score, cls in zip(obb.xywhr, obb.conf, obb.class_id)]


def part() -> type:
    """``result.obb``'s class (imported when asked: reading the registry stays light)."""
    from .oriented import OrientedBoxes

    return OrientedBoxes


OBB = Task("obb", "OBBModel", heads=("OBB", "OBB26"), outputs=("output0",), extra="angle", metric="B",
           postprocess=postprocess, fields=fields, extra_channels=lambda meta, shapes: 1, ground_truth=ground_truth,
           coco_detections=coco_detections, scores=(("B", "rotated"),), box_layout="xywh", part=part,
           nms_in_graph="traced")
