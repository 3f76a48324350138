"""Dynamic exports of every task load and run in each format: ONNX declares every output dimension unknown, so the
layout check waits for the first run's shapes. Tiny models, no ../shared."""

from __future__ import annotations

import json

import numpy as np
import pytest

from yolo_openvino import YOLO
from yolo_openvino.runtime.backends import load_backend
from yolo_openvino.errors import UsageError
from yolo_openvino.tasks import tasks


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    """task -> an untrained tiny checkpoint of that task (made once per module)."""
    import ultralytics_fakes

    made = {}

    def make(task: str):
        if task not in made:
            made[task] = tmp_path_factory.mktemp(task) / f"{task}.pt"
            ultralytics_fakes.save_checkpoint(made[task], arch=ultralytics_fakes.tiny_arch(task=task))
        return made[task]

    return make


@pytest.mark.parametrize("fmt", ["onnx", "openvino"])
@pytest.mark.parametrize("task", list(tasks()))
def test_a_dynamic_export_runs_at_two_sizes_as_the_checkpoint_does(checkpoints, task, fmt):
    """Raw outputs against the checkpoint's at (1, 3, 64, 96) and (2, 3, 96, 64); then a prediction runs."""
    import torch

    ckpt = checkpoints(task)
    exported = YOLO(ckpt).export(format=fmt, dynamic=True, imgsz=64)
    options = {"preprocess": "host", "inference_precision": "f32"} if fmt == "openvino" else {}  # not bf16
    backend = load_backend(exported, fmt, **options)
    for batch, h, w in [(1, 64, 96), (2, 96, 64)]:
        x = np.random.default_rng(h).random((batch, 3, h, w), dtype=np.float32)
        with torch.no_grad():
            theirs = YOLO(ckpt).model(torch.from_numpy(x))
        theirs = [t.numpy() for t in (theirs if isinstance(theirs, (list, tuple)) else [theirs])]
        ours = backend.infer(x)
        assert [o.shape for o in ours] == [t.shape for t in theirs]
        for o, t in zip(ours, theirs):
            np.testing.assert_allclose(o, t, atol=1e-3, rtol=1e-4)
    assert YOLO(exported)(np.zeros((48, 80, 3), np.uint8), imgsz=64, verbose=False)


def test_a_dynamic_onnx_whose_metadata_names_other_classes_is_refused_on_its_first_run(checkpoints, tmp_path):
    import onnx

    model = onnx.load(YOLO(checkpoints("detect")).export(format="onnx", dynamic=True, imgsz=64))
    for entry in model.metadata_props:
        if entry.key == "names":
            entry.value = json.dumps({str(i): f"c{i}" for i in range(5)})
    onnx.save(model, tmp_path / "wrong.onnx")
    loaded = YOLO(tmp_path / "wrong.onnx")
    with pytest.raises(UsageError, match=r"wrong\.onnx: output0 has shape \(-?1, 6, -?\d+\), but a detect model with 5"):
        loaded(np.zeros((64, 64, 3), np.uint8), imgsz=64, verbose=False)
