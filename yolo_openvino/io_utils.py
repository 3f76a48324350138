"""File IO helpers: robust image reading, atomic writes of files and folders."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np


# Largest image we decode: 150 megapixels (a 100 MP camera frame fits; 450 MB as BGR). A 20000x20000 PNG
# (400 MP, 1.2 GB decoded) is refused from its header (read by `imagesize`), before OpenCV allocates
# anything. OpenCV's own OPENCV_IO_MAX_IMAGE_PIXELS cannot do this for us: it is read when cv2 is
# imported, which a user's code may have done before ours.
MAX_IMAGE_PIXELS = 150_000_000


class ImageReadError(ValueError):
    """An image file that cannot be decoded."""


def _imdecode(data: np.ndarray, name) -> np.ndarray:
    """BGR uint8 (H, W, 3) from encoded bytes, or ImageReadError naming ``name``."""
    import io

    import cv2
    import imagesize

    width, height = imagesize.get(io.BytesIO(data.data))  # header only; (-1, -1) for formats it does not know
    if width * height > MAX_IMAGE_PIXELS:
        raise ImageReadError(f"{name}: {width}x{height} is larger than {MAX_IMAGE_PIXELS:,} pixels; downscale it")
    try:
        image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    except cv2.error:
        image = None
    if image is None:
        raise ImageReadError(f"{name}: not a decodable image (corrupt or unsupported format)")
    return image


def read_image(path: str | Path) -> np.ndarray:
    """Read an image as BGR uint8 (H, W, 3). Raises ImageReadError naming the file."""
    path = Path(path)
    try:
        data = np.fromfile(path, dtype=np.uint8)  # handles non-ASCII paths, unlike cv2.imread
    except OSError as e:
        raise ImageReadError(f"{path}: cannot read file ({e.strerror})") from None
    return _imdecode(data, path)


def decode_image(data: bytes, name: str) -> np.ndarray:
    return _imdecode(np.frombuffer(data, np.uint8), name)


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
