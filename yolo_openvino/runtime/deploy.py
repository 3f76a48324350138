"""A deploy folder, as ``optimize`` writes it: the chosen IR (``.xml``, ``.bin``, ``metadata.yaml``) and
``deploy.yaml``, the runtime settings it was picked with, its measured figures and the machine they were measured on.
Loading the folder runs the IR with those settings (options given by the caller still win); a folder made on another
kind of CPU is used as it is, with one line saying so."""

from __future__ import annotations

import logging
from pathlib import Path

from ..errors import UsageError

LOGGER = logging.getLogger("yolo_openvino")
DEPLOY_FILE = "deploy.yaml"
PREDICT_KEYS = ("reduced_decode", "batch")  # predict's options a deploy folder may set (optimize's pipeline settings)


def deploy_file(model: str | Path) -> Path | None:
    """The ``deploy.yaml`` of a deploy folder (or beside its ``.xml``), None for any other model."""
    path = Path(model)
    folder = path if path.is_dir() else path.parent
    found = folder / DEPLOY_FILE
    return found if found.is_file() else None


def read_deploy(path: Path) -> dict:
    """``deploy.yaml``'s content, checked: a mapping with a ``runtime`` mapping of YOLO's runtime options."""
    import yaml

    from ..options import check

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise UsageError(f"{path}: not readable YAML ({' '.join(str(e).split())[:120]}); run optimize again or "
                         "delete it") from None
    if not isinstance(data, dict) or not all(isinstance(data.get(k, {}), dict) for k in ("runtime", "predict")):
        raise UsageError(f"{path}: expected a mapping with 'runtime' and 'predict' mappings; run optimize again or "
                         "delete it")
    data["runtime"] = check("runtime", data.get("runtime") or {}, where=str(path))
    others = sorted(set(data.get("predict") or {}) - set(PREDICT_KEYS))
    if others:
        raise UsageError(f"{path}: 'predict' may set {', '.join(PREDICT_KEYS)}, not {', '.join(others)}; pass those "
                         "to predict instead")
    data["predict"] = check("predict", data.get("predict") or {}, where=str(path))
    return data


def deploy_runtime(model: str | Path) -> dict:
    """The runtime options a deploy folder was picked with ({} for any other model); a note when this machine is not
    the kind it was measured on."""
    path = deploy_file(model)
    if path is None:
        return {}
    data = read_deploy(path)
    made_on = (data.get("machine") or {}).get("cpu_kind")
    if made_on:
        from ..utils.machine import machine

        here = machine()
        if made_on != here["cpu_kind"]:
            LOGGER.warning("%s: picked on CPU kind %s, this one is %s: its settings are used as they are (run optimize "
                           "here for this machine's)", path, made_on, here["cpu_kind"])
    return {k: v for k, v in data["runtime"].items() if v is not None}


def deploy_predict(model: str | Path) -> dict:
    """Predict's options a deploy folder was picked with (its decode, a dynamic model's batch), {} for any other
    model: predict and track start from them, options given by the caller win."""
    path = deploy_file(model)
    return read_deploy(path)["predict"] if path is not None else {}
