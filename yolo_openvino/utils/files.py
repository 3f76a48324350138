"""File IO helpers: robust image reading, atomic writes of files and folders."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np


# Largest image we decode: 150 megapixels (a 100 MP camera frame fits; 450 MB as BGR). A 20000x20000 PNG
# (400 MP, 1.2 GB decoded) is refused from its header (read by `imagesize`), before OpenCV allocates
# anything. OpenCV's own OPENCV_IO_MAX_IMAGE_PIXELS cannot do this for us: it is read when cv2 is
# imported, which a user's code may have done before ours.
MAX_IMAGE_PIXELS = 150_000_000


class ImageReadError(ValueError):
    """An image file that cannot be decoded."""


@dataclass(frozen=True)
class Cover:
    """A decode target for a centre crop: every side must stay at least (h, w), where a plain (h, w) tuple means
    the letterboxed size (the longer side decides)."""

    h: int
    w: int


def reduction(width: int, height: int, fit: tuple[int, int] | Cover | None) -> int:
    """The largest JPEG decode reduction (8, 4, 2 or 1) whose image still covers ``fit`` (h, w) when letterboxed
    (or, for a :class:`Cover`, when resized so that its shorter side fits, as a classifier's centre crop does).

    Letterboxing scales an image by ``min(fit_h / h, fit_w / w)``; decoding at 1/k first changes nothing
    but the source of that resize as long as the resize still shrinks (k <= 1 / scale). libjpeg decodes at
    1/2, 1/4, 1/8 by scaling its inverse DCT, several times faster than a full decode for 1080p and 4K.
    """
    if fit is None or width <= 0 or height <= 0:
        return 1
    if isinstance(fit, Cover):
        shrink = min(height / fit.h, width / fit.w)
    else:
        shrink = max(height / fit[0], width / fit[1])
    return next((k for k in (8, 4, 2) if k <= shrink), 1)


_REDUCED = {2: "IMREAD_REDUCED_COLOR_2", 4: "IMREAD_REDUCED_COLOR_4", 8: "IMREAD_REDUCED_COLOR_8"}


def _imdecode(data: np.ndarray, name, fit: tuple[int, int] | None = None,
              shrink_others: bool = False) -> tuple[np.ndarray, tuple[int, int]]:
    """(BGR uint8 (H, W, 3), the image's full (h, w)) from encoded bytes, or ImageReadError naming ``name``.

    With ``fit``, a large JPEG is decoded at a reduced scale (see :func:`reduction`); its full size is
    still returned, so boxes map back to the original pixels. ``shrink_others``: any other format is decoded
    whole and then shrunk by the same factor (area averaging), so what is kept is no bigger than a JPEG's would be
    (the service: a 36-megapixel PNG would otherwise travel to the model as a 108 MB array).
    """
    import io

    import cv2
    import imagesize

    width, height = imagesize.get(io.BytesIO(data.data))  # header only; (-1, -1) for formats it does not know
    if width * height > MAX_IMAGE_PIXELS:
        raise ImageReadError(f"{name}: {width}x{height} is larger than {MAX_IMAGE_PIXELS:,} pixels; downscale it")
    k = reduction(width, height, fit) if data[:2].tobytes() == b"\xff\xd8" else 1
    if k > 1:
        image = _try_decode(data, getattr(cv2, _REDUCED[k]))
        if image is not None:
            reduced = (-(-height // k), -(-width // k))  # libjpeg rounds scaled sizes up
            if image.shape[:2] == reduced:
                return image, (height, width)
            if image.shape[:2] == reduced[::-1]:  # rotated by its EXIF orientation
                return image, (width, height)
    image = _try_decode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None:
        raise ImageReadError(f"{name}: not a decodable image (corrupt or unsupported format)")
    full = image.shape[:2]
    k = reduction(full[1], full[0], fit) if shrink_others else 1
    if k > 1:
        image = cv2.resize(image, (-(-full[1] // k), -(-full[0] // k)), interpolation=cv2.INTER_AREA)
    return image, full


def decodes_reduced(path: str | Path, fit: tuple[int, int] | Cover) -> bool:
    """Whether the pipeline's reduced decode would read ``path`` at a reduced scale for ``fit`` (a JPEG large enough:
    :func:`reduction`), from its header alone."""
    import imagesize

    with open(path, "rb") as f:
        head = f.read(2)
    if head != b"\xff\xd8":
        return False
    width, height = imagesize.get(str(path))
    return reduction(width, height, fit) > 1


def _try_decode(data: np.ndarray, flags: int):
    import cv2

    try:
        return cv2.imdecode(data, flags)
    except cv2.error:
        return None


def _read_bytes(path: Path) -> np.ndarray:
    try:
        return np.fromfile(path, dtype=np.uint8)  # handles non-ASCII paths, unlike cv2.imread
    except OSError as e:
        raise ImageReadError(f"{path}: cannot read file ({e.strerror})") from None


def read_image(path: str | Path) -> np.ndarray:
    """Read an image as BGR uint8 (H, W, 3). Raises ImageReadError naming the file."""
    return _imdecode(_read_bytes(Path(path)), path)[0]


def read_image_to_fit(path: str | Path, fit: tuple[int, int] | None) -> tuple[np.ndarray, tuple[int, int]]:
    """(image, full (h, w)): a large JPEG decoded at the smallest scale that still covers ``fit`` (h, w)."""
    return _imdecode(_read_bytes(Path(path)), path, fit)


def read_again(path: str, frame: int | None) -> np.ndarray:
    """The original image of a result whose image was not kept: the file again, or its video frame."""
    import cv2

    if path == "array":
        raise ValueError("this result's array was not kept; pass the image: plot(image)")
    if frame is None:
        return read_image(path)
    capture = cv2.VideoCapture(path)
    try:
        capture.set(cv2.CAP_PROP_POS_FRAMES, frame)
        ok, image = capture.read()
    finally:
        capture.release()
    if not ok:
        raise ValueError(f"{path}: cannot read frame {frame} again; predict with save=True to keep frames")
    return image


def decode_image(data: bytes, name: str, fit: tuple[int, int] | None = None,
                 shrink_others: bool = False) -> tuple[np.ndarray, tuple[int, int]]:
    """(image, full (h, w)) from encoded bytes; see :func:`read_image_to_fit` for ``fit``, :func:`_imdecode` for
    ``shrink_others``."""
    return _imdecode(np.frombuffer(data, np.uint8), name, fit, shrink_others)


def write_image(filename: str | Path, image: np.ndarray) -> Path:
    """Encode by the file suffix and write atomically."""
    import cv2

    filename = Path(filename)
    ok, encoded = cv2.imencode(filename.suffix or ".jpg", image)
    if not ok:
        raise ValueError(f"{filename}: OpenCV cannot encode an image with suffix '{filename.suffix}'")
    write_bytes_atomic(filename, encoded.tobytes())
    return filename


def write_bytes_atomic(filename: str | Path, data: bytes) -> Path:
    filename = Path(filename)
    filename.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=filename.parent, prefix=f".{filename.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, filename)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return filename


def write_text_atomic(filename: str | Path, text: str) -> Path:
    return write_bytes_atomic(filename, text.encode())


@contextlib.contextmanager
def atomic_output(target: str | Path):
    """Yield a temporary path beside ``target`` (file or folder); move it into place only on success.

    A failed or interrupted write leaves ``target`` as it was (absent or the previous version), never
    half-written. An existing target is replaced as a whole.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.partial-"))
    tmp = staging / target.name
    try:
        yield tmp
        if not tmp.exists():
            raise FileNotFoundError(f"nothing was written to {tmp}")
        backup = None
        if target.exists():
            backup = staging / (target.name + ".old")
            os.replace(target, backup)
        os.replace(tmp, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def file_size_mb(path: str | Path) -> float:
    path = Path(path)
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6
    return path.stat().st_size / 1e6
