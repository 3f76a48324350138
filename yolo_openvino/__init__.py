"""yolo-openvino: export Ultralytics YOLO detectors to OpenVINO and run them fast.

Importing the package is light: torch and openvino load only when a model needs them.
"""

from __future__ import annotations

from .version import __version__

__all__ = ["YOLO", "Client", "Detections", "Result", "Results", "settings", "__version__"]


def __getattr__(name):  # lazy imports keep `import yolo_openvino` cheap
    if name == "YOLO":
        from .yolo import YOLO

        return YOLO
    if name == "Client":  # the HTTP service's client: Results as a local model returns them
        from .scale.client import Client

        return Client
    if name == "settings":  # where runs, weights and datasets go (utils/settings.py)
        from .utils.settings import settings

        return settings
    if name in ("Detections", "Result", "Results"):
        from . import results

        return getattr(results, name)
    raise AttributeError(f"module 'yolo_openvino' has no attribute '{name}'")
