"""TorchScript export (for comparison): a traced module with our metadata embedded as config.txt."""

from __future__ import annotations

import json
from pathlib import Path

from ..utils.torch_tracing import tracing


def export_torchscript(module, example, target: Path, metadata: dict, args) -> Path:
    """Trace ``module`` on ``example`` (B, 3, H, W) and save it with the metadata to ``target``."""
    import torch

    if args.half:  # on a CUDA device: parse_export_args refuses half=True on the CPU
        module, example = module.half().to(args.device), example.half().to(args.device)
    with tracing():  # torch.jit's deprecation: a .torchscript file is what this format is (utils/torch_tracing.py)
        traced = torch.jit.trace(module, example, strict=False)
        torch.jit.save(traced, str(target), _extra_files={"config.txt": json.dumps(metadata)})
    return target
