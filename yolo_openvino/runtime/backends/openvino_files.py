"""An OpenVINO IR on disk: the .xml a path names (a folder or the file) and the metadata beside it."""

from __future__ import annotations

from pathlib import Path

from ...errors import MissingFileError, UsageError
from ..metadata import ModelMetadata, parse_metadata_text


def find_ir(path: str | Path) -> Path:
    """The ``.xml`` of an IR folder (or the file itself)."""
    path = Path(path)
    if path.suffix == ".xml":
        return path
    xmls = sorted(path.glob("*.xml"))
    if not xmls:
        raise MissingFileError(f"{path}: no OpenVINO .xml in this folder. Export with `yolo-ov export format=openvino`.")
    if len(xmls) > 1:
        raise UsageError(f"{path}: several .xml files ({[x.name for x in xmls]}); pass the one to use.")
    return xmls[0]


def read_ir_metadata(xml: Path) -> ModelMetadata:
    """The metadata.yaml beside ``xml``, checked; a missing .bin is reported here, before OpenVINO reads it."""
    meta_file = xml.parent / "metadata.yaml"
    if not xml.with_suffix(".bin").is_file():
        raise MissingFileError(f"{xml.with_suffix('.bin')}: missing. An IR is an .xml with its .bin; copy both, "
                               "or re-export.")
    if not meta_file.exists():
        raise MissingFileError(f"{meta_file}: missing. The IR folder must hold the metadata.yaml written at export.")
    try:
        data = parse_metadata_text(meta_file.read_text(encoding="utf-8")) or {}
    except ValueError as e:  # UnicodeDecodeError is one too
        raise UsageError(f"{meta_file}: not plain YAML metadata ({' '.join(str(e).split())[:160]})") from None
    return ModelMetadata.from_dict(data, "openvino", where=str(meta_file))
