"""Backends, one per runtime, chosen from the model path explicitly (suffix / folder content), never guessed."""

from __future__ import annotations

import time
from pathlib import Path

from ...errors import MissingFileError, UsageError
from ...options import RUNTIME_NAMES
from .base import FLOAT_NCHW_RGB, UINT8_NHWC_BGR, Backend

FORMATS = ("pytorch", "torchscript", "onnx", "openvino")


def model_format(model: str | Path) -> str:
    """The format of a model path: pytorch (.pt / architecture name), torchscript, onnx or openvino."""
    path = Path(model).expanduser()
    if path.is_dir():
        if any(path.glob("*.xml")):
            return "openvino"
        raise MissingFileError(f"{path}: folder holds no OpenVINO .xml model")
    suffix = path.suffix.lower()
    formats = {".pt": "pytorch", ".pth": "pytorch", ".torchscript": "torchscript", ".onnx": "onnx", ".xml": "openvino"}
    if suffix in formats:
        if suffix != ".pt" and not path.is_file():
            raise MissingFileError(f"'{model}': no such file")
        return formats[suffix]
    from ...model.architectures import is_architecture_name  # only here: exported models never need it

    if is_architecture_name(path.name):
        return "pytorch"
    raise UsageError(
        f"'{model}': unknown model format. Pass a .pt checkpoint, an architecture name (yolov8n.yaml), "
        "a .torchscript or .onnx file, or an *_openvino_model/ folder."
    )


_OPENVINO_OPTIONS = tuple(name for name in RUNTIME_NAMES if name != "device")


def load_backend(model, fmt: str, device: str | None = None, **options) -> Backend:
    """Instantiate the backend for ``fmt``. ``model`` is a path, or an nn.Module for pytorch."""
    started = time.perf_counter()
    backend = _instantiate(model, fmt, device, **options)
    # A file another tool may have written says its task: its declared outputs must be that task's. A .pt and a
    # .torchscript are built by us from the task's own head (reading the latter's shapes would cost a forward pass).
    if fmt in ("openvino", "onnx"):
        from ...tasks import task_named

        where, task, shapes = str(model), task_named(backend.metadata.task), backend.output_shapes()
        task.check_outputs(backend.metadata, shapes, where)
        if any(-1 in shape for shape in shapes):  # a dynamic export may declare every dimension unknown (ONNX)
            backend.first_outputs_check = lambda outputs: task.check_outputs(
                backend.metadata, [output.shape for output in outputs], where)
    if not backend.load_time_s:  # OpenVINO times its own compile; the others are timed here
        backend.load_time_s = time.perf_counter() - started
    return backend


def _instantiate(model, fmt: str, device: str | None, **options) -> Backend:
    if fmt == "openvino":
        from .openvino_backend import OpenVINOBackend

        kwargs = {k: v for k, v in options.items() if k in _OPENVINO_OPTIONS and v is not None}
        return OpenVINOBackend.from_ir(model, device=device, **kwargs)
    if fmt == "onnx":
        from .onnx_backend import OnnxBackend

        return OnnxBackend(model, device=device, threads=options.get("threads"))
    if fmt == "torchscript":
        from .torch_backends import TorchScriptBackend

        return TorchScriptBackend(model, device=device)
    if fmt == "pytorch":
        from .torch_backends import PyTorchBackend

        return PyTorchBackend(model, device=device, imgsz=options.get("imgsz"))
    raise UsageError(f"format '{fmt}': expected one of {FORMATS}")


__all__ = ["Backend", "FLOAT_NCHW_RGB", "UINT8_NHWC_BGR", "FORMATS", "model_format", "load_backend"]
