"""Export a PyTorch detector to OpenVINO IR, ONNX or TorchScript.

``export()`` validates the arguments, builds the metadata, then calls one pure function per format
(chosen from ``EXPORTERS``) inside an atomic write: a failed or interrupted export leaves no output that
looks complete, and a re-export replaces the old one whole.
"""

from __future__ import annotations

import copy
import logging
import time
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timezone
from pathlib import Path

from ..io_utils import atomic_output, file_size_mb
from ..predictor import round_to_stride
from .onnx import export_onnx
from .openvino import export_openvino
from .torchscript import export_torchscript

LOGGER = logging.getLogger("yolo_openvino")


@dataclass
class ExportArgs:
    """Arguments of an export, with the defaults users know."""

    format: str = "openvino"
    imgsz: tuple = (640, 640)
    half: bool = False
    int8: bool = False
    dynamic: bool = False
    nms: bool = False
    batch: int = 1
    data: str = "coco8.yaml"
    fraction: float = 1.0
    device: str = "cpu"
    conf: float = 0.25
    iou: float = 0.7
    max_det: int = 300
    agnostic_nms: bool = False
    opset: int | None = None
    max_drop: float | None = None  # INT8 with accuracy control when set
    subset_size: int = 300
    output: str | None = None

    @property
    def precision(self) -> str:
        return "int8" if self.int8 else "fp16" if self.half else "fp32"


def parse_export_args(stride: int, **kwargs) -> ExportArgs:
    from ..cli import suggestion

    valid = {f.name for f in fields(ExportArgs)}
    unknown = set(kwargs) - valid
    if unknown:
        raise TypeError("unknown export argument(s): " + "; ".join(f"'{u}'{suggestion(u, valid)}" for u in sorted(unknown)))
    args = ExportArgs(**kwargs)
    args.format = str(args.format).lower()
    if args.format not in EXPORTERS:
        raise ValueError(f"format='{args.format}'{suggestion(args.format, EXPORTERS)}: expected one of {list(EXPORTERS)}")
    args.imgsz = round_to_stride(args.imgsz, stride)
    if args.batch < 1:
        raise ValueError(f"batch={args.batch}: must be >= 1")
    if args.int8 and args.half:
        LOGGER.warning("int8=True and half=True: INT8 wins (its float parts keep the device's default precision)")
        args.half = False
    if args.int8 and args.format != "openvino":
        raise ValueError(f"int8=True is supported for format=openvino only (NNCF), not {args.format}")
    if args.nms and args.format != "openvino":
        raise ValueError(f"nms=True is supported for format=openvino only (OpenVINO's NMS op), not {args.format}")
    return args


def default_output(ckpt_path: Path, args: ExportArgs) -> Path:
    stem = ckpt_path.with_suffix("")
    if args.format == "openvino":
        return stem.parent / f"{stem.name}{'_int8' if args.int8 else ''}_openvino_model"
    return stem.with_suffix({"onnx": ".onnx", "torchscript": ".torchscript"}[args.format])


def build_metadata(model, args: ExportArgs, ckpt_path: Path) -> dict:
    """What the runtime needs, written to metadata.yaml / embedded in the file."""
    from .. import __version__

    export_args = {k: v for k, v in asdict(args).items() if k not in ("output",)}
    export_args["imgsz"] = list(args.imgsz)
    return {
        "description": f"yolo-openvino {args.format} export of {ckpt_path.name}",
        "author": "yolo-openvino",
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "version": __version__,
        "source": ckpt_path.name,
        "task": "detect",
        "stride": int(max(model.stride)),
        "batch": args.batch,
        "imgsz": list(args.imgsz),
        "names": {int(k): str(v) for k, v in model.names.items()},
        "args": export_args,
        "precision": args.precision,
        # FP32 exports run at f32 so results match PyTorch; FP16/INT8 use the device's default (bf16 here).
        "inference_precision": "f32" if args.precision == "fp32" else None,
        "dynamic": args.dynamic,
        "nms": args.nms,
        "end2end": args.nms,
        "family": _family(model),
    }


def _family(model) -> str:
    yaml_file = str(model.yaml.get("yaml_file", ""))
    return "yolo11" if "11" in yaml_file or any(spec[2] == "C3k2" for spec in model.yaml["backbone"]) else "yolov8"


def export(model, ckpt_path: str | Path, **kwargs) -> Path:
    """Export ``model`` (our DetectionModel) and return the output path."""
    import torch

    from .wrapper import ExportModule

    ckpt_path = Path(ckpt_path)
    args = parse_export_args(int(max(model.stride)), **kwargs)
    target = Path(args.output) if args.output else default_output(ckpt_path, args)
    metadata = build_metadata(model, args, ckpt_path)
    module = ExportModule(copy.deepcopy(model).float().eval(), nms=args.nms, agnostic=args.agnostic_nms)
    example = torch.zeros(args.batch, 3, *args.imgsz)
    LOGGER.info("exporting %s to %s (%s, imgsz=%s, batch=%d%s%s)", ckpt_path.name, args.format, args.precision,
                list(args.imgsz), args.batch, ", dynamic" if args.dynamic else "", ", nms" if args.nms else "")
    started = time.perf_counter()
    with atomic_output(target) as tmp:
        EXPORTERS[args.format](module, example, tmp, metadata, args)
    seconds = time.perf_counter() - started
    LOGGER.info("export done in %.1fs: %s (%.1f MB)", seconds, target, file_size_mb(target))
    return target


EXPORTERS = {"openvino": export_openvino, "onnx": export_onnx, "torchscript": export_torchscript}
