"""The accuracy gate on every INT8 export: both models scored with the task's metric, printed and recorded; a drop
beyond max_drop switches to accuracy control; a large one without it is a warning naming max_drop."""

from __future__ import annotations

import logging

import pytest
import yaml

from conftest import DATASETS, needs_shared, shared_model, write_dataset
from yolo_openvino import YOLO


@pytest.fixture()
def scripted(monkeypatch):
    """NNCF replaced by the identity and the figures scripted: (fp32, first int8, int8 after accuracy control)."""
    from yolo_openvino.export import quantize

    calls = {"control": 0}
    figures = []
    monkeypatch.setattr(quantize, "plain_quantize", lambda model, calibration, common: model)
    monkeypatch.setattr(quantize, "task_figure_of", lambda model, files, dataset, metadata: figures.pop(0))

    def controlled(ov_model, calibration, args, dataset, common, metadata):
        calls["control"] += 1
        return ov_model
    monkeypatch.setattr(quantize, "_quantize_with_accuracy_control", controlled)
    return figures, calls


@pytest.mark.parametrize("max_drop,figures,loud,control,recorded", [
    pytest.param(None, [0.50, 0.49], False, 0, (0.50, 0.49), marks=pytest.mark.slow),
    (None, [0.50, 0.40], True, 0, (0.50, 0.40)),  # a drop above 0.03 without max_drop: the warning names it
    (0.02, [0.50, 0.40, 0.49], False, 1, (0.50, 0.49)),  # beyond max_drop: accuracy control, then checked again
    pytest.param(0.2, [0.50, 0.40], False, 0, (0.50, 0.40), marks=pytest.mark.slow),  # within max_drop
])
@pytest.mark.slow
def test_the_int8_check_says_records_and_escalates(checkpoint, tmp_path, caplog, scripted, max_drop, figures, loud,
                                                   control, recorded):
    queue, calls = scripted
    queue.extend(figures)
    data = write_dataset(tmp_path / "d", {f"im{i}": "0 0.5 0.5 0.4 0.4\n" for i in range(3)})
    with caplog.at_level(logging.INFO, logger="yolo_openvino"):
        ir = YOLO(checkpoint).export(format="openvino", int8=True, data=str(data), imgsz=64, max_drop=max_drop,
                                     output=str(tmp_path / "q_openvino_model"))
    check = yaml.safe_load((tmp_path / "q_openvino_model" / "metadata.yaml").read_text())["int8_check"]
    assert (check["fp32"], check["int8"]) == recorded and check["metric"] == "mAP50-95(B)" and check["images"] == 3
    assert calls["control"] == control and not queue and str(ir).endswith("q_openvino_model")
    said = [r for r in caplog.records if r.getMessage().startswith("INT8 mAP50-95(B)")]
    assert said and f"vs FP32 {recorded[0]:.3f} ({recorded[1] - recorded[0]:+.3f}) on 3 images" in said[-1].getMessage()
    assert (said[-1].levelno == logging.WARNING and "max_drop=" in said[-1].getMessage()) is loud


@pytest.mark.slow
def test_int8_check_false_skips_the_gate(checkpoint, tmp_path, scripted):
    queue, _ = scripted  # empty: any scoring would fail
    data = write_dataset(tmp_path / "d", {"im0": "0 0.5 0.5 0.4 0.4\n"})
    YOLO(checkpoint).export(format="openvino", int8=True, data=str(data), imgsz=64, int8_check=False,
                            output=str(tmp_path / "q_openvino_model"))
    assert "int8_check" not in yaml.safe_load((tmp_path / "q_openvino_model" / "metadata.yaml").read_text())


@needs_shared
@pytest.mark.slow
def test_a_broken_int8_model_shows_its_drop(tmp_path, monkeypatch, caplog):
    """The gate on a real model, scored for real: an "INT8" model whose class branch is zeroed and biased to never
    fire (what a wrecked quantization looks like) loses the whole mask mAP, and the warning says so."""
    import copy

    import openvino as ov
    import torch

    from yolo_openvino.model.checkpoint import load_model
    from yolo_openvino.export import quantize
    from yolo_openvino.export.wrapper import ExportModule
    from yolo_openvino.utils.torch_tracing import tracing

    model = load_model(shared_model("yolov8n-seg-shapes"))
    broken = copy.deepcopy(model)
    for branch in broken.model[-1].cv3:
        branch[-1].weight.data.zero_()
        branch[-1].bias.data.fill_(-20.0)
    example = torch.zeros(1, 3, 256, 256)
    with tracing():  # convert_model traces with torch.jit, deprecated in torch 2.9+ (utils/torch_tracing.py)
        wrecked = ov.convert_model(ExportModule(broken), example_input=example,
                                   input=[ov.PartialShape([1, 3, 256, 256])])
    monkeypatch.setattr(quantize, "plain_quantize", lambda m, calibration, common: wrecked)
    data = str(DATASETS / "shapes-seg.yaml")
    with caplog.at_level(logging.INFO, logger="yolo_openvino"):
        YOLO(shared_model("yolov8n-seg-shapes")).export(format="openvino", int8=True, data=data, val_images=20,
                                                        output=str(tmp_path / "w_openvino_model"))
    check = yaml.safe_load((tmp_path / "w_openvino_model" / "metadata.yaml").read_text())["int8_check"]
    assert check["metric"] == "mAP50-95(M)" and check["fp32"] > 0.3 and check["int8"] == 0 and check["images"] == 20
    assert any(r.levelno == logging.WARNING and "max_drop=0.01" in r.getMessage() for r in caplog.records)
