"""Export a PyTorch detector to OpenVINO IR, ONNX or TorchScript.

``export()`` takes checked arguments (options.EXPORT), builds the metadata, then calls one pure function
per format (chosen from ``EXPORTERS``) inside an atomic write: a failed or interrupted export (Ctrl-C and
SIGTERM included) leaves the previous output as it was and no partial folder. It never writes over the
source checkpoint, nor over any existing path that is not an earlier export of the same kind.
"""

from __future__ import annotations

import copy
import logging
import time
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace

from ..errors import UsageError, suggestion
from ..utils.interrupts import remembered_interrupts
from ..utils.files import atomic_output, file_size_mb
from ..model.architectures import family
from ..options import defaults
from ..runtime.processing import round_to_stride
from ..tasks import DEFAULT_TASK, task_named
from .onnx import export_onnx
from .openvino import export_openvino
from .output import check_output
from .quantize import calibration_files
from .torchscript import export_torchscript

LOGGER = logging.getLogger("yolo_openvino")


def parse_export_args(stride: int, has_one2one: bool = False, task: str = DEFAULT_TASK, **kwargs) -> SimpleNamespace:
    """Checked export arguments (see options.EXPORT) with the defaults filled in and the combinations checked.

    The public ``nms`` (the reference's spelling) means two things, and is read here once into two names:
    ``nms_in_graph`` (``nms=True``: NMS appended to the graph) and ``one2one`` (``nms=False`` on a model with a
    one-to-one head, YOLO26: that head and its top-k exported instead of the one-to-many head).
    """
    args = SimpleNamespace(**{**defaults("export"), **kwargs})
    del args.model
    args.task = task  # what the calibration data and preprocessing are (quantize.py)
    if args.format not in EXPORTERS:
        raise UsageError(f"format='{args.format}'{suggestion(args.format, EXPORTERS)}: expected one of {list(EXPORTERS)}")
    args.imgsz = round_to_stride(args.imgsz, stride)
    if args.int8 and args.half:
        LOGGER.warning("int8=True and half=True: INT8 wins (its float parts keep the device's default precision)")
        args.half = False
    for name, fmt in (("simplify", "onnx"), ("optimize", "torchscript")):
        if getattr(args, name) and args.format != fmt and name in kwargs:
            LOGGER.warning("%s=True applies to format=%s only: ignored for format=%s", name, fmt, args.format)
    if args.int8 and args.format != "openvino":
        raise UsageError(f"int8=True is supported for format=openvino only (NNCF), not {args.format}")
    if args.int8 and not args.data:
        raise UsageError("int8=True needs data=<dataset yaml> to calibrate on, e.g. data=coco128.yaml or your own "
                         "validation set (300+ images recommended)")
    if args.half and args.format == "torchscript" and args.device == "cpu":
        raise UsageError("half=True for TorchScript needs a CUDA device (CPU kernels lack fp16 convolutions); "
                         "use format=openvino half=True for FP16 on CPU")
    if args.end2end is not None:  # the reference's deprecated spelling, read once into ``nms``
        LOGGER.warning("end2end=%s is deprecated (as in Ultralytics 8.4): use nms=%s", args.end2end, args.end2end)
        args.nms = args.end2end if args.nms is None else args.nms
    del args.end2end
    args.nms_in_graph = bool(args.nms)
    args.one2one = args.nms is False and has_one2one
    if args.nms_in_graph and not task_named(task).nms_in_graph:
        raise UsageError(f"nms=True: a {task} model has no boxes to suppress (leave nms out)")
    if args.nms_in_graph and args.format != "openvino":
        raise UsageError(f"nms=True is supported for format=openvino only (OpenVINO's NMS op), not {args.format}")
    if args.ovms and args.format != "openvino":
        raise UsageError(f"ovms=True writes an OpenVINO Model Server repository: it needs format=openvino, not {args.format}")
    args.precision = "int8" if args.int8 else "fp16" if args.half else "fp32"
    return args


def default_output(ckpt_path: Path, fmt: str, int8: bool = False) -> Path:
    """Where an export goes unless ``output=`` says: beside the checkpoint, ``yolov8n_openvino_model/``,
    ``yolov8n_int8_openvino_model/``, ``yolov8n.onnx`` or ``yolov8n.torchscript`` (the reference's names)."""
    stem = Path(ckpt_path).with_suffix("")
    if fmt == "openvino":
        return stem.parent / f"{stem.name}{'_int8' if int8 else ''}_openvino_model"
    return stem.with_suffix({"onnx": ".onnx", "torchscript": ".torchscript"}[fmt])


def build_metadata(model, args, ckpt_path: Path) -> dict:
    """What the runtime needs, written to metadata.yaml / embedded in the file."""
    from ..version import __version__

    export_args = {k: v for k, v in vars(args).items()
                   if k not in ("output", "precision", "nms_in_graph", "one2one", "task")}
    export_args["imgsz"] = list(args.imgsz)
    return {
        "description": f"yolo-openvino {args.format} export of {ckpt_path.name}",
        "author": "yolo-openvino",
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "version": __version__,
        "format": args.format,
        "source": ckpt_path.name,
        "task": model.task,
        **task_named(model.task).metadata_of(model),
        "stride": int(max(model.stride)),
        "batch": args.batch,
        "imgsz": list(args.imgsz),
        "names": {int(k): str(v) for k, v in model.names.items()},
        "args": export_args,
        "precision": args.precision,
        "dynamic": args.dynamic,
        "nms": args.nms_in_graph,  # the file keys are the reference's: ModelMetadata reads them back
        "end2end": args.one2one,
        "family": family(model.yaml),
    }


def export(model, ckpt_path: str | Path, **kwargs) -> Path:
    """Export ``model`` (our YOLOModel, loaded from ``ckpt_path``) and return the output path."""
    import torch

    from ..model.checkpoint import trained_imgsz
    from .wrapper import ExportModule

    ckpt_path = Path(ckpt_path)
    kwargs["imgsz"] = kwargs.get("imgsz") or trained_imgsz(model)  # the reference's default: the training size
    args = parse_export_args(int(max(model.stride)), model.has_one2one, model.task, **kwargs)
    target = Path(args.output).expanduser() if args.output else default_output(ckpt_path, args.format, args.int8)
    check_output(target, args.format, ckpt_path)
    if args.int8:
        calibration_files(args)  # a missing or too small dataset fails now, not after the conversion
    metadata = build_metadata(model, args, ckpt_path)
    module = ExportModule(copy.deepcopy(model).float().eval(), nms_in_graph=args.nms_in_graph,
                          agnostic=args.agnostic_nms, one2one=args.one2one, max_det=args.max_det,
                          conf=args.conf, iou=args.iou, rotated=task_named(model.task).nms_in_graph == "traced")
    example = torch.zeros(args.batch, 3, *args.imgsz)
    LOGGER.info("exporting %s to %s (%s, imgsz=%s, batch=%d%s%s)", ckpt_path.name, args.format, args.precision,
                list(args.imgsz), args.batch, ", dynamic" if args.dynamic else "",
                ", nms" if args.nms_in_graph else ", NMS-free head" if args.one2one else "")
    started = time.perf_counter()
    with remembered_interrupts() as check_interrupted, atomic_output(target) as tmp:
        EXPORTERS[args.format](module, example, tmp, metadata, args)
        check_interrupted()  # a Ctrl-C that a library swallowed still stops us before the commit
    if args.ovms:
        from .ovms import write_ovms_repository

        repository = write_ovms_repository(target, name=ckpt_path.stem)
        LOGGER.info("OpenVINO Model Server repository: %s (docker command: see export/ovms.py or the README)",
                    repository.resolve())
    seconds = time.perf_counter() - started
    LOGGER.info("%s", closing_lines(target, args, seconds))
    return target


def closing_lines(target: Path, args: SimpleNamespace, seconds: float) -> str:
    """What was written and how to use it next: ready-to-run predict and val commands."""
    path = target.resolve()
    h, w = args.imgsz
    size = f"imgsz={h}" if h == w else f"imgsz={h},{w}"
    return (f"export done in {seconds:.1f}s: {path} ({file_size_mb(target):.1f} MB)\n"
            f"  predict:  yolo-ov predict model={path} source=<images, folder, video>\n"
            f"  validate: yolo-ov val model={path} data={args.data or 'coco8.yaml'} {size}")


EXPORTERS = {"openvino": export_openvino, "onnx": export_onnx, "torchscript": export_torchscript}
