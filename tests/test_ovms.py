"""The OpenVINO Model Server repository written beside an IR (OVMS itself is a C++ server: not run here)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from conftest import needs_shared, shared_model
from yolo_openvino import YOLO
from yolo_openvino.errors import UsageError


@pytest.fixture(scope="module")
def exported_with_ovms(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ovms")
    ckpt = folder / "yolov8n-init.pt"
    shutil.copy(shared_model("yolov8n-init"), ckpt)
    return folder, YOLO(ckpt).export(format="openvino", imgsz=160, ovms=True)


@needs_shared
def test_repository_layout_config_and_model(exported_with_ovms):
    import openvino as ov

    folder, ir = exported_with_ovms
    repository = folder / "yolov8n-init_ovms"
    assert sorted(p.relative_to(repository).as_posix() for p in repository.rglob("*")) == [
        "config.json", "yolov8n-init", "yolov8n-init/1", "yolov8n-init/1/metadata.yaml",
        "yolov8n-init/1/model.bin", "yolov8n-init/1/model.xml"]
    config = json.loads((repository / "config.json").read_text())["model_config_list"][0]["config"]
    assert config == {"name": "yolov8n-init", "base_path": "/models/yolov8n-init",
                      "plugin_config": {"PERFORMANCE_HINT": "THROUGHPUT"}}
    x = np.random.default_rng(0).random((1, 3, 160, 160), dtype=np.float32)
    core = ov.Core()
    served = core.compile_model(repository / "yolov8n-init" / "1" / "model.xml", "CPU")(x)[0]
    ours = core.compile_model(next(Path(ir).glob("*.xml")), "CPU")(x)[0]
    np.testing.assert_array_equal(served, ours)


@needs_shared
def test_a_folder_that_is_not_a_repository_is_never_replaced(exported_with_ovms, tmp_path):
    from yolo_openvino.export.ovms import write_ovms_repository

    _, ir = exported_with_ovms
    mine = tmp_path / "models"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    with pytest.raises(UsageError, match="never overwritten"):
        write_ovms_repository(ir, mine)
    assert (mine / "notes.txt").read_text() == "keep"
    again = write_ovms_repository(ir, tmp_path / "repo")
    assert write_ovms_repository(ir, again) == again  # an earlier repository of ours is replaced


def test_ovms_needs_an_openvino_export():
    from yolo_openvino.export import parse_export_args

    with pytest.raises(UsageError, match="format=openvino"):
        parse_export_args(32, format="onnx", ovms=True, imgsz=640)

