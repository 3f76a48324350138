"""An OpenVINO Model Server repository for an exported IR: ``<repo>/<name>/1/model.{xml,bin}`` and ``config.json``.

OVMS (a C++ server, run with docker) serves every model listed in ``config.json`` over KServe REST/gRPC:

    docker run --rm -p 9000:9000 -p 8000:8000 -v $PWD/<repo>:/models:ro openvino/model_server:latest \\
        --config_path /models/config.json --port 9000 --rest_port 8000

It returns the raw output (1, 4 + classes, anchors); the letterbox before and the NMS after are the client's
(``processing.letterbox`` and ``processing.non_max_suppression`` here). An IR exported with ``nms=True`` (or a
YOLO26 ``nms=False`` one) returns final rows instead.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from ..errors import UsageError
from ..utils.files import atomic_output

VERSION = 1


def default_repository(ir: Path) -> Path:
    """``yolov8n_openvino_model`` -> ``yolov8n_ovms`` beside it."""
    return ir.with_name(ir.name.removesuffix("_openvino_model") + "_ovms")


def _is_repository(path: Path) -> bool:
    """An earlier repository of ours: config.json listing its models, plus those model folders only."""
    try:
        config = json.loads((path / "config.json").read_text(encoding="utf-8"))
        names = {entry["config"]["name"] for entry in config["model_config_list"]}
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return {p.name for p in path.iterdir()} == names | {"config.json"}


def write_ovms_repository(ir: str | Path, repository: str | Path | None = None, name: str | None = None,
                          hint: str = "THROUGHPUT") -> Path:
    """Write the repository for IR folder ``ir`` (atomically; only an earlier repository is ever replaced)."""
    ir = Path(ir)
    xml = sorted(ir.glob("*.xml"))
    if len(xml) != 1 or not xml[0].with_suffix(".bin").exists():
        raise UsageError(f"{ir}: not an OpenVINO IR folder (one .xml with its .bin)")
    repository = Path(repository) if repository else default_repository(ir)
    if repository.exists() and not _is_repository(repository):
        raise UsageError(f"{repository} exists and is not an OVMS repository written by yolo-openvino; choose "
                         "another path (it is never overwritten)")
    name = name or xml[0].stem
    config = {"model_config_list": [{"config": {
        "name": name, "base_path": f"/models/{name}", "plugin_config": {"PERFORMANCE_HINT": hint}}}]}
    with atomic_output(repository) as tmp:
        version = tmp / name / str(VERSION)
        version.mkdir(parents=True)
        shutil.copyfile(xml[0], version / "model.xml")
        shutil.copyfile(xml[0].with_suffix(".bin"), version / "model.bin")
        if (ir / "metadata.yaml").exists():  # class names and input size, for clients
            shutil.copyfile(ir / "metadata.yaml", version / "metadata.yaml")
        (tmp / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    return repository
