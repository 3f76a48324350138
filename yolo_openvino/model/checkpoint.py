"""Load Ultralytics ``.pt`` checkpoints safely, without the ``ultralytics`` package.

A checkpoint is a ``torch.save`` dict whose ``model`` (or ``ema``) is a pickled ``DetectionModel`` (``SegmentationModel``, ...).
Unpickling it normally would import and run Ultralytics code, and a malicious file could run anything.
Our unpickler instead turns every Ultralytics / torch.nn class into an inert :class:`PickledRecord`
(it only stores the object's attributes: no code of the named class runs), allows the handful of torch
and numpy globals that tensors need, and refuses every other global. We then read the architecture dict,
names and weights out of the records and build our own :class:`~yolo_openvino.model.network.YOLOModel`.

Hostile files are stopped before torch parses them (:func:`_check_container`): a zip must pass its own
CRC checks, the legacy tar format is refused (torch would extract it to disk), and every pickle torch
reads, the legacy format's magic number, protocol and sys_info included, goes through the restricted
unpickler. A storage may not claim more bytes than the file holds, so no field can make us allocate more
memory than a few times the file's size; :func:`load_model` checks the architecture the same way.
"""

from __future__ import annotations

import logging
import pickle
import tarfile
import types
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import CheckpointError, MissingFileError, UnsupportedError
from ..tasks.task import DEFAULT_TASK

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
                   ("pathlib", "PosixPath"), ("pathlib", "WindowsPath"), ("pathlib", "Path"),
                   # a classifier's pickled inference transform (model.transforms): read for its size and
                   # interpolation, never imported; any other torchvision global is refused
                   *(("torchvision.transforms.transforms", name)
                     for name in ("Compose", "Resize", "CenterCrop", "ToTensor", "Normalize")),
                   ("torchvision.transforms.functional", "InterpolationMode")}


class UnsafeCheckpointError(CheckpointError, pickle.UnpicklingError):
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


class RestrictedUnpickler(pickle._Unpickler):
    """Unpickler that allows tensor rebuilding and records model classes; refuses everything else.

    It is the pure-Python unpickler on purpose: the C one keeps its memo in an array grown to the largest
    index a PUT opcode names, so one flipped byte made it allocate 70 MB and four could ask for 32 GB
    (found by the fuzz test). Here the memo is a dict. The pickle holds the structure, not the weights
    (those are separate storages), so the slower unpickler costs milliseconds.
    ``max_storage_bytes`` bounds what the tensor storages may claim together: torch allocates a storage's
    claimed size before reading it, so a mutated size field would otherwise be a memory bomb.
    """

    max_storage_bytes: int = 0  # set per file by :func:`_pickle_module`

    def find_class(self, module: str, name: str):
        if (module, name) in _SAFE_GLOBALS:
            return super().find_class(module, name)
        if module.startswith(_RECORD_PREFIXES) or (module, name) in _RECORD_CLASSES:
            return _record_class(module, name)
        raise UnsafeCheckpointError(
            f"refusing to load global '{module}.{name}': it is not part of a YOLO checkpoint and could run code"
        )

    # torch assigns its own ``persistent_load`` after creating the unpickler; we wrap it with the size guard.
    @property
    def persistent_load(self):
        try:
            return self.__dict__["_persistent_load"]
        except KeyError:
            raise pickle.UnpicklingError("a persistent id outside a torch checkpoint") from None

    @persistent_load.setter
    def persistent_load(self, load_storage):
        limit, claimed = self.max_storage_bytes, {}  # storage key -> bytes: all storages together fit the file

        def guarded(saved_id):
            if isinstance(saved_id, tuple) and len(saved_id) >= 5 and saved_id[0] in ("storage", b"storage"):
                key, numel, dtype = saved_id[2], saved_id[4], getattr(saved_id[1], "dtype", None)
                if not isinstance(numel, int) or numel < 0:
                    raise CheckpointError(f"a tensor claims {numel!r} elements")
                if isinstance(key, (str, bytes, int)) and key not in claimed:
                    claimed[key] = numel * getattr(dtype, "itemsize", 8)
                    if sum(claimed.values()) > limit:
                        raise CheckpointError(f"a tensor claims {numel} elements: with the others that is more "
                                              f"than the file's {limit} bytes")
            return load_storage(saved_id)

        self.__dict__["_persistent_load"] = guarded


def _pickle_module(max_storage_bytes: int) -> types.SimpleNamespace:
    """What torch.load takes as ``pickle_module``: our unpickler for the main object *and* every other pickle."""
    unpickler = type("BoundedUnpickler", (RestrictedUnpickler,), {"max_storage_bytes": max_storage_bytes})

    def load(file, **kwargs):
        return unpickler(file, **kwargs).load()

    return types.SimpleNamespace(Unpickler=unpickler, load=load, __name__="restricted_pickle")


def _check_container(path: Path) -> None:
    """Refuse what torch should never parse: a corrupt zip (CRC checked), the legacy tar format, a non-file."""
    if not path.is_file():
        raise MissingFileError(f"{path}: no such checkpoint file")
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(path) as archive:
                bad = archive.testzip()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, NotImplementedError) as e:
            raise CheckpointError(f"{path}: damaged zip archive ({e}); download or copy the file again") from None
        if bad is not None:
            raise CheckpointError(f"{path}: damaged zip archive (member {bad} fails its CRC check); "
                                  "download or copy the file again")
    elif tarfile.is_tarfile(path):
        raise CheckpointError(f"{path}: legacy torch tar format, which would be extracted to disk to read it; "
                              "re-save it with torch.save() in a trusted environment")


@dataclass
class Checkpoint:
    """What we read out of a checkpoint file."""

    arch: dict
    state_dict: dict
    names: dict[int, str]
    task: str = DEFAULT_TASK
    train_args: dict = field(default_factory=dict)


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
        raise CheckpointError(f"{path}: not an Ultralytics YOLO checkpoint (no 'model' with an architecture dict found).")
    return record


def _plain(value):
    """Records of pathlib/namespace objects back to plain Python values for metadata."""
    if isinstance(value, PickledRecord):
        return str(value.args[0]) if value.args else {k: _plain(v) for k, v in vars(value).items() if k != "args"}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def read_checkpoint(path: str | Path) -> Checkpoint:
    """Read architecture, weights, names and stride from an Ultralytics ``.pt`` file.

    Raises CheckpointError (UnsafeCheckpointError for a file that references arbitrary code) naming the
    file, UnsupportedError for a model of a task we do not serve (tasks/).
    """
    import torch

    path = Path(path)
    _check_container(path)
    pickle_module = _pickle_module(max_storage_bytes=path.stat().st_size)
    try:
        ckpt = torch.load(path, map_location="cpu", pickle_module=pickle_module, weights_only=False)
    except UnsafeCheckpointError as e:
        raise UnsafeCheckpointError(f"{path}: {e}. Only load checkpoints from sources you trust.") from None
    except CheckpointError as e:
        raise CheckpointError(f"{path}: {e}; the file is damaged or was crafted") from None
    except Exception as e:  # noqa: BLE001 - whatever a damaged file makes torch or pickle raise, name the file
        raise CheckpointError(f"{path}: cannot read as a PyTorch checkpoint ({type(e).__name__}: {e}). "
                              "Is the file complete?") from None
    try:
        return _checkpoint_from(ckpt, path)
    except (CheckpointError, UnsupportedError):
        raise
    except Exception as e:  # noqa: BLE001 - a pickle of the right classes but the wrong shape
        raise CheckpointError(f"{path}: not a valid Ultralytics YOLO checkpoint ({type(e).__name__}: {e})") from None


def _checkpoint_from(ckpt, path: Path) -> Checkpoint:
    from ..tasks import task_of_model_class

    record = _model_record(ckpt, path)
    task = task_of_model_class(record.qualname.rsplit(".", 1)[-1], where=str(path)).name  # one line if unsupported
    head = _head_record(record)
    if (getattr(head, "qualname", "").endswith("v10Detect")
            or "one2one_cv2" in (getattr(head, "_modules", None) or {}) and "reg_max" not in (record.yaml or {})):
        raise UnsupportedError(f"{path}: YOLOv10 heads are not supported (YOLOv8, YOLO11 and YOLO26 are).")
    names = getattr(record, "names", None) or {}
    if isinstance(names, (list, tuple)):
        names = dict(enumerate(names))
    if not isinstance(names, dict):
        raise CheckpointError(f"{path}: class names are a {type(names).__name__}, expected a list or dict")
    meta = ckpt if isinstance(ckpt, dict) else {}
    arch = record.yaml
    if not isinstance(arch, dict):
        raise CheckpointError(f"{path}: the architecture is a {type(arch).__name__}, expected a dict")
    train_args = _plain(meta.get("train_args") or {})
    return Checkpoint(
        arch=dict(arch),
        state_dict=_state_dict(record),
        names={int(k): str(v) for k, v in names.items()},
        task=task,
        train_args=train_args if isinstance(train_args, dict) else {},
    )


def build_model(path: str | Path):
    """Our YOLOModel with a checkpoint's weights loaded strictly and its ``train_args`` in ``.args``; as
    stored (fp16 weights, unfused): :func:`load_model` readies it for inference.

    The architecture is checked against sanity limits, then built on torch's meta device (no memory) and
    compared with the stored weights, shape by shape, before the real model is allocated.
    """
    from .network import ArchitectureError, build_checked

    path = Path(path)
    ckpt = read_checkpoint(path)
    try:
        model = build_checked(ckpt.arch, ckpt.names, ckpt.state_dict, max_bytes=2 * path.stat().st_size,
                              train_args=ckpt.train_args)
    except ArchitectureError as e:
        raise CheckpointError(f"{path}: {e}") from None
    if model.task != ckpt.task:  # the pickled class and the head must tell one story
        raise CheckpointError(f"{path}: a {ckpt.task} model by its class, but its head is a {model.task} head; "
                              "the file is damaged or was crafted")
    return model


def load_model(path: str | Path):
    """The checkpoint's model ready for inference: float32, eval mode, fused where that is exact (see
    ``YOLOModel.for_inference``, the one place that decides)."""
    return build_model(path).for_inference()


DEFAULT_IMGSZ = 640


def trained_imgsz(model) -> int:
    """The size a checkpoint was trained at (``train_args.imgsz``), the reference's default for predict, val and
    export of a ``.pt``; 640 for a model without one (an architecture name) or with an odd value."""
    size = model.args.get("imgsz")
    if isinstance(size, (list, tuple)) and size:
        size = max(size)
    return int(size) if isinstance(size, int) and not isinstance(size, bool) and 32 <= size <= 8192 else DEFAULT_IMGSZ
