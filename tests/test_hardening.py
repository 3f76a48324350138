"""Issue #10, case by case, on an untrained model exported at 64 px (no ../shared needed): outputs that are not
ours are never touched, interrupts leave the previous export, bad files and data get one line, nothing silent."""

from __future__ import annotations

import re
import shutil
import signal
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml

from conftest import ROOT
from yolo_openvino import YOLO
from yolo_openvino.cli import main
from yolo_openvino.errors import OfflineError, UsageError


def _image(path, h=48, w=64):
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.random.default_rng(0).integers(0, 255, (h, w, 3), dtype=np.uint8))
    return path


# -- exports never destroy what is not theirs --------------------------------------------------------------------
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


def test_export_replaces_an_earlier_export_of_the_same_kind(checkpoint, tiny_ir, tmp_path):
    target = tmp_path / "ir_openvino_model"
    shutil.copytree(tiny_ir, target)
    YOLO(checkpoint).export(format="openvino", imgsz=96, output=str(target))
    assert yaml.safe_load((target / "metadata.yaml").read_text())["imgsz"] == [96, 96]


_INTERRUPTED_EXPORT = """
import sys, time
from yolo_openvino import exporters
from yolo_openvino.cli import main
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


@pytest.mark.parametrize("signum,swallow", [(signal.SIGINT, False), (signal.SIGINT, True), (signal.SIGTERM, False),
                                            (signal.SIGTERM, True)])
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


# -- one line for a bad model file -------------------------------------------------------------------------------------
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
    image = _image(tmp_path / "a.jpg")
    assert main(["predict", f"model={folder}", f"source={image}"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert str(folder) in err and re.search(message, err), err
    assert not (tmp_path / "pwned").exists() and not (ROOT / "pwned").exists()


@pytest.mark.parametrize("payload", [b"\x80\x02cos\nsystem\nq\x00X\x04\x00\x00\x00trueq\x01\x85q\x02Rq\x03.", b"garbage"])
def test_refused_checkpoint_is_one_line_with_exit_code_2(tmp_path, capsys, payload):
    path = tmp_path / "evil.pt"
    path.write_bytes(payload)
    assert main(["predict", f"model={path}", f"source={_image(tmp_path / 'a.jpg')}"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(path) in err


# -- bad inputs are reported and skipped, the rest processed ------------------------------------------------------------
def _huge_png_header(path, side=20000):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
                     + chunk(b"IEND", b""))
    return path


def test_bad_inputs_are_skipped_by_name_and_the_rest_processed(tiny_ir, tmp_path, caplog):
    good = str(_image(tmp_path / "good.jpg"))
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
    _image(tmp_path / "imgs" / "a.jpg")
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
            YOLO()(str(_image(tmp_path / "a.jpg")))
        elif call == "export":
            YOLO(checkpoint).export(format="openvino", int8=True, data="coco8.yaml", imgsz=64, output=str(tmp_path / "q"))
        else:
            YOLO(tiny_ir).val(data="coco128.yaml")


# -- val: every corrupt label line counted with its file, the rest evaluated ---------------------------------------------
LABELS = {
    "good": "0 0.5 0.5 0.4 0.4\n",
    "nan": "0 nan 0.5 0.2 0.2\n0 0.5 0.5 0.2 0.2\n",
    "negative_width": "0 0.5 0.5 -0.2 0.2\n",
    "outside": "0 1.5 0.5 0.2 0.2\n",
    "bad_class": "7 0.5 0.5 0.2 0.2\n",
    "columns": "0 0.5 0.5\n",
    "utf8": None,  # invalid UTF-8, written as bytes below
}


def _dataset(root, labels, split="val"):
    for stem, text in labels.items():
        _image(root / "images" / split / f"{stem}.jpg")
        label = root / "labels" / split / f"{stem}.txt"
        label.parent.mkdir(parents=True, exist_ok=True)
        label.write_bytes(b"0 0.5 0.5 0.2 \xff\xfe\n" if text is None else text.encode())
    (root / "ds.yaml").write_text(yaml.safe_dump({"path": ".", split: f"images/{split}", "names": ["a", "b"]}))
    return root / "ds.yaml"


def test_val_counts_every_corrupt_label_line_and_evaluates_the_rest(tiny_ir, tmp_path, caplog):
    result = YOLO(tiny_ir).val(data=str(_dataset(tmp_path, LABELS)), imgsz=64)
    issues = result.issues
    assert result.images == len(LABELS) and result.instances == 2  # good.txt and the valid line of nan.txt
    assert sorted(i.split(":")[0].rsplit("/", 1)[1] for i in issues.corrupt) == [
        "columns.txt", "nan.txt", "negative_width.txt", "outside.txt"]
    assert [i.split(":")[0].rsplit("/", 1)[1] for i in issues.out_of_range] == ["bad_class.txt"]
    assert len(issues.unreadable) == 1 and "utf8.txt" in issues.unreadable[0]
    assert "NaN or infinite" in " ".join(issues.corrupt) and "width or height <= 0" in " ".join(issues.corrupt)
    assert 0.0 <= result.map50_95 <= 1.0
    assert "label issues in" in caplog.text


def test_val_says_its_summary_once(tiny_ir, tmp_path, capsys):
    data = str(_dataset(tmp_path, {"x": "0 0.5 0.5 0.2 0.2\n"}))
    assert main(["val", f"model={tiny_ir}", f"data={data}", "imgsz=64"]) == 0
    assert capsys.readouterr().out.count("1 image, 1 instance: mAP50-95 ") == 1
    YOLO(tiny_ir).val(data=data, imgsz=64, verbose=False)
    assert capsys.readouterr().out == ""


def test_val_with_only_out_of_range_classes_says_why(tiny_ir, tmp_path):
    data = _dataset(tmp_path, {"x": "7 0.5 0.5 0.2 0.2\n", "y": "9 0.5 0.5 0.2 0.2\n"})
    with pytest.raises(UsageError, match="no usable labelled boxes.*2 out of range.*class 7 outside the dataset's 2"):
        YOLO(tiny_ir).val(data=str(data), imgsz=64)


@pytest.mark.parametrize("split", ["test", "val"])
def test_missing_or_empty_split_is_an_error_not_another_split(tiny_ir, tmp_path, split):
    data = _dataset(tmp_path, {"x": "0 0.5 0.5 0.2 0.2\n"}, split="train")
    if split == "val":  # declared but empty
        (tmp_path / "images" / "val").mkdir()
        spec = yaml.safe_load(data.read_text())
        data.write_text(yaml.safe_dump({**spec, "val": "images/val"}))
    with pytest.raises(UsageError, match=f"(no '{split}' split|split '{split}' has no images)"):
        YOLO(tiny_ir).val(data=str(data), split=split, imgsz=64)


def test_int8_calibration_on_an_empty_val_split_is_an_error(checkpoint, tmp_path):
    data = _dataset(tmp_path, {"x": "0 0.5 0.5 0.2 0.2\n"}, split="train")
    (tmp_path / "images" / "val").mkdir()
    data.write_text(yaml.safe_dump({**yaml.safe_load(data.read_text()), "val": "images/val"}))
    with pytest.raises(UsageError, match="split 'val' has no images"):
        YOLO(checkpoint).export(format="openvino", int8=True, data=str(data), imgsz=64, output=str(tmp_path / "q"))
    assert not (tmp_path / "q").exists()


# -- INT8 with accuracy control runs through the one in-flight ring, at the export's real batch ---------------------------
@pytest.mark.slow
@pytest.mark.parametrize("batch", [1, 2])
def test_int8_with_accuracy_control(checkpoint, tmp_path, batch):
    labels = {f"im{i}": "0 0.5 0.5 0.4 0.4\n1 0.3 0.3 0.2 0.2\n" for i in range(4)}
    data = _dataset(tmp_path, labels)
    out = YOLO(checkpoint).export(format="openvino", int8=True, max_drop=0.5, data=str(data), imgsz=64, batch=batch,
                                  output=str(tmp_path / "q_openvino_model"))
    meta = yaml.safe_load((tmp_path / "q_openvino_model" / "metadata.yaml").read_text())
    assert meta["precision"] == "int8" and meta["batch"] == batch and meta["args"]["max_drop"] == 0.5
    results = YOLO(out)([str(p) for p in sorted((tmp_path / "images" / "val").glob("*.jpg"))])
    assert len(results) == 4


# -- Ultralytics habits on the tiny checkpoint (trained at 320 by its train_args) -------------------------------------
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


def test_outputs_go_to_runs_detect_command_numbered(tiny_ir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    image = _image(tmp_path / "a.jpg")
    for _ in range(2):
        YOLO(tiny_ir)(str(image), save=True)
    assert sorted(p.name for p in (tmp_path / "runs" / "detect").iterdir()) == ["predict", "predict2"]
    assert (tmp_path / "runs" / "detect" / "predict" / "a.jpg").is_file()


@pytest.mark.parametrize("argv,out", [(["--version"], "yolo-ov 0."), (["help"], "COMMAND"),
                                      (["help", "export"], "--int8"), (["detect", "help"], "COMMAND")])
def test_cli_habits(argv, out, capsys):
    try:
        code = main(argv)
    except SystemExit as e:  # argparse's --help exits
        code = e.code
    assert code == 0 and out in capsys.readouterr().out


def test_show_without_display_fails_before_any_work(tiny_ir, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert main(["predict", f"model={tiny_ir}", f"source={_image(tmp_path / 'a.jpg')}", "show=True"]) == 2
    assert "no display" in capsys.readouterr().err


# -- speed features that change what runs: reduced JPEG decoding, the precision that ran ---------------------------------
@pytest.mark.parametrize("size,fit,k", [((640, 480), (640, 640), 1), ((1920, 1080), (640, 640), 2),
                                        ((3840, 2160), (640, 640), 4), ((7680, 4320), (640, 640), 8),
                                        ((1280, 720), (640, 640), 2), ((1279, 720), (640, 640), 1),
                                        ((3840, 2160), (1280, 1280), 2), ((1920, 1080), None, 1)])
def test_reduction_never_decodes_below_what_the_letterbox_needs(size, fit, k):
    from yolo_openvino.io_utils import reduction

    assert reduction(*size, fit) == k


@pytest.mark.parametrize("orientation", [1, 6])
def test_reduced_decode_reports_the_full_size_even_when_rotated(tmp_path, orientation):
    from yolo_openvino.io_utils import read_image_to_fit

    rng = np.random.default_rng(0)
    image = cv2.resize(rng.integers(0, 255, (27, 48, 3), dtype=np.uint8), (1920, 1080))
    path = tmp_path / "big.jpg"
    cv2.imwrite(str(path), image)
    if orientation != 1:  # an EXIF APP1 segment with Orientation=6 (rotate 90 degrees clockwise)
        tiff = b"MM\x00*\x00\x00\x00\x08\x00\x01\x01\x12\x00\x03\x00\x00\x00\x01\x00\x06\x00\x00\x00\x00\x00\x00"
        app1 = b"\xff\xe1" + struct.pack(">H", len(tiff) + 8) + b"Exif\x00\x00" + tiff
        data = path.read_bytes()
        path.write_bytes(data[:2] + app1 + data[2:])
    reduced, full = read_image_to_fit(path, (640, 640))
    full_image = cv2.imread(str(path))
    assert full == full_image.shape[:2] == ((1080, 1920) if orientation == 1 else (1920, 1080))
    assert reduced.shape[:2] == (full[0] // 2, full[1] // 2)
    small = cv2.resize(full_image, reduced.shape[1::-1], interpolation=cv2.INTER_AREA)
    assert np.abs(small.astype(int) - reduced).mean() < 3  # the same picture, decoded smaller


def test_the_precision_that_ran_is_reported(tiny_ir):
    import openvino as ov

    device_default = ov.Core().get_property("CPU", "INFERENCE_PRECISION_HINT").get_type_name()
    assert YOLO(tiny_ir).info()["inference_precision"] == device_default  # bf16 on AVX512_BF16/AMX, else f32
    assert YOLO(tiny_ir, inference_precision="f32").info()["inference_precision"] == "f32"


@pytest.mark.parametrize("settings,ring", [
    ({"mode": "throughput", "streams": 2}, 2 + 2),  # the optimal number (one per stream) plus one queued per stream
    ({"mode": "latency", "streams": 1}, 1 + 1),  # streams pinned: a latency hint may use one per socket
    ({"mode": "throughput", "streams": 2, "requests": 3}, 3),  # asked for: exactly that
])
def test_cpu_ring_keeps_one_request_queued_per_stream(tiny_ir, settings, ring):
    backend = YOLO(tiny_ir, **settings).backend()
    assert backend.ring_size == ring and backend.info()["requests_in_flight"] == ring
    dtype = np.float32 if backend.preprocess == "host" else np.uint8
    list(backend.infer_many((np.zeros(backend.static_shape, dtype), i) for i in range(5)))
    assert backend._requests.qsize() == ring  # every ring slot made once, handed back idle


def test_a_stream_stopped_early_leaves_the_requests_reusable(tiny_ir, tmp_path):
    """The ring's requests go back to the backend's pool idle, even when the consumer stops mid-stream."""
    for i in range(6):
        _image(tmp_path / "imgs" / f"{i}.jpg")
    model = YOLO(tiny_ir, mode="throughput")
    stream = model(str(tmp_path / "imgs"), stream=True, verbose=False)
    next(stream)
    stream.close()  # requests may still be running here: they are waited for, not handed back busy
    backend = model.backend()
    pooled = backend._requests.qsize()
    assert pooled == backend.ring_size
    assert len(model(str(tmp_path / "imgs"), verbose=False)) == 6 and backend._requests.qsize() == pooled
    backend.infer(np.full((1, 3, 64, 64), 0.5, np.float32) if backend.preprocess == "host"
                  else np.full((1, 64, 64, 3), 114, np.uint8))
