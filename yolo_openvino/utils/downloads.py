"""Fetch official weights by name (``yolov8n.pt``) into a cache, with a progress bar."""

from __future__ import annotations

import logging
import os
import re
import urllib.error
import urllib.request
from pathlib import Path

from ..errors import MissingFileError, OfflineError, offline
from .files import atomic_output

LOGGER = logging.getLogger("yolo_openvino")
# Official release assets. Overridable (mirrors, air-gapped servers, tests) with YOLO_OPENVINO_ASSETS_URL.
ASSETS_URL = "https://github.com/ultralytics/assets/releases/download/v8.3.0"
KNOWN_WEIGHTS = re.compile(r"^(yolov8|yolo11)[nsmlx]\.pt$")


def cache_dir() -> Path:
    """Where weights fetched by name are kept: the ``weights_dir`` setting (utils/settings.py)."""
    from .settings import settings

    return Path(settings["weights_dir"])


def resolve_weights(name: str | Path) -> Path:
    """Return a local path for ``name``: the file itself, a cached copy, or a fresh download."""
    path = Path(name)
    if path.exists():
        return path
    if path.parent != Path(".") or not KNOWN_WEIGHTS.match(path.name):
        raise MissingFileError(f"'{name}': no such file. Official weights such as yolov8n.pt are fetched by name.")
    cached = cache_dir() / path.name
    if cached.exists():
        return cached
    if offline():
        raise OfflineError(f"'{name}' is not here nor in {cache_dir()}, and YOLO_OFFLINE is set: pass model=<path to "
                           f"a .pt> or put {path.name} in {cache_dir()}")
    base = os.environ.get("YOLO_OPENVINO_ASSETS_URL", ASSETS_URL).rstrip("/")
    return download(f"{base}/{path.name}", cached)


def download(url: str, target: Path, timeout: float = 30.0) -> Path:
    """Download ``url`` to ``target`` atomically (a partial file never appears at ``target``)."""
    from tqdm import tqdm

    LOGGER.info("downloading %s to %s", url, target)
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, atomic_output(target) as tmp:
            total = int(response.headers.get("Content-Length") or 0) or None
            with open(tmp, "wb") as f, tqdm(total=total, unit="B", unit_scale=True, desc=target.name) as bar:
                while chunk := response.read(1 << 20):
                    f.write(chunk)
                    bar.update(len(chunk))
            if total and tmp.stat().st_size != total:
                raise OSError(f"incomplete download: {tmp.stat().st_size} of {total} bytes")
    except (urllib.error.URLError, OSError) as e:
        raise MissingFileError(
            f"Could not download {url} ({getattr(e, 'reason', e)}). If this machine is offline, download the file "
            f"elsewhere and put it at {target} (or pass its path as model=...)."
        ) from None
    return target
