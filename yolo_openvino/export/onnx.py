"""ONNX export (for comparison): opset-pinned, metadata as ONNX metadata_props (JSON values)."""

from __future__ import annotations

import json
from pathlib import Path

from ..utils.torch_tracing import tracing

DEFAULT_OPSET = 17


def export_onnx(module, example, target: Path, metadata: dict, args) -> Path:
    """Export ``module`` traced on ``example`` (B, 3, H, W) to ``target``; dynamic axes with ``args.dynamic``."""
    import onnx
    import torch

    from ..tasks import task_named

    outputs = list(task_named(metadata["task"]).outputs)  # output0 (and the prototypes, output1), as the reference
    dynamic_axes = ({"images": {0: "batch", 2: "height", 3: "width"}, **{name: {0: "batch"} for name in outputs}}
                    if args.dynamic else None)
    with tracing():  # the TorchScript-based exporter, on purpose (utils/torch_tracing.py)
        torch.onnx.export(module, example, str(target), opset_version=args.opset or DEFAULT_OPSET,
                          input_names=["images"], output_names=outputs, dynamic_axes=dynamic_axes, dynamo=False)
    model = onnx.load(str(target))
    if args.simplify:
        import onnxslim

        model = onnxslim.slim(model)
    if args.half:
        model = _to_fp16(model)
    for key, value in metadata.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, json.dumps(value)
    onnx.checker.check_model(model)
    onnx.save(model, str(target))
    return target


def _to_fp16(model):
    """FP16 weights and activations, keeping float32 input/output for callers."""
    try:
        from onnxruntime.transformers.float16 import convert_float_to_float16
    except ImportError as e:
        raise ValueError(f"half=True for ONNX needs onnxruntime's float16 converter ({e})") from None
    return convert_float_to_float16(model, keep_io_types=True)
