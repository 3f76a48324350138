"""metadata.yaml: JSON text that every YAML reader loads the same way, read back without importing PyYAML."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml

from yolo_openvino.errors import UsageError
from yolo_openvino.runtime.metadata import ModelMetadata, metadata_text, parse_metadata_text

BASE = {"description": "Ultralytics YOLOv8n model", "stride": 32, "task": "detect", "batch": 1, "imgsz": [640, 640],
        "names": {0: "person", 1: "bicycle", 2: "traffic light"}, "args": {"int8": False, "fraction": 1.0}}


@pytest.mark.parametrize("data,json_text", [
    (BASE, True),
    ({**BASE, "names": {0: "é", 1: "名前"}}, True),  # non-ASCII names stay readable
    ({**BASE, "args": {"tiny": 1e-05}}, False),  # a float JSON writes as 1e-05 is a string to YAML 1.1
    ({**BASE, "names": {0: "a", 5: "b"}}, True),  # ids that are not 0..n-1 stay a mapping (string keys, read as ids)
])
def test_metadata_text_reads_the_same_with_json_and_yaml(data, json_text):
    text = metadata_text(data)
    as_yaml = yaml.safe_load(text)
    assert parse_metadata_text(text) == as_yaml
    meta, expected = ModelMetadata.from_dict(as_yaml, "openvino"), ModelMetadata.from_dict(data, "openvino")
    assert meta.names == expected.names and meta.imgsz == expected.imgsz and meta.args == expected.args
    try:
        json.loads(text)
        assert json_text
    except ValueError:
        assert not json_text


def test_reference_block_yaml_and_bad_text():
    assert parse_metadata_text("names:\n  0: person\nimgsz: [640, 640]\n") == {"names": {0: "person"}, "imgsz": [640, 640]}
    with pytest.raises(ValueError):
        parse_metadata_text("names: [unclosed\n")
    with pytest.raises(UsageError, match="no 'names'"):
        ModelMetadata.from_dict(parse_metadata_text("[1, 2]"), "openvino")


def test_reading_our_metadata_does_not_import_pyyaml(tmp_path):
    (tmp_path / "metadata.yaml").write_text(metadata_text(BASE), encoding="utf-8")
    code = ("import sys; from pathlib import Path; from yolo_openvino.runtime.metadata import parse_metadata_text; "
            f"assert parse_metadata_text(Path({str(tmp_path / 'metadata.yaml')!r}).read_text())['names'][2] == "
            "'traffic light'; assert 'yaml' not in sys.modules, 'PyYAML imported'")
    subprocess.run([sys.executable, "-c", code], check=True)
