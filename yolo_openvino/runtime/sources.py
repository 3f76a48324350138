"""Turn what a user passes as ``source`` into a stream of images.

Accepted: an image or video file, a folder, a glob, a list of any of these, a BGR numpy array (or a list
of arrays), an http(s) URL (image or video), a stream URL (rtsp/rtmp) or a webcam index. Each yielded
:class:`SourceItem` carries the image or, for a file that cannot be read, the error: callers report and
skip it, so one bad file never stops a folder.
"""

from __future__ import annotations

import glob
import logging
import queue
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterator

import numpy as np

from ..errors import MissingFileError, UsageError
from ..utils.files import ImageReadError, decode_image, read_image_to_fit

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
    stream: int | None = None  # several streams read at once (:func:`read_streams`): which one

    @property
    def orig_shape(self) -> tuple[int, int]:
        return self.full_shape or self.image.shape[:2]


@dataclass(frozen=True)
class EncodedImage:
    """An image file's bytes already in memory (read by Ray, received over HTTP), decoded with the rest."""

    name: str
    data: bytes


@dataclass(frozen=True)
class DecodedImage:
    """An image decoded elsewhere (the service's ingress, off the model replicas): ``image`` (H, W, 3) BGR uint8,
    perhaps at a reduced scale (``files.reduction``); ``full_shape`` (h, w) of the original, where boxes go."""

    name: str
    image: np.ndarray
    full_shape: tuple[int, int]


def as_bgr(array: np.ndarray) -> np.ndarray | None:
    """(H, W, 3) uint8 BGR of a uint8 array: BGR as it is, gray (H, W) or (H, W, 1) spread to 3 channels, BGRA
    without its alpha, as the reference reads them; None for anything else (or an empty image)."""
    import cv2

    if array.dtype != np.uint8 or array.ndim not in (2, 3) or not array.shape[0] or not array.shape[1]:
        return None
    channels = 1 if array.ndim == 2 else array.shape[2]
    if channels == 3:
        return array
    if channels == 1:
        return cv2.cvtColor(np.ascontiguousarray(array.reshape(array.shape[:2])), cv2.COLOR_GRAY2BGR)
    if channels == 4:
        return cv2.cvtColor(np.ascontiguousarray(array), cv2.COLOR_BGRA2BGR)
    return None


def _is_url(s: str) -> bool:
    return s.startswith(("http://", "https://"))


def _expand_one(entry, listed_in: Path | None = None) -> list:
    """A single user entry -> list of concrete entries (paths, URLs, arrays, webcam indices). PIL images and torch
    tensors become BGR arrays; a ``.txt`` file lists sources, one per line. ``listed_in``: the folder of the ``.txt``
    file that named ``entry`` (a relative path not found from here is looked up there, as the reference does)."""
    if isinstance(entry, np.ndarray):
        return [entry]
    if isinstance(entry, int):
        return [entry]
    if _is_pil_image(entry):
        return [pil_to_bgr(entry)]
    if _is_torch_tensor(entry):
        return tensor_to_bgr(entry)
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
    if not path.exists() and listed_in is not None and (listed_in / path).exists():
        return _expand_one(listed_in / path)
    if not path.exists():
        raise MissingFileError(f"'{text}': no such file or folder. Pass an image, video, folder, glob or URL.")
    if path.suffix.lower() == ".txt":
        return _listed(path)
    return [str(path)]


def _listed(path: Path) -> list:
    """The sources a ``.txt`` file lists, one per line (blank lines skipped), each expanded in turn."""
    lines = [line.strip() for line in path.read_text(encoding="utf-8", errors="replace").splitlines()]
    return [concrete for line in lines if line for concrete in _expand_one(line, listed_in=path.parent)]


def _is_pil_image(entry) -> bool:
    return type(entry).__module__.startswith("PIL.") and hasattr(entry, "convert") and hasattr(entry, "mode")


def pil_to_bgr(image) -> np.ndarray:
    """(H, W, 3) uint8 BGR of a PIL image of any mode: a PIL image is RGB (L gray, RGBA with alpha, P a palette)."""
    rgb = np.asarray(image.convert("RGB"))
    return np.ascontiguousarray(rgb[:, :, ::-1])


def _is_torch_tensor(entry) -> bool:
    return type(entry).__module__.startswith("torch") and hasattr(entry, "detach") and hasattr(entry, "ndim")


def tensor_to_bgr(tensor) -> list[np.ndarray]:
    """(H, W, 3) uint8 BGR images of a (B, 3, H, W) or (3, H, W) float RGB tensor in [0, 1], as the reference takes
    tensors (here rounded to 8 bits, then letterboxed to ``imgsz`` like any image)."""
    array = tensor.detach().cpu().float().numpy()
    array = array[None] if array.ndim == 3 else array
    if array.ndim != 4 or array.shape[1] != 3 or array.size == 0:
        raise UsageError(f"a torch tensor of shape {tuple(tensor.shape)}: expected (B, 3, H, W) RGB in [0, 1]")
    if array.min() < 0 or array.max() > 1:
        raise UsageError(f"a torch tensor with values in [{array.min():.3g}, {array.max():.3g}]: expected RGB in "
                         "[0, 1] (divide by 255)")
    images = (array * 255).round().astype(np.uint8).transpose(0, 2, 3, 1)[..., ::-1]
    return [np.ascontiguousarray(image) for image in images]


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
    if isinstance(entry, (EncodedImage, DecodedImage, np.ndarray)):
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
        image = as_bgr(entry)
        if image is None:
            return SourceItem("array", error=f"array of shape {entry.shape} {entry.dtype}: expected a non-empty "
                                             "(H, W, 3) uint8 BGR image (or gray (H, W), (H, W, 1), BGRA (H, W, 4))")
        return SourceItem("array", image=image)
    if isinstance(entry, DecodedImage):
        reduced = tuple(entry.full_shape) != entry.image.shape[:2]
        return SourceItem(entry.name, image=entry.image, full_shape=tuple(entry.full_shape) if reduced else None)
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
    decoded reduced, no smaller than what a letterbox to ``fit`` needs (``files.reduction``).
    """
    for entry in entries:
        if is_video(entry):
            yield from _iter_video(entry)
        else:
            yield (lambda e=entry: _read_entry(e, fit))


def is_live(entry) -> bool:
    """A camera or network stream: frames come in real time, so an unread one is worth less than the next."""
    return isinstance(entry, int) or (isinstance(entry, str) and entry.startswith(STREAM_PREFIXES)) or (
        isinstance(entry, str) and _is_url(entry) and is_video(entry))


def stream_groups(source) -> list[list]:
    """Concurrent streams of a tracking source: one list of concrete entries per stream.

    A ``.streams`` text file (one source per line, ``#`` comments) or a list: each video, stream URL, webcam,
    folder or glob is a stream of its own; neighbouring single images join into one sequence. Anything else
    is one stream. A listed path that does not exist becomes a stream holding only its error: reported and
    skipped while the others run.
    """
    if isinstance(source, (str, Path)) and str(source).endswith(".streams"):
        path = Path(source)
        if not path.is_file():
            raise MissingFileError(f"{path}: no such .streams file; it lists one source per line")
        items = [line.strip() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]
        if not items:
            raise UsageError(f"{path}: lists no source; write one video, stream URL or webcam index per line")
    elif isinstance(source, (list, tuple)) and len(source) > 1:
        items = list(source)
    else:
        return [expand_sources(source)]
    groups: list[list] = []
    joinable = False  # the last group is single images listed one by one: the next single image joins it
    for item in items:
        try:
            entries = expand_sources(item)
        except MissingFileError as e:
            groups.append([SourceItem(str(item), error=str(e))])
            joinable = False
            continue
        single_image = len(entries) == 1 and not is_video(entries[0]) and not Path(str(item)).is_dir()
        if single_image and joinable:
            groups[-1].append(entries[0])
        else:
            groups.append(list(entries))
        joinable = single_image
    return groups


_END = object()  # a reader's last put: its stream is over


class _StreamReader(threading.Thread):
    """Reads one stream's frames (or images) into a bounded queue, in order, in its own thread."""

    def __init__(self, index: int, group: list, fit, depth: int, ready: threading.Semaphore, stop: threading.Event):
        super().__init__(daemon=True, name=f"yolo-stream-{index}")
        self.index, self.group, self.fit = index, group, fit
        self.frames: queue.Queue = queue.Queue(maxsize=depth)
        self.ready, self.stop = ready, stop
        self.live = any(is_live(e) for e in group if not isinstance(e, SourceItem))
        self.dropped = 0

    def run(self) -> None:
        name = str(self.group[0].name if isinstance(self.group[0], SourceItem) else self.group[0]) if self.group else "?"
        entries = None
        try:
            entries = iter(self.group) if isinstance(self.group[0], SourceItem) else iter_entries(self.group, self.fit)
            for entry in entries:
                if self.stop.is_set():
                    return
                item = entry() if callable(entry) else entry
                self._put(replace(item, stream=self.index))
        except Exception as e:  # noqa: BLE001 - a reader's failure is its stream's, reported; the others go on
            self._put(SourceItem(name, error=f"{name}: stream failed ({type(e).__name__}: {e})", stream=self.index))
        finally:
            if entries is not None and hasattr(entries, "close"):
                entries.close()  # releases a video capture
            self._put(_END)

    def _put(self, item) -> None:
        """Queue ``item``: a file's frame waits for room; a live stream's drops its oldest unread frame instead."""
        while not self.stop.is_set():
            try:
                if self.live and item is not _END and self.frames.full():
                    self.frames.get_nowait()
                    self.dropped += 1
                self.frames.put(item, timeout=0.1)
                self.ready.release()
                return
            except (queue.Full, queue.Empty):
                continue


def read_streams(groups: list[list], fit: tuple[int, int] | None = None, depth: int = 4) -> Iterator[SourceItem]:
    """The frames of several streams (from :func:`stream_groups`), each read by its own thread, taken in turn as
    they arrive: every stream's frames in order, tagged with its index (``SourceItem.stream``). A stream that
    fails is one error item; one that ends is logged; the others go on. Closing the iterator stops the readers.
    """
    ready, stop = threading.Semaphore(0), threading.Event()
    readers = [_StreamReader(i, g, fit, depth, ready, stop) for i, g in enumerate(groups)]
    for reader in readers:
        reader.start()
    active, turn, counts = list(readers), 0, [0] * len(readers)
    try:
        while active:
            ready.acquire()  # at least one put since the last take (a live stream's drop may leave it spare)
            for k in range(len(active)):
                at = (turn + k) % len(active)
                try:
                    item = active[at].frames.get_nowait()
                except queue.Empty:
                    continue
                if item is _END:
                    reader = active.pop(at)
                    turn = at % len(active) if active else 0
                    _said_end(reader, counts[reader.index])
                else:
                    turn = (at + 1) % len(active)
                    counts[item.stream] += 1
                    yield item
                break
    finally:
        stop.set()


def _said_end(reader: _StreamReader, count: int) -> None:
    dropped = f", {reader.dropped} dropped to stay live" if reader.dropped else ""
    LOGGER.info("stream %d (%s) ended after %d frame(s)%s", reader.index, reader.group[0] if reader.group else "?",
                count, dropped)
