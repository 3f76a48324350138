"""Detection: boxes and class scores; ``Result.boxes``."""

from __future__ import annotations

import numpy as np

from ..task import Task


def rows_of(output0: np.ndarray, meta, settings, max_det: int, extra: int = 0, rotated: bool = False) -> list[np.ndarray]:
    """Per image (N, 6 + extra) rows x1, y1, x2, y2, score, class, extra in model-input pixels (``rotated``: cx, cy,
    w, h and the angle first among the extra): NMS of a raw output (B, 4 + nc + extra, A), or the rows an export
    already made (in-graph NMS, the NMS-free head)."""
    from ...runtime.processing import filter_rows, non_max_suppression

    s = settings
    if meta.outputs_rows:
        return filter_rows(output0, s.conf, max_det, s.classes)
    nc = output0.shape[1] - 4 - extra
    return non_max_suppression(output0, s.conf, s.iou, max_det, s.classes, s.agnostic_nms, s.multi_label, nc=nc,
                               rotated=rotated)


def postprocess(outputs: list[np.ndarray], meta, settings, max_det: int) -> list[dict]:
    return [{"rows": rows} for rows in rows_of(outputs[0], meta, settings, max_det)]


def boxes_field(rows: np.ndarray, letterbox, orig_shape: tuple[int, int]):
    """``Result.boxes`` from (N, 6+) rows in model-input pixels: boxes mapped back to the original image."""
    from ...runtime.processing import scale_boxes
    from ...results.boxes import Detections

    scaled = np.concatenate((scale_boxes(rows[:, :4], letterbox, orig_shape), rows[:, 4:6]), 1)
    return Detections.from_rows(scaled, orig_shape)


def fields(prediction: dict, letterbox, orig_shape, input_hw, settings) -> dict:
    return {"boxes": boxes_field(prediction["rows"], letterbox, orig_shape)}


def ground_truth(image, image_id: int, shape: tuple[int, int], dataset, issues) -> list[dict]:
    """COCO box annotations (pixels) of ``image``'s labels (polygon lines read as their boxes)."""
    from .labels import read_labels

    h, w = shape
    return [{"image_id": image_id, "category_id": int(cls), "iscrowd": 0, "area": float(bw * w * bh * h),
             "bbox": [float((cx - bw / 2) * w), float((cy - bh / 2) * h), float(bw * w), float(bh * h)]}
            for cls, cx, cy, bw, bh in read_labels(image, len(dataset.names), issues)]


def coco_detections(result, image_id: int) -> list[dict]:
    return [{"image_id": image_id, "category_id": int(cls), "score": float(score),
             "bbox": [float(x1), float(y1), float(x2 - x1), float(y2 - y1)]}
            for (x1, y1, x2, y2), score, cls in zip(result.boxes.xyxy, result.boxes.confidence, result.boxes.class_id)]


DETECT = Task("detect", "DetectionModel", heads=("Detect",), outputs=("output0",), extra="", metric="B",
              postprocess=postprocess, fields=fields, ground_truth=ground_truth, coco_detections=coco_detections,
              model_api=True, nms_in_graph="op", augmentable=True)
