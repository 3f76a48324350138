"""Every task of the registry, through every job: predict from the checkpoint and from its IR, the Ray rows and the
service's answer, track (or its one-line refusal), val on a small dataset of the task's own kind. Parametrized
over ``tasks()``: a new task entry is run by these tests as soon as it is registered (and fails here until it has
a dataset writer below). Tiny untrained models of the official layout, no ../shared."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from conftest import noise_image, write_task_dataset, write_video
from yolo_openvino import YOLO
from yolo_openvino.errors import UsageError
from yolo_openvino.results.parts import BoxPart
from yolo_openvino.tasks import tasks

TASKS = list(tasks())


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """task -> (checkpoint, its OpenVINO IR at 64 px), made once per module."""
    import ultralytics_fakes

    made = {}

    def make(task: str):
        if task not in made:
            folder = tmp_path_factory.mktemp(task)
            arch = ultralytics_fakes.tiny_arch(task=task)
            if task == "pose":
                arch["kpt_shape"] = [4, 3]  # the datasets below label four keypoints
            ultralytics_fakes.save_checkpoint(folder / f"{task}.pt", arch=arch)
            ir = YOLO(folder / f"{task}.pt").export(format="openvino", imgsz=64, output=str(folder / "ir"))
            made[task] = (folder / f"{task}.pt", ir)
        return made[task]

    return make


@pytest.mark.parametrize("task", TASKS)
def test_predict_from_the_checkpoint_and_its_ir_agree(models, task):
    checkpoint, ir = models(task)
    image = noise_image()
    ours = YOLO(ir, inference_precision="f32")(image, conf=0.0, max_det=3, verbose=False)[0]
    theirs = YOLO(checkpoint)(image, imgsz=64, conf=0.0, max_det=3, verbose=False)[0]
    assert len(ours) == len(theirs)
    if ours.probs is not None:
        np.testing.assert_allclose(ours.probs.data, theirs.probs.data, atol=1e-4)
    else:
        np.testing.assert_allclose(ours.boxes.xyxy, theirs.boxes.xyxy, atol=0.05)


@pytest.mark.parametrize("task", TASKS)
def test_ray_rows_and_the_service_answer(models, task):
    from yolo_openvino.scale.workers import ModelWorker, model_files, row_columns

    worker = ModelWorker(model_files(models(task)[1]), {"inference_precision": "f32"}, {"conf": 0.0, "max_det": 3})
    blob = cv2.imencode(".jpg", noise_image())[1].tobytes()
    rows = worker.rows(["a.jpg", "bad.jpg"], [blob, b"not an image"])
    assert list(rows) == list(row_columns()) and rows["error"][0] is None and rows["error"][1]
    answer = worker.results(["a.jpg"], [blob])[0].to_dict()
    assert answer["path"] == "a.jpg" and ("probs" in answer) == (task == "classify")


@pytest.mark.parametrize("task", TASKS)
def test_the_client_of_a_running_service_returns_what_a_local_predict_does(models, task, tmp_path):
    """A real one-machine service of the task's IR and ``Client``: the same boxes and the task's own part (masks
    filled again from their outlines: most of their pixels), for a file and for an array; plot() works."""
    pytest.importorskip("starlette")
    from yolo_openvino import Client
    from yolo_openvino.scale import serve

    ir = models(task)[1]
    image = noise_image()
    file = tmp_path / "a.png"
    cv2.imwrite(str(file), image)
    service = serve(ir, port=0, blocking=False, runtime={"inference_precision": "f32"})
    try:
        served = Client(service.url).predict([str(file), image], conf=0.0, max_det=3)
    finally:
        service.shutdown()
    local = YOLO(ir, inference_precision="f32")([str(file), image], conf=0.0, max_det=3, verbose=False)
    assert [r.path for r in served] == [r.path for r in local] and len(served) == 2
    for ours, theirs in zip(served, local):
        assert len(ours) == len(theirs) and ours.plot().shape == image.shape
        np.testing.assert_allclose(ours.boxes.xyxy, theirs.boxes.xyxy, atol=0.01)
        np.testing.assert_array_equal(ours.boxes.cls, theirs.boxes.cls)
        if theirs.probs is not None:
            np.testing.assert_allclose(ours.probs.data, theirs.probs.data, atol=1e-5)
        if theirs.keypoints is not None:
            np.testing.assert_allclose(ours.keypoints.data, theirs.keypoints.data, atol=1e-3)
        if theirs.obb is not None:
            np.testing.assert_allclose(ours.obb.xywhr, theirs.obb.xywhr, atol=0.01)
        if theirs.masks is not None:
            a, b = ours.masks.at_image_size(), theirs.masks.at_image_size()
            union = (a | b).sum()
            assert union == 0 or (a & b).sum() / union > 0.7, ((a & b).sum(), union, a.sum(), b.sum())


@pytest.mark.parametrize("task", TASKS)
def test_track_or_its_one_line_refusal(models, task, tmp_path):
    video = write_video(tmp_path / "v.avi", frames=3)
    model = YOLO(models(task)[1])
    if not tasks()[task].trackable:
        with pytest.raises(UsageError, match="has no boxes to track"):
            model.track(str(video), verbose=False)
        return
    results = model.track(str(video), conf=0.0, max_det=3, verbose=False)
    assert [r.frame for r in results] == [0, 1, 2]


@pytest.mark.parametrize("task", TASKS)
def test_val_on_a_dataset_of_the_tasks_kind(models, task, tmp_path):
    """The metrics, and what plots=True and save_txt=True write: the confusion matrix and each kind's four curves."""
    metrics = YOLO(models(task)[1]).val(data=write_task_dataset(task, tmp_path / "ds"), plots=True, save_txt=True,
                                        project=str(tmp_path / "runs"), verbose=False)
    figure = metrics.figure(tasks()[task].metric)
    assert 0.0 <= figure <= 1.0 and metrics.task == task
    rows = metrics.summary()  # the reference's per-class rows (a classifier's: one for all classes)
    assert rows and all(row["Class"] for row in rows) and metrics.to_csv().startswith("Class,")
    assert str(metrics) == metrics.summary_line()
    boxes = tasks()[task].dataset_kind != "image_folder"
    assert metrics.confusion_matrix.matrix.shape == (3, 3) if boxes else (2, 2)  # + background with boxes
    written = {p.name for p in metrics.save_dir.iterdir()}
    assert {"confusion_matrix.png", "confusion_matrix_normalized.png"} <= written
    kinds = [suffix for suffix, _ in tasks()[task].scores] if boxes else []
    assert len(metrics.curves) == len(metrics.curves_results) == 4 * len(kinds)
    from yolo_openvino.tasks import SCORE_KINDS

    assert {f"{SCORE_KINDS[k]}{c}_curve.png" for k in kinds for c in ("PR", "F1", "P", "R")} <= written
    if boxes:  # save_txt: a label file per image, even where nothing was found
        assert sorted(p.name for p in (metrics.save_dir / "labels").iterdir()) == ["0.txt", "1.txt"]


class Counted(BoxPart):
    """A throwaway task's own kind of part: each box's rank, drawn as nothing, written into our JSON and the rows."""

    FIELD, ROW_COLUMN = "counted", "counted"

    def __init__(self, ranks):
        self.ranks = np.asarray(ranks, np.int32)

    def __len__(self):
        return len(self.ranks)

    def __getitem__(self, index):
        return Counted(np.atleast_1d(self.ranks[index]))

    def dict_into(self, detections):
        for detection, rank in zip(detections, self.ranks):
            detection["counted"] = int(rank)

    def row_value(self):
        return [[int(rank)] for rank in self.ranks]

    @staticmethod
    def row_type():
        import pyarrow as pa

        return pa.list_(pa.list_(pa.int32()))


def test_a_task_registered_from_outside_runs_through_predict_rows_and_val(models, tmp_path):
    """The recipe of CONTRIBUTING.md's "Adding a task", proven: a throwaway detector variant registered from this
    test alone (its own name, model class, fields step and kind of Result part) runs an IR whose metadata names it;
    Result, the JSON and the Ray rows take its part with no change to them."""
    import json
    import shutil
    from dataclasses import replace

    from yolo_openvino.scale.workers import ModelWorker, model_files, row_columns, row_schema
    from yolo_openvino.tasks import register, task_named, unregister

    detect, seen = task_named("detect"), []

    def fields(prediction, letterbox, orig_shape, input_hw, settings):
        seen.append(len(prediction["rows"]))
        found = detect.fields(prediction, letterbox, orig_shape, input_hw, settings)
        return {**found, "extra_parts": {"counted": Counted(np.arange(len(found["boxes"])))}}

    ir = shutil.copytree(models("detect")[1], tmp_path / "counter_openvino_model")
    meta = json.loads((ir / "metadata.yaml").read_text())
    (ir / "metadata.yaml").write_text(json.dumps({**meta, "task": "counter"}))
    with pytest.raises(UsageError, match="unknown task 'counter'"):
        YOLO(ir)(noise_image(), verbose=False)
    register(replace(detect, name="counter", model_class="CounterModel", heads=("CounterHead",), fields=fields,
                     part=lambda: Counted))
    try:
        result = YOLO(ir)(noise_image(), conf=0.0, max_det=2, verbose=False)[0]
        assert len(result) == 2 and seen == [2]
        assert result.counted.ranks.tolist() == [0, 1] and result[1:].counted.ranks.tolist() == [1]
        assert [d["counted"] for d in result.to_dict()["detections"]] == [0, 1]
        worker = ModelWorker(model_files(ir), {}, {"conf": 0.0, "max_det": 2})
        rows = worker.rows(["a.jpg"], [cv2.imencode(".jpg", noise_image())[1].tobytes()])
        assert len(rows["boxes"][0]) == 2 and rows["counted"] == [[[0], [1]]]
        assert "counted" in row_schema().names
        metrics = YOLO(ir).val(data=write_task_dataset("detect", tmp_path / "ds"), verbose=False)
        assert metrics.task == "counter"
    finally:
        unregister("counter")
    assert "counter" not in tasks() and "counted" not in row_columns()
