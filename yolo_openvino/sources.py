"""Turn what a user passes as ``source`` into a stream of images.

Accepted: an image or video file, a folder, a glob, a list of any of these, a BGR numpy array (or a list
of arrays), an http(s) URL (image or video), a stream URL (rtsp/rtmp) or a webcam index. Each yielded
:class:`SourceItem` carries the image or, for a file that cannot be read, the error: callers report and
skip it, so one bad file never stops a folder.
"""

from __future__ import annotations

import glob
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from .errors import MissingFileError, UsageError
from .io_utils import ImageReadError, decode_image, read_image_to_fit

LOGGER = logging.getLogger("yolo_openvino")
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".pfm", ".mpo", ".dng"}
VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".mkv", ".m4v", ".wmv", ".mpeg", ".mpg", ".webm", ".asf", ".ts", ".gif"}
STREAM_PREFIXES = ("rtsp://", "rtmp://", "udp://", "tcp://")


@dataclass
class SourceItem:
    """One image of the input: ``image`` (H, W, 3) BGR uint8, or ``error`` when it could not be read."""

    name: str
    image: np.ndarray | None = None
    error: str | None = None
    frame: int | None = None  # frame index for videos
    full_shape: tuple[int, int] | None = None  # (h, w) of the original when ``image`` was decoded reduced

    @property
    def orig_shape(self) -> tuple[int, int]:
        return self.full_shape or self.image.shape[:2]


@dataclass(frozen=True)
class EncodedImage:
    """An image file's bytes already in memory (read by Ray, received over HTTP), decoded with the rest."""

    name: str
    data: bytes


def _is_url(s: str) -> bool:
    return s.startswith(("http://", "https://"))


def _expand_one(entry) -> list:
    """A single user entry -> list of concrete entries (paths, URLs, arrays, webcam indices)."""
    if isinstance(entry, np.ndarray):
        return [entry]
    if isinstance(entry, int):
        return [entry]
    text = str(entry)
    if _is_url(text) or text.startswith(STREAM_PREFIXES):
        return [text]
    path = Path(text).expanduser()
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
        media = [p for p in files if p.suffix.lower() in IMAGE_SUFFIXES | VIDEO_SUFFIXES]
        ignored = len(files) - len(media)
        if ignored:
            LOGGER.info("%s: ignoring %d file(s) that are not images or videos by their suffix", path, ignored)
        if not media:
            raise MissingFileError(f"{path}: folder has no images or videos (suffixes: {sorted(IMAGE_SUFFIXES)})")
        return [str(p) for p in media]
    if any(ch in text for ch in "*?["):
        matches = sorted(glob.glob(text, recursive=True))
        if not matches:
            raise MissingFileError(f"'{text}': the pattern matches no file")
        return [m for m in matches if Path(m).is_file()]
    if text.isdigit():
        return [int(text)]
    if not path.exists():
        raise MissingFileError(f"'{text}': no such file or folder. Pass an image, video, folder, glob or URL.")
    return [str(path)]


def expand_sources(source) -> list:
    """Flatten ``source`` into a list of concrete entries, failing early on a missing path."""
    if source is None:
        raise UsageError("No source given. Pass source=<image, folder, video, glob, URL or array>.")
    if isinstance(source, np.ndarray) and source.ndim == 4:  # a batch of images
        return list(source)
    entries = source if isinstance(source, (list, tuple)) else [source]
    return [concrete for entry in entries for concrete in _expand_one(entry)]


def is_video(entry) -> bool:
    if isinstance(entry, int):
        return True
    if isinstance(entry, (EncodedImage, np.ndarray)):
        return False  # bytes in memory are decoded as a still image
    text = str(entry)
    return text.startswith(STREAM_PREFIXES) or Path(text.split("?")[0]).suffix.lower() in VIDEO_SUFFIXES


def _iter_video(entry) -> Iterator[SourceItem]:
    import cv2

    capture = cv2.VideoCapture(entry)
    name = str(entry)
    if not capture.isOpened():
        yield SourceItem(name, error=f"{name}: cannot open video (missing codec, corrupt file or unreachable stream)")
        return
    try:
        index = 0
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            yield SourceItem(name, image=frame, frame=index)
            index += 1
        if index == 0:
            yield SourceItem(name, error=f"{name}: video has no readable frames")
    finally:
        capture.release()


def _fetch_url(url: str, timeout: float = 30.0) -> bytes:
    import urllib.request

    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read()


def _read_entry(entry, fit: tuple[int, int] | None = None) -> SourceItem:
    if isinstance(entry, np.ndarray):
        if entry.ndim != 3 or entry.shape[2] != 3 or entry.dtype != np.uint8 or not entry.shape[0] or not entry.shape[1]:
            return SourceItem("array", error=f"array of shape {entry.shape} {entry.dtype}: expected a non-empty "
                                             "(H, W, 3) uint8 BGR image")
        return SourceItem("array", image=entry)
    encoded = isinstance(entry, EncodedImage)
    name = str(entry.name if encoded else entry)
    try:
        if encoded or _is_url(name):
            image, full = decode_image(entry.data if encoded else _fetch_url(name), name, fit)
        else:
            image, full = read_image_to_fit(name, fit)
        return SourceItem(name, image=image, full_shape=full)
    except (ImageReadError, OSError) as e:
        return SourceItem(name, error=str(e))


def iter_entries(entries: list, fit: tuple[int, int] | None = None) -> Iterator:
    """Yield each concrete entry (from :func:`expand_sources`) as something producing SourceItems, in order.

    Still images become zero-argument callables (decoded later, in worker threads); video frames are
    yielded as ready SourceItems, since they must be read in order. ``fit`` (h, w): large JPEGs may be
    decoded reduced, no smaller than what a letterbox to ``fit`` needs (``io_utils.reduction``).
    """
    for entry in entries:
        if is_video(entry):
            yield from _iter_video(entry)
        else:
            yield (lambda e=entry: _read_entry(e, fit))
