"""A Result written out: YOLO txt lines, the reference's summary rows, a DataFrame, supervision's Detections, our
JSON; each task's parts in the forms the reference gives them (mask outlines, oriented corners, keypoints, top-5)."""

from __future__ import annotations

import numpy as np


def top5_lines(result) -> list[str]:
    """``'rectangle 0.97'`` per class of a classifier's top-5, most probable first."""
    return [f"{result.label(c)} {result.probs.data[c]:.2f}" for c in result.probs.top5]


def yolo_txt(result, save_conf: bool = False) -> str:
    """Lines ``class cx cy w h [conf]`` normalised to the original image size, in the reference's forms: a part may
    replace the box (a mask's outline ``class x1 y1 x2 y2 ...``, an oriented box's corners) or add to it (keypoints
    ``x y [visibility]`` each); when tracking, the track id last. A classifier: its top-5, ``0.97 rectangle``."""
    if result.probs is not None:
        return "".join(f"{result.probs.data[c]:.2f} {result.label(c)}\n" for c in result.probs.top5)
    parts = result.parts()
    shapes = next((s for s in (part.txt_shapes() for part in parts) if s is not None), result.boxes.xywhn)
    lines = []
    for i, (points, score, cid) in enumerate(zip(shapes, result.boxes.confidence, result.boxes.class_id)):
        extra = [e for e in (part.txt_extra(i) for part in parts) if e is not None]
        numbers = np.concatenate([np.asarray(points).reshape(-1), *extra])
        line = f"{int(cid)} " + " ".join(f"{v:.6f}" for v in numbers)
        line += (f" {score:.5f}" if save_conf else "") + ("" if result.boxes.track_id is None else f" {result.boxes.track_id[i]}")
        lines.append(line)
    return "\n".join(lines) + ("\n" if lines else "")


def summary(result, normalize: bool = False, decimals: int = 5) -> list[dict]:
    """One dict per box, as the reference's: name, class, confidence, box (x1, y1, x2, y2; divided by the size if
    ``normalize``), track_id when tracking, and each part's own entries (segments, keypoints, an oriented box's
    corners as its box); for a classifier one per top-5 class: name, class, confidence."""
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
    for part in result.parts():
        part.summary_into(rows, normalize, decimals)
    return rows


def to_df(result, normalize: bool = False, decimals: int = 5):
    """:meth:`summary` as a pandas DataFrame, one row per box (pandas is optional: ``pip install pandas``): the box
    as columns (x1 .. y4 for oriented boxes), outlines and keypoints as list-valued ``segments`` / ``keypoints``."""
    import pandas
    if result.probs is not None:
        return pandas.DataFrame(summary(result, normalize, decimals), columns=["name", "class", "confidence"])
    summaries = summary(result, normalize, decimals)
    rows = [{"name": d["name"], "class": d["class"], "confidence": d["confidence"], **d["box"],
             **{k: v for k, v in d.items() if k not in ("name", "class", "confidence", "box")}} for d in summaries]
    if summaries:
        box = list(summaries[0]["box"])
        extra = [k for k in summaries[0] if k not in ("name", "class", "confidence", "box")]
    else:  # no box: the columns it would have (an oriented box's corners where a part outlines the boxes)
        outlined = any(part.box_outlines() is not None for part in result.parts())
        box = [f"{axis}{k}" for k in range(1, 5) for axis in "xy"] if outlined else ["x1", "y1", "x2", "y2"]
        extra = ["track_id"] if result.boxes.track_id is not None else []
    return pandas.DataFrame(rows, columns=["name", "class", "confidence", *box, *extra])


def to_supervision(result):
    """A ``supervision.Detections`` as supervision's own ``from_ultralytics`` makes it (``pip install
    'yolo-openvino[supervision]'``): boxes, scores, classes, track ids (``tracker_id``, so ``sv.LineZone`` and
    ``sv.PolygonZone`` count tracked objects), full-size masks, oriented boxes' corners in ``data["xyxyxyxy"]``
    and class names in ``data["class_name"]``; a classifier's: empty, as supervision reads one."""
    import supervision as sv

    boxes = result.boxes
    fields = {"xyxy": np.asarray(boxes.xyxy), "confidence": np.asarray(boxes.confidence),
              "class_id": np.asarray(boxes.class_id),
              "tracker_id": None if boxes.track_id is None else np.asarray(boxes.track_id, np.int32),
              "data": {"class_name": np.array(result.labels, dtype=str)}}
    for part in result.parts():
        part.supervision_into(fields)
    return sv.Detections(**fields)


def to_dict(result) -> dict:
    detections = [{"box": [round(float(v), 2) for v in box], "confidence": round(float(score), 5),
                   "class_id": int(cid), "name": name}
                  for box, score, cid, name in zip(result.boxes.xyxy, result.boxes.confidence, result.boxes.class_id,
                                                   result.labels)]
    if result.boxes.track_id is not None:
        for detection, track_id in zip(detections, result.boxes.track_id):
            detection["track_id"] = int(track_id)
    for part in result.parts():
        part.dict_into(detections)
    out = {"path": result.path, "frame": result.frame, "orig_shape": list(result.orig_shape), "detections": detections,
           "speed": result.speed}
    if result.stream is not None:
        out["stream"] = result.stream
    if result.probs is not None:  # the top-5 with names, most probable first; and every class's, in class order
        out["probs"] = [{"class_id": c, "name": result.label(c), "confidence": round(float(result.probs.data[c]), 5)}
                        for c in result.probs.top5]
        out["probabilities"] = [round(float(v), 6) for v in result.probs.data]
    return out
