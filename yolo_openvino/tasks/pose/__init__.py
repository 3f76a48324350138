"""Pose: detection plus K keypoints per box (x, y and, for kpt_shape [K, 3], a visibility); ``Result.keypoints``."""

from __future__ import annotations

import numpy as np

from ...errors import UsageError
from ..task import Task
from ..detect import boxes_field, rows_of
from ..detect import coco_detections as box_detections

# COCO's per-keypoint OKS sigmas for its 17 person keypoints; other layouts weigh every keypoint alike (1 / K).
COCO_SIGMAS = np.array([.26, .25, .25, .35, .35, .79, .79, .72, .72, .62, .62, 1.07, 1.07, .87, .87, .89, .89]) / 10
# The share of a box's area the OKS scale uses for a labelled person (the reference's, from COCO's statistics).
OKS_AREA_SHARE = 0.53


def keypoint_sigmas(k: int) -> np.ndarray:
    """(K,) OKS sigmas: COCO's for 17 keypoints, 1 / K each otherwise (the reference's choice)."""
    return COCO_SIGMAS if k == 17 else np.full(k, 1.0 / k)


def model_kpt_shape(meta) -> tuple[int, int] | None:
    """The model's (keypoints, values each) from its metadata (``task_keys``); None when it gives none."""
    value = meta.task_keys.get("kpt_shape")
    if value is None:
        return None
    try:
        k, d = (int(v) for v in value)
    except (TypeError, ValueError):
        raise UsageError(f"malformed model metadata (kpt_shape {value!r:.40}, expected [keypoints, 2 or 3]); "
                         "re-export the model") from None
    return k, d


def _kpt_shape(meta) -> tuple[int, int]:
    shape = model_kpt_shape(meta)
    if not shape:
        raise UsageError("a pose model's metadata gives no kpt_shape (keypoints, 2 or 3 values each); add it, e.g. "
                         "'kpt_shape: [17, 3]', or re-export the model")
    return shape


def _extra_channels(meta, shapes: list[tuple]) -> int:
    k, d = _kpt_shape(meta)
    return k * d


def postprocess(outputs: list[np.ndarray], meta, settings, max_det: int) -> list[dict]:
    k, d = _kpt_shape(meta)
    return [{"rows": rows, "kpt_shape": (k, d)} for rows in rows_of(outputs[0], meta, settings, max_det, k * d)]


def scale_keypoints(points: np.ndarray, letterbox, orig_shape: tuple[int, int]) -> np.ndarray:
    """(N, K, D) keypoints in model-input pixels -> original-image pixels, x and y clipped to the image (as the
    reference); the visibility column is left as it is."""
    out = points.astype(np.float32, copy=True)
    out[..., 0] = ((out[..., 0] - letterbox.pad_x) / letterbox.scale_x).clip(0, orig_shape[1])
    out[..., 1] = ((out[..., 1] - letterbox.pad_y) / letterbox.scale_y).clip(0, orig_shape[0])
    return out


def fields(prediction: dict, letterbox, orig_shape, input_hw, settings) -> dict:
    from .keypoints import Keypoints

    rows, shape = prediction["rows"], prediction["kpt_shape"]
    points = scale_keypoints(rows[:, 6:].reshape(len(rows), *shape), letterbox, orig_shape)
    return {"boxes": boxes_field(rows, letterbox, orig_shape), "keypoints": Keypoints(points, orig_shape)}


def ground_truth(image, image_id: int, shape: tuple[int, int], dataset, issues) -> list[dict]:
    """COCO keypoint annotations (pixels) of ``image``'s labels ``class cx cy w h x1 y1 [v1] ...``; the OKS area
    is the box's times 0.53, as the reference scores pose."""
    from .labels import read_keypoints

    h, w = shape
    annotations = []
    for cls, (cx, cy, bw, bh), points in read_keypoints(image, len(dataset.names), dataset.kpt_shape, issues):
        visible = points[:, 2] if points.shape[1] == 3 else np.full(len(points), 2.0, np.float32)
        flat = np.column_stack((points[:, 0] * w, points[:, 1] * h, visible)).reshape(-1)
        annotations.append({"image_id": image_id, "category_id": cls, "iscrowd": 0,
                            "area": float(bw * w * bh * h * OKS_AREA_SHARE),
                            "bbox": [float((cx - bw / 2) * w), float((cy - bh / 2) * h), float(bw * w), float(bh * h)],
                            "keypoints": flat.astype(float).tolist(), "num_keypoints": int((visible > 0).sum())})
    return annotations


def coco_detections(result, image_id: int) -> list[dict]:
    """Boxes with their keypoints (x, y, score per keypoint: COCO's form)."""
    detections = box_detections(result, image_id)
    data = result.keypoints.data
    scores = data[..., 2] if data.shape[-1] == 3 else np.ones(data.shape[:2], np.float32)
    for detection, points, score in zip(detections, data, scores):
        detection["keypoints"] = np.column_stack((points[:, :2], score)).reshape(-1).astype(float).tolist()
    return detections


def metric_options(dataset) -> dict:
    """What COCO's keypoint evaluation needs beyond the annotations: the dataset's OKS sigmas."""
    return {"kpt_oks_sigmas": keypoint_sigmas(int(dataset.kpt_shape[0])).tolist()}


def check_dataset(dataset, meta) -> None:
    """The labels must hold the model's keypoints."""
    if dataset.kpt_shape != model_kpt_shape(meta):
        raise UsageError(f"{dataset.yaml_path}: kpt_shape {list(dataset.kpt_shape) if dataset.kpt_shape else None} "
                         f"does not match the model's {list(model_kpt_shape(meta) or ())}; the labels must have "
                         "the model's keypoints (set kpt_shape in the yaml)")


def part() -> type:
    """``result.keypoints``'s class (imported when asked: reading the registry stays light)."""
    from .keypoints import Keypoints

    return Keypoints


POSE = Task("pose", "PoseModel", heads=("Pose", "Pose26"), outputs=("output0",), extra="keypoint values",
            metric="P", postprocess=postprocess, fields=fields, extra_channels=_extra_channels,
            ground_truth=ground_truth, coco_detections=coco_detections, scores=(("B", "bbox"), ("P", "keypoints")),
            metric_options=metric_options, check_dataset=check_dataset, part=part,
            metadata_keys=("kpt_shape",), nms_in_graph="op")
