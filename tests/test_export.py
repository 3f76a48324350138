"""Export: parity matrix against PyTorch, in-model NMS, dynamic shapes, atomic writes, metadata, interop."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from conftest import COCO8, COCO128, COCO128_IMAGES, GOLDEN, needs_shared, shared_model
from yolo_openvino import YOLO
from yolo_openvino.runtime.backends import load_backend
from yolo_openvino.runtime.processing import non_max_suppression

pytestmark = needs_shared

# Tolerances per precision, max-abs-diff vs our PyTorch model on the golden inputs.
# fp32: scores 1e-3 absolute. Boxes are pixels (up to ~640) produced through ~70 float32 layers and a
#   softmax expectation that amplifies logit rounding; different convolution kernels alone move them by up
#   to ~5e-3 px (3e-5 relative), so boxes get 1e-3 + 5e-5 relative (at most 0.033 px at 640).
# fp16: weights rounded to 11 bits move scores by ~1e-3; box regressions of confident anchors (score > 0.05,
#   everything a detector reports) move < 0.15 px; flat distributions of background anchors move more.
TOLERANCE = {"fp32": dict(score=1e-3, box_atol=1e-3, box_rtol=5e-5, box_min_score=0.0),
             "fp16": dict(score=5e-3, box_atol=0.5, box_rtol=0.0, box_min_score=0.05)}
MATRIX = [("openvino", "fp32"), pytest.param("openvino", "fp16", marks=pytest.mark.slow), ("onnx", "fp32"),
          pytest.param("torchscript", "fp32", marks=pytest.mark.slow)]  # fp16: two more exports (13 s) for the slow set


def _reference(name):
    golden = np.load(GOLDEN / f"{name}_raw.npz")
    model = YOLO(shared_model(name)).model
    with torch.no_grad():
        return golden["input"], model(torch.from_numpy(golden["input"])).numpy()


def _assert_close(out, ref, precision):
    tol = TOLERANCE[precision]
    np.testing.assert_allclose(out[:, 4:], ref[:, 4:], atol=tol["score"], rtol=0)
    confident = (ref[:, 4:].max(1) > tol["box_min_score"])[:, None, :].repeat(4, 1)
    np.testing.assert_allclose(out[:, :4][confident], ref[:, :4][confident], atol=tol["box_atol"], rtol=tol["box_rtol"])


@pytest.mark.parametrize("fmt,precision", MATRIX)
@pytest.mark.parametrize("name", [pytest.param("yolov8s-coco128", marks=pytest.mark.slow), "yolo11n-init"])
def test_parity_matrix(exported, name, fmt, precision):
    x, ref = _reference(name)
    path = exported(name, format=fmt, half=precision == "fp16", batch=2)
    # float input compares the network alone; f32 for parity (the device default may be bf16)
    backend = load_backend(path, fmt, preprocess="host", inference_precision="f32")
    assert backend.metadata.precision == precision
    _assert_close(backend.infer(x)[0], ref, precision)


@pytest.mark.parametrize("name", [pytest.param("yolov8s-coco128", marks=pytest.mark.slow), "yolo11n-init"])
def test_openvino_in_graph_preprocessing_matches(exported, name):
    """uint8 BGR NHWC through the PrePostProcessor gives the float path's result."""
    x, ref = _reference(name)
    backend = load_backend(exported(name, format="openvino", batch=2), "openvino", preprocess="device",
                           inference_precision="f32")
    u8 = np.ascontiguousarray((x[:, ::-1].transpose(0, 2, 3, 1) * 255).round().astype(np.uint8))
    _assert_close(backend.infer(u8)[0], ref, "fp32")


def test_precision_is_the_devices_own_unless_asked(exported):
    """Nothing recorded at export forces a precision: by default OpenVINO's choice for the device (bf16 on
    AVX512_BF16/AMX CPUs, f32 on AVX2-only ones), read back from the compiled model; f32 when asked."""
    import openvino as ov

    path = exported("yolov8s-coco128", format="openvino", batch=2, imgsz=64)
    assert "inference_precision" not in yaml.safe_load((path / "metadata.yaml").read_text())
    device_default = ov.Core().compile_model(str(next(path.glob("*.xml"))), "CPU").get_property("INFERENCE_PRECISION_HINT")
    assert load_backend(path, "openvino").info()["INFERENCE_PRECISION_HINT"] == device_default.get_type_name()
    assert load_backend(path, "openvino", inference_precision="f32").info()["INFERENCE_PRECISION_HINT"] == "f32"


@pytest.mark.parametrize("agnostic", [False, pytest.param(True, marks=pytest.mark.slow)])
@pytest.mark.slow
def test_nms_in_model_matches_host_nms(exported, agnostic):
    x, ref = _reference("yolov8s-coco128")
    path = exported("yolov8s-coco128", format="openvino", nms=True, batch=2, conf=0.05, agnostic_nms=agnostic)
    backend = load_backend(path, "openvino", preprocess="host", inference_precision="f32")
    assert backend.metadata.nms_in_graph and yaml.safe_load((path / "metadata.yaml").read_text())["nms"] is True
    out = backend.infer(x)[0]
    assert out.shape == (2, 300, 6)
    host = non_max_suppression(ref, conf=0.05, iou=0.7, max_det=300, agnostic=agnostic)
    for rows, expected in zip(out, host):
        rows = rows[rows[:, 4] > 0]
        assert len(rows) == len(expected) > 0
        np.testing.assert_allclose(rows[:, :4], expected[:, :4], atol=0.02)
        np.testing.assert_allclose(rows[:, 4], expected[:, 4], atol=1e-4)
        np.testing.assert_array_equal(rows[:, 5], expected[:, 5])


@pytest.mark.slow  # two 640 exports' predictions (9 s); the in-graph NMS rows are checked in the fast set above
def test_nms_model_predictions_match_raw_model(exported):
    nms = YOLO(exported("yolov8s-coco128", format="openvino", nms=True, conf=0.25), inference_precision="f32")
    raw = YOLO(exported("yolov8s-coco128", format="openvino"), inference_precision="f32")
    files = [str(COCO128_IMAGES / f) for f in ("000000000049.jpg", "000000000061.jpg")]
    for a, b in zip(nms(files), raw(files)):
        assert len(a) == len(b) > 0
        np.testing.assert_allclose(a.boxes.xyxy, b.boxes.xyxy, atol=0.05)


@pytest.mark.parametrize("shape", [(1, 320, 320), (3, 480, 640), (2, 640, 384)])
@pytest.mark.slow
def test_dynamic_export_runs_at_several_shapes(exported, shape):
    batch, h, w = shape
    backend = load_backend(exported("yolo11n-init", format="openvino", dynamic=True), "openvino", preprocess="host",
                           inference_precision="f32")
    assert backend.metadata.dynamic
    x = np.random.default_rng(0).random((batch, 3, h, w), dtype=np.float32)
    with torch.no_grad():
        ref = YOLO(shared_model("yolo11n-init")).model(torch.from_numpy(x)).numpy()
    _assert_close(backend.infer(x)[0], ref, "fp32")


@pytest.mark.slow
def test_dynamic_model_letterboxes_minimally(exported):
    model = YOLO(exported("yolov8s-coco128", format="openvino", dynamic=True))
    result = model(str(COCO128_IMAGES / "000000000025.jpg"))[0]
    assert result.labels == ["teddy bear"]
    from yolo_openvino.runtime.predictor import PredictSettings, Predictor

    assert Predictor(model.backend(), PredictSettings()).pad == "minimal"


@pytest.mark.parametrize("fmt", ["openvino", "onnx", pytest.param("torchscript", marks=pytest.mark.slow)])
def test_static_model_rejects_wrong_shape_with_a_clear_message(exported, fmt):
    backend = load_backend(exported("yolo11n-init", format=fmt, batch=2), fmt, preprocess="host")
    with pytest.raises(ValueError, match=r"static input of shape \(2, 3, 640, 640\).*got \(1, 3, 320, 320\)"):
        backend.infer(np.zeros((1, 3, 320, 320), np.float32))


def test_metadata_is_complete(exported):
    path = exported("yolov8s-coco128", format="openvino", batch=2, imgsz=64)
    meta = yaml.safe_load((path / "metadata.yaml").read_text())
    for key in ("description", "date", "version", "task", "stride", "batch", "imgsz", "names", "args", "precision",
                "nms", "dynamic"):
        assert key in meta, key
    assert meta["batch"] == 2 and meta["imgsz"] == [64, 64] and meta["names"][0] == "person" and meta["stride"] == 32
    assert sorted(p.name for p in path.iterdir()) == ["metadata.yaml", "yolov8s-coco128.bin", "yolov8s-coco128.xml"]


def test_imgsz_is_rounded_to_stride_with_warning(tmp_path, caplog):
    path = YOLO(shared_model("yolo11n-init")).export(format="onnx", imgsz=(300, 500), output=str(tmp_path / "m.onnx"))
    assert "not a multiple of the model stride 32; using [320, 512]" in caplog.text
    assert load_backend(path, "onnx").metadata.imgsz == (320, 512)


@pytest.mark.parametrize("kwargs,error,match", [
    (dict(format="onnx", int8=True), ValueError, "int8=True is supported for format=openvino only"),
    (dict(format="torchscript", nms=True), ValueError, "nms=True is supported for format=openvino only"),
    (dict(format="torchscript", half=True), ValueError, "needs a CUDA device"),
    (dict(format="tflite"), ValueError, "expected one of"),
    (dict(format="openvino", int8=True, data="missing.yaml"), FileNotFoundError, "dataset 'missing.yaml' not found"),
    (dict(format="openvino", int8=True, data=str(COCO8), batch=8), ValueError, "4 calibration image.*batch=8"),
    (dict(format="openvino", imgz=320), TypeError, "did you mean 'imgsz'"),
])
def test_export_argument_errors(tmp_path, monkeypatch, kwargs, error, match):
    """Each is said before any conversion starts (a dataset too small for INT8 once came after it, 7 s later)."""
    import yolo_openvino.export as exporters

    def too_late(*args):
        raise AssertionError("the conversion started before the arguments were checked")

    for fmt in exporters.EXPORTERS:
        monkeypatch.setitem(exporters.EXPORTERS, fmt, too_late)
    with pytest.raises(error, match=match):
        YOLO(shared_model("yolo11n-init")).export(output=str(tmp_path / "out"), **kwargs)
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_export_is_atomic(checkpoint, tmp_path, monkeypatch):
    """A failing export leaves neither a half-written folder nor damage to a previous export."""
    import yolo_openvino.export as exporters

    model = YOLO(checkpoint)
    target = tmp_path / "m_openvino_model"
    model.export(format="openvino", output=str(target), imgsz=64)
    before = {p.name: p.stat().st_size for p in target.iterdir()}
    real = exporters.EXPORTERS["openvino"]

    def crash_midway(module, example, out, metadata, args):
        real(module, example, out, metadata, args)
        (out / "metadata.yaml").unlink()
        raise KeyboardInterrupt  # as if the user pressed Ctrl-C after the weights were written

    monkeypatch.setitem(exporters.EXPORTERS, "openvino", crash_midway)
    with pytest.raises(KeyboardInterrupt):
        model.export(format="openvino", output=str(target), imgsz=96)
    assert {p.name: p.stat().st_size for p in target.iterdir()} == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "temporary files left behind"
    monkeypatch.setitem(exporters.EXPORTERS, "openvino", real)
    model.export(format="openvino", output=str(target), imgsz=96)  # a re-export replaces the folder whole
    assert yaml.safe_load((target / "metadata.yaml").read_text())["imgsz"] == [96, 96]


@pytest.mark.slow
def test_default_output_names(checkpoint, tmp_path):
    import shutil

    ckpt = tmp_path / "yolo11n-init.pt"  # the names come from the file's stem: a tiny model exports in a second
    shutil.copy(checkpoint, ckpt)
    model = YOLO(ckpt)
    assert model.export(format="openvino", imgsz=64) == str(tmp_path / "yolo11n-init_openvino_model")
    assert model.export(format="onnx", imgsz=64) == str(tmp_path / "yolo11n-init.onnx")
    assert model.export(format="torchscript", imgsz=64) == str(tmp_path / "yolo11n-init.torchscript")


@pytest.mark.slow
def test_default_output_name_of_int8(tmp_path):
    import shutil

    ckpt = tmp_path / "yolo11n-init.pt"
    shutil.copy(shared_model("yolo11n-init"), ckpt)
    int8 = YOLO(ckpt).export(format="openvino", int8=True, data=str(COCO8), imgsz=320)
    assert int8 == str(tmp_path / "yolo11n-init_int8_openvino_model")
    assert yaml.safe_load((tmp_path / "yolo11n-init_int8_openvino_model" / "metadata.yaml").read_text())["precision"] == "int8"


@pytest.mark.parametrize("int8", [False, pytest.param(True, marks=pytest.mark.slow)])
@pytest.mark.slow
def test_openvino_model_api_interop(exported, int8):
    """Intel's openvino-model-api loads our IR from its rt_info alone and finds what we find."""
    model_api = pytest.importorskip("model_api.models")
    import cv2

    path = exported("yolov8s-coco128", format="openvino", int8=int8, data=str(COCO8))
    from model_api.adapters import OpenvinoAdapter, create_core

    xml = next(path.glob("*.xml"))
    image = cv2.imread(str(COCO128_IMAGES / "000000000049.jpg"))
    # Both sides at f32: at the device default (bf16 on AVX512_BF16 CPUs) a borderline box may flip.
    adapter = OpenvinoAdapter(create_core(), str(xml), device="CPU", plugin_config={"INFERENCE_PRECISION_HINT": "f32"})
    detector = model_api.Model.create_model(adapter, configuration={"confidence_threshold": 0.25})
    theirs = detector(image)
    ours = YOLO(path, inference_precision="f32")(image, conf=0.25)[0]
    from yolo_openvino.runtime.processing import box_iou

    assert len(ours) >= 5 and len(theirs.bboxes) >= 5
    iou = box_iou(theirs.bboxes.astype(np.float32), ours.boxes.xyxy)
    # Every box they report is one of ours (same class, same corners); every clearly-above-threshold box of
    # ours is theirs. Corners, not IoU: their boxes are rounded to whole pixels, which alone takes a 13 px
    # wide person below IoU 0.9. Their own resize adds up to 0.1 px at FP32 and 0.6 px at INT8 (measured).
    matched = iou.argmax(1)
    assert (iou.max(1) >= 0.5).all()
    np.testing.assert_array_equal(ours.boxes.class_id[matched], theirs.labels)
    np.testing.assert_allclose(theirs.bboxes, ours.boxes.xyxy[matched], atol=1.5 if int8 else 0.75)
    clear = ours.boxes.confidence >= 0.35  # borderline boxes may flip with their own resize
    assert (iou.max(0)[clear] >= 0.5).all()
    assert set(theirs.label_names) <= set(ours.labels)


@pytest.mark.slow
def test_coco128_map_openvino_fp32_and_int8(exported):
    """mAP50-95 on COCO128 at 640: OpenVINO FP32 within 0.002 of PyTorch, INT8 within 0.01 of FP32."""
    data = str(COCO128)
    pytorch = YOLO(shared_model("yolov8s-coco128")).val(data=data, rect=False, imgsz=640).map50_95
    fp32 = YOLO(exported("yolov8s-coco128", format="openvino"), inference_precision="f32").val(data=data).map50_95
    int8 = YOLO(exported("yolov8s-coco128", format="openvino", int8=True, data=data)).val(data=data).map50_95
    assert abs(fp32 - pytorch) <= 0.002
    assert abs(int8 - fp32) <= 0.01


CI_SWITCHES = ("CI", "TF_BUILD", "JENKINS_URL")  # each makes OpenVINO's telemetry decline by itself: not under test


@pytest.mark.parametrize("consent,sent", [(None, 0), ("1", 1)])
def test_loading_a_model_sends_no_telemetry_the_user_did_not_agree_to(consent, sent, tiny_ir, tmp_path):
    """``import openvino`` sends a usage event (a process forked from a thread) unless declined; we import it
    declined for a user never asked. In a fresh process: OpenVINO is not imported yet there."""
    checker = pytest.importorskip("openvino_telemetry.utils.opt_in_checker")
    env = {k: v for k, v in os.environ.items() if k not in CI_SWITCHES} | {"HOME": str(tmp_path)}
    if consent is not None:
        consent_file = Path(subprocess.run([sys.executable, "-c", f"import {checker.__name__} as c; "
                                            "print(c.OptInChecker().consent_file())"], env=env, text=True,
                                           capture_output=True, check=True).stdout.strip())
        consent_file.parent.mkdir(parents=True, exist_ok=True)
        consent_file.write_text(consent)
    code = ("import os, numpy as np, openvino_telemetry.utils.sender as s; sent = []; "
            "s.TelemetrySender.send = lambda self, backend, message: sent.append(message); "
            f"from yolo_openvino import YOLO; YOLO({tiny_ir!r})(np.zeros((64, 64, 3), np.uint8), verbose=False); "
            "print(len(sent), 'CI' in os.environ)")
    out = subprocess.run([sys.executable, "-c", code], env=env, text=True, capture_output=True, check=True).stdout
    assert out.split() == [str(sent), "False"]


@pytest.mark.parametrize("consent,expected", [(None, "DECLINED"), ("1", "ACCEPTED"), ("0", "DECLINED")])
def test_export_sends_no_telemetry_the_user_did_not_agree_to(consent, expected, tmp_path, monkeypatch):
    """OVC and NNCF treat "never asked" as yes; within our export it is no. An explicit answer stands."""
    checker = pytest.importorskip("openvino_telemetry.utils.opt_in_checker")
    from yolo_openvino.utils.telemetry import unasked_telemetry_off

    monkeypatch.setenv("HOME", str(tmp_path))
    for switch in CI_SWITCHES:
        monkeypatch.delenv(switch, raising=False)
    opt_in = checker.OptInChecker()
    if consent is not None:
        Path(opt_in.consent_file()).parent.mkdir(parents=True, exist_ok=True)
        Path(opt_in.consent_file()).write_text(consent)
    with unasked_telemetry_off():
        result = opt_in.check(enable_opt_in_dialog=False, disable_in_ci=True)  # how OVC and NNCF ask
    assert result.name == expected and "CI" not in os.environ
