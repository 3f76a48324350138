"""Where runs, weights and datasets go: the user's settings, persisted as the reference persists its own.

A JSON file in ``$YOLO_OPENVINO_CONFIG_DIR``, else ``$XDG_CONFIG_HOME/yolo_openvino``, else
``~/.config/yolo_openvino``. ``yolo-ov settings`` shows it, ``yolo-ov settings runs_dir=/data/runs`` changes it,
``yolo-ov settings reset`` restores the defaults; in Python ``from yolo_openvino import settings``, then
``settings["runs_dir"]``, ``settings.update(runs_dir=...)``, ``settings.reset()``. A value not set in the file is
its default, read at the time of use (the cache defaults follow ``$YOLO_OPENVINO_HOME``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..errors import UsageError

VERSION = 1


def cache_root() -> Path:
    """Our cache folder, the defaults' root: $YOLO_OPENVINO_HOME, else $XDG_CACHE_HOME/yolo_openvino, else
    ~/.cache/yolo_openvino."""
    home = os.environ.get("YOLO_OPENVINO_HOME")
    if home:
        return Path(home)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "yolo_openvino"


def _defaults() -> dict[str, str]:
    return {"runs_dir": "runs", "weights_dir": str(cache_root() / "weights"),
            "datasets_dir": str(cache_root() / "datasets")}


KEYS = {"runs_dir": "where jobs write by default: <runs_dir>/<task>/<job> (relative: to the working folder)",
        "weights_dir": "where official weights fetched by name (yolov8n.pt) are kept",
        "datasets_dir": "where datasets fetched by name (coco8.yaml) are kept and looked up"}


def settings_file() -> Path:
    folder = os.environ.get("YOLO_OPENVINO_CONFIG_DIR")
    if folder:
        return Path(folder) / "settings.json"
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "yolo_openvino" / "settings.json"


class Settings:
    """The settings, dict-like: ``settings[key]``, ``settings.update(key=value)``, ``settings.reset()``; every
    change written at once (atomically)."""

    def _stored(self) -> dict:
        path = settings_file()
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as e:
            raise UsageError(f"{path}: unreadable settings ({e}); fix it or run `yolo-ov settings reset`") from None
        return {k: v for k, v in stored.items() if k in KEYS} if isinstance(stored, dict) else {}

    def as_dict(self) -> dict[str, str]:
        return {**_defaults(), **self._stored()}

    def __getitem__(self, key: str) -> str:
        return self.as_dict()[self._known(key)]

    def get(self, key: str, default=None):
        return self.as_dict().get(key, default)

    def update(self, values: dict | None = None, **more) -> None:
        """Set keys (``settings.update({"runs_dir": "x"})`` or ``settings.update(runs_dir="x")``) and save."""
        changes = {self._known(k): str(v) for k, v in {**(values or {}), **more}.items()}
        self._save({**self._stored(), **changes})

    def reset(self) -> None:
        """Every key back to its default (the file keeps only the version)."""
        self._save({})

    def _save(self, stored: dict) -> None:
        from .files import write_text_atomic

        write_text_atomic(settings_file(), json.dumps({"settings_version": VERSION, **stored}, indent=2) + "\n")

    @staticmethod
    def _known(key: str) -> str:
        if key not in KEYS:
            raise UsageError(f"unknown setting '{key}': the settings are {', '.join(KEYS)} (Ultralytics' integration "
                             "switches such as wandb or mlflow have no meaning here)")
        return key

    def __repr__(self) -> str:
        return f"Settings({self.as_dict()}, file={settings_file()})"


settings = Settings()
