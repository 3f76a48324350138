"""Exports on an untrained model (no ../shared needed): they never destroy what is not theirs, an interrupt
leaves the previous export, argument and dataset errors come before any work, and the defaults users know."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, write_dataset
from yolo_openvino import YOLO
from yolo_openvino.cli.app import main
from yolo_openvino.errors import UsageError


def _user_folder(tmp_path):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me")
    return folder


@pytest.mark.parametrize("case", ["user folder", "folder holding the checkpoint", "existing file", "the checkpoint",
                                  "an IR folder with a user file", "an IR folder, exporting onnx"])
def test_export_refuses_outputs_that_are_not_its_own(checkpoint, tiny_ir, tmp_path, case):
    source = tmp_path / "src" / "m.pt"
    source.parent.mkdir()
    shutil.copy(checkpoint, source)
    fmt = "onnx" if case == "an IR folder, exporting onnx" else "openvino"
    if case == "user folder":
        target = _user_folder(tmp_path)
    elif case == "folder holding the checkpoint":
        target = source.parent
    elif case == "existing file":
        target = tmp_path / "data.bin"
        target.write_bytes(b"precious")
    elif case == "the checkpoint":
        target = source
    else:
        target = tmp_path / "ir_openvino_model"
        shutil.copytree(tiny_ir, target)
        if case == "an IR folder with a user file":
            (target / "notes.txt").write_text("keep me")
    before = {p: p.read_bytes() for p in sorted(target.rglob("*")) if p.is_file()} if target.is_dir() else target.read_bytes()
    with pytest.raises(UsageError, match="output=.*(not an earlier|would replace the source)"):
        YOLO(source).export(format=fmt, imgsz=64, output=str(target))
    after = {p: p.read_bytes() for p in sorted(target.rglob("*")) if p.is_file()} if target.is_dir() else target.read_bytes()
    assert after == before
    assert not [p for p in target.parent.iterdir() if p.name.startswith(".")], "temporary files left behind"


@pytest.mark.slow
def test_export_replaces_an_earlier_export_of_the_same_kind(checkpoint, tiny_ir, tmp_path):
    target = tmp_path / "ir_openvino_model"
    shutil.copytree(tiny_ir, target)
    YOLO(checkpoint).export(format="openvino", imgsz=96, output=str(target))
    assert yaml.safe_load((target / "metadata.yaml").read_text())["imgsz"] == [96, 96]


_INTERRUPTED_EXPORT = """
import sys, time
import yolo_openvino.export as exporters
from yolo_openvino.cli.app import main
real = exporters.EXPORTERS["openvino"]

def slow(*args):
    out = real(*args)
    print("READY", flush=True)
    try:
        time.sleep(60)
    except KeyboardInterrupt:
        if {swallow}:
            return out  # as a library that catches Ctrl-C and carries on would
        raise
    return out

exporters.EXPORTERS["openvino"] = slow
sys.exit(main(["export", "model={checkpoint}", "imgsz=96", "output={output}"]))
"""


# Each case is a fresh process exporting (about 8 s): a Ctrl-C that a library swallows in the fast set, the other
# three combinations in the slow one.
@pytest.mark.parametrize("signum,swallow", [
    pytest.param(signal.SIGINT, False, marks=pytest.mark.slow), (signal.SIGINT, True),
    pytest.param(signal.SIGTERM, False, marks=pytest.mark.slow), pytest.param(signal.SIGTERM, True, marks=pytest.mark.slow)])
@pytest.mark.slow
def test_interrupted_export_keeps_the_previous_one(checkpoint, tiny_ir, tmp_path, signum, swallow):
    target = tmp_path / "ir_openvino_model"
    shutil.copytree(tiny_ir, target)
    before = {p.name: p.read_bytes() for p in target.iterdir()}
    script = _INTERRUPTED_EXPORT.format(swallow=swallow, checkpoint=checkpoint, output=target)
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, cwd=ROOT)
    try:
        assert process.stdout.readline().strip() == "READY", process.stderr.read()
        process.send_signal(signum)
        process.wait(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 128 + signum, process.stderr.read()
    assert {p.name: p.read_bytes() for p in target.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == [target.name], "a partial folder was left behind"


def test_int8_calibration_on_an_empty_val_split_is_an_error(checkpoint, tmp_path):
    data = write_dataset(tmp_path, {"x": "0 0.5 0.5 0.2 0.2\n"}, split="train")
    (tmp_path / "images" / "val").mkdir()
    data.write_text(yaml.safe_dump({**yaml.safe_load(data.read_text()), "val": "images/val"}))
    with pytest.raises(UsageError, match="split 'val' has no images"):
        YOLO(checkpoint).export(format="openvino", int8=True, data=str(data), imgsz=64, output=str(tmp_path / "q"))
    assert not (tmp_path / "q").exists()


@pytest.mark.slow
@pytest.mark.parametrize("batch", [1, 2])
def test_int8_with_accuracy_control(checkpoint, tmp_path, batch):
    labels = {f"im{i}": "0 0.5 0.5 0.4 0.4\n1 0.3 0.3 0.2 0.2\n" for i in range(4)}
    data = write_dataset(tmp_path, labels)
    out = YOLO(checkpoint).export(format="openvino", int8=True, max_drop=0.5, data=str(data), imgsz=64, batch=batch,
                                  output=str(tmp_path / "q_openvino_model"))
    meta = yaml.safe_load((tmp_path / "q_openvino_model" / "metadata.yaml").read_text())
    assert meta["precision"] == "int8" and meta["batch"] == batch and meta["args"]["max_drop"] == 0.5
    results = YOLO(out)([str(p) for p in sorted((tmp_path / "images" / "val").glob("*.jpg"))])
    assert len(results) == 4


def test_export_defaults_to_the_training_size_and_says_what_next(checkpoint, tmp_path, caplog):
    out = YOLO(checkpoint).export(format="openvino", output=str(tmp_path / "t_openvino_model"))
    assert yaml.safe_load((Path(out) / "metadata.yaml").read_text())["imgsz"] == [320, 320]
    assert f"yolo-ov predict model={Path(out).resolve()} source=" in caplog.text
    assert f"yolo-ov val model={Path(out).resolve()} data=coco8.yaml imgsz=320" in caplog.text


def test_int8_without_data_says_what_to_pass(checkpoint, tmp_path, capsys):
    with pytest.raises(UsageError, match="int8=True needs data="):
        YOLO(checkpoint).export(format="openvino", int8=True, output=str(tmp_path / "q"))
    assert main(["export", f"model={checkpoint}", "int8=True"]) == 2
    assert "needs data=" in capsys.readouterr().err
