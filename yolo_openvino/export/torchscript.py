"""TorchScript export (for comparison): a traced module with our metadata embedded as config.txt."""

from __future__ import annotations

import json
import warnings
from pathlib import Path


def export_torchscript(module, example, target: Path, metadata: dict, args) -> Path:
    """Trace ``module`` on ``example`` (B, 3, H, W) and save it with the metadata to ``target``."""
    import torch

    if args.half:  # on a CUDA device: parse_export_args refuses half=True on the CPU
        module, example = module.half().to(args.device), example.half().to(args.device)
    with warnings.catch_warnings():
        # torch 2.9+ deprecates torch.jit for torch.export; a .torchscript file is what format=torchscript means (the
        # reference's format, read by LibTorch and torch.jit.load), and torch.export writes another format (.pt2)
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"torch\.jit")
        warnings.filterwarnings("ignore", message=r".*torch\.jit\.(trace|save).*is deprecated", category=DeprecationWarning)
        traced = torch.jit.trace(module, example, strict=False)
        torch.jit.save(traced, str(target), _extra_files={"config.txt": json.dumps(metadata)})
    return target
