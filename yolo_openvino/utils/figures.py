"""matplotlib for every figure the jobs write (``pip install "yolo-openvino[report]"``): its pyplot on the file-only
Agg backend, or None and one warning per kind of figure where it is not installed."""

from __future__ import annotations

import logging

LOGGER = logging.getLogger("yolo_openvino")
_warned: set[str] = set()


def pyplot(figure: str):
    """``matplotlib.pyplot`` (Agg), or None without matplotlib: ``figure`` (what is then not drawn) said once."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        if figure not in _warned:
            LOGGER.warning("matplotlib is not installed: no %s (pip install 'yolo-openvino[report]')", figure)
            _warned.add(figure)
        return None
    return plt
