"""Saving predictions: annotated images / videos, YOLO txt labels, one JSON file."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Iterable, Iterator

from ..utils.files import write_image, write_text_atomic
from ..results.result import Result

LOGGER = logging.getLogger("yolo_openvino")


def next_run_dir(project: str | Path, name: str, exist_ok: bool = False) -> Path:
    """``project/name``, or ``name2``, ``name3``... if taken: a run never overwrites an earlier one, unless
    ``exist_ok`` (then ``project/name`` itself, made if missing)."""
    base = Path(project) / name
    candidate, n = base, 2
    while candidate.exists() and not exist_ok:
        candidate = base.with_name(f"{name}{n}")
        n += 1
    candidate.mkdir(parents=True, exist_ok=exist_ok)
    return candidate


def _stem(result: Result, index: int) -> str:
    stem = Path(result.path).stem if result.path != "array" else f"image{index}"
    return stem if result.frame is None else f"{stem}_{result.frame}"


def save_results(results: Iterable[Result], project, outputs: dict, trail: int = 0) -> Iterator[Result]:
    """Pass results through, saving each as ``outputs`` asks (save, save_txt with save_conf, save_json, save_crop,
    save_frames, name, exist_ok: options.OUTPUT). Video frames go into one annotated video per file (per stream when several are
    tracked at once), with each track's last ``trail`` centres drawn."""
    out_dir = next_run_dir(project, outputs["name"], outputs.get("exist_ok", False))
    save_images, save_txt, save_json = outputs["save"], outputs["save_txt"], outputs["save_json"]
    writers: dict[tuple, _VideoOut] = {}
    records = []
    try:
        for index, result in enumerate(results):
            if outputs.get("save_crop"):
                result.save_crop(out_dir / "crops", f"{_stem(result, index)}.jpg")
            if outputs.get("save_frames") and result.frame is not None:
                write_image(out_dir / "frames" / f"{_stem(result, index)}.jpg", result.orig_img)
            if save_images:
                if result.frame is None:
                    suffix = Path(result.path).suffix if result.path != "array" else ".jpg"
                    write_image(out_dir / f"{_stem(result, index)}{suffix or '.jpg'}", result.plot())
                else:
                    _write_frame(writers, out_dir, result, trail)
            if save_txt:
                stem = _stem(result, index) if result.stream is None else f"{_stem(result, index)}_stream{result.stream}"
                write_text_atomic(out_dir / "labels" / f"{stem}.txt", result.to_yolo_txt(save_conf=outputs["save_conf"]))
            if save_json:
                records.append(result.to_dict())
            if result.path != "array":  # a file's image was only kept for saving (it reads again); an array's stays
                result.image = None
            result.save_dir = str(out_dir)
            yield result
    finally:
        for video in writers.values():
            video.writer.release()
        if save_json:
            write_text_atomic(out_dir / "predictions.json", json.dumps(records, indent=1))
        LOGGER.info("Results saved to %s", out_dir.resolve())


class _VideoOut:
    """One annotated video being written, with the recent centres of its tracks (for trails)."""

    def __init__(self, writer, path: Path, trail: int):
        from collections import defaultdict, deque

        self.writer, self.path = writer, path
        self.centres = defaultdict(lambda: deque(maxlen=trail))  # track id -> recent (x, y)


def _write_frame(writers: dict, out_dir: Path, result: Result, trail: int = 0) -> None:
    import cv2

    key = (result.stream, result.path)
    video = writers.get(key)
    if video is None:
        fps = 30.0
        if Path(result.path).is_file():  # a live stream is not opened twice just to ask its rate
            capture = cv2.VideoCapture(result.path)
            fps = capture.get(cv2.CAP_PROP_FPS) or 30.0
            capture.release()
        h, w = result.orig_shape
        stem = Path(result.path).stem if "://" not in result.path else f"stream{result.stream or 0}"
        taken = {v.path for v in writers.values()}
        target = out_dir / f"{stem}.mp4"
        if target in taken:
            target = out_dir / f"{stem}_stream{result.stream}.mp4"
        writer = cv2.VideoWriter(str(target), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
        video = writers[key] = _VideoOut(writer, target, trail)
    frame = result.plot()
    if trail and result.boxes.track_id is not None:
        from ..results.annotate import draw_trails

        for track_id, box in zip(result.boxes.track_id, result.boxes.xyxy):
            video.centres[int(track_id)].append(((box[0] + box[2]) / 2, (box[1] + box[3]) / 2))
        draw_trails(frame, {i: video.centres[int(i)] for i in result.boxes.track_id}, result.boxes.class_id)
    video.writer.write(frame)
