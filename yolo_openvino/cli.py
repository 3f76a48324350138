"""``yolo-ov``: the command line. Accepts ``key=value`` (as in ``yolo predict model=... source=...``) and ``--key value``.

    yolo-ov predict model=yolov8n.pt source=images/ save=True
    yolo-ov export --model yolov8n.pt --format openvino --int8 True --data coco128.yaml
    yolo-ov val model=yolov8n_openvino_model/ data=coco128.yaml
    yolo-ov benchmark model=yolov8n.pt data=coco128.yaml imgsz=640
    yolo-ov benchmark model=yolov8n_openvino_model/ modes=True
    yolo-ov demo
"""

from __future__ import annotations

import argparse
import ast
import difflib
import json
import logging
import sys

# (name, default, help). Defaults are those users know from the Ultralytics docs.
_MODEL = ("model", "yolov8n.pt", "model: .pt, architecture name (yolov8n.yaml), .onnx, .torchscript or *_openvino_model/")
_RUNTIME = [
    ("device", None, "cpu, gpu, gpu.1, npu, auto, auto:gpu,cpu, multi:gpu,cpu or any OpenVINO device"),
    ("mode", None, "latency | throughput | cumulative_throughput (default: latency for one image, else throughput)"),
    ("streams", None, "OpenVINO NUM_STREAMS (int or AUTO)"),
    ("requests", None, "infer requests kept in flight (default: the device's optimal number)"),
    ("threads", None, "inference threads"),
    ("pinning", None, "CPU pinning on/off"),
    ("inference_precision", None, "f32 | bf16 | f16 (default: what the export recorded)"),
    ("config", None, "extra OpenVINO properties as JSON, e.g. '{\"PERFORMANCE_HINT_NUM_REQUESTS\": 4}'"),
    ("cache_dir", None, "OpenVINO model cache folder (faster load after the first)"),
    ("mmap", None, "memory-map the weights (True/False)"),
    ("preprocess", None, "host (default: float NCHW made in the prefetch threads) | device (PrePostProcessor: "
                         "the device takes uint8 BGR HWC)"),
]
_PREDICT = [
    ("source", None, "image, folder, glob, video, URL or webcam index"),
    ("imgsz", None, "inference size, int or h,w (default: the model's)"),
    ("conf", 0.25, "confidence threshold"),
    ("iou", 0.7, "NMS IoU threshold"),
    ("max_det", 300, "maximum detections per image"),
    ("classes", None, "keep only these class ids, e.g. 0,2"),
    ("agnostic_nms", False, "class-agnostic NMS"),
    ("batch", 1, "images per inference (dynamic models)"),
    ("save", False, "save annotated images / videos"),
    ("save_txt", False, "save YOLO txt labels"),
    ("save_json", False, "save predictions.json"),
    ("project", "runs/predict", "output root"),
    ("name", "exp", "run folder name (made unique)"),
    ("workers", 2, "decode/letterbox threads"),
]
_EXPORT = [
    ("format", "openvino", "openvino | onnx | torchscript"),
    ("imgsz", 640, "int or h,w; rounded up to a stride multiple"),
    ("half", False, "FP16 weights"),
    ("int8", False, "INT8 post-training quantization with NNCF (needs data)"),
    ("dynamic", False, "dynamic batch and spatial dims"),
    ("nms", False, "NMS inside the model, output (batch, max_det, 6)"),
    ("batch", 1, "static batch (max batch with dynamic)"),
    ("data", "coco8.yaml", "calibration dataset yaml (INT8)"),
    ("fraction", 1.0, "fraction of the calibration set to use"),
    ("device", "cpu", "export device"),
    ("conf", 0.25, "score threshold baked in with nms=True"),
    ("iou", 0.7, "IoU threshold baked in with nms=True"),
    ("max_det", 300, "detections per image with nms=True"),
    ("agnostic_nms", False, "class-agnostic NMS with nms=True"),
    ("opset", None, "ONNX opset"),
    ("max_drop", None, "INT8 with accuracy control: maximal mAP drop allowed (e.g. 0.01)"),
    ("subset_size", 300, "calibration images (at most)"),
    ("output", None, "output path (default: beside the model)"),
]
_VAL = [
    ("data", "coco8.yaml", "dataset yaml (Ultralytics layout)"),
    ("imgsz", 640, "inference size"),
    ("batch", 1, "batch size"),
    ("conf", 0.001, "confidence threshold"),
    ("iou", 0.7, "NMS IoU threshold"),
    ("max_det", 300, "maximum detections per image"),
    ("split", "val", "dataset split"),
    ("rect", None, "minimal per-image padding (default: on for dynamic models, off for static)"),
    ("save_json", False, "write predictions.json and metrics.json"),
    ("project", "runs/val", "output root"),
    ("name", "exp", "run folder name"),
]
_BENCHMARK = [
    ("data", None, "dataset yaml: validation set of the format table (default coco8.yaml); for the report, "
                   "its val images feed the end-to-end rows"),
    ("imgsz", 640, "inference size (format table)"),
    ("format", None, "format table rows: pytorch, torchscript, onnx, openvino, openvino_fp16, openvino_int8 "
                     "(one or several, comma-separated; default all)"),
    ("device", None, "device (default cpu)"),
    ("modes", None, "latency/throughput report of an OpenVINO model (default: on for OpenVINO models)"),
    ("source", None, "report: images for the end-to-end rows (default: the dataset's, else generated arrays)"),
    ("seconds", 3.0, "report: seconds per measurement"),
    ("sweep", True, "report: sweep streams x infer requests"),
    ("startup", True, "report: compile and first-inference times with and without cache"),
    ("project", "runs/benchmark", "output root"),
    ("name", None, "run folder name (default exp for the table, modes for the report)"),
]
COMMANDS = {
    "predict": [_MODEL, *_PREDICT, *_RUNTIME],
    "export": [_MODEL, *_EXPORT],
    "val": [_MODEL, *_VAL, *_RUNTIME],
    "benchmark": [_MODEL, *_BENCHMARK],
    "demo": [("model", "yolov8n.yaml", "model to export and run (built untrained when an architecture name)"),
             ("project", "runs/demo", "output root")],
}
_HELP = {
    "predict": "detect objects in images, folders, videos, URLs",
    "export": "export a .pt to OpenVINO IR (FP32/FP16/INT8), ONNX or TorchScript",
    "val": "COCO mAP on a YOLO-format dataset",
    "benchmark": "per-format table (size, mAP, speed) from a .pt, or the latency/throughput report of an OpenVINO model",
    "demo": "offline end-to-end demo: build, export, run on generated images",
}


def _edit_distance(a: str, b: str) -> int:
    """Optimal string alignment distance: a swap of two neighbours counts as one typo."""
    d = [[max(i, j) if min(i, j) == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[-1][-1]


def suggestion(name: str, valid) -> str:
    """' (did you mean 'x'?)' for the closest valid name, or '' when nothing is close."""
    close = difflib.get_close_matches(name, list(valid), n=5, cutoff=0.5)
    if not close:
        return ""
    best = min(close, key=lambda v: (_edit_distance(name, v), abs(len(v) - len(name)), close.index(v)))
    return f" (did you mean '{best}'?)"


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Show each argument's default, except where there is none (the help text says what happens then)."""

    def _get_help_string(self, action):
        if action.default is None or action.default is argparse.SUPPRESS or not action.option_strings:
            return action.help
        return f"{action.help} (default: {action.default})"


def parse_value(text: str):
    """'True' -> True, '640' -> 640, '0.5' -> 0.5, '640,480' -> [640, 480], 'none' -> None, else the string."""
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("none", "null", ""):
        return None
    if text.strip().startswith(("{", "[")):
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            pass
    if "," in text and not text.startswith(("auto", "AUTO", "multi", "MULTI", "hetero", "HETERO")):
        return [parse_value(part) for part in text.split(",")]
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="yolo-ov", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command, specs in COMMANDS.items():
        p = sub.add_parser(command, help=_HELP[command], description=_HELP[command],
                           formatter_class=_HelpFormatter)
        for name, default, help_text in specs:
            p.add_argument(f"--{name}", default=default, type=parse_value, help=help_text, metavar="VALUE")
    return parser


def _normalize_argv(argv: list[str]) -> list[str]:
    """Turn ``key=value`` tokens into ``--key value`` so both styles go through one parser."""
    out = []
    for token in argv:
        if "=" in token and not token.startswith("-"):
            key, value = token.split("=", 1)
            out += [f"--{key}", value]
        elif token.startswith("--") and "=" in token:
            key, value = token.split("=", 1)
            out += [key, value]
        else:
            out.append(token)
    return out


def _check_unknown(argv: list[str]) -> None:
    """Fail early with a suggestion for a mistyped command or argument name."""
    if not argv or argv[0].startswith("-"):
        return
    command = argv[0]
    if command not in COMMANDS:
        raise SystemExit(f"yolo-ov: unknown command '{command}'{suggestion(command, COMMANDS)}. "
                         f"Commands: {', '.join(COMMANDS)}")
    valid = {spec[0] for spec in COMMANDS[command]} | {"help", "verbose"}
    for token in argv[1:]:
        if token.startswith("--"):
            key = token[2:].split("=", 1)[0].replace("-", "_")
            if key not in valid and key != "h":
                raise SystemExit(f"yolo-ov {command}: unknown argument '{key}'{suggestion(key, valid)}. "
                                 f"See `yolo-ov {command} --help`.")


def main(argv: list[str] | None = None) -> int:
    argv = _normalize_argv(list(sys.argv[1:] if argv is None else argv))
    argv = ["--" + a[2:].replace("-", "_") if a.startswith("--") else a for a in argv]  # --max-det == --max_det
    _check_unknown(argv)
    args = _build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(message)s")
    if not args.command:
        _build_parser().print_help()
        return 0
    options = {k: v for k, v in vars(args).items() if k not in ("command", "verbose")}
    try:
        return _run(args.command, options)
    except (FileNotFoundError, ValueError, NotImplementedError, TypeError, ImportError) as e:
        print(f"yolo-ov {args.command}: error: {e}", file=sys.stderr)
        return 2


def _run(command: str, options: dict) -> int:
    from . import commands

    return getattr(commands, command)(**options)


if __name__ == "__main__":
    sys.exit(main())
