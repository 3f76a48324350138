"""The built-in default job (``yolo-ov demo``): works offline, on a fresh machine, in about a minute."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np

LOGGER = logging.getLogger("yolo_openvino")


def synthetic_images(folder: Path, count: int = 4, seed: int = 0) -> Path:
    """Write ``count`` generated street-like scenes (shapes on a gradient) as JPEGs; returns the folder."""
    import cv2

    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        h, w = (480, 640) if i % 2 == 0 else (640, 480)
        image = np.linspace(40, 200, h, dtype=np.float32)[:, None, None].repeat(w, 1).repeat(3, 2)
        image = (image + rng.normal(0, 8, image.shape)).clip(0, 255).astype(np.uint8)
        for _ in range(6):
            x, y = int(rng.integers(0, w - 80)), int(rng.integers(0, h - 80))
            color = tuple(int(c) for c in rng.integers(0, 255, 3))
            cv2.rectangle(image, (x, y), (x + int(rng.integers(30, 160)), y + int(rng.integers(30, 160))), color, -1)
            cv2.circle(image, (x + 20, y + 20), int(rng.integers(8, 30)), color[::-1], -1)
        cv2.imwrite(str(folder / f"scene{i}.jpg"), image)
    return folder


def run_demo(model: str, project: Path) -> None:
    from ..yolo import YOLO

    project.mkdir(parents=True, exist_ok=True)
    images = synthetic_images(project / "images")
    started = time.perf_counter()
    yolo = YOLO(model)
    print(f"[1/3] loaded {model} ({'untrained, built from its architecture' if model.endswith('.yaml') else 'weights'})")
    ir = yolo.export(format="openvino", imgsz=640, output=str(project / f"{Path(model).stem}_openvino_model"))
    print(f"[2/3] exported to {ir} in {time.perf_counter() - started:.1f}s")
    runtime = YOLO(ir)
    results = runtime(str(images), conf=0.25, save=True, project=str(project), name="predict", verbose=False)
    print(f"[3/3] OpenVINO inference on {len(results)} generated images ({runtime.runtime_info()['device']}):")
    for r in results:
        print(f"  {Path(r.path).name} {r.orig_shape[0]}x{r.orig_shape[1]}: {r.verbose()}{sum(r.speed.values()):.1f} ms")
    if model.endswith(".yaml"):
        print("  (an untrained model finds nothing: pass model=yolov8n.pt or your own checkpoint for real detections)")
    print(f"done in {time.perf_counter() - started:.1f}s; outputs under {project}")
