"""Devices that need static shapes get a dynamic IR reshaped to its export size (NPUs; INT8 on AMX CPUs, faked
here: no AMX on these machines), with a note; one that cannot be reshaped is refused in one line."""

from __future__ import annotations

import logging
import pytest
import yaml

from conftest import write_image
from yolo_openvino import YOLO
from yolo_openvino.runtime.backends import static_shapes
from yolo_openvino.errors import UsageError
from yolo_openvino.runtime.metadata import ModelMetadata


@pytest.mark.parametrize("device,dynamic,precision,amx,needed", [
    ("NPU", True, "fp32", False, True), ("AUTO:NPU,CPU", True, "fp16", False, True), ("NPU", False, "fp32", False, False),
    ("CPU", True, "int8", True, True), ("CPU", True, "int8", False, False), ("CPU", True, "fp32", True, False),
    ("AUTO:GPU,CPU", True, "int8", True, True), ("GPU", True, "int8", True, False), ("CPU", False, "int8", True, False),
])
def test_which_devices_need_a_static_ir(device, dynamic, precision, amx, needed):
    meta = ModelMetadata(names={0: "a"}, dynamic=dynamic, precision=precision)
    assert (static_shapes.static_reason(device, meta, amx=amx) is not None) is needed


@pytest.mark.parametrize("flags,amx", [("fpu sse avx512f avx512_bf16", False), ("fpu amx_bf16 amx_tile amx_int8", True)])
def test_amx_is_read_from_the_cpu_flags(tmp_path, flags, amx):
    (tmp_path / "cpuinfo").write_text(f"processor\t: 0\nflags\t\t: {flags}\n")
    assert static_shapes.cpu_has_amx(tmp_path / "cpuinfo") is amx
    assert static_shapes.cpu_has_amx(tmp_path / "missing") is False


@pytest.mark.slow
def test_a_dynamic_int8_ir_on_an_amx_cpu_runs_static_at_its_export_size(checkpoint, tmp_path, monkeypatch, caplog):
    folder = YOLO(checkpoint).export(format="openvino", imgsz=64, dynamic=True, output=str(tmp_path / "d_openvino_model"))
    meta = yaml.safe_load((tmp_path / "d_openvino_model" / "metadata.yaml").read_text())
    (tmp_path / "d_openvino_model" / "metadata.yaml").write_text(yaml.safe_dump({**meta, "precision": "int8"}))
    monkeypatch.setattr(static_shapes, "cpu_has_amx", lambda: True)
    with caplog.at_level(logging.WARNING, logger="yolo_openvino"):
        model = YOLO(folder, device="cpu")
        backend = model.backend()
        result = model(str(write_image(tmp_path / "a.jpg", h=48, w=80)), verbose=False)[0]
    assert not backend.metadata.dynamic and backend.output_shapes()[0][-1] == 84  # (64/8)^2 + (64/16)^2 + (64/32)^2
    assert "compiled static at its export size 1x3x64x64" in caplog.text and result.orig_shape == (48, 80)
    monkeypatch.setattr(static_shapes, "cpu_has_amx", lambda: False)
    assert YOLO(folder, device="cpu").backend().metadata.dynamic  # no AMX: dynamic as exported


def test_an_ir_that_cannot_be_reshaped_is_refused_in_one_line(tmp_path):
    class Unreshapable:
        inputs = ["images"]

        def reshape(self, shapes):
            raise RuntimeError("Reshape of a Proposal op is not supported")

    meta = ModelMetadata(names={0: "a"}, dynamic=True, imgsz=(640, 640))
    with pytest.raises(UsageError, match=r"m.xml: a dynamic IR, and NPUs compile static shapes only, but it cannot be "
                                         r"reshaped to \[1, 3, 640, 640\] \(Reshape of a Proposal.*dynamic=False"):
        static_shapes.reshape_to_export_size(Unreshapable(), meta, tmp_path / "m.xml", "NPUs compile static shapes only")
