"""ONNX Runtime backend."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from ...errors import UsageError
from ..metadata import ModelMetadata
from .base import Backend

LOGGER = logging.getLogger("yolo_openvino")


def _maybe_json(value: str):
    try:
        return json.loads(value)
    except (json.JSONDecodeError, TypeError):
        return value


class OnnxBackend(Backend):
    def __init__(self, path: str | Path, device: str | None = None, threads: int | None = None):
        import onnxruntime as ort

        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = int(threads)
        providers = ["CPUExecutionProvider"]
        if device and str(device).startswith("cuda") and "CUDAExecutionProvider" in ort.get_available_providers():
            providers.insert(0, "CUDAExecutionProvider")
        self.session = ort.InferenceSession(str(path), options, providers=providers)
        props = {k: _maybe_json(v) for k, v in self.session.get_modelmeta().custom_metadata_map.items()}
        if "names" not in props:
            raise UsageError(f"{path}: ONNX file has no 'names' metadata; export it with yolo-ov.")
        self.metadata = ModelMetadata.from_dict(props, "onnx", where=str(path))
        model_input = self.session.get_inputs()[0]
        self.input_name = model_input.name
        self.fp16_input = model_input.type == "tensor(float16)"
        shape = model_input.shape
        self.static_shape = tuple(shape) if all(isinstance(d, int) for d in shape) else None

    def infer(self, batch: np.ndarray) -> list[np.ndarray]:
        self.check_input(batch, self.static_shape)
        feed = batch.astype(np.float16) if self.fp16_input else batch
        return self.checked([np.asarray(out, dtype=np.float32) for out in self.session.run(None, {self.input_name: feed})])

    def output_shapes(self) -> list[tuple]:
        return [tuple(d if isinstance(d, int) else -1 for d in out.shape) for out in self.session.get_outputs()]

    def info(self) -> dict:
        return {**super().info(), "providers": self.session.get_providers()}
