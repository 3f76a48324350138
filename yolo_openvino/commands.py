"""What each ``yolo-ov`` subcommand does, on top of the Python API."""

from __future__ import annotations

import logging
from pathlib import Path

LOGGER = logging.getLogger("yolo_openvino")


def _split_runtime(options: dict) -> tuple[dict, dict]:
    from .yolo import RUNTIME_OPTIONS

    runtime = {k: options.pop(k) for k in RUNTIME_OPTIONS if k in options and options[k] is not None}
    for k in RUNTIME_OPTIONS:
        options.pop(k, None)
    return runtime, options


def _as_list(value):
    if value is None or isinstance(value, list):
        return value
    return [value]


def predict(model, source, **options) -> int:
    from .yolo import YOLO

    if source is None:
        raise ValueError("predict needs source=<image, folder, glob, video or URL>")
    runtime, options = _split_runtime(options)
    options["classes"] = _as_list(options.get("classes"))
    yolo = YOLO(model, **runtime)
    count = 0
    results = yolo.predict(source, stream=True, **{k: v for k, v in options.items() if v is not None})
    for count, result in enumerate(results, 1):
        where = result.path + (f" frame {result.frame}" if result.frame is not None else "")
        print(f"{where} {result.orig_shape[0]}x{result.orig_shape[1]}: {result.summary()} "
              f"({sum(result.speed.values()):.1f} ms)")
    stats = yolo.last_stats if hasattr(yolo, "last_stats") else None
    print(f"{count} image(s) processed" + (f"; {len(stats.skipped)} skipped" if stats and stats.skipped else ""))
    return 0


def export(model, **options) -> int:
    from .yolo import YOLO

    path = YOLO(model).export(**{k: v for k, v in options.items() if v is not None})
    print(path)
    return 0


def val(model, **options) -> int:
    from .yolo import YOLO

    runtime, options = _split_runtime(options)
    result = YOLO(model, **runtime).val(**{k: v for k, v in options.items() if v is not None})
    print(result.summary())
    return 0


_TABLE_KEYS = ("data", "imgsz", "format", "device", "project", "name")
_REPORT_KEYS = ("source", "data", "seconds", "device", "sweep", "startup", "project", "name")


def benchmark(model, modes=None, **options) -> int:
    """The per-format table for a .pt; the latency/throughput report for an OpenVINO model or modes=True."""
    from .yolo import YOLO

    yolo = YOLO(model)
    report = bool(modes) or (modes is None and yolo.format == "openvino")
    keys = _REPORT_KEYS if report else _TABLE_KEYS
    defaults = _defaults("benchmark")
    given = {k: v for k, v in options.items() if v is not None and v != defaults.get(k)}
    ignored = sorted(set(given) - set(keys))
    if ignored:
        LOGGER.warning("ignored by the %s: %s", "report" if report else "format table", ignored)
    kwargs = {k: v for k, v in options.items() if k in keys and v is not None}
    if not report:
        kwargs.setdefault("data", "coco8.yaml")
    yolo.benchmark(modes=report, **kwargs)
    return 0


def _defaults(command: str) -> dict:
    from .cli import COMMANDS

    return {name: default for name, default, _ in COMMANDS[command]}


def demo(model: str = "yolov8n.yaml", project: str = "runs/demo") -> int:
    """Offline end to end: build (or load) a model, export it to OpenVINO, run it on generated images."""
    from .demo import run_demo

    run_demo(model, Path(project))
    return 0
