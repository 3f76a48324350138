"""Write checkpoints in the Ultralytics pickle layout without Ultralytics, for loader tests.

Our modules are re-classed as look-alike classes registered under ``ultralytics.*`` module names, so
``torch.save`` pickles them exactly as an Ultralytics checkpoint references its classes.
"""

from __future__ import annotations

import sys
import types

from torch import nn

from yolo_openvino.model import heads as H
from yolo_openvino.model import modules as M
from yolo_openvino.model.network import YOLOModel
from yolo_openvino.tasks import task_named

_HOMES = {"Conv": "conv", "DWConv": "conv", "Concat": "conv", "Detect": "head", "Segment": "head"}  # else "block"


def _fake_class(base: type, module_name: str, name: str) -> type:
    parts = module_name.split(".")
    for depth in range(1, len(parts) + 1):  # pickle imports the module, so its parents must exist too
        sys.modules.setdefault(".".join(parts[:depth]), types.ModuleType(".".join(parts[:depth])))
    module = sys.modules[module_name]
    cls = getattr(module, name, None)
    if cls is None:
        cls = type(name, (base,), {"__module__": module_name, "__qualname__": name})
        setattr(module, name, cls)
    return cls


def as_ultralytics(model: YOLOModel, model_class: str = "DetectionModel") -> nn.Module:
    """Re-class ``model`` and its blocks in place as ultralytics.* classes; returns it."""
    for module in model.modules():
        cls = type(module)
        if cls.__module__ in (M.__name__, H.__name__):
            home = _HOMES.get(cls.__name__, "block")
            module.__class__ = _fake_class(cls, f"ultralytics.nn.modules.{home}", cls.__name__)
    model.__class__ = _fake_class(YOLOModel, "ultralytics.nn.tasks", model_class)
    return model


def cleanup() -> None:
    for name in [n for n in sys.modules if n == "ultralytics" or n.startswith("ultralytics.")]:
        del sys.modules[name]


def tiny_arch(nc: int = 2, task: str = "detect", family: str = "yolov8") -> dict:
    """A family's n layout at a width of 1/16: the real block structure (YOLO26: its dual head too) in a ~100 kB
    checkpoint, fast to fuzz and export; ``task`` ends it in the family's head for that task."""
    from yolo_openvino.model.architectures import architecture_from_name

    suffix = {"detect": "", "segment": "-seg", "pose": "-pose", "obb": "-obb", "classify": "-cls"}[task]
    arch = architecture_from_name(f"{family}n{suffix}.yaml")
    arch.update(nc=nc, scales={"t": [arch["scales"]["n"][0], 0.0625, 1024]}, scale="t")
    return arch


def save_checkpoint(path, arch: dict | None = None, legacy: bool = False, class_bias: float | None = None,
                    head_noise: float | None = None, **fields) -> dict:
    """Write an Ultralytics-layout checkpoint of ``arch`` (default: tiny); ``fields`` replace model attributes
    after building (``yaml=`` a mutated architecture, ``names=`` ...). ``class_bias``: the logit bias of class 0
    on the coarsest level (0: scores of 0.5 there, so an untrained detector finds a few objects at the default
    ``conf``). ``head_noise``: every convolution drawn at random (seeded, He-normal), the last of every head branch from
    N(0, head_noise), so an untrained model gives varied boxes, scores and extra channels (NMS has real choices to make). Returns the
    saved state dict."""
    import torch

    arch = arch or tiny_arch()
    model = YOLOModel(arch, names={i: f"c{i}" for i in range(arch["nc"])})
    if class_bias is not None:  # class 0 on the coarsest level only: a few large, overlapping boxes, NMS keeps few
        head = model.model[-1]
        with torch.no_grad():
            for branches in (head.cv3, getattr(head, "one2one_cv3", head.cv3)):
                last = [m for m in branches[-1].modules() if isinstance(m, torch.nn.Conv2d)][-1]
                last.bias[0] = class_bias
    if head_noise is not None:
        generator = torch.Generator().manual_seed(0)
        with torch.no_grad():
            for conv in model.modules():  # He-normal everywhere: features keep their spread down the network
                if isinstance(conv, torch.nn.Conv2d) and conv.weight.requires_grad:  # the DFL's fixed bins stay
                    fan_in = conv.weight[0].numel()
                    conv.weight.copy_(torch.randn(conv.weight.shape, generator=generator) * (2 / fan_in) ** 0.5)
            for name in ("cv2", "cv3", "cv4"):
                for branch in getattr(model.model[-1], name, []):
                    last = [m for m in branch.modules() if isinstance(m, torch.nn.Conv2d)][-1]
                    for tensor in (last.weight, last.bias):
                        tensor.copy_(torch.randn(tensor.shape, generator=generator) * head_noise)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    try:
        as_ultralytics(model, task_named(model.task).model_class)
        for key, value in fields.items():
            model.__dict__[key] = value  # into the pickled state as a checkpoint holds it (some are properties here)
        torch.save({"model": model.half(), "train_args": {"imgsz": 320}, "version": "8.4.190"}, path,
                   _use_new_zipfile_serialization=not legacy)
    finally:
        cleanup()
    return state
