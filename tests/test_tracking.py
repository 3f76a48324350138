"""``model.track`` and ``yolo-ov track``: one video, many streams at once (each in order, a bad one skipped), persist,
what tracked results carry (ids in boxes, JSON, txt, plots), and the MOT accuracy against the reference's tracking of
the shapes video (slow)."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest

from conftest import DATASETS, GOLDEN, needs_shared, shared_model, write_video
from yolo_openvino import YOLO
from yolo_openvino.cli.app import main
from yolo_openvino.errors import UsageError
from yolo_openvino.tasks.pose.keypoints import Keypoints
from yolo_openvino.results.result import Detections, Result
from yolo_openvino.track import TrackedBoxes
from yolo_openvino.track.job import with_tracks


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    root = tmp_path_factory.mktemp("videos")
    return [write_video(root / f"cam{i}.avi", frames=6 + 2 * i) for i in range(3)]


@pytest.fixture(scope="module")
def eager(tmp_path_factory):
    """A tracker yaml that tracks every detection: an untrained model's scores are far below the defaults'."""
    path = tmp_path_factory.mktemp("trackers") / "eager.yaml"
    path.write_text("tracker_type: bytetrack\ntrack_high_thresh: 0.0\ntrack_low_thresh: 0.0\nnew_track_thresh: 0.0\n"
                    "match_thresh: 1.0\n")
    return str(path)


def test_track_one_video_gives_every_frame_in_order_with_ids(tiny_ir, videos, eager):
    results = YOLO(tiny_ir).track(str(videos[0]), verbose=False, tracker=eager, conf=0.0, max_det=5)
    assert [r.frame for r in results] == list(range(6))
    assert all(len(r) for r in results[1:])
    for r in results:
        assert r.boxes.is_track and r.boxes.id.dtype == np.int64 and len(r.boxes.id) == len(r.boxes)
        assert r.boxes.data.shape == (len(r.boxes), 7)
        assert [d["track_id"] for d in r.to_dict()["detections"]] == r.boxes.id.tolist()
        assert r.boxes.id.int().cpu().tolist() == r.boxes.id.tolist()  # the reference's idiom runs unchanged
    assert YOLO(tiny_ir).predict(str(videos[0]), verbose=False)[0].boxes.id is None  # predict never tracks


def test_many_streams_at_once_each_in_order_and_bad_ones_skipped(tiny_ir, videos, tmp_path, caplog):
    corrupt = tmp_path / "broken.mp4"
    corrupt.write_bytes(b"not a video" * 100)
    sources = [str(videos[0]), str(tmp_path / "missing.mp4"), str(videos[1]), str(corrupt), str(videos[2])]
    model = YOLO(tiny_ir)
    results = model.track(sources, verbose=False)
    frames: dict[int, list[int]] = {}
    for r in results:
        frames.setdefault(r.stream, []).append(r.frame)
    assert frames == {0: list(range(6)), 2: list(range(8)), 4: list(range(10))}
    assert {str(tmp_path / "missing.mp4"), str(corrupt)} == set(model.last_stats.skipped)
    assert "missing.mp4" in caplog.text and "broken.mp4" in caplog.text
    assert {r.path for r in results if r.stream == 2} == {str(videos[1])}
    assert len(model._trackers.trackers) == 3  # one tracker per stream that had frames


def test_a_streams_file_lists_the_sources(tiny_ir, videos, tmp_path, capsys):
    listing = tmp_path / "cams.streams"
    listing.write_text(f"# two cameras\n{videos[0]}\n\n{videos[0]}\n")  # the same file twice: two streams
    results = YOLO(tiny_ir).track(str(listing))
    assert sorted({r.stream for r in results}) == [0, 1] and len(results) == 6 + 6
    out = capsys.readouterr().out  # each stream's frames numbered by its own stream
    assert "video 1/2 (frame 6/6)" in out and "video 2/2 (frame 6/6)" in out


def test_images_listed_one_by_one_are_one_sequence(tiny_ir, tmp_path):
    from conftest import write_image

    files = [str(write_image(tmp_path / f"f{i}.jpg")) for i in range(3)]
    model = YOLO(tiny_ir)
    results = model.track(files, verbose=False)
    assert [r.stream for r in results] == [None] * 3 and model._trackers.trackers[0].frame == 3


def test_persist_keeps_the_trackers_across_calls(tiny_ir):
    model = YOLO(tiny_ir)
    frame = np.random.default_rng(0).integers(0, 255, (48, 64, 3), np.uint8)
    for _ in range(3):
        model.track(frame, persist=True, verbose=False)
    assert model._trackers.trackers[0].frame == 3
    model.track(frame, verbose=False)  # without persist: a fresh tracker
    assert model._trackers.trackers[0].frame == 1


def test_a_new_video_resets_the_tracker(tiny_ir, videos):
    model = YOLO(tiny_ir)
    model.track(str(videos[0]), persist=True, verbose=False)
    tracker = model._trackers.trackers[0]
    model.track(str(videos[1]), persist=True, verbose=False)
    assert model._trackers.trackers[0] is tracker and tracker.frame == 8  # reset on the new video: 8 of its frames


def test_a_classifier_cannot_track(tmp_path):
    import ultralytics_fakes

    path = tmp_path / "cls.pt"
    ultralytics_fakes.save_checkpoint(path, arch=ultralytics_fakes.tiny_arch(task="classify"))
    with pytest.raises(UsageError, match="a classify model has no boxes to track: use predict"):
        YOLO(path).track(np.zeros((32, 32, 3), np.uint8), verbose=False)


def test_with_tracks_keeps_each_tracked_objects_parts():
    """The tracker's indices select the detections (keypoints follow); boxes become the tracker's, with ids."""
    boxes = Detections(np.array([[0, 0, 10, 10], [20, 20, 40, 40], [50, 50, 60, 70]]), np.array([0.9, 0.8, 0.7]),
                       np.array([0, 1, 2]))
    points = np.arange(3 * 2 * 3, dtype=np.float32).reshape(3, 2, 3)
    result = Result("a.jpg", (100, 100), boxes, keypoints=Keypoints(points, (100, 100)))
    tracks = TrackedBoxes(np.array([[55.0, 60, 10, 20], [5, 5, 10, 10]]), np.array([7, 3]), np.array([2, 0]))
    out = with_tracks(result, tracks)
    np.testing.assert_allclose(out.boxes.xyxy, [[50, 50, 60, 70], [0, 0, 10, 10]])
    assert out.boxes.id.tolist() == [7, 3] and out.boxes.class_id.tolist() == [2, 0]
    np.testing.assert_array_equal(out.keypoints.data, points[[2, 0]])
    assert out.to_yolo_txt().splitlines()[0].endswith(" 7")  # the id last, as the reference writes it
    assert [row["track_id"] for row in out.summary()] == [7, 3]


def test_cli_track_saves_a_video_per_stream_with_trails(tiny_ir, videos, eager, tmp_path, monkeypatch, capsys):
    import cv2

    monkeypatch.chdir(tmp_path)
    code = main(["track", f"model={tiny_ir}", f"source={videos[0]}", "save=True", "trail=5", "save_json=True",
                 f"tracker={eager}", "conf=0", "max_det=3"])
    assert code == 0
    run = tmp_path / "runs" / "detect" / "track"
    capture = cv2.VideoCapture(str(run / "cam0.mp4"))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 6
    records = json.loads((run / "predictions.json").read_text())
    assert all("track_id" in d for r in records for d in r["detections"]) and any(r["detections"] for r in records)
    assert "video 1/1 (frame 6/6)" in capsys.readouterr().out


def test_several_streams_save_a_video_each(tiny_ir, videos, tmp_path):
    YOLO(tiny_ir).track([str(v) for v in videos[:2]], save=True, project=str(tmp_path), verbose=False)
    assert sorted(p.name for p in (tmp_path / "track").iterdir()) == ["cam0.mp4", "cam1.mp4"]


@pytest.mark.parametrize("argv, message", [
    (["tracker=bytetrak.yaml"], "tracker=bytetrak.yaml: no such file; pass botsort.yaml, bytetrack.yaml"),
    (["persist=maybe"], "persist=maybe is not valid"),
    (["trackr=botsort.yaml"], "unknown argument 'trackr' (did you mean 'tracker'?)"),
])
def test_cli_track_errors_are_one_line(tiny_ir, videos, argv, message, capsys):
    assert main(["track", f"model={tiny_ir}", f"source={videos[0]}", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_a_typo_in_a_users_tracker_yaml_is_named(tiny_ir, videos, tmp_path, capsys):
    mine = tmp_path / "mine.yaml"
    mine.write_text("tracker_type: botsort\nnew_track_tresh: 0.3\n")
    assert main(["track", f"model={tiny_ir}", f"source={videos[0]}", f"tracker={mine}"]) == 2
    assert "unknown tracker key 'new_track_tresh' (did you mean 'new_track_thresh'?)" in capsys.readouterr().err


def test_segment_models_track_with_their_masks(seg_checkpoint, videos, eager):
    results = YOLO(seg_checkpoint).track(str(videos[0]), imgsz=64, conf=0.0, max_det=5, tracker=eager, verbose=False)
    assert any(len(r) for r in results)
    for r in results:
        assert r.masks is not None and len(r.masks) == len(r.boxes) == len(r.boxes.id)


@pytest.mark.parametrize("task", [pytest.param("pose", marks=pytest.mark.slow), "obb"])
def test_pose_and_oriented_models_track_with_their_parts(task, videos, eager, tmp_path):
    """Keypoints follow their tracked box; oriented boxes carry the ids, their enclosing boxes too."""
    import ultralytics_fakes

    path = tmp_path / f"{task}.pt"
    ultralytics_fakes.save_checkpoint(path, arch=ultralytics_fakes.tiny_arch(task=task))
    results = YOLO(path).track(str(videos[0]), imgsz=64, conf=0.0, max_det=4, tracker=eager, verbose=False)
    assert any(len(r) for r in results)
    for r in results:
        part = r.keypoints if task == "pose" else r.obb
        assert len(part) == len(r.boxes) and r.boxes.is_track
        if task == "obb":
            assert r.obb.id.tolist() == r.boxes.id.tolist() and r.obb.data.shape == (len(r), 8)
            assert (r.obb.xywhr[:, 2] >= r.obb.xywhr[:, 3]).all()  # the convention kept: width the longer side


# -- accuracy against the reference --------------------------------------------------------------------------------
@needs_shared
@pytest.mark.slow
@pytest.mark.parametrize("tracker", ["bytetrack", "botsort"])
def test_mot_accuracy_on_the_shapes_video_at_least_the_reference(tracker):
    """MOTA and IDF1 (motmetrics, IoU 0.5) at least the reference's own tracking of the same video with the same model,
    with no more ID switches; and 97% of its rows the reference's (same frame, id and box to 0.5 px)."""
    from yolo_openvino.evaluation.mot_metrics import METRICS, mot_metrics, mot_rows, read_mot

    reference = json.loads((GOLDEN / "track.json").read_text())[tracker]
    truth = read_mot(DATASETS / "shapes-track_gt.txt")
    results = YOLO(shared_model("yolo26n-shapes")).track(str(DATASETS / "shapes-track.mp4"), imgsz=640,
                                                        tracker=f"{tracker}.yaml", verbose=False, stream=True)
    rows = mot_rows(results)
    ours = mot_metrics(truth, rows)
    logging.getLogger("yolo_openvino").info("%s: %s", tracker, {k: round(ours[k], 4) for k in METRICS})
    assert ours["mota"] >= reference["mota"] and ours["idf1"] >= reference["idf1"]
    assert ours["num_switches"] <= reference["idsw"]
    theirs = {tuple(r[:2]): r[2:] for r in read_mot(GOLDEN / f"shapes-track_u_{tracker}.txt")}
    same = sum(1 for r in rows if tuple(r[:2]) in theirs and np.abs(theirs[tuple(r[:2])] - r[2:]).max() <= 0.051 + 0.5)
    assert same >= 0.97 * len(theirs)


def test_oriented_boxes_on_a_frame_with_no_confirmed_track():
    """No confirmed track (no angles from the tracker): an empty oriented result, not a crash."""
    from yolo_openvino.tasks.obb.oriented import OrientedBoxes

    xywhr = np.array([[30.0, 30, 20, 10, 0.3]], np.float32)
    obb = OrientedBoxes(xywhr, np.array([0.9], np.float32), np.array([1]), (100, 100))
    result = Result("a.jpg", (100, 100), Detections(obb.xyxy, obb.conf, np.array([1]), (100, 100)), obb=obb)
    out = with_tracks(result, TrackedBoxes(np.zeros((0, 4)), np.zeros(0, np.int64), np.zeros(0, np.int64)))
    assert len(out) == 0 and out.obb.data.shape == (0, 8) and out.boxes.is_track


@needs_shared
def test_an_oriented_model_tracks_the_shapes_video():
    """The reference's reproduction: yolov8n-obb-shapes on the first 10 frames at its training size crashed on the
    first frame after which no track was reported."""
    import cv2

    capture = cv2.VideoCapture(str(DATASETS / "shapes-track.mp4"))
    frames = [capture.read()[1] for _ in range(10)]
    capture.release()
    model = YOLO(shared_model("yolov8n-obb-shapes"))
    results = [model.track(frame, persist=True, verbose=False)[0] for frame in frames]
    assert len(results) == 10 and any(len(r) for r in results)
    assert all(r.obb is not None and len(r.obb) == len(r.boxes) for r in results)


def test_tracked_results_count_line_crossings_in_supervision():
    """to_supervision keeps the track ids, so sv.LineZone counts a tracked box that crosses its line (it counted
    nothing when every frame's tracker_id was None)."""
    import supervision as sv

    line = sv.LineZone(start=sv.Point(50, 0), end=sv.Point(50, 100))
    for x in range(10, 90, 10):  # one object, id 7, moving right across x = 50
        boxes = Detections(np.array([[x, 40, x + 10, 60]]), np.array([0.9]), np.array([0]), (100, 100), np.array([7]))
        detections = Result("frame.jpg", (100, 100), boxes, names={0: "thing"}).to_supervision()
        assert detections.tracker_id.tolist() == [7] and detections.data["class_name"].tolist() == ["thing"]
        line.trigger(detections)
    assert line.in_count + line.out_count == 1


def test_oriented_and_segmented_results_reach_supervision_as_it_stores_them():
    import supervision as sv

    from yolo_openvino.tasks.obb.oriented import OrientedBoxes

    obb = OrientedBoxes(np.array([[30.0, 30, 20, 10, 0.3]]), np.array([0.9]), np.array([1]), (100, 100), np.array([3]))
    result = Result("a.jpg", (100, 100), Detections(obb.xyxy, obb.conf, np.array([1]), (100, 100), np.array([3])),
                    obb=obb)
    detections = result.to_supervision()
    assert isinstance(detections, sv.Detections) and detections.tracker_id.tolist() == [3]
    np.testing.assert_allclose(detections.data["xyxyxyxy"], obb.xyxyxyxy)


def test_a_frame_with_no_confirmed_track_keeps_its_detections_without_ids(tiny_ir, videos):
    """As the reference: the untrained model's weak detections never start a track (below new_track_thresh), so every
    frame comes back with its detections and no ids (it came back empty)."""
    results = YOLO(tiny_ir).track(str(videos[0]), conf=0.0, max_det=3, verbose=False)
    assert len(results) == 6
    for r in results:
        assert len(r) == 3 and not r.boxes.is_track and r.boxes.id is None
