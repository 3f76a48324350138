"""Load Ultralytics ``.pt`` checkpoints safely, without the ``ultralytics`` package.

A checkpoint is a ``torch.save`` dict whose ``model`` (or ``ema``) is a pickled ``DetectionModel``.
Unpickling it normally would import and run Ultralytics code, and a malicious file could run anything.
Our unpickler instead turns every Ultralytics / torch.nn class into an inert :class:`PickledRecord`
(it only stores the object's attributes: no code of the named class runs), allows the handful of torch
and numpy globals that tensors need, and refuses every other global. We then read the architecture dict,
names and weights out of the records and build our own :class:`~yolo_openvino.nn.model.DetectionModel`.
"""

from __future__ import annotations

import logging
import pickle
import types
from dataclasses import dataclass, field
from pathlib import Path

LOGGER = logging.getLogger("yolo_openvino")

# Globals a checkpoint legitimately needs to rebuild tensors and plain containers.
_SAFE_GLOBALS = {
    ("collections", "OrderedDict"),
    ("builtins", "set"), ("__builtin__", "set"), ("builtins", "frozenset"), ("builtins", "slice"),
    ("torch._utils", "_rebuild_tensor_v2"), ("torch._utils", "_rebuild_parameter"),
    ("torch._utils", "_rebuild_parameter_with_state"), ("torch", "Size"),
    ("torch", "float16"), ("torch", "float32"), ("torch", "bfloat16"), ("torch", "int64"),
    ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "dtype"), ("numpy", "ndarray"),
}
# Modules whose classes become inert records (their attributes are kept, their code never runs).
_RECORD_PREFIXES = ("ultralytics.nn.", "torch.nn.modules.")
_RECORD_CLASSES = {("ultralytics.utils", "IterableSimpleNamespace"), ("types", "SimpleNamespace"),
                   ("pathlib", "PosixPath"), ("pathlib", "WindowsPath"), ("pathlib", "Path")}
_TASK_BY_MODEL_CLASS = {"DetectionModel": "detect", "SegmentationModel": "segment", "PoseModel": "pose",
                        "ClassificationModel": "classify", "OBBModel": "obb", "WorldModel": "world",
                        "RTDETRDetectionModel": "rtdetr", "YOLOEModel": "yoloe"}


class UnsafeCheckpointError(pickle.UnpicklingError):
    """The file references code we do not allow to be loaded."""


class PickledRecord:
    """Stand-in for a pickled object of class ``qualname``: stores its state, runs none of its code."""

    qualname = "?"

    def __init__(self, *args, **kwargs):
        self.args = args

    def __setstate__(self, state):
        if isinstance(state, tuple):  # (dict, slots) form
            state = {k: v for part in state if isinstance(part, dict) for k, v in part.items()}
        if isinstance(state, dict):
            self.__dict__.update(state)

    def __repr__(self) -> str:
        return f"<record of {self.qualname}>"


def _record_class(module: str, name: str) -> type:
    return type(name, (PickledRecord,), {"qualname": f"{module}.{name}"})


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickler that allows tensor rebuilding and records model classes; refuses everything else."""

    def find_class(self, module: str, name: str):
        if (module, name) in _SAFE_GLOBALS:
            return super().find_class(module, name)
        if module.startswith(_RECORD_PREFIXES) or (module, name) in _RECORD_CLASSES:
            return _record_class(module, name)
        raise UnsafeCheckpointError(
            f"refusing to load global '{module}.{name}': it is not part of a YOLO checkpoint and could run code"
        )


# torch.load accepts any object with an ``Unpickler`` attribute as ``pickle_module``.
restricted_pickle = types.SimpleNamespace(Unpickler=RestrictedUnpickler, load=pickle.load, __name__="restricted_pickle")


@dataclass
class Checkpoint:
    """What we read out of a checkpoint file."""

    arch: dict
    state_dict: dict
    names: dict[int, str]
    stride: list[float]
    task: str = "detect"
    train_args: dict = field(default_factory=dict)
    version: str | None = None


def _state_dict(record: PickledRecord, prefix: str = "") -> dict:
    """Flatten a record tree of nn.Modules into a state dict (parameters, then persistent buffers)."""
    state = {}
    for name, tensor in (getattr(record, "_parameters", None) or {}).items():
        if tensor is not None:
            state[prefix + name] = tensor
    skipped = getattr(record, "_non_persistent_buffers_set", set()) or set()
    for name, tensor in (getattr(record, "_buffers", None) or {}).items():
        if tensor is not None and name not in skipped:
            state[prefix + name] = tensor
    for name, child in (getattr(record, "_modules", None) or {}).items():
        if child is not None:
            state.update(_state_dict(child, f"{prefix}{name}."))
    return state


def _head_record(model_record: PickledRecord) -> PickledRecord:
    layers = model_record._modules["model"]._modules
    return layers[list(layers)[-1]]


def _model_record(ckpt, path: Path) -> PickledRecord:
    if isinstance(ckpt, dict):
        record = ckpt.get("ema") or ckpt.get("model")
    else:  # a bare pickled model
        record = ckpt
    if not isinstance(record, PickledRecord) or not hasattr(record, "yaml"):
        raise ValueError(f"{path}: not an Ultralytics YOLO checkpoint (no 'model' with an architecture dict found).")
    return record


def _task_of(record: PickledRecord) -> str:
    class_name = record.qualname.rsplit(".", 1)[-1]
    return _TASK_BY_MODEL_CLASS.get(class_name, getattr(record, "task", None) or class_name)


def _plain(value):
    """Records of pathlib/namespace objects back to plain Python values for metadata."""
    if isinstance(value, PickledRecord):
        return str(value.args[0]) if value.args else {k: _plain(v) for k, v in vars(value).items() if k != "args"}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def read_checkpoint(path: str | Path) -> Checkpoint:
    """Read architecture, weights, names and stride from an Ultralytics ``.pt`` file.

    Raises UnsafeCheckpointError for a file that references arbitrary code, NotImplementedError for a
    model of a task other than detection.
    """
    import torch

    path = Path(path)
    try:
        ckpt = torch.load(path, map_location="cpu", pickle_module=restricted_pickle, weights_only=False)
    except UnsafeCheckpointError as e:
        raise UnsafeCheckpointError(f"{path}: {e}. Only load checkpoints from sources you trust.") from None
    except (RuntimeError, pickle.UnpicklingError, EOFError) as e:
        raise ValueError(f"{path}: cannot read as a PyTorch checkpoint ({e}). Is the file complete?") from e
    record = _model_record(ckpt, path)
    task = _task_of(record)
    if task != "detect":
        raise NotImplementedError(
            f"{path}: this is a '{task}' model; only detection models (YOLOv8/YOLO11 detect) are supported yet."
        )
    head = _head_record(record)
    if getattr(head, "end2end", False) or "one2one_cv2" in getattr(head, "_modules", {}):
        raise NotImplementedError(f"{path}: end-to-end (NMS-free) heads such as YOLOv10/YOLO26 are not supported yet.")
    names = getattr(record, "names", None) or {}
    if isinstance(names, (list, tuple)):
        names = dict(enumerate(names))
    stride = getattr(record, "stride", None)
    stride = [float(s) for s in stride] if stride is not None else [8.0, 16.0, 32.0]
    meta = ckpt if isinstance(ckpt, dict) else {}
    return Checkpoint(
        arch=dict(record.yaml),
        state_dict=_state_dict(record),
        names={int(k): str(v) for k, v in names.items()},
        stride=stride,
        task=task,
        train_args=_plain(meta.get("train_args") or {}),
        version=meta.get("version"),
    )


def load_model(path: str | Path, fuse: bool = True):
    """Build our DetectionModel from a checkpoint, weights loaded strictly, float32, eval mode."""
    from .nn.model import DetectionModel

    ckpt = read_checkpoint(path)
    model = DetectionModel(ckpt.arch, names=ckpt.names)
    try:
        model.load_state_dict(ckpt.state_dict, strict=True)
    except RuntimeError as e:
        raise ValueError(f"{path}: weights do not match the architecture stored in the file: {e}") from e
    model.float().eval()
    model.requires_grad_(False)
    model.args = ckpt.train_args
    if fuse:
        model.fuse()
    return model
