"""Saving predictions: annotated images / videos, YOLO txt labels, one JSON file."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Iterable, Iterator

from .io_utils import write_image, write_text_atomic
from .results import Result

LOGGER = logging.getLogger("yolo_openvino")


def next_run_dir(project: str | Path, name: str) -> Path:
    """``project/name``, or ``name2``, ``name3``... if taken: a run never overwrites an earlier one."""
    base = Path(project) / name
    candidate, n = base, 2
    while candidate.exists():
        candidate = base.with_name(f"{name}{n}")
        n += 1
    candidate.mkdir(parents=True)
    return candidate


def _stem(result: Result, index: int) -> str:
    stem = Path(result.path).stem if result.path != "array" else f"image{index}"
    return stem if result.frame is None else f"{stem}_{result.frame}"


def save_results(results: Iterable[Result], project, name, save_images: bool, save_txt: bool,
                 save_json: bool) -> Iterator[Result]:
    """Pass results through, saving each as requested. Video frames go into one annotated video per file."""
    import cv2

    out_dir = next_run_dir(project, name)
    writers: dict[str, cv2.VideoWriter] = {}
    records = []
    try:
        for index, result in enumerate(results):
            if save_images:
                if result.frame is None:
                    suffix = Path(result.path).suffix if result.path != "array" else ".jpg"
                    write_image(out_dir / f"{_stem(result, index)}{suffix or '.jpg'}", result.plot())
                else:
                    _write_frame(writers, out_dir, result)
            if save_txt:
                write_text_atomic(out_dir / "labels" / f"{_stem(result, index)}.txt", result.to_yolo_txt(save_conf=True))
            if save_json:
                records.append(result.to_dict())
            result.image = None  # the image was only kept for saving; free it
            yield result
    finally:
        for writer in writers.values():
            writer.release()
        if save_json:
            write_text_atomic(out_dir / "predictions.json", json.dumps(records, indent=1))
        LOGGER.info("Results saved to %s", out_dir.resolve())


def _write_frame(writers: dict, out_dir: Path, result: Result) -> None:
    import cv2

    writer = writers.get(result.path)
    if writer is None:
        capture = cv2.VideoCapture(result.path)
        fps = capture.get(cv2.CAP_PROP_FPS) or 30
        capture.release()
        h, w = result.orig_shape
        target = out_dir / f"{Path(result.path).stem}.mp4"
        writer = cv2.VideoWriter(str(target), cv2.VideoWriter_fourcc(*"mp4v"), fps, (w, h))
        writers[result.path] = writer
    writer.write(result.plot())
