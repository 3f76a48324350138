"""Shared fixtures. Tests that need ../shared (models, datasets, golden outputs) skip when it is absent, except in
CI (``CI=true``), where its absence stops the run: a green CI must never mean the parity matrix was skipped."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("YOLO_OPENVINO_SHARED", ROOT.parent / "shared"))
MODELS = SHARED / "models"
GOLDEN = SHARED / "golden"
DATASETS = SHARED / "datasets"
COCO8 = DATASETS / "coco8.yaml"
COCO128 = DATASETS / "coco128.yaml"
COCO128_IMAGES = DATASETS / "coco128" / "images" / "train2017"

HAVE_SHARED = MODELS.exists() and GOLDEN.exists()
needs_shared = pytest.mark.skipif(not HAVE_SHARED, reason=f"fixtures not found at {SHARED} (set YOLO_OPENVINO_SHARED)")

# Tests of the fast set that run longer than this are bugs (the slowest takes about 20 s): a hang fails in minutes,
# not at the 900 s that slow tests may take (INT8 calibration, COCO128 mAP, a real cluster).
FAST_TEST_TIMEOUT_S = 120


def pytest_sessionstart(session):
    if os.environ.get("CI", "").lower() in ("1", "true") and not HAVE_SHARED:
        raise pytest.UsageError(f"CI: the fixtures are not at {SHARED}; the parity tests would be skipped, not run")


def pytest_collection_modifyitems(items):
    for item in items:
        if item.get_closest_marker("slow") is None and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(FAST_TEST_TIMEOUT_S))


def write_image(path: Path, h: int = 48, w: int = 64) -> Path:
    """A random (h, w) JPEG or PNG (by suffix) at ``path``, its folders made."""
    import cv2
    import numpy as np

    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.random.default_rng(0).integers(0, 255, (h, w, 3), dtype=np.uint8))
    return path


def write_video(path, frames: int = 8, h: int = 48, w: int = 64):
    """A moving bright square on noise, MJPG in .avi (every OpenCV build writes it)."""
    import cv2
    import numpy as np

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (w, h))
    rng = np.random.default_rng(0)
    for t in range(frames):
        frame = rng.integers(0, 60, (h, w, 3), dtype=np.uint8)
        frame[10:30, 5 + 3 * t:25 + 3 * t] = 250
        writer.write(frame)
    writer.release()
    return path


def write_dataset(root: Path, labels: dict, split: str = "val") -> Path:
    """A YOLO dataset of two classes under ``root``: one image per ``labels`` entry (stem -> label text, or None
    for a label file that is not UTF-8) in ``split``; returns its yaml."""
    import yaml

    for stem, text in labels.items():
        write_image(root / "images" / split / f"{stem}.jpg")
        label = root / "labels" / split / f"{stem}.txt"
        label.parent.mkdir(parents=True, exist_ok=True)
        label.write_bytes(b"0 0.5 0.5 0.2 \xff\xfe\n" if text is None else text.encode())
    (root / "ds.yaml").write_text(yaml.safe_dump({"path": ".", split: f"images/{split}", "names": ["a", "b"]}))
    return root / "ds.yaml"


def predict_as_listed(model, files: list, nms=None, **settings) -> list:
    """Predictions as the reference made the detection goldens (yolov8s-coco128, yolo26n-coco128, the -init ones):
    from a list of images of mixed shapes, which it letterboxes square. One image per call it pads a ``.pt``'s
    input minimally (the task goldens), as we do by default."""
    from yolo_openvino.runtime.predictor import PredictSettings, Predictor

    backend = model._head(model.backend(), nms, settings.get("max_det"))
    return list(Predictor(backend, PredictSettings(pad="square", **settings)).stream([str(f) for f in files]))


def shared_model(name: str) -> Path:
    path = MODELS / f"{name}.pt"
    if not path.exists():
        pytest.skip(f"{path} not found (shared fixtures absent)")
    return path


# Variables our code reads. A user who followed the README may have exported any of them (YOLO_OFFLINE=1 made
# the download test fail), so every test starts without them and sets what it relies on itself.
# (YOLO_OPENVINO_SHARED is the tests' own, read above.)
OUR_ENVIRONMENT = ("YOLO_OFFLINE", "YOLO_OPENVINO_HOME", "YOLO_OPENVINO_ASSETS_URL", "YOLO_OV_DEBUG", "YOLO_OV_API_KEY",
                   "YOLO_OPENVINO_CONFIG_DIR")


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch, tmp_path_factory):
    for name in OUR_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    # Downloads and datasets fetched by name go to a cache of the session's own, never the user's home.
    monkeypatch.setenv("YOLO_OPENVINO_HOME", str(tmp_path_factory.getbasetemp() / "yolo_openvino_home"))
    # Settings likewise: the user's own settings file never changes what a test does, nor a test the file.
    monkeypatch.setenv("YOLO_OPENVINO_CONFIG_DIR", str(tmp_path_factory.getbasetemp() / "yolo_openvino_config" /
                                                       os.environ.get("PYTEST_CURRENT_TEST", "").split(" ")[0]
                                                       .replace("/", "_").replace(":", "_")[:120]))


@pytest.fixture(autouse=True)
def _quiet_logs(caplog):
    caplog.set_level(logging.INFO, logger="yolo_openvino")


@pytest.fixture(scope="session")
def checkpoint(tmp_path_factory) -> Path:
    """An untrained checkpoint in the official layout, small enough to export in a second (no ../shared)."""
    import ultralytics_fakes

    path = tmp_path_factory.mktemp("ckpt") / "tiny.pt"
    ultralytics_fakes.save_checkpoint(path)
    return path


@pytest.fixture(scope="session")
def yolo26_checkpoint(tmp_path_factory) -> Path:
    """An untrained YOLO26 detector (dual head, reg_max 1) in the official layout, tiny: the family's graph."""
    import ultralytics_fakes

    path = tmp_path_factory.mktemp("y26") / "tiny26.pt"
    ultralytics_fakes.save_checkpoint(path, arch=ultralytics_fakes.tiny_arch(family="yolo26"))
    return path


@pytest.fixture(scope="session")
def seg_checkpoint(tmp_path_factory) -> Path:
    """An untrained segmentation checkpoint in the official layout (SegmentationModel, a Segment head), tiny."""
    import ultralytics_fakes

    path = tmp_path_factory.mktemp("seg") / "tiny-seg.pt"
    ultralytics_fakes.save_checkpoint(path, arch=ultralytics_fakes.tiny_arch(task="segment"))
    return path


@pytest.fixture(scope="session")
def tiny_ir(checkpoint) -> str:
    """``checkpoint`` exported to OpenVINO at 64 px."""
    from yolo_openvino import YOLO

    return YOLO(checkpoint).export(format="openvino", imgsz=64, output=str(checkpoint.parent / "tiny_openvino_model"))


@pytest.fixture(scope="session")
def export_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("exports")


_EXPORTS: dict = {}


@pytest.fixture(scope="session")
def exported(export_dir):
    """exported(model_name, **export_args) -> path; each distinct export is done once per session.

    imgsz defaults to 640, the size of the golden outputs (a .pt's own default is its training size)."""

    def make(name: str, **kwargs) -> Path:
        from yolo_openvino import YOLO

        kwargs = ir_changing(kwargs)
        key = (name, tuple(sorted((k, repr(v)) for k, v in kwargs.items())))
        if key not in _EXPORTS:
            from yolo_openvino.export import default_output

            tag = "_".join(f"{k}{v}" for k, v in sorted(kwargs.items()) if k not in ("format", "data"))
            output = default_output(export_dir / tag / f"{name}.pt", kwargs.get("format", "openvino"))
            _EXPORTS[key] = Path(YOLO(shared_model(name)).export(output=str(output), **kwargs))
        return _EXPORTS[key]

    return make


def ir_changing(kwargs: dict) -> dict:
    """The export arguments that change what is written (imgsz 640 unless given): defaults dropped, and the
    INT8 dataset without int8, the baked-in thresholds without in-graph NMS, max_det without a rows output."""
    from yolo_openvino.options import defaults

    kwargs = {"imgsz": 640, **kwargs}
    unused = set()
    if not kwargs.get("int8"):
        unused |= {"data", "fraction", "subset_size", "max_drop", "int8_check", "val_images"}
    if kwargs.get("nms") is not True:
        unused |= {"conf", "iou", "agnostic_nms"}
    if kwargs.get("nms") is None:
        unused.add("max_det")
    default = defaults("export")
    return {k: v for k, v in kwargs.items() if k not in unused and (k == "imgsz" or v != default.get(k))}


def noise_image(seed: int = 0):
    """A (48, 64, 3) BGR image of blurred noise, the same for a seed whatever ran before: something for an untrained
    model to find boxes in."""
    import cv2
    import numpy as np

    return cv2.GaussianBlur(np.random.default_rng(seed).integers(0, 255, (48, 64, 3), dtype=np.uint8), (5, 5), 0)


# A label line of each task's own kind (normalised): a detector's box, a polygon, a box with keypoints, a quad.
LABELS = {
    "detect": "0 0.5 0.5 0.4 0.5",
    "segment": "0 0.3 0.3 0.7 0.3 0.7 0.8 0.3 0.8",
    "pose": "0 0.5 0.5 0.4 0.5 0.4 0.4 2 0.6 0.4 2 0.6 0.6 2 0.4 0.6 2",
    "obb": "1 0.3 0.3 0.7 0.3 0.7 0.7 0.3 0.7",
}


def write_task_dataset(task: str, root) -> str:
    """A two-image val set of ``task``'s kind: a YOLO yaml with its labels, or a classifier's ImageFolder."""
    import cv2
    import yaml

    from yolo_openvino.tasks import tasks

    if tasks()[task].dataset_kind == "image_folder":
        for k, name in enumerate(("c0", "c1")):
            (root / "val" / name).mkdir(parents=True)
            cv2.imwrite(str(root / "val" / name / "a.jpg"), noise_image(k))
        return str(root)
    (root / "images").mkdir(parents=True)
    (root / "labels").mkdir(parents=True)
    for i in range(2):
        cv2.imwrite(str(root / "images" / f"{i}.jpg"), noise_image(i))
        (root / "labels" / f"{i}.txt").write_text(LABELS[task] + "\n")
    data = {"path": str(root), "val": "images", "names": {0: "c0", 1: "c1"}}
    if task == "pose":
        data["kpt_shape"] = [4, 3]
    (root / "data.yaml").write_text(yaml.safe_dump(data))
    return str(root / "data.yaml")
