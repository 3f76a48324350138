"""Shared fixtures. Tests that need ../shared (models, datasets, golden outputs) skip when it is absent."""

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

needs_shared = pytest.mark.skipif(not (MODELS.exists() and GOLDEN.exists()),
                                  reason=f"fixtures not found at {SHARED} (set YOLO_OPENVINO_SHARED)")


def shared_model(name: str) -> Path:
    path = MODELS / f"{name}.pt"
    if not path.exists():
        pytest.skip(f"{path} not found (shared fixtures absent)")
    return path


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

        kwargs.setdefault("imgsz", 640)
        key = (name, tuple(sorted((k, repr(v)) for k, v in kwargs.items())))
        if key not in _EXPORTS:
            fmt = kwargs.get("format", "openvino")
            tag = "_".join(f"{k}{v}" for k, v in sorted(kwargs.items()) if k not in ("format", "data"))
            suffix = {"openvino": "_openvino_model", "onnx": ".onnx", "torchscript": ".torchscript"}[fmt]
            output = export_dir / f"{name}_{tag}{suffix}"
            _EXPORTS[key] = Path(YOLO(shared_model(name)).export(output=str(output), **kwargs))
        return _EXPORTS[key]

    return make
