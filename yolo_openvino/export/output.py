"""Where an export may write: a new path, or an earlier export of the same kind (recognised by its content).

Reported: ``output=`` an existing folder of the user's replaced its files by the IR; the folder holding the
checkpoint became one ONNX file; an existing file, even the source ``.pt``, was overwritten. Now an
existing path is replaced only when it is exactly what an export of that format writes.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from ..errors import UsageError
from ..runtime.metadata import parse_metadata_text



def _has_names(data) -> bool:
    return isinstance(data, dict) and "names" in data


def _is_ir_folder(path: Path) -> bool:
    """A folder holding one .xml, its .bin and a metadata.yaml with names, and nothing else."""
    if not path.is_dir():
        return False
    entries = list(path.iterdir())
    suffixes = sorted(p.suffix for p in entries if p.name != "metadata.yaml")
    if any(not p.is_file() for p in entries) or suffixes != [".bin", ".xml"]:
        return False
    try:
        return _has_names(parse_metadata_text((path / "metadata.yaml").read_text(encoding="utf-8")))
    except (OSError, ValueError):  # ValueError: neither JSON nor YAML, or not UTF-8
        return False


def _is_onnx_export(path: Path) -> bool:
    if not path.is_file() or path.suffix.lower() != ".onnx":
        return False
    try:
        import onnx

        props = {p.key for p in onnx.load(str(path), load_external_data=False).metadata_props}
    except Exception:  # noqa: BLE001 - anything unreadable is not an export of ours
        return False
    return "names" in props


def _is_torchscript_export(path: Path) -> bool:
    if not path.is_file() or not zipfile.is_zipfile(path):
        return False
    try:
        with zipfile.ZipFile(path) as archive:
            config = next((n for n in archive.namelist() if n.endswith("extra/config.txt")), None)
            return config is not None and _has_names(json.loads(archive.read(config)))
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


IS_EXPORT = {"openvino": _is_ir_folder, "onnx": _is_onnx_export, "torchscript": _is_torchscript_export}


def check_output(target: Path, fmt: str, source: Path) -> None:
    """Raise UsageError unless ``target`` is new or an earlier ``fmt`` export; never the source or its folder."""
    resolved, source = target.resolve(), source.resolve()
    if resolved == source or resolved in source.parents:
        raise UsageError(f"output={target} would replace the source checkpoint {source}; choose another output")
    if target.exists() and not IS_EXPORT[fmt](target):
        kind = "folder" if target.is_dir() else "file"
        raise UsageError(f"output={target} is an existing {kind} that is not an earlier {fmt} export; it is left "
                         "untouched. Choose a new path, or remove it yourself if it should go.")
