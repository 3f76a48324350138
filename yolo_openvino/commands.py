"""What each ``yolo-ov`` subcommand does, on top of the Python API. Values arrive checked (see options.py)."""

from __future__ import annotations

import logging
from pathlib import Path

from .errors import UsageError
from .options import split_runtime

LOGGER = logging.getLogger("yolo_openvino")


def _given(options: dict) -> dict:
    return {k: v for k, v in options.items() if v is not None}


def predict(model, source, **options) -> int:
    from .yolo import YOLO

    runtime, options = split_runtime(options)  # a missing source is sources.expand_sources' one-line error
    yolo = YOLO(model, **runtime)
    count = 0
    for count, result in enumerate(yolo.predict(source, stream=True, **_given(options)), 1):
        where = result.path + (f" frame {result.frame}" if result.frame is not None else "")
        print(f"{where} {result.orig_shape[0]}x{result.orig_shape[1]}: {result.summary()} "
              f"({sum(result.speed.values()):.1f} ms)")
    skipped = yolo.last_stats.skipped
    if not count and skipped:
        raise UsageError(f"no readable image in {source}: {len(skipped)} skipped ({', '.join(skipped[:3])})")
    print(f"{count} image(s) processed" + (f"; {len(skipped)} skipped (unreadable)" if skipped else ""))
    return 0


def export(model, **options) -> int:
    from .yolo import YOLO

    print(YOLO(model).export(**_given(options)))
    return 0


def val(model, **options) -> int:
    from .yolo import YOLO

    runtime, options = split_runtime(options)
    print(YOLO(model, **runtime).val(**_given(options)).summary())
    return 0


def benchmark(model, **options) -> int:
    """The per-format table for a .pt; the latency/throughput report for an OpenVINO model or modes=True."""
    from .yolo import YOLO

    YOLO(model).benchmark(**_given(options))
    return 0


def demo(model: str = "yolov8n.yaml", project: str = "runs/demo") -> int:
    """Offline end to end: build (or load) a model, export it to OpenVINO, run it on generated images."""
    from .demo import run_demo

    run_demo(model, Path(project))
    return 0
