"""Validation: dataset layouts and label edge cases, the COCO mAP wiring, and the reference mAP."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml
from conftest import COCO128, GOLDEN, needs_shared, shared_model, write_dataset

from yolo_openvino import YOLO
from yolo_openvino.cli.app import main
from yolo_openvino.errors import UsageError
from yolo_openvino.evaluation.datasets import load_dataset
from yolo_openvino.tasks.label_files import LabelIssues
from yolo_openvino.tasks.detect.labels import read_labels
from yolo_openvino.evaluation.validation import coco_map


def _image(path, h=96, w=128, seed=0):
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), rng.integers(0, 255, (h, w, 3), dtype=np.uint8))


def make_dataset(root, names, split_as="folder"):
    """A small dataset with one image per label edge case; returns the yaml path."""
    images, labels = root / "data" / "images" / "val", root / "data" / "labels" / "val"
    labels.mkdir(parents=True)
    cases = {
        "good": "0 0.5 0.5 0.4 0.4\n1 0.25 0.25 0.1 0.2\n",
        "empty": "",
        "missing": None,  # no label file: a background image
        "out_of_range": "0 0.5 0.5 0.2 0.2\n7 0.5 0.5 0.2 0.2\n",  # class 7 with 2 names
        "corrupt": "0 0.5 0.5\n",  # too few columns
    }
    for i, (stem, text) in enumerate(cases.items()):
        _image(images / f"{stem}.jpg", seed=i)
        if text is not None:
            (labels / f"{stem}.txt").write_text(text)
    (images / "unreadable.jpg").write_bytes(b"not a jpeg")
    (labels / "unreadable.txt").write_text("0 0.5 0.5 0.2 0.2\n")
    if split_as == "txt":
        listing = root / "data" / "val.txt"
        listing.write_text("\n".join(f"./images/val/{p.name}" for p in sorted(images.iterdir())) + "\n")
        val = "val.txt"
    else:
        val = "images/val"
    spec = {"path": "data", "val": val, "names": names}  # path relative to the yaml's folder
    yaml_path = root / "ds.yaml"
    yaml_path.write_text(yaml.safe_dump(spec))
    return yaml_path


@pytest.mark.parametrize("names,split_as", [(["person", "car"], "folder"), ({0: "person", 1: "car"}, "txt")])
def test_dataset_layouts_resolve(tmp_path, monkeypatch, names, split_as):
    monkeypatch.chdir(tmp_path.parent)  # `path` must resolve against the yaml's folder, not the cwd
    ds = load_dataset(make_dataset(tmp_path, names, split_as))
    assert ds.names == {0: "person", 1: "car"}
    assert sorted(p.name for p in ds.images("val")) == ["corrupt.jpg", "empty.jpg", "good.jpg", "missing.jpg",
                                                         "out_of_range.jpg", "unreadable.jpg"]


@pytest.mark.parametrize("stem,field,boxes,entry", [
    ("good", None, 2, None), ("empty", "empty", 0, "empty.jpg"), ("missing", "missing", 0, "missing.jpg"),
    ("out_of_range", "out_of_range", 1, "out_of_range.txt:2: class 7 outside the dataset's 2 classes (0..1)"),
    ("corrupt", "corrupt", 0, "corrupt.txt:1: 3 columns, expected 5 (class cx cy w h) or a polygon (class and 3 "
                              "or more x y pairs)")])
def test_label_edge_cases_are_reported(tmp_path, stem, field, boxes, entry):
    ds = load_dataset(make_dataset(tmp_path, ["person", "car"]))
    image = next(p for p in ds.images("val") if p.stem == stem)
    issues = LabelIssues()
    rows = read_labels(image, len(ds.names), issues)
    assert len(rows) == boxes
    reported = {k: [Path(v).name for v in values] for k, values in vars(issues).items() if values}
    assert reported == ({} if field is None else {field: [entry]})


def test_missing_split_and_names_are_clear_errors(tmp_path):
    (tmp_path / "a.yaml").write_text(yaml.safe_dump({"path": ".", "val": "nowhere", "names": ["x"]}))
    with pytest.raises(FileNotFoundError, match="nowhere"):
        load_dataset(tmp_path / "a.yaml")
    (tmp_path / "b.yaml").write_text(yaml.safe_dump({"path": ".", "val": "."}))
    with pytest.raises(ValueError, match="names"):
        load_dataset(tmp_path / "b.yaml")
    with pytest.raises(FileNotFoundError, match="not found"):
        load_dataset(tmp_path / "absent.yaml")


def _coco_inputs():
    images = [{"id": 0, "file_name": "a.jpg", "height": 100, "width": 100},
              {"id": 1, "file_name": "b.jpg", "height": 100, "width": 100}]
    boxes = [{"id": 1, "image_id": 0, "category_id": 0, "bbox": [10, 10, 30, 40], "area": 1200, "iscrowd": 0},
             {"id": 2, "image_id": 1, "category_id": 1, "bbox": [50, 20, 40, 40], "area": 1600, "iscrowd": 0}]
    return images, boxes


@pytest.mark.parametrize("shift,expected", [(0, 1.0), (100, 0.0)])
def test_coco_map_wiring(shift, expected):
    """Detections equal to the labels score mAP 1; detections far away score 0."""
    images, boxes = _coco_inputs()
    detections = [{"image_id": b["image_id"], "category_id": b["category_id"], "score": 0.9,
                   "bbox": [b["bbox"][0] + shift, *b["bbox"][1:]]} for b in boxes]
    metric = coco_map(images, boxes, detections, {0: "person", 1: "car"})
    m, m50, m75, per_class = metric.map50_95, metric.map50, metric.map75, metric.per_class
    assert m == pytest.approx(expected) and m50 == pytest.approx(expected) and m75 == pytest.approx(expected)
    assert per_class == pytest.approx({"person": expected, "car": expected})


def test_coco_map_without_detections_is_zero_and_without_labels_an_error():
    images, boxes = _coco_inputs()
    assert coco_map(images, boxes, [], {0: "person", 1: "car"}).map50_95 == 0.0
    with pytest.raises(ValueError, match="no labelled boxes"):
        coco_map(images, [], [], {0: "person", 1: "car"})


def test_val_reports_every_edge_case_and_keeps_going(tmp_path):
    yaml_path = make_dataset(tmp_path, ["person", "car"])
    result = YOLO("yolov8n.yaml").val(data=str(yaml_path), imgsz=64)
    assert result.images == 5 and [Path(p).name for p in result.skipped] == ["unreadable.jpg"]  # the rest validated
    assert result.instances == 3  # good (2) + out_of_range (1 kept); the unreadable image's label is not counted
    assert result.issues.missing == ["missing.jpg"] and result.issues.empty == ["empty.jpg"]
    assert [Path(i).name for i in result.issues.out_of_range] == ["out_of_range.txt:2: class 7 outside the dataset's 2 classes (0..1)"]
    assert [Path(i).name.split(":")[0] for i in result.issues.corrupt] == ["corrupt.txt"]
    assert set(result.speed) == {"preprocess", "inference", "postprocess"}
    assert set(result.results_dict) == {"metrics/mAP50(B)", "metrics/mAP75(B)", "metrics/mAP50-95(B)", "fitness"}
    assert 0.0 <= result.map50_95 <= result.map50 <= 1.0
    assert set(result.per_class) <= {"person", "car"}  # scored by the dataset's classes, not the model's 80


@needs_shared
@pytest.mark.slow
def test_val_matches_the_reference_map():
    """PyTorch yolov8s-coco128 at 640, batch 1, rect: within 0.005 of the reference implementation."""
    reference = json.loads((GOLDEN / "val.json").read_text())["pytorch"]
    result = YOLO(shared_model("yolov8s-coco128")).val(data=str(COCO128), imgsz=640, batch=1)
    assert abs(result.map50_95 - reference["map50_95"]) <= 0.005
    assert abs(result.map50 - reference["map50"]) <= 0.005
    assert result.results_dict["metrics/mAP50-95(B)"] == result.map50_95
    assert result.images == 128 and len(result.per_class) > 10


# -- label lines that cannot be used: counted with their file and line, the rest evaluated (tiny model) ----------
LABELS = {
    "good": "0 0.5 0.5 0.4 0.4\n",
    "nan": "0 nan 0.5 0.2 0.2\n0 0.5 0.5 0.2 0.2\n",
    "negative_width": "0 0.5 0.5 -0.2 0.2\n",
    "outside": "0 1.5 0.5 0.2 0.2\n",
    "bad_class": "7 0.5 0.5 0.2 0.2\n",
    "columns": "0 0.5 0.5\n",
    "utf8": None,  # invalid UTF-8, written as bytes below
}


def test_val_counts_every_corrupt_label_line_and_evaluates_the_rest(tiny_ir, tmp_path, caplog):
    result = YOLO(tiny_ir).val(data=str(write_dataset(tmp_path, LABELS)), imgsz=64)
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
    data = str(write_dataset(tmp_path, {"x": "0 0.5 0.5 0.2 0.2\n"}))
    assert main(["val", f"model={tiny_ir}", f"data={data}", "imgsz=64"]) == 0
    assert capsys.readouterr().out.count("1 image, 1 instance: mAP50-95 ") == 1
    YOLO(tiny_ir).val(data=data, imgsz=64, verbose=False)
    assert capsys.readouterr().out == ""


def test_val_with_only_out_of_range_classes_says_why(tiny_ir, tmp_path):
    data = write_dataset(tmp_path, {"x": "7 0.5 0.5 0.2 0.2\n", "y": "9 0.5 0.5 0.2 0.2\n"})
    with pytest.raises(UsageError, match="no usable labelled boxes.*2 out of range.*class 7 outside the dataset's 2"):
        YOLO(tiny_ir).val(data=str(data), imgsz=64)


@pytest.mark.parametrize("split", ["test", "val"])
def test_missing_or_empty_split_is_an_error_not_another_split(tiny_ir, tmp_path, split):
    data = write_dataset(tmp_path, {"x": "0 0.5 0.5 0.2 0.2\n"}, split="train")
    if split == "val":  # declared but empty
        (tmp_path / "images" / "val").mkdir()
        spec = yaml.safe_load(data.read_text())
        data.write_text(yaml.safe_dump({**spec, "val": "images/val"}))
    with pytest.raises(UsageError, match=f"(no '{split}' split|split '{split}' has no images)"):
        YOLO(tiny_ir).val(data=str(data), split=split, imgsz=64)


@pytest.mark.parametrize("line,expected", [
    ("1 0.1 0.2 0.5 0.2 0.3 0.6", [1, 0.3, 0.4, 0.4, 0.4]),  # a triangle: the box of its extents
    ("0 0.2 0.2 0.6 0.2 0.6 0.8 0.2 0.8", [0, 0.4, 0.5, 0.4, 0.6]),  # a rectangle's 4 corners
    ("0 0.1 0.2 0.5 0.2 0.3", "6 columns, expected 5 (class cx cy w h) or a polygon"),  # an odd coordinate count
    ("0 0.1 0.2 0.5 0.2 nan 0.6", "NaN or infinite value"),
    ("0 0.1 0.2 0.5 0.2 1.5 0.6", "box outside the image"),
])
def test_polygon_lines_are_read_as_their_boxes(tmp_path, line, expected):
    """A segmentation dataset validates a detector as the reference does: each polygon's enclosing box."""
    label = tmp_path / "labels" / "a.txt"
    label.parent.mkdir(parents=True)
    label.write_text(line + "\n")
    issues = LabelIssues()
    rows = read_labels(tmp_path / "images" / "a.jpg", nc=2, issues=issues)
    if isinstance(expected, str):
        assert len(rows) == 0 and len(issues.corrupt) == 1 and expected in issues.corrupt[0], issues.corrupt
    else:
        np.testing.assert_allclose(rows, [expected], atol=1e-6)
        assert not issues.corrupt


def test_the_metrics_object_as_ultralytics_documents_it(tiny_ir, tmp_path):
    """summary() rows per class, to_df / to_csv / to_json of them, maps per class id, save_json's metrics.json and
    COCO-format predictions.json in save_dir."""
    import json as json_module

    from conftest import write_dataset

    data = write_dataset(tmp_path / "ds", {f"i{k}": "0 0.5 0.5 0.4 0.4\n1 0.3 0.3 0.2 0.2\n" for k in range(3)})
    metrics = YOLO(tiny_ir).val(data=str(data), conf=0.0, save_json=True, project=str(tmp_path / "runs"),
                                verbose=False)
    rows = metrics.summary()
    assert [r["Class"] for r in rows] == ["a", "b"] and [r["Instances"] for r in rows] == [3, 3]
    assert set(rows[0]) == {"Class", "Instances", "Box-mAP50", "Box-mAP50-95"}
    assert metrics.to_csv().splitlines()[0] == "Class,Instances,Box-mAP50,Box-mAP50-95"
    assert json_module.loads(metrics.to_json()) == rows and len(metrics.to_df()) == 2
    assert metrics.maps.shape == (2,) and str(metrics) == metrics.summary_line()
    assert sorted(p.name for p in metrics.save_dir.iterdir()) == ["metrics.json", "predictions.json"]
    predictions = json_module.loads((metrics.save_dir / "predictions.json").read_text())
    assert predictions and {"image_id", "category_id", "bbox", "score", "file_name"} <= set(predictions[0])


def _box(cls, x, y, score=None, size=10.0):
    d = {"image_id": 0, "category_id": cls, "bbox": [x, y, size, size]}
    return d if score is None else {**d, "score": score}


# (truths, detections, expected (predicted, true) -> count); class 2 is background: the reference's layout
CONFUSION_CASES = {
    "a match": ([_box(0, 0, 0)], [_box(0, 1, 0, 0.9)], {(0, 0): 1}),
    "wrong class": ([_box(0, 0, 0)], [_box(1, 1, 0, 0.9)], {(1, 0): 1}),
    "missed": ([_box(1, 0, 0)], [], {(2, 1): 1}),
    "found nothing there": ([], [_box(0, 0, 0, 0.9)], {(0, 2): 1}),
    "too little overlap": ([_box(0, 0, 0)], [_box(0, 6, 0, 0.9)], {(0, 2): 1, (2, 0): 1}),
    "below conf 0.25": ([_box(0, 0, 0)], [_box(0, 0, 0, 0.2)], {(2, 0): 1}),
    "one truth, two detections": ([_box(0, 0, 0)], [_box(0, 0, 0, 0.9), _box(0, 1, 0, 0.8)], {(0, 0): 1, (0, 2): 1}),
    "best overlap wins": ([_box(0, 0, 0), _box(1, 3, 0)], [_box(1, 2.5, 0, 0.9)], {(1, 1): 1, (2, 0): 1}),
}


@pytest.mark.parametrize("truths, detections, expected", CONFUSION_CASES.values(), ids=CONFUSION_CASES)
def test_confusion_matrix_counts_as_the_reference(truths, detections, expected):
    from yolo_openvino.evaluation.confusion import ConfusionMatrix

    cm = ConfusionMatrix.of_detections({0: "a", 1: "b"}, truths, detections)
    wanted = np.zeros((3, 3), np.int64)
    for (p, t), n in expected.items():
        wanted[p, t] = n
    np.testing.assert_array_equal(cm.matrix, wanted)
    tp, fp = cm.tp_fp()
    assert tp.tolist() == wanted.diagonal()[:2].tolist() and fp.tolist() == (wanted[:2].sum(1) - tp).tolist()


def test_curves_follow_from_the_recall_table():
    """One class, two truths, detections scoring 0.9 (hit) and 0.6 (hit) and 0.3 (miss): recall 0.5 from conf 0.9
    down, 1.0 from 0.6 down; precision 1.0 there; F1 peaks at 1.0 for thresholds up to 0.6."""
    from yolo_openvino.evaluation.curves import CONFIDENCE, RECALL, curves

    score = np.where(RECALL <= 0.5, 0.9, 0.6)
    pr, f1, p, r = curves({"a": (np.ones(101), score)})
    assert pr[1].shape == (1, 101) and f1[1].shape == (1, 1000)
    at = lambda c: int(np.searchsorted(CONFIDENCE, c))  # noqa: E731
    assert r[1][0, at(0.5)] == 1.0 and r[1][0, at(0.7)] == 0.5 and r[1][0, at(0.95)] == 0.0
    assert p[1][0, at(0.95)] == 1.0 and f1[1][0, at(0.5)] == 1.0 and f1[1][0, at(0.7)] == pytest.approx(2 / 3)
