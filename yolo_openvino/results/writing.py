"""A Result written out: YOLO txt lines, the reference's summary rows, a DataFrame, supervision's Detections, our
JSON; each task's parts in the forms the reference gives them (mask outlines, oriented corners, keypoints, top-5)."""

from __future__ import annotations

import numpy as np


def top5_lines(result) -> list[str]:
    """``'rectangle 0.97'`` per class of a classifier's top-5, most probable first."""
    return [f"{result.label(c)} {result.probs.data[c]:.2f}" for c in result.probs.top5]


def yolo_txt(result, save_conf: bool = False) -> str:
    """Lines ``class cx cy w h [conf]`` normalised to the original image size, in the reference's forms: with
    masks ``class x1 y1 x2 y2 ... [conf]`` (each mask's outline), oriented boxes ``class x1 y1 ... x4 y4 [conf]``
    (the corners, DOTA's order), keypoints appended to the box as ``x y [visibility]`` per keypoint; when tracking,
    the track id last."""
    if result.probs is not None:  # the reference's classification lines: ``0.97 rectangle`` for the top-5
        return "".join(f"{result.probs.data[c]:.2f} {result.label(c)}\n" for c in result.probs.top5)
    lines = []
    if result.masks is not None:
        shapes = result.masks.xyn
    elif result.obb is not None:
        shapes = result.obb.xyxyxyxyn
    else:
        shapes = result.boxes.xywhn
    for i, (points, score, cid) in enumerate(zip(shapes, result.boxes.confidence, result.boxes.class_id)):
        numbers = [np.asarray(points).reshape(-1)]
        if result.keypoints is not None:
            k = result.keypoints
            numbers.append(np.concatenate((k.xyn[i], k.conf[i][:, None]), 1).reshape(-1) if k.has_visible
                           else k.xyn[i].reshape(-1))
        line = f"{int(cid)} " + " ".join(f"{v:.6f}" for v in np.concatenate(numbers))
        line += (f" {score:.5f}" if save_conf else "") + ("" if result.boxes.track_id is None else f" {result.boxes.track_id[i]}")
        lines.append(line)
    return "\n".join(lines) + ("\n" if lines else "")


def summary(result, normalize: bool = False, decimals: int = 5) -> list[dict]:
    """One dict per box: name, class, confidence, box (x1, y1, x2, y2; divided by the size if ``normalize``), and
    track_id when tracking; for a classifier one per top-5 class: name, class, confidence."""
    if result.probs is not None:
        return [{"name": result.label(c), "class": c, "confidence": round(float(result.probs.data[c]), decimals)}
                for c in result.probs.top5]
    xyxy = result.boxes.xyxyn if normalize else result.boxes.xyxy
    rows = [{"name": name, "class": int(c), "confidence": round(float(s), decimals),
             "box": dict(zip(("x1", "y1", "x2", "y2"), (round(float(v), decimals) for v in box)))}
            for box, s, c, name in zip(xyxy, result.boxes.confidence, result.boxes.class_id, result.labels)]
    if result.boxes.track_id is not None:
        for row, track_id in zip(rows, result.boxes.track_id):
            row["track_id"] = int(track_id)
    if result.masks is not None:  # the reference's form: {"segments": {"x": [...], "y": [...]}}
        for row, points in zip(rows, result.masks.xyn if normalize else result.masks.xy):
            row["segments"] = {"x": np.round(points[:, 0], decimals).tolist(),
                               "y": np.round(points[:, 1], decimals).tolist()}
    if result.obb is not None:  # the reference's form: the four corners x1, y1 ... x4, y4
        for row, points in zip(rows, result.obb.xyxyxyxyn if normalize else result.obb.xyxyxyxy):
            row["box"] = {f"{axis}{k}": round(float(points[k - 1, j]), decimals)
                          for k in range(1, 5) for j, axis in enumerate("xy")}
    if result.keypoints is not None:  # the reference's form: {"keypoints": {"x": [...], "y": [...], "visible": [...]}}
        k = result.keypoints
        for i, (row, points) in enumerate(zip(rows, k.xyn if normalize else k.xy)):
            row["keypoints"] = {"x": np.round(points[:, 0], decimals).tolist(),
                                "y": np.round(points[:, 1], decimals).tolist()}
            if k.has_visible:
                row["keypoints"]["visible"] = np.round(k.conf[i], decimals).tolist()
    return rows


def to_df(result, normalize: bool = False, decimals: int = 5):
    """:meth:`summary` as a pandas DataFrame, one row per box (pandas is optional: ``pip install pandas``): the box
    as columns (x1 .. y4 for oriented boxes), outlines and keypoints as list-valued ``segments`` / ``keypoints``."""
    import pandas
    if result.probs is not None:
        return pandas.DataFrame(summary(result, normalize, decimals), columns=["name", "class", "confidence"])
    rows = [{"name": d["name"], "class": d["class"], "confidence": d["confidence"], **d["box"],
             **{key: d[key] for key in ("track_id", "segments", "keypoints") if key in d}}
            for d in summary(result, normalize, decimals)]
    corners = [f"{axis}{k}" for k in range(1, 5) for axis in "xy"] if result.obb is not None else ["x1", "y1", "x2", "y2"]
    extra = [key for key in ("track_id", "segments", "keypoints") if key in rows[0]] if rows else (
        ["track_id"] if result.boxes.track_id is not None else [])
    return pandas.DataFrame(rows, columns=["name", "class", "confidence", *corners, *extra])


def to_supervision(result):
    """A ``supervision.Detections`` as supervision's own ``from_ultralytics`` makes it (``pip install
    'yolo-openvino[supervision]'``): boxes, scores, classes, track ids (``tracker_id``, so ``sv.LineZone`` and
    ``sv.PolygonZone`` count tracked objects), full-size masks, oriented boxes' corners in ``data["xyxyxyxy"]``
    and class names in ``data["class_name"]``; a classifier's: empty, as supervision reads one."""
    import supervision as sv

    boxes = result.boxes
    data = {"class_name": np.array(result.labels, dtype=str)}
    if result.obb is not None:
        data["xyxyxyxy"] = np.asarray(result.obb.xyxyxyxy, np.float32)
    return sv.Detections(xyxy=np.asarray(boxes.xyxy), confidence=np.asarray(boxes.confidence),
                         class_id=np.asarray(boxes.class_id),
                         tracker_id=None if boxes.track_id is None else np.asarray(boxes.track_id, np.int32),
                         mask=None if result.masks is None else result.masks.at_image_size(), data=data)


def to_dict(result) -> dict:
    detections = [{"box": [round(float(v), 2) for v in box], "confidence": round(float(score), 5),
                   "class_id": int(cid), "name": name}
                  for box, score, cid, name in zip(result.boxes.xyxy, result.boxes.confidence, result.boxes.class_id,
                                                   result.labels)]
    if result.boxes.track_id is not None:
        for detection, track_id in zip(detections, result.boxes.track_id):
            detection["track_id"] = int(track_id)
    if result.masks is not None:  # each mask's outline in original pixels: [[x, y], ...]
        for detection, points in zip(detections, result.masks.xy):
            detection["polygon"] = np.round(points, 1).tolist()
    if result.obb is not None:  # the oriented box: its corners [[x, y] x 4] and cx, cy, w, h, angle (radians)
        for detection, points, xywhr in zip(detections, result.obb.xyxyxyxy, result.obb.xywhr):
            detection["corners"] = np.round(points, 2).tolist()
            detection["xywhr"] = [round(float(v), 2) for v in xywhr[:4]] + [round(float(xywhr[4]), 5)]
    if result.keypoints is not None:  # [[x, y(, visibility)], ...] per box, original pixels
        for detection, points in zip(detections, result.keypoints.data):
            detection["keypoints"] = np.round(points, 3).tolist()
    out = {"path": result.path, "frame": result.frame, "orig_shape": list(result.orig_shape), "detections": detections,
           "speed": result.speed}
    if result.stream is not None:
        out["stream"] = result.stream
    if result.probs is not None:  # the top-5 with names, most probable first
        out["probs"] = [{"class_id": c, "name": result.label(c), "confidence": round(float(result.probs.data[c]), 5)}
                        for c in result.probs.top5]
    return out
