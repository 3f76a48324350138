"""TorchScript export (for comparison): a traced module with our metadata embedded as config.txt."""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import UsageError
from ..utils.torch_tracing import tracing


def export_torchscript(module, example, target: Path, metadata: dict, args) -> Path:
    """Trace ``module`` on ``example`` (B, 3, H, W) and save it with the metadata to ``target``."""
    import torch
    import torch.backends.xnnpack as xnnpack

    if args.half:  # on a CUDA device: parse_export_args refuses half=True on the CPU
        module, example = module.half().to(args.device), example.half().to(args.device)
    if args.optimize and not xnnpack.enabled:
        raise UsageError("optimize=True (TorchScript mobile optimization) needs a PyTorch built with XNNPACK, and this "
                         "one is not: leave optimize out, or export format=openvino for a model tuned to this CPU")
    with tracing():  # torch.jit's deprecation: a .torchscript file is what this format is (utils/torch_tracing.py)
        traced = torch.jit.trace(module, example, strict=False)
        if args.optimize:
            from torch.utils.mobile_optimizer import optimize_for_mobile

            traced = optimize_for_mobile(traced)
        torch.jit.save(traced, str(target), _extra_files={"config.txt": json.dumps(metadata)})
    return target
