"""Pre/post-processing (numpy + OpenCV): letterbox, NMS, box scaling."""

from __future__ import annotations

import numpy as np
import pytest

from yolo_openvino.runtime.processing import (PAD_VALUE, box_iou, filter_rows, letterbox, letterbox_shape,
                                      non_max_suppression, scale_boxes, to_nchw_float)


@pytest.mark.parametrize("shape,target,pad,expected_resized,expected_padded", [
    ((480, 640), (640, 640), "square", (480, 640), (640, 640)),
    ((640, 480), (640, 640), "square", (640, 480), (640, 640)),
    ((500, 381), (640, 640), "square", (640, 488), (640, 640)),
    ((480, 640), (640, 640), "minimal", (480, 640), (480, 640)),
    ((500, 381), (640, 640), "minimal", (640, 488), (640, 512)),
    ((480, 640), (640, 640), "val", (480, 640), (512, 672)),
    ((1080, 1920), (384, 640), "square", (360, 640), (384, 640)),
    ((100, 100), (640, 640), "square", (640, 640), (640, 640)),  # small images are scaled up
])
def test_letterbox_shapes(shape, target, pad, expected_resized, expected_padded):
    assert letterbox_shape(shape, target, pad) == (expected_resized, expected_padded)


def test_letterbox_pads_centred_with_114_and_maps_back():
    image = np.full((300, 600, 3), 7, np.uint8)
    out, box = letterbox(image, (640, 640))
    assert out.shape == (640, 640, 3)
    assert box.pad_y == 160 and box.pad_x == 0 and box.scale_x == pytest.approx(640 / 600)
    assert (out[:160] == PAD_VALUE).all() and (out[-160:] == PAD_VALUE).all() and (out[160:480] == 7).all()
    model_box = np.array([[0, 160, 640, 480]], np.float32)
    np.testing.assert_allclose(scale_boxes(model_box, box, (300, 600)), [[0, 0, 600, 300]], atol=1e-4)


def test_letterbox_reuses_buffer():
    buffer = np.zeros((640, 640, 3), np.uint8)
    out, _ = letterbox(np.zeros((480, 640, 3), np.uint8), (640, 640), out=buffer)
    assert out is buffer


def test_to_nchw_float_is_rgb_over_255():
    bgr = np.zeros((1, 2, 2, 3), np.uint8)
    bgr[..., 0] = 255  # blue
    x = to_nchw_float(bgr)
    assert x.shape == (1, 3, 2, 2) and x.dtype == np.float32
    assert (x[0, 2] == 1).all() and (x[0, 0] == 0).all()


def _reference_nms(boxes, scores, classes, iou, agnostic=False):
    """Plain greedy NMS, one box at a time: the definition our vectorised version must match."""
    order = np.argsort(-scores, kind="stable")
    ious = box_iou(boxes, boxes)  # every pair's IoU once (a call per pair cost seconds)
    keep = []
    for i in order:
        ok = True
        for j in keep:
            same_class = agnostic or classes[i] == classes[j]
            if same_class and ious[i, j] > iou:
                ok = False
                break
        if ok:
            keep.append(i)
    return np.array(keep, dtype=np.int64)


def _random_prediction(rng, n=400, nc=3, size=200):
    centre = rng.uniform(20, size - 20, (n, 2))
    wh = rng.uniform(10, 60, (n, 2))
    scores = rng.uniform(0, 1, (n, nc)) ** 3
    return np.concatenate((centre, wh, scores), 1).T[None].astype(np.float32)  # (1, 4 + nc, n)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("agnostic", [False, True])
@pytest.mark.parametrize("iou", [0.3, 0.7])
def test_nms_matches_greedy_reference(seed, agnostic, iou):
    rng = np.random.default_rng(seed)
    pred = _random_prediction(rng)
    rows = non_max_suppression(pred, conf=0.05, iou=iou, agnostic=agnostic, max_det=10000)[0]
    cand = pred[0].T
    cls = cand[:, 4:].argmax(1)
    score = cand[:, 4:].max(1)
    mask = score > 0.05
    xyxy = np.concatenate((cand[:, :2] - cand[:, 2:4] / 2, cand[:, :2] + cand[:, 2:4] / 2), 1)[mask]
    keep = _reference_nms(xyxy, score[mask], cls[mask], iou, agnostic)
    np.testing.assert_allclose(rows[:, :4], xyxy[keep], atol=1e-4)
    np.testing.assert_array_equal(rows[:, 5], cls[mask][keep])


def test_nms_max_det_is_the_top_of_the_full_run():
    rng = np.random.default_rng(7)
    pred = _random_prediction(rng, n=3000, nc=2, size=2000)
    full = non_max_suppression(pred, conf=0.0, iou=0.5, max_det=100000)[0]
    top = non_max_suppression(pred, conf=0.0, iou=0.5, max_det=10)[0]
    np.testing.assert_array_equal(top, full[:10])


def test_nms_classes_filter_and_multi_label():
    pred = np.zeros((1, 6, 2), np.float32)
    pred[0, :4, 0] = [50, 50, 20, 20]
    pred[0, :4, 1] = [150, 150, 20, 20]
    pred[0, 4:, 0] = [0.9, 0.8]  # one box, two classes above conf
    pred[0, 4:, 1] = [0.0, 0.6]
    assert len(non_max_suppression(pred, conf=0.5)[0]) == 2
    assert len(non_max_suppression(pred, conf=0.5, multi_label=True)[0]) == 3
    only_one = non_max_suppression(pred, conf=0.5, classes=[1])[0]
    assert only_one[:, 5].tolist() == [1.0]


def test_filter_rows_drops_padding_rows():
    rows = np.zeros((1, 5, 6), np.float32)
    rows[0, 0] = [1, 2, 3, 4, 0.9, 2]
    rows[0, 1] = [1, 2, 3, 4, 0.3, 1]
    assert filter_rows(rows, conf=0.25, max_det=300)[0].shape == (2, 6)
    assert filter_rows(rows, conf=0.5, max_det=300)[0].shape == (1, 6)
    assert filter_rows(rows, conf=0.25, max_det=300, classes=[1])[0][:, 5].tolist() == [1.0]


def test_class_aware_nms_keeps_classes_apart_on_inputs_larger_than_the_references_offset():
    """Class 1's box shifted by the reference's fixed 7680 lands on a class-0 box of an 8192 input (at x, y + 7680) and
    would suppress it; an offset beyond every box keeps all three."""
    # (1, 4 + 2 classes, 3 anchors): cx, cy, w, h then scores; anchors 0 and 1 the same box, classes 0 and 1
    pred = np.zeros((1, 6, 3), np.float32)
    pred[0, :4, 0] = pred[0, :4, 1] = [7700, 100, 200, 100]
    pred[0, :4, 2] = [7700 + 7680, 100 + 7680, 200, 100]  # class 0 where class 1's box, shifted, would land
    pred[0, 4, 0], pred[0, 5, 1], pred[0, 4, 2] = 0.9, 0.8, 0.7
    kept = non_max_suppression(pred, conf=0.25, iou=0.5)[0]
    assert sorted(kept[:, 5].tolist()) == [0, 0, 1]
