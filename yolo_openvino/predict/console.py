"""What predict prints with ``verbose``, as an Ultralytics user reads it.

Once: ``Loaded <model> (openvino on CPU, bf16) in 0.33s`` (compiling is never part of an image's time).
Per input: ``image 2/4 /abs/a.jpg: 480x640 2 persons, 1 bus, 48.1ms`` or
``video 1/1 (frame 7/300) /abs/v.mp4: 1080x1920 1 car, 47.9ms``; the time is that image's own inference.
At the end: ``Speed: 4.1ms preprocess, 48.0ms inference, 0.6ms postprocess per image at shape (1, 3, 640, 640)``
and ``4 images processed in 0.31s (12.9 images/s)``: the last figure is the pipeline's throughput.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

from ..results.result import Result
from ..runtime.sources import is_video
from ..utils.tables import counted


def shown_path(path: str) -> str:
    """Absolute, so the line says where the file is whatever the current folder."""
    return str(Path(path).resolve()) if path != "array" and "://" not in path else path


def video_frames(entry) -> int | None:
    """Frame count of a video file (None for images and live streams)."""
    if not is_video(entry) or isinstance(entry, int) or "://" in str(entry):
        return None
    import cv2

    capture = cv2.VideoCapture(str(entry))
    try:
        return int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) or None
    finally:
        capture.release()


class ProgressLines:
    """Numbers each result by its entry (``k/N``) and each video frame by its count (``frame i/F``)."""

    def __init__(self, entries: list):
        from collections import defaultdict, deque

        self.total = len(entries)
        # Each path's entry numbers in order: a path listed twice is numbered by each listing in turn (results come
        # in input order; an unreadable one just leaves its number unused); arrays are numbered by arrival.
        self.positions: dict[str, deque] = defaultdict(deque)
        for i, e in enumerate(entries, 1):
            if isinstance(e, (str, Path)):
                self.positions[str(e)].append(i)
        self.current: dict[str, int] = {}  # a video's number, for its later frames
        self.frames: dict[str, int | None] = {}

    def _index(self, result: Result, count: int) -> int:
        if result.stream is not None:  # several streams at once: the stream's own number
            return result.stream + 1
        if result.frame and result.path in self.current:  # a later frame of the video being read
            return self.current[result.path]
        waiting = self.positions.get(result.path)
        self.current[result.path] = waiting.popleft() if waiting else count
        return self.current[result.path]

    def line(self, result: Result, count: int) -> str:
        index = self._index(result, count)
        where = f"image {index}/{self.total} {shown_path(result.path)}"
        if result.frame is not None:
            if result.path not in self.frames:
                self.frames[result.path] = video_frames(result.path)
            where = (f"video {index}/{self.total} (frame {result.frame + 1}/{self.frames[result.path] or '?'}) "
                     f"{shown_path(result.path)}")
        h, w = result.orig_shape
        return f"{where}: {h}x{w} {result.verbose()}{result.speed.get('inference', 0):.1f}ms"


def printed(results: Iterator[Result], entries: list, stats, loaded: str | None) -> Iterator[Result]:
    """Pass ``results`` through, printing the lines above as each arrives and the summary at the end.

    ``stats``: the run's ``predictor.PredictStats`` (complete once ``results`` is exhausted).
    ``loaded``: the load line, or None where this model already said it.
    """
    lines = ProgressLines(entries)
    count = 0
    for count, result in enumerate(results, 1):
        if count == 1 and loaded:
            print(loaded)
        print(lines.line(result, count), flush=True)
        yield result
    if count:
        print(stats.speed_line())
    rate = f" ({count / stats.seconds:.1f} images/s)" if count and stats.seconds else ""
    skipped = f"; {len(stats.skipped)} skipped (unreadable)" if stats.skipped else ""
    print(f"{counted(count, 'image')} processed in {stats.seconds:.2f}s{rate}{skipped}")
