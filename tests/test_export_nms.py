"""NMS in the exported graph (``nms=True``): for every task with boxes, its rows are the host's NMS of the raw output.

Tiny untrained checkpoints whose head branches end in random weights: boxes of every size and place, scores
around 0.5, so dozens of overlapping candidates make a hard case for the suppression rules (class-aware and
agnostic, rotated for OBB)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ultralytics_fakes
from yolo_openvino import YOLO
from yolo_openvino.errors import UsageError
from yolo_openvino.runtime.backends import load_backend
from yolo_openvino.runtime.processing import non_max_suppression

EXTRA = {"detect": 0, "segment": 32, "pose": 51, "obb": 1}  # the extra channels each row carries (pose: 17 x 3)
CONF, IOU, MAX_DET = 0.3, 0.5, 20


def _checkpoint(tmp_path, task: str):
    path = tmp_path / f"tiny-{task}.pt"
    ultralytics_fakes.save_checkpoint(path, arch=ultralytics_fakes.tiny_arch(task=task), head_noise=0.5)
    return path


CASES = [("detect", False), ("segment", False), ("pose", False), ("obb", True)] + [  # the rest in the slow set
    pytest.param(task, agnostic, marks=pytest.mark.slow)
    for task, agnostic in (("detect", True), ("segment", True), ("pose", True), ("obb", False))]


@pytest.mark.parametrize("task, agnostic", CASES)
def test_nms_rows_equal_the_host_nms(tmp_path, task, agnostic):
    path = _checkpoint(tmp_path, task)
    ir = YOLO(path).export(format="openvino", imgsz=64, batch=2, nms=True, conf=CONF, iou=IOU, max_det=MAX_DET,
                           agnostic_nms=agnostic, output=str(tmp_path / "nms_openvino_model"))
    backend = load_backend(ir, "openvino", preprocess="host", inference_precision="f32")
    x = np.random.default_rng(0).random((2, 3, 64, 64), dtype=np.float32)
    outputs = backend.infer(x)
    with torch.no_grad():
        raw = YOLO(path).model(torch.from_numpy(x))
    raw = raw[0] if isinstance(raw, tuple) else raw
    host = non_max_suppression(raw.numpy(), CONF, IOU, MAX_DET, agnostic=agnostic, nc=2, rotated=task == "obb")
    assert outputs[0].shape == (2, MAX_DET, 6 + EXTRA[task])
    if task == "segment":
        assert outputs[1].shape == (2, 32, 16, 16)  # the prototypes follow the rows unchanged
    for rows, expected in zip(outputs[0], host):
        rows = rows[rows[:, 4] > CONF]
        assert len(rows) == len(expected) > 1  # several kept: the suppression had choices to make
        np.testing.assert_array_equal(rows[:, 5], expected[:, 5])
        np.testing.assert_allclose(rows[:, 4], expected[:, 4], atol=1e-4)
        np.testing.assert_allclose(rows[:, :4], expected[:, :4], atol=0.01)
        np.testing.assert_allclose(rows[:, 6:], expected[:, 6:], atol=1e-3)


@pytest.mark.parametrize("task", ["segment", pytest.param("pose", marks=pytest.mark.slow),
                                  pytest.param("obb", marks=pytest.mark.slow)])  # two exports each: 3.5 s
def test_nms_model_predicts_as_the_raw_model(tmp_path, task):
    """End to end: Results of the nms=True IR equal those of the plain IR (masks, keypoints, oriented boxes)."""
    path = _checkpoint(tmp_path, task)
    image = np.random.default_rng(1).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    plain = YOLO(YOLO(path).export(format="openvino", imgsz=64, output=str(tmp_path / "a_openvino_model")),
                 inference_precision="f32")(image, conf=CONF, iou=IOU)[0]
    nms = YOLO(YOLO(path).export(format="openvino", imgsz=64, nms=True, conf=CONF, iou=IOU,
                                 output=str(tmp_path / "b_openvino_model")), inference_precision="f32")
    assert nms.backend().metadata.nms_in_graph
    result = nms(image, conf=CONF, iou=IOU)[0]
    assert len(result) == len(plain) > 0
    part = {"segment": "masks", "pose": "keypoints", "obb": "obb"}[task]
    np.testing.assert_allclose(getattr(result, part).data, getattr(plain, part).data, atol=1e-3)


def test_nms_in_the_graph_is_refused_for_classification(tmp_path):
    path = tmp_path / "tiny-cls.pt"
    ultralytics_fakes.save_checkpoint(path, arch=ultralytics_fakes.tiny_arch(task="classify"))
    with pytest.raises(UsageError, match="nms=True: a classify model has no boxes to suppress"):
        YOLO(path).export(format="openvino", imgsz=64, nms=True, output=str(tmp_path / "n_openvino_model"))
