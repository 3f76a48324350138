"""File IO helpers: robust image reading, atomic writes of files and folders."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np


class ImageReadError(ValueError):
    """An image file that cannot be decoded."""


def read_image(path: str | Path) -> np.ndarray:
    """Read an image as BGR uint8 (H, W, 3). Raises ImageReadError naming the file."""
    import cv2

    path = Path(path)
    try:
        data = np.fromfile(path, dtype=np.uint8)  # handles non-ASCII paths, unlike cv2.imread
    except OSError as e:
        raise ImageReadError(f"{path}: cannot read file ({e.strerror})") from None
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None:
        raise ImageReadError(f"{path}: not a decodable image (corrupt or unsupported format)")
    return image


def decode_image(data: bytes, name: str) -> np.ndarray:
    import cv2

    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR) if data else None
    if image is None:
        raise ImageReadError(f"{name}: not a decodable image")
    return image


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
