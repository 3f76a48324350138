"""The Results API an Ultralytics user's post-processing code relies on, on hand-made detections (no ../shared)."""

from __future__ import annotations

import json
import os

import cv2
import numpy as np
import pytest

from yolo_openvino.errors import UsageError
from yolo_openvino.results.result import Boxes, Detections, Result

NAMES = {0: "person", 5: "bus", 16: "dog"}
ROWS = np.array([[10, 20, 110, 220, 0.9, 0], [50, 60, 90, 100, 0.8, 0], [0, 0, 320, 240, 0.5, 5]], np.float32)


@pytest.fixture
def image():
    rng = np.random.default_rng(0)
    return rng.integers(0, 255, (240, 320, 3), dtype=np.uint8)


@pytest.fixture
def result(image):
    return Result("array", image.shape[:2], Detections.from_rows(ROWS), NAMES, image=image)


@pytest.mark.parametrize("xyxy,confidence,class_id,wrong", [
    (np.zeros((2, 6)), np.zeros(3), np.zeros(3), r"xyxy has shape \(2, 6\), expected \(N, 4\)"),  # was reshaped to 3 boxes
    (np.zeros((2, 4)), np.zeros(1), np.zeros(2), r"confidence has shape \(1,\), expected \(2,\)"),
    (np.zeros((2, 4)), np.zeros(2), np.zeros((2, 1)), r"class_id has shape \(2, 1\), expected \(2,\)"),
    (np.zeros(4), np.zeros(1), np.zeros(1), r"xyxy has shape \(4,\)"),
    (np.zeros((1, 4)), np.float32(0.5), np.zeros(1), r"confidence has shape \(\)"),
])
def test_detections_refuse_arrays_of_the_wrong_shape(xyxy, confidence, class_id, wrong):
    with pytest.raises(ValueError, match=wrong):
        Detections(xyxy, confidence, class_id)


def test_detections_from_rows_validate_and_select():
    with pytest.raises(ValueError, match=r"rows has shape \(2, 5\), expected \(N, 6\)"):
        Detections.from_rows(np.zeros((2, 5)))
    d = Detections.from_rows(np.array([[0, 0, 10, 10, 0.5, 3], [0, 0, 5, 5, 0.7, 1]]))
    assert d.xyxy.dtype == np.float32 and d.class_id.dtype == np.int64 and d.class_id.tolist() == [3, 1]
    assert len(d[d.confidence > 0.6]) == 1 and len(Detections.from_rows(np.zeros((0, 6)))) == 0


def test_result_names_its_boxes_and_leaves_the_callers_detections_alone():
    boxes = Detections.from_rows(ROWS)
    result = Result("x.jpg", (240, 320), boxes, NAMES)
    assert boxes.orig_shape is None and result.boxes.orig_shape == (240, 320)  # a copy knows the size
    assert result.labels == ["person", "person", "bus"] and result.label(7) == "7"
    with pytest.raises(ValueError, match=r"boxes of a \(10, 10\) image for a \(240, 320\) image"):
        Result("x.jpg", (240, 320), Detections.from_rows(ROWS, orig_shape=(10, 10)), NAMES)


def test_box_forms(result):
    boxes = result.boxes
    assert Boxes is Detections and boxes.shape == (3, 6) and boxes.id is None and not boxes.is_track
    np.testing.assert_allclose(boxes.xywh[0], [60, 120, 100, 200])
    np.testing.assert_allclose(boxes.xyxyn[2], [0, 0, 1, 1])
    np.testing.assert_allclose(boxes.xywhn[0], [60 / 320, 120 / 240, 100 / 320, 200 / 240])
    np.testing.assert_allclose(boxes.data, ROWS)
    assert boxes.cls.dtype == np.float32 and boxes.cls.tolist() == [0, 0, 5]
    assert boxes.cpu().numpy() is boxes and result.cpu().numpy() is result


@pytest.mark.parametrize("idiom", [
    lambda box: (int(box.cls), float(box.conf)),
    lambda box: (int(box.cls[0]), float(box.conf[0])),
    lambda box: (int(box.cls.item()), round(box.conf.item(), 6)),
])
def test_iterating_boxes_yields_numbers_the_usual_ways(result, idiom):
    seen = [idiom(box) for box in result.boxes]
    assert [c for c, _ in seen] == [0, 0, 5]
    assert [round(s, 6) for _, s in seen] == pytest.approx([0.9, 0.8, 0.5])
    x1, y1, x2, y2 = next(iter(result.boxes)).xyxy[0]  # the most copied line of every tutorial
    assert (x1, y1, x2, y2) == (10, 20, 110, 220)


def test_int_of_several_boxes_still_refuses(result):
    with pytest.raises(TypeError, match="one-element"):
        int(result.boxes.cls)


def test_indexing_a_result_keeps_the_image(result):
    first = result[0]
    assert len(first) == 1 and first.boxes.conf[0] == pytest.approx(0.9)
    assert first.orig_img is result.orig_img and len(result[result.boxes.conf > 0.7]) == 2


@pytest.mark.parametrize("counts,expected", [
    ([], "(no detections), "),
    ([0], "1 person, "),
    ([0, 0, 5], "2 persons, 1 bus, "),
    ([16, 0, 16, 16], "1 person, 3 dogs, "),
])
def test_verbose_pluralises_in_class_order(counts, expected):
    rows = np.array([[0, 0, 10, 10, 0.5, c] for c in counts], np.float32).reshape(-1, 6)
    assert Result("x.jpg", (20, 20), Detections.from_rows(rows), NAMES).verbose() == expected


def test_summary_and_dataframe(result):
    summary = result.summary()
    assert summary[0] == {"name": "person", "class": 0, "confidence": pytest.approx(0.9),
                          "box": {"x1": 10.0, "y1": 20.0, "x2": 110.0, "y2": 220.0}}
    assert result.summary(normalize=True)[2]["box"] == {"x1": 0.0, "y1": 0.0, "x2": 1.0, "y2": 1.0}
    pytest.importorskip("pandas")
    df = result.to_df()
    assert list(df.columns) == ["name", "class", "confidence", "x1", "y1", "x2", "y2"] and len(df) == 3
    assert df["name"].tolist() == ["person", "person", "bus"]


def test_to_supervision(result):
    sv = pytest.importorskip("supervision")
    detections = result.to_supervision()
    assert isinstance(detections, sv.Detections) and len(detections) == 3
    np.testing.assert_allclose(detections.xyxy, ROWS[:, :4])
    assert detections.class_id.tolist() == [0, 0, 5] and detections["class_name"].tolist() == ["person", "person", "bus"]


def test_plot_save_and_txt_for_an_array(result, tmp_path, monkeypatch):
    plotted = result.plot()
    assert plotted.shape == result.orig_img.shape and not np.array_equal(plotted, result.orig_img)
    monkeypatch.chdir(tmp_path)
    saved = result.save()
    assert saved == "results_image.jpg" and cv2.imread(saved).shape == (240, 320, 3)
    txt = result.save_txt(tmp_path / "labels" / "a.txt", save_conf=True)
    lines = open(txt).read().splitlines()
    assert len(lines) == 3 and lines[0].split()[0] == "0" and float(lines[0].split()[-1]) == pytest.approx(0.9)
    assert result.to_dict()["detections"][2]["name"] == "bus"


def test_plot_reads_a_file_again_when_the_image_was_not_kept(image, tmp_path):
    path = tmp_path / "photo.png"
    cv2.imwrite(str(path), image)
    result = Result(str(path), image.shape[:2], Detections.from_rows(ROWS), NAMES)
    assert result.image is None
    np.testing.assert_array_equal(result.orig_img, image)
    assert result.save(tmp_path / "out.png").endswith("out.png")


def test_plot_reads_a_video_frame_again(image, tmp_path):
    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (320, 240))
    for value in (0, 128, 255):
        writer.write(np.full((240, 320, 3), value, np.uint8))
    writer.release()
    frame = Result(str(path), (240, 320), Detections.from_rows(ROWS[:0]), NAMES, frame=1).orig_img
    assert frame.shape == (240, 320, 3) and abs(float(frame.mean()) - 128) < 10


def test_show_without_a_display_is_one_clear_line(result, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    if not os.sys.platform.startswith("linux"):
        pytest.skip("the display check is for Linux")
    with pytest.raises(UsageError, match="no display"):
        result.show()


@pytest.mark.parametrize("scores", [(0.9, 0.4), (0.4, 0.9)])
def test_the_surest_label_is_drawn_on_top(scores):
    """Two boxes with the same top-left corner: the label that stays readable is the more confident one's."""
    from yolo_openvino.results.annotate import color

    rows = np.array([[20, 40, 200, 200, scores[0], 0], [20, 40, 150, 180, scores[1], 16]], np.float32)
    canvas = np.zeros((240, 320, 3), np.uint8)
    plotted = Result("array", canvas.shape[:2], Detections.from_rows(rows), NAMES, image=canvas).plot(conf=False)
    surest = int(rows[np.argmax(rows[:, 4]), 5])
    label_band = plotted[25:38, 20:30].reshape(-1, 3)  # inside the label boxes, above the corner
    colours = {tuple(int(v) for v in c) for c in label_band}
    assert tuple(color(surest)) in colours and tuple(color(16 if surest == 0 else 0)) not in colours


def test_labels_stay_in_the_image_and_apart():
    """A box at the right edge keeps its whole label; two boxes with one top edge get labels that do not overlap."""
    from yolo_openvino.results.annotate import label_spot

    h, w = 240, 320
    right = label_spot((h, w, 3), (90, 14), (300, 100, 319, 200), [])
    assert right[2] <= w and right[0] >= 0
    first = label_spot((h, w, 3), (90, 14), (20, 40, 200, 200), [])
    second = label_spot((h, w, 3), (90, 14), (60, 40, 150, 180), [first])
    assert first[3] == 40 and second[1] >= first[3]  # the surest above its corner, the next one inside its box
    top = label_spot((h, w, 3), (90, 14), (20, 0, 200, 200), [])
    assert top[1] == 0  # no room above: inside the box



# -- the reference's Results methods ------------------------------------------------------------------------------
@pytest.mark.parametrize("normalize,decimals", [(False, 5), (True, 3)])
def test_to_json_and_to_csv_are_the_summary_as_the_reference_writes_them(result, normalize, decimals):
    rows = json.loads(result.to_json(normalize=normalize, decimals=decimals))
    assert rows == result.summary(normalize, decimals) and len(rows) == len(result)
    csv = result.to_csv(normalize=normalize, decimals=decimals).splitlines()
    assert csv[0].startswith("name,class,confidence,x1,y1,x2,y2") and len(csv) == len(result) + 1
    if normalize:
        assert all(0 <= row["box"]["x2"] <= 1 for row in rows)


def test_plot_returns_a_pil_image_and_saves_where_asked(result, tmp_path):
    from PIL import Image

    picture = result.plot(pil=True, save=True, filename=str(tmp_path / "plotted.png"), font_size=12, kpt_radius=3)
    assert isinstance(picture, Image.Image) and picture.size == result.orig_shape[::-1]
    np.testing.assert_array_equal(cv2.imread(str(tmp_path / "plotted.png")), np.asarray(picture)[:, :, ::-1])


def test_save_crop_writes_each_box_in_its_class_folder_numbered_when_taken(result, tmp_path):
    first = result.save_crop(tmp_path, "frame.jpg")
    second = result.save_crop(tmp_path, "frame.jpg")
    assert len(first) == len(second) == len(result) and all(os.path.exists(p) for p in first + second)
    assert sorted(os.listdir(tmp_path / "person")) == ["frame.jpg", "frame2.jpg", "frame3.jpg", "frame4.jpg"]
    assert sorted(os.listdir(tmp_path / "bus")) == ["frame.jpg", "frame2.jpg"]
    assert cv2.imread(first[1]).shape == (40, 40, 3)  # the second person's box, 50..90 x 60..100


def test_new_update_and_to_as_the_reference(result):
    empty = result.new()
    assert len(empty) == 0 and empty.names == result.names and empty.orig_shape == result.orig_shape
    empty.update(boxes=np.array([[5, 5, 20, 30, 0.8, 1], [-3, 0, 500, 10, 0.5, 0]]))
    assert len(empty) == 2 and empty.boxes.xyxy.max() <= max(result.orig_shape)  # clipped to the image
    assert empty.to("cpu") is empty and empty.cpu() is empty
    planes = np.zeros((2, 20, 32), bool)
    planes[0, 2:8, 4:10] = True
    empty.update(masks=planes)  # planes over the whole image, at any size: scaled to it
    assert empty.masks.at_image_size().shape == (2, *result.orig_shape) and empty.masks.at_image_size()[0].any()
    with pytest.raises(TypeError, match="unexpected keyword argument 'mask'"):
        empty.update(mask=planes)


@pytest.mark.parametrize("kind", ["boxes", "tracked boxes", "obb", "keypoints", "masks", "probs"])
def test_the_references_results_constructor(kind):
    """``Results(orig_img, path, names, boxes=, masks=, probs=, keypoints=, obb=)`` as Ultralytics users call it."""
    from yolo_openvino import Results

    image = np.zeros((60, 80, 3), np.uint8)
    rows = np.array([[10, 10, 30, 40, 0.9, 1], [40, 5, 70, 50, 0.6, 0]], np.float32)
    given = {"boxes": {"boxes": rows}, "tracked boxes": {"boxes": np.insert(rows, 4, [7, 8], axis=1)},
             "obb": {"obb": np.array([[40, 30, 20, 10, 0.3, 0.8, 1]], np.float32)},
             "keypoints": {"boxes": rows, "keypoints": np.ones((2, 4, 3), np.float32) * 20},
             "masks": {"boxes": rows, "masks": np.ones((2, 30, 40), bool)},
             "probs": {"probs": np.array([0.1, 0.7, 0.2], np.float32)}}[kind]
    r = Results(image, "a.jpg", ["cat", "dog"], **given)
    assert r.path == "a.jpg" and r.names == {0: "cat", 1: "dog"} and r.orig_shape == (60, 80)
    expected = {"boxes": 2, "tracked boxes": 2, "obb": 1, "keypoints": 2, "masks": 2, "probs": 3}[kind]
    assert len(r) == expected and r.plot().shape == image.shape
    if kind == "tracked boxes":
        assert r.boxes.id.tolist() == [7, 8] and r.boxes.conf.tolist() == pytest.approx([0.9, 0.6])
    if kind == "obb":
        assert r.obb.xywhr.shape == (1, 5) and len(r.boxes) == 1
    if kind == "masks":
        assert r.masks.at_image_size().shape == (2, 60, 80) and r.masks.at_image_size().all()


def _changed(plotted: np.ndarray, image: np.ndarray) -> int:
    return int((plotted != image).any(2).sum())


def test_plot_style_arguments_change_what_they_name():
    """Each of the reference's plot arguments: masks, kpt_radius, kpt_line, font_size, color_mode, probs, boxes."""
    from yolo_openvino import Results

    image = np.full((480, 640, 3), 40, np.uint8)
    mask = np.zeros((2, 480, 640), np.float32)
    mask[0, 80:240, 80:240] = 1
    mask[1, 280:400, 360:600] = 1
    boxes = np.array([[80, 80, 240, 240, 0.9, 0], [360, 280, 600, 400, 0.8, 0]], np.float32)
    seg = Results(image, "a.jpg", {0: "thing"}, boxes=boxes, masks=mask)
    inside = (slice(140, 200), slice(140, 200))  # within the first mask, away from every line and label
    assert (seg.plot()[inside] != image[inside]).any() and (seg.plot(masks=False)[inside] == image[inside]).all()
    by_class, by_instance = seg.plot(labels=False, conf=False), seg.plot(labels=False, conf=False, color_mode="instance")
    assert (by_class[80, 160] == by_class[280, 480]).all() and (by_instance[80, 160] != by_instance[280, 480]).any()
    assert _changed(seg.plot(font_size=30, masks=False), image) > _changed(seg.plot(font_size=8, masks=False), image)
    assert _changed(seg.plot(boxes=False, masks=False), image) == 0
    people = np.tile(np.array([[100.0, 200.0, 1.0]], np.float32), (17, 1))[None]
    people[0, :, 0] += np.arange(17) * 25
    pose = Results(image, "a.jpg", {0: "person"}, boxes=np.array([[90, 100, 520, 300, 0.9, 0]], np.float32),
                   keypoints=people)
    small, large = (_changed(pose.plot(boxes=False, kpt_radius=r), image) for r in (2, 6))
    assert large > small > 0
    assert _changed(pose.plot(boxes=False, kpt_line=False), image) < _changed(pose.plot(boxes=False), image)
    top = Results(image, "a.jpg", {0: "a", 1: "b"}, probs=np.array([0.3, 0.7], np.float32))
    assert _changed(top.plot(), image) > 0 and _changed(top.plot(probs=False), image) == 0
    with pytest.raises(ValueError, match="color_mode='rainbow'"):
        seg.plot(color_mode="rainbow")
