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
    """One line per image (``image k/N``) or frame (``video k/N (frame i/F)``), then the speed summary."""
    from .sources import expand_sources
    from .yolo import YOLO

    runtime, options = split_runtime(options)
    if options.get("engine") == "ray":
        from .scale.batch import check_output_given

        check_output_given(options.get("output"))
        print(YOLO(model, **runtime).predict(source, **_given(options)).summary())
        return 0
    yolo = YOLO(model, **runtime)
    entries = expand_sources(source)  # a missing source is its one-line error
    position = {str(e): (i, _frames(e)) for i, e in reversed(list(enumerate(entries, 1)))}
    count = 0
    for count, result in enumerate(yolo.predict(entries, stream=True, **_given(options)), 1):
        if count == 1:
            print(yolo.last_stats.loaded)
        index, frames = position.get(result.path, (count, None))
        where = f"image {index}/{len(entries)} {_shown_path(result.path)}"
        if result.frame is not None:
            where = (f"video {index}/{len(entries)} (frame {result.frame + 1}/{frames or '?'}) "
                     f"{_shown_path(result.path)}")
        print(f"{where}: {result.orig_shape[0]}x{result.orig_shape[1]} {result.verbose()}"
              f"{result.speed.get('inference', 0):.1f}ms")
    stats = yolo.last_stats
    if not count and stats.skipped:
        raise UsageError(f"no readable image in {source}: {len(stats.skipped)} skipped ({', '.join(stats.skipped[:3])})")
    print(stats.speed_line())
    print(f"{count} {'image' if count == 1 else 'images'} processed in {stats.seconds:.1f}s"
          + (f"; {len(stats.skipped)} skipped (unreadable)" if stats.skipped else ""))
    return 0


def _shown_path(path: str) -> str:
    return str(Path(path).resolve()) if path != "array" and "://" not in path else path


def _frames(entry) -> int | None:
    """Frame count of a video file (None for images and live streams)."""
    from .sources import is_video

    if not is_video(entry) or isinstance(entry, int) or "://" in str(entry):
        return None
    import cv2

    capture = cv2.VideoCapture(str(entry))
    try:
        return int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) or None
    finally:
        capture.release()


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


def serve(model, **options) -> int:
    """Run the Ray Serve service until Ctrl-C."""
    from .scale.service import serve as run

    runtime, options = split_runtime(options)
    run(model, runtime=runtime, blocking=True, **_given(options))
    return 0


def demo(model: str = "yolov8n.yaml", project: str = "runs/demo") -> int:
    """Offline end to end: build (or load) a model, export it to OpenVINO, run it on generated images."""
    from .demo import run_demo

    run_demo(model, Path(project))
    return 0
