"""Prediction end to end: sources (folder, glob, list, array, video, URL), bad files, saving, the CLI."""

from __future__ import annotations

import http.server
import json
import shutil
import threading
from functools import partial
from pathlib import Path

import cv2
import numpy as np
import pytest

from conftest import COCO128_IMAGES, needs_shared, shared_model
from yolo_openvino import YOLO
from yolo_openvino.cli.app import main

pytestmark = needs_shared
FIRST = ["000000000009.jpg", "000000000025.jpg", "000000000030.jpg"]


@pytest.fixture(scope="module")
def trained():
    return YOLO(shared_model("yolov8s-coco128"))


@pytest.fixture
def image_folder(tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    for name in FIRST:
        shutil.copy(COCO128_IMAGES / name, folder / name)
    return folder


def test_folder_with_corrupt_image_reports_and_skips(trained, image_folder, caplog, capsys):
    (image_folder / "broken.jpg").write_bytes(b"\xff\xd8\xff this is not a jpeg")
    (image_folder / "notes.txt").write_text("not an image")
    results = trained(str(image_folder))
    assert sorted(Path(r.path).name for r in results) == sorted(FIRST)
    assert trained.last_stats.skipped == [str(image_folder / "broken.jpg")]
    assert "broken.jpg: not a decodable image" in caplog.text
    assert "3 images processed" in (out := capsys.readouterr().out) and "; 1 skipped (unreadable)" in out


def test_results_are_in_input_order(trained, image_folder):
    files = [str(image_folder / n) for n in reversed(FIRST)]
    assert [r.path for r in trained(files)] == files


@pytest.mark.parametrize("kind", ["file", "glob", "list", "array", "batch_array"])
def test_source_kinds(trained, image_folder, kind):
    image = cv2.imread(str(image_folder / FIRST[1]))
    source = {"file": str(image_folder / FIRST[1]), "glob": str(image_folder / "*25.jpg"),
              "list": [str(image_folder / FIRST[1])], "array": image, "batch_array": np.stack([image, image])}[kind]
    results = trained(source)
    assert len(results) == (2 if kind == "batch_array" else 1)
    expected = trained(str(image_folder / FIRST[1]))[0]  # whatever the source kind, the same detections
    assert len(expected) and "teddy bear" in expected.labels
    for result in results:
        assert result.labels == expected.labels
        np.testing.assert_allclose(result.boxes.xyxy, expected.boxes.xyxy, atol=1e-3)


def test_video_frames_in_order(trained, image_folder, tmp_path):
    video = tmp_path / "clip.avi"
    frame = cv2.imread(str(COCO128_IMAGES / "000000000061.jpg"))  # 4 confident detections, even size
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 5, (frame.shape[1], frame.shape[0]))
    for _ in range(4):
        writer.write(frame)
    writer.release()
    results = trained(str(video), imgsz=640)  # MJPG decodes these frames up to 63 levels apart: 640 is robust to it
    assert [r.frame for r in results] == [0, 1, 2, 3]
    assert all(r.orig_shape == frame.shape[:2] for r in results)
    counts = {len(r) for r in results}
    assert len(counts) == 1 and counts.pop() >= 3  # the same frame each time (lossy codec: maybe not all 4)


def test_url_source(trained, image_folder):
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(image_folder))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/{FIRST[1]}"
        results = trained(url)
    finally:
        server.shutdown()
    assert results[0].path == url and results[0].labels == trained(str(image_folder / FIRST[1]))[0].labels


def test_missing_source_is_a_clear_error(trained, tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file or folder"):
        trained(str(tmp_path / "nope.jpg"))
    with pytest.raises(FileNotFoundError, match="matches no file"):
        trained(str(tmp_path / "*.png"))


@pytest.mark.parametrize("typo,meant", [("cnof", "conf"), ("max_dets", "max_det"), ("agnostic", "agnostic_nms")])
def test_unknown_predict_argument_suggests(trained, image_folder, typo, meant):
    with pytest.raises(TypeError, match=f"'{typo}' \\(did you mean '{meant}'"):
        trained(str(image_folder), **{typo: 1})


def test_save_outputs(trained, image_folder, tmp_path):
    results = trained(str(image_folder), save=True, save_txt=True, save_json=True, project=str(tmp_path / "runs"),
                      name="p")
    out = tmp_path / "runs" / "p"
    assert {r.save_dir for r in results} == {str(out)}  # the reference's Results.save_dir
    assert sorted(p.name for p in out.glob("*.jpg")) == sorted(FIRST)
    assert (out / "labels" / "000000000025.txt").read_text().startswith("77 ")
    assert {len(line.split()) for line in (out / "labels" / "000000000025.txt").read_text().splitlines()} == {5}
    trained(str(image_folder), save_txt=True, save_conf=True, project=str(tmp_path / "runs"), name="conf")
    assert {len(line.split()) for line in (tmp_path / "runs" / "conf" / "labels" / "000000000025.txt").read_text()
            .splitlines()} == {6}  # save_conf: the confidence last
    records = json.loads((out / "predictions.json").read_text())
    assert len(records) == 3 and records[1]["detections"][0]["name"] == "teddy bear"
    trained(str(image_folder), save=True, project=str(tmp_path / "runs"), name="p")
    assert (tmp_path / "runs" / "p2").is_dir()  # a second run never overwrites the first


@pytest.mark.parametrize("style", ["key=value", "--flags"])
def test_cli_predict_both_styles(image_folder, capsys, style):
    model = str(shared_model("yolov8s-coco128"))
    if style == "key=value":
        argv = ["predict", f"model={model}", f"source={image_folder}", "conf=0.25"]
    else:
        argv = ["predict", "--model", model, "--source", str(image_folder), "--conf", "0.25"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    # the one-off load is said once, before the per-image lines, which never include it
    assert lines[0].startswith(f"Loaded {Path(model).resolve()} (pytorch on cpu, f32) in ") and out.count("Loaded ") == 1
    assert lines[1].startswith("image 1/3 ")
    counts = YOLO(model)(str(image_folder / FIRST[1]), verbose=False)[0].verbose()
    assert f"image 2/3 {image_folder.resolve() / '000000000025.jpg'}: 426x640 {counts}" in out
    # the checkpoint's training size, letterboxed minimally as the reference's .pt: the long side is 512
    assert "Speed: " in out and "per image at shape (1, 3, 352, 512)" in out
    assert "3 images processed" in out


def test_pt_defaults_to_its_training_size(trained, image_folder):
    """The reference predicts, validates and exports a .pt at train_args.imgsz (512 for this checkpoint)."""
    assert trained.backend().metadata.imgsz == (512, 512)
    default, explicit = trained(str(image_folder / FIRST[0])), trained(str(image_folder / FIRST[0]), imgsz=512)
    np.testing.assert_array_equal(default[0].boxes.xyxy, explicit[0].boxes.xyxy)
    assert max(trained.last_stats.input_shape[2:]) == 512  # minimal padding: 512 wide, a stride multiple high


def test_cli_task_word_help_and_version(capsys):
    model = str(shared_model("yolov8s-coco128"))
    assert main(["detect", "predict", f"model={model}", f"source={COCO128_IMAGES / FIRST[1]}"]) == 0
    assert "teddy bear" in capsys.readouterr().out
    assert main(["segment", "predict", f"model={model}", f"source={COCO128_IMAGES / FIRST[1]}"]) == 2
    err = capsys.readouterr().err
    assert "a detect model, not segment" in err and len(err.strip().splitlines()) == 1
    assert main(["classify", "predict", f"model={model}", f"source={COCO128_IMAGES / FIRST[1]}"]) == 2
    assert "a detect model, not classify" in capsys.readouterr().err
    assert main(["world", "predict", f"model={model}", f"source={COCO128_IMAGES / FIRST[1]}"]) == 2
    assert "'world'" in capsys.readouterr().err


def test_cli_error_is_a_message_not_a_traceback(capsys, tmp_path):
    assert main(["predict", f"model={tmp_path / 'missing.pt'}", "source=x.jpg"]) == 2
    assert "error:" in capsys.readouterr().err


def test_reduced_jpeg_decoding_finds_the_same_objects(trained, tmp_path):
    """A 3x upscaled photo decoded at 1/2 (still above the 640 input) gives the full decode's detections."""
    from yolo_openvino.runtime.predictor import PredictSettings, Predictor

    photo = cv2.imread(str(COCO128_IMAGES / "000000000061.jpg"))
    path = tmp_path / "big.jpg"
    cv2.imwrite(str(path), cv2.resize(photo, None, fx=3, fy=3, interpolation=cv2.INTER_CUBIC),
                [cv2.IMWRITE_JPEG_QUALITY, 95])
    backend = trained.backend()
    full, reduced = (next(Predictor(backend, PredictSettings(imgsz=640, reduced_decode=r)).stream([str(path)], False))
                     for r in (False, True))
    assert full.orig_shape == reduced.orig_shape == (photo.shape[0] * 3, photo.shape[1] * 3)
    assert sorted(full.labels) == sorted(reduced.labels) and len(full) >= 3
    order_f, order_r = np.argsort(full.boxes.xyxy[:, 0]), np.argsort(reduced.boxes.xyxy[:, 0])
    np.testing.assert_allclose(full.boxes.xyxy[order_f], reduced.boxes.xyxy[order_r], atol=0.01 * max(full.orig_shape))


def test_save_crop_save_frames_and_exist_ok_as_the_reference(tiny_ir, tmp_path):
    """Crops per class in crops/, each video frame in frames/, and exist_ok writing twice into one run folder."""
    from conftest import write_video

    video = write_video(tmp_path / "clip.avi", frames=3)
    model = YOLO(tiny_ir)
    for _ in range(2):
        results = model(str(video), conf=0.0, max_det=2, save_crop=True, save_frames=True, exist_ok=True,
                        project=str(tmp_path / "runs"), name="p", verbose=False)
    run = tmp_path / "runs" / "p"
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["p"]  # no p2: exist_ok
    assert sorted(p.name for p in (run / "frames").iterdir()) == ["clip_0.jpg", "clip_1.jpg", "clip_2.jpg"]
    crops = sorted((run / "crops").rglob("*.jpg"))
    assert len(crops) == 2 * sum(len(r) for r in results) and {c.parent.name for c in crops} <= set(model.names.values())


def test_an_array_sources_result_plots_after_saving_and_tracking(tiny_ir, tmp_path):
    """An array is the caller's own: its result keeps it (saving dropped it, and plot() then failed)."""
    image = np.full((40, 48, 3), 90, np.uint8)
    model = YOLO(tiny_ir)
    saved = model(image, save_crop=True, project=str(tmp_path), verbose=False)[0]
    tracked = model.track(image, verbose=False)[0]
    assert saved.plot().shape == tracked.plot().shape == image.shape
