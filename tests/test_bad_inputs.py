"""Bad model files and bad images: one line naming the file (exit code 2), or reported by name and skipped
while the rest is processed; nothing silent. On an untrained model exported at 64 px (no ../shared needed)."""

from __future__ import annotations

import re
import shutil
import struct
import zlib

import numpy as np
import pytest

from conftest import ROOT, write_image
from yolo_openvino import YOLO
from yolo_openvino.cli.app import main
from yolo_openvino.errors import OfflineError


def _damage(folder, case):
    xml = next(folder.glob("*.xml"))
    if case == "no .bin":
        xml.with_suffix(".bin").unlink()
    elif case == "truncated .bin":
        data = xml.with_suffix(".bin").read_bytes()
        xml.with_suffix(".bin").write_bytes(data[: len(data) // 3])
    elif case == ".xml not XML":
        xml.write_text("this is not xml")
    elif case == "names: 7":
        (folder / "metadata.yaml").write_text("names: 7\nimgsz: [64, 64]\n")
    elif case == "yaml payload":
        (folder / "metadata.yaml").write_text("names: !!python/object/apply:os.system ['touch pwned']\n")
    elif case == "no metadata":
        (folder / "metadata.yaml").unlink()


@pytest.mark.parametrize("case,message", [
    ("no .bin", r"\.bin: missing"), ("truncated .bin", "OpenVINO cannot load this IR"),
    (".xml not XML", "OpenVINO cannot load this IR"), ("names: 7", "'names' must be a list"),
    ("yaml payload", "not plain YAML metadata"), ("no metadata", "metadata.yaml: missing"),
])
def test_damaged_ir_is_one_line_naming_the_file(tiny_ir, tmp_path, capsys, case, message):
    folder = tmp_path / "bad_openvino_model"
    shutil.copytree(tiny_ir, folder)
    _damage(folder, case)
    image = write_image(tmp_path / "a.jpg")
    assert main(["predict", f"model={folder}", f"source={image}"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert str(folder) in err and re.search(message, err), err
    assert not (tmp_path / "pwned").exists() and not (ROOT / "pwned").exists()


@pytest.mark.parametrize("payload", [b"\x80\x02cos\nsystem\nq\x00X\x04\x00\x00\x00trueq\x01\x85q\x02Rq\x03.", b"garbage"])
def test_refused_checkpoint_is_one_line_with_exit_code_2(tmp_path, capsys, payload):
    path = tmp_path / "evil.pt"
    path.write_bytes(payload)
    assert main(["predict", f"model={path}", f"source={write_image(tmp_path / 'a.jpg')}"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(path) in err


def _huge_png_header(path, side=20000):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
                     + chunk(b"IEND", b""))
    return path


def test_bad_inputs_are_skipped_by_name_and_the_rest_processed(tiny_ir, tmp_path, caplog):
    good = str(write_image(tmp_path / "good.jpg"))
    huge = str(_huge_png_header(tmp_path / "huge.png"))
    empty = np.zeros((0, 0, 3), np.uint8)
    model = YOLO(tiny_ir)
    results = model([good, huge, empty, good])
    assert [r.path for r in results] == [good, good]
    assert model.last_stats.skipped == [huge, "array"]
    assert "20000x20000 is larger than 150,000,000 pixels" in caplog.text and "non-empty (H, W, 3)" in caplog.text


def test_predict_with_nothing_readable_exits_2(tiny_ir, tmp_path, capsys):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not a jpeg")
    assert main(["predict", f"model={tiny_ir}", f"source={bad}"]) == 2
    assert "no readable image" in capsys.readouterr().err


def test_cli_prints_the_skipped_count(tiny_ir, tmp_path, capsys):
    write_image(tmp_path / "imgs" / "a.jpg")
    (tmp_path / "imgs" / "b.jpg").write_bytes(b"not a jpeg")
    assert main(["predict", f"model={tiny_ir}", f"source={tmp_path / 'imgs'}"]) == 0
    assert "1 image processed in " in (out := capsys.readouterr().out) and "; 1 skipped (unreadable)" in out


@pytest.mark.parametrize("call", ["predict", "export", "val"])
def test_offline_mode_never_touches_the_network(tiny_ir, checkpoint, tmp_path, monkeypatch, call):
    import urllib.request

    def no_network(*args, **kwargs):
        raise AssertionError("a network call was attempted with YOLO_OFFLINE=1")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    monkeypatch.setenv("YOLO_OFFLINE", "1")
    monkeypatch.setenv("YOLO_OPENVINO_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(OfflineError, match="YOLO_OFFLINE is set: pass"):
        if call == "predict":
            YOLO()(str(write_image(tmp_path / "a.jpg")))
        elif call == "export":
            YOLO(checkpoint).export(format="openvino", int8=True, data="coco8.yaml", imgsz=64, output=str(tmp_path / "q"))
        else:
            YOLO(tiny_ir).val(data="coco128.yaml")
