"""The reference's export arguments that belong to one format: ONNX's ``simplify`` (onnxslim), TorchScript's
``optimize`` (mobile optimization, refused in one line without XNNPACK); given to another format, a warning."""

from __future__ import annotations

import numpy as np
import pytest

from yolo_openvino import YOLO
from yolo_openvino.errors import UsageError
from yolo_openvino.runtime.backends import load_backend


def test_simplified_onnx_computes_what_the_plain_one_does(checkpoint, tmp_path):
    import onnx

    plain = YOLO(checkpoint).export(format="onnx", imgsz=64, simplify=False, output=str(tmp_path / "a.onnx"))
    slim = YOLO(checkpoint).export(format="onnx", imgsz=64, output=str(tmp_path / "b.onnx"))  # simplify: the default
    assert len(onnx.load(slim).graph.node) < len(onnx.load(plain).graph.node)
    x = np.random.default_rng(0).random((1, 3, 64, 64), dtype=np.float32)
    np.testing.assert_allclose(load_backend(slim, "onnx", preprocess="host").infer(x)[0],
                               load_backend(plain, "onnx", preprocess="host").infer(x)[0], atol=1e-4)


def test_torchscript_optimize(checkpoint, tmp_path):
    import torch.backends.xnnpack as xnnpack

    target = str(tmp_path / "m.torchscript")
    if not xnnpack.enabled:  # the CPU wheels here: one line, nothing written
        with pytest.raises(UsageError, match="optimize=True .* needs a PyTorch built with XNNPACK"):
            YOLO(checkpoint).export(format="torchscript", imgsz=64, optimize=True, output=target)
        assert not (tmp_path / "m.torchscript").exists()
        return
    path = YOLO(checkpoint).export(format="torchscript", imgsz=64, optimize=True, output=target)
    assert len(YOLO(path)(np.zeros((64, 64, 3), np.uint8), verbose=False)) == 1


def test_an_argument_of_another_format_is_warned(checkpoint, tmp_path, caplog):
    YOLO(checkpoint).export(format="openvino", imgsz=64, simplify=True, output=str(tmp_path / "m_openvino_model"))
    assert "simplify=True applies to format=onnx only: ignored for format=openvino" in caplog.text
