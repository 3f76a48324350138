"""Callbacks as the reference's: added per event, fired in order with the objects they read (predict, track, val,
export), a bad event named in one line; a callback may filter predict's results. Tiny model, no ../shared."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from conftest import write_video
from yolo_openvino import YOLO
from yolo_openvino.callbacks import EVENTS
from yolo_openvino.errors import UsageError


def _recorder(model, events):
    fired = []
    for event in events:
        model.add_callback(event, lambda subject, event=event: fired.append((event, subject)))
    return fired


def test_predict_fires_its_events_in_order_with_the_predictor(tiny_ir):
    model = YOLO(tiny_ir)
    fired = _recorder(model, [e for e in EVENTS if "predict" in e])
    images = [np.zeros((32, 48, 3), np.uint8), np.full((40, 40, 3), 200, np.uint8)]
    results = model(images, conf=0.0, max_det=2, verbose=False)
    assert [e for e, _ in fired] == ["on_predict_start", *["on_predict_postprocess_end", "on_predict_batch_end"] * 2,
                                     "on_predict_end"]
    predictor = fired[1][1]
    assert predictor.model is model and predictor.args["conf"] == 0.0 and len(results) == 2
    assert fired[-2][1].results == [results[-1]] and fired[-2][1].batch[0] == ["array"]


def test_a_postprocess_callback_may_filter_the_results(tiny_ir):
    model = YOLO(tiny_ir)

    def keep_one(predictor):
        predictor.results = [r[:1] for r in predictor.results]

    model.add_callback("on_predict_postprocess_end", keep_one)
    results = model(np.zeros((32, 48, 3), np.uint8), conf=0.0, max_det=3, verbose=False)
    assert len(results[0]) == 1
    model.clear_callback("on_predict_postprocess_end")
    assert len(model(np.zeros((32, 48, 3), np.uint8), conf=0.0, max_det=3, verbose=False)[0]) == 3


def test_track_fires_predicts_events(tiny_ir, tmp_path):
    video = write_video(tmp_path / "v.avi", frames=3)
    model = YOLO(tiny_ir)
    fired = _recorder(model, ["on_predict_start", "on_predict_batch_end", "on_predict_end"])
    model.track(str(video), verbose=False)
    assert [e for e, _ in fired] == ["on_predict_start", *["on_predict_batch_end"] * 3, "on_predict_end"]


def test_val_and_export_fire_theirs_with_metrics_and_file(checkpoint, tmp_path):
    import cv2

    (tmp_path / "ds" / "images").mkdir(parents=True)
    (tmp_path / "ds" / "labels").mkdir(parents=True)
    for i in range(2):
        cv2.imwrite(str(tmp_path / "ds" / "images" / f"{i}.jpg"), np.full((48, 64, 3), 90 * i, np.uint8))
        (tmp_path / "ds" / "labels" / f"{i}.txt").write_text("0 0.5 0.5 0.3 0.4\n")
    (tmp_path / "ds.yaml").write_text(yaml.safe_dump({"path": "ds", "val": "images", "names": {0: "a", 1: "b"}}))
    model = YOLO(checkpoint)
    fired = _recorder(model, ["on_val_start", "on_val_end", "on_export_start", "on_export_end"])
    metrics = model.val(data=str(tmp_path / "ds.yaml"), imgsz=64, verbose=False)
    exported = model.export(format="onnx", imgsz=64, output=str(tmp_path / "m.onnx"))
    assert [e for e, _ in fired] == ["on_val_start", "on_val_end", "on_export_start", "on_export_end"]
    assert fired[1][1].metrics is metrics and fired[0][1].args["data"].endswith("ds.yaml")
    assert fired[3][1].file == exported and fired[2][1].args["format"] == "onnx"


def test_an_unknown_event_is_one_line_with_a_suggestion(tiny_ir):
    model = YOLO(tiny_ir)
    with pytest.raises(UsageError, match="unknown callback event 'on_predict_ends' \\(did you mean 'on_predict_end'"):
        model.add_callback("on_predict_ends", print)
    model.add_callback("on_predict_end", print)
    model.reset_callbacks()
    assert not model.callbacks
