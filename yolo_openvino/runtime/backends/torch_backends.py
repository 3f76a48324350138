"""PyTorch and TorchScript backends (need the ``export`` extra: torch)."""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path

import numpy as np

from ...errors import UsageError
from ...tasks import task_named
from ..metadata import ModelMetadata
from .base import Backend
from ...utils.torch_tracing import tracing


def _torch_device(device: str | None):
    import torch

    if device in (None, "", "cpu", "auto"):
        return torch.device("cpu")
    if str(device).startswith("cuda") or str(device).isdigit():
        index = str(device).replace("cuda", "").strip(":") or "0"
        if torch.cuda.is_available():
            return torch.device(f"cuda:{index}")
    import logging

    logging.getLogger("yolo_openvino").warning("device '%s' is not available to PyTorch; using cpu", device)
    return torch.device("cpu")


class _TorchBackend(Backend):
    def __init__(self, module, metadata: ModelMetadata, device: str | None = None):
        import torch

        self.device = _torch_device(device)
        self.module = module.to(self.device)
        self.metadata = metadata
        self._torch = torch

    def infer(self, batch: np.ndarray) -> list[np.ndarray]:
        torch = self._torch
        with torch.inference_mode():
            out = self._forward(torch.from_numpy(batch).to(self.device))
            return [o.float().cpu().numpy() for o in (out if isinstance(out, (tuple, list)) else (out,))]

    def _forward(self, x):
        return self.module(x)


class PyTorchBackend(_TorchBackend):
    """Our own nn.Module built from a checkpoint or an architecture name. Any input size (stride multiple)."""

    def __init__(self, model, device: str | None = None, imgsz=None):
        from ...model.checkpoint import trained_imgsz

        imgsz = imgsz or trained_imgsz(model)  # the reference's default for a .pt: its training size
        imgsz = (imgsz, imgsz) if isinstance(imgsz, int) else tuple(imgsz)
        metadata = ModelMetadata(names=model.names, stride=int(max(model.stride)), imgsz=imgsz, batch=1,
                                 dynamic=True, format="pytorch", precision="fp32", args=model.args, task=model.task,
                                 task_keys=task_named(model.task).metadata_of(model))
        super().__init__(model, metadata, device)

    def with_head(self, one2one: bool, max_det: int | None = None) -> "PyTorchBackend":
        """The same model running its one-to-one (NMS-free) head with a top-k of ``max_det`` (default: the
        metadata's), or its one-to-many head; ``self`` when unchanged."""
        metadata = dataclasses.replace(self.metadata, one2one=one2one, max_det=max_det or self.metadata.max_det)
        if metadata == self.metadata:
            return self
        twin = copy.copy(self)
        twin.metadata = metadata
        return twin

    def with_augment(self) -> "PyTorchBackend":
        """The same model with test-time augmentation (model/augment.py: three views, one NMS)."""
        twin = copy.copy(self)
        twin.augment = True
        return twin

    augment = False

    def _forward(self, x):
        if self.augment and not self.metadata.one2one:
            from ...model.augment import augmented_forward

            return augmented_forward(self.module, x)
        return self.module(x, one2one=self.metadata.one2one, max_det=self.metadata.max_det)


class TorchScriptBackend(_TorchBackend):
    """A ``.torchscript`` file exported by us; metadata is read from its embedded ``config.txt``."""

    def __init__(self, path: str | Path, device: str | None = None):
        import torch

        extra = {"config.txt": ""}
        with tracing():  # torch.jit's deprecation: a .torchscript file is what this backend reads
            module = torch.jit.load(str(path), map_location="cpu", _extra_files=extra).eval()
        if not extra["config.txt"]:
            raise UsageError(f"{path}: TorchScript file has no embedded metadata (config.txt); export it with yolo-ov.")
        metadata = ModelMetadata.from_dict(json.loads(extra["config.txt"]), "torchscript", where=str(path))
        super().__init__(module, metadata, device)

    def infer(self, batch: np.ndarray) -> list[np.ndarray]:
        self.check_input(batch, (self.metadata.batch, 3, *self.metadata.imgsz))
        return super().infer(batch)
