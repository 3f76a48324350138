"""The tracker pieces on hand-made input: Kalman filter against hand-computed values, the thresholded assignment,
association cases (a crossing, a short occlusion, a lost track that comes back, one frame's false positive),
camera-motion estimation, and the tracker yaml checks."""

from __future__ import annotations

import numpy as np
import pytest

from yolo_openvino.errors import UsageError
from yolo_openvino.track import Tracker, TrackerConfig, load_tracker_config
from yolo_openvino.track.kalman import KalmanFilter
from yolo_openvino.track.matching import assign, fuse_score, iou_cost


# -- Kalman filter --------------------------------------------------------------------------------------------------
def test_kalman_xyah_by_hand():
    """A 30 x 40 box at (10, 20): noise is 1/20 (positions) and 1/160 (velocities) of the height 40."""
    kf = KalmanFilter(aspect=True)
    mean, cov = kf.initiate(np.array([[10, 20, 0.75, 40]]))
    assert mean[0].tolist() == [10, 20, 0.75, 40, 0, 0, 0, 0]
    # std: 2 * 40 / 20 = 4 for x, y, h; 1e-2 for a; 10 * 40 / 160 = 2.5 for their velocities, 1e-5 for a's
    np.testing.assert_allclose(np.diag(cov[0]), [16, 16, 1e-4, 16, 6.25, 6.25, 1e-10, 6.25])
    mean, cov = kf.predict(mean, cov)
    assert mean[0].tolist() == [10, 20, 0.75, 40, 0, 0, 0, 0]  # no velocity yet: nothing moves
    # P_xx = 16 + 6.25 (velocity carried in) + (40 / 20)^2 = 26.25; P_xv = 6.25; P_vv = 6.25 + (40 / 160)^2
    assert cov[0, 0, 0] == pytest.approx(26.25) and cov[0, 0, 4] == pytest.approx(6.25)
    assert cov[0, 4, 4] == pytest.approx(6.3125)
    mean, cov = kf.update(mean, cov, np.array([[11, 20, 0.75, 40]]))  # measured 1 px to the right
    s = 26.25 + 4  # innovation variance: prediction + measurement noise (40 / 20)^2
    assert mean[0, 0] == pytest.approx(10 + 26.25 / s)
    assert mean[0, 4] == pytest.approx(6.25 / s)  # the velocity learns from the same innovation
    assert cov[0, 0, 0] == pytest.approx(26.25 - 26.25**2 / s)
    np.testing.assert_allclose(mean[0, [1, 2, 3, 5, 6, 7]], [20, 0.75, 40, 0, 0, 0], atol=1e-12)


def test_kalman_xywh_noise_follows_width_and_height():
    kf = KalmanFilter(aspect=False)
    _, cov = kf.initiate(np.array([[0, 0, 20, 40]]))
    np.testing.assert_allclose(np.diag(cov[0]), np.array([2, 4, 2, 4, 1.25, 2.5, 1.25, 2.5]) ** 2)


@pytest.mark.parametrize("aspect", [True, False])
def test_kalman_with_no_tracks(aspect):
    kf = KalmanFilter(aspect)
    mean, cov = kf.update(*kf.predict(*kf.initiate(np.zeros((0, 4)))), np.zeros((0, 4)))
    assert mean.shape == (0, 8) and cov.shape == (0, 8, 8)


def test_kalman_batch_equals_one_by_one():
    kf = KalmanFilter(aspect=True)
    boxes = np.array([[10, 20, 0.5, 30], [200, 100, 1.5, 60], [50, 60, 1.0, 10]], float)
    measured = boxes + np.array([[2, -1, 0.01, 1], [0, 3, 0, -2], [-4, 0, 0.02, 0.5]])
    mean, cov = kf.update(*kf.predict(*kf.initiate(boxes)), measured)
    for i in range(3):
        m, c = kf.update(*kf.predict(*kf.initiate(boxes[i:i + 1])), measured[i:i + 1])
        np.testing.assert_allclose(m[0], mean[i], rtol=1e-12)
        np.testing.assert_allclose(c[0], cov[i], rtol=1e-10, atol=1e-14)


# -- assignment ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cost, limit, expected", [
    ([[0.1, 0.9], [0.9, 0.2]], 0.8, ([(0, 0), (1, 1)], [], [])),
    ([[0.9, 0.9], [0.9, 0.9]], 0.8, ([], [0, 1], [0, 1])),  # every pair above the limit: none made
    # the cheapest assignment of all rows (0.7 + 0.7) pairs more, but each pair must beat leaving both alone
    # (0.8): A-X at 0.1 alone (0.1 + 0.8) is the optimum; a threshold after the fact would keep both 0.7 pairs
    ([[0.1, 0.7], [0.7, 2.0]], 0.8, ([(0, 0)], [1], [1])),
    ([[0.3, 0.2, 0.9]], 0.5, ([(0, 1)], [], [0, 2])),  # more columns than rows
    (np.zeros((0, 3)), 0.8, ([], [], [0, 1, 2])),
    (np.zeros((2, 0)), 0.8, ([], [0, 1], [])),
])
def test_assign_table(cost, limit, expected):
    assert assign(np.asarray(cost, float), limit) == expected


def test_iou_cost_and_score_fusion():
    tracks = np.array([[0, 0, 10, 10]], float)
    detections = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]], float)
    cost = iou_cost(tracks, detections)
    np.testing.assert_allclose(cost, [[0, 1 - 50 / 150, 1]], atol=1e-6)
    np.testing.assert_allclose(fuse_score(cost, np.array([0.5, 1.0, 0.9], np.float32)), [[0.5, 1 - 50 / 150, 1]],
                               atol=1e-6)


# -- association cases -----------------------------------------------------------------------------------------------
def run(tracker: Tracker, frames: list[list[tuple]]) -> list[dict]:
    """Feed frames of (x, y, w, h, score) detections; per frame {detection index: track id} of what was reported."""
    out = []
    for detections in frames:
        rows = np.array(detections, float).reshape(-1, 5)
        tracked = tracker.update(rows[:, :4], rows[:, 4], np.zeros(len(rows), int))
        out.append(dict(zip(tracked.indices.tolist(), tracked.ids.tolist())))
    return out


@pytest.fixture(params=["bytetrack", "botsort"])
def tracker(request):
    return Tracker(TrackerConfig(tracker_type=request.param, gmc_method="none"))


def test_steady_objects_keep_their_ids(tracker):
    frames = [[(100 + 5 * t, 100, 40, 40, 0.9), (300, 200 - 4 * t, 30, 60, 0.8)] for t in range(20)]
    out = run(tracker, frames)
    assert out[0] == {0: 1, 1: 2} and all(f == {0: 1, 1: 2} for f in out)


def test_a_crossing_keeps_identities(tracker):
    """Two boxes pass each other, overlapping for several frames: the filter's velocities keep them apart."""
    frames = []
    for t in range(30):
        a, b = (50 + 8 * t, 100, 40, 40, 0.9), (290 - 8 * t, 112, 40, 40, 0.85)
        frames.append([a, b])
    out = run(tracker, frames)
    assert all(f == {0: 1, 1: 2} for f in out), out


def test_an_occlusion_shorter_than_the_buffer_keeps_the_id(tracker):
    """Object 1 is hidden for 10 frames (buffer 30) while moving: found again where its velocity took it."""
    frames = []
    for t in range(40):
        moving = (100 + 4 * t, 150, 40, 40, 0.9)
        frames.append([(400, 300, 50, 50, 0.9)] + ([moving] if not 15 <= t < 25 else []))
    out = run(tracker, frames)
    assert out[14] == {0: 1, 1: 2}
    assert all(f == {0: 1} for f in out[15:25])  # hidden: not reported, not removed
    assert all(f == {0: 1, 1: 2} for f in out[25:]), out[25:]


def test_a_lost_track_comes_back_within_the_buffer_but_not_after(tracker):
    still = (200, 200, 60, 60, 0.9)
    frames = [[still]] * 5 + [[]] * 20 + [[still]] * 3 + [[]] * 40 + [[still]] * 3
    out = run(tracker, frames)
    assert out[25] == {0: 1}  # back after 20 frames: the same track
    # after 40 (past the 30-frame buffer): a new track, reported from its second frame on
    assert out[68:] == [{}, {0: 2}, {0: 2}]


def test_a_weak_detection_keeps_a_track_a_weak_new_one_starts_none(tracker):
    frames = [[(100, 100, 40, 40, 0.9)]] * 3 + [[(100, 100, 40, 40, 0.15)]] * 3 + [[(400, 400, 40, 40, 0.15)]] * 3
    out = run(tracker, frames)
    assert all(f == {0: 1} for f in out[:6])  # score 0.15: matched in the second association
    assert out[6:] == [{}, {}, {}]  # below new_track_thresh: never a track


def test_one_frame_false_positive_is_never_reported(tracker):
    frames = [[(100, 100, 40, 40, 0.9)]] * 2 + [[(100, 100, 40, 40, 0.9), (400, 300, 30, 30, 0.9)]] + \
        [[(100, 100, 40, 40, 0.9)]] * 2
    out = run(tracker, frames)
    assert all(f == {0: 1} for f in out)  # the flash at frame 3 was unconfirmed, then dropped


def test_reset_starts_ids_again(tracker):
    run(tracker, [[(100, 100, 40, 40, 0.9)]] * 3)
    tracker.reset()
    assert run(tracker, [[(300, 100, 40, 40, 0.9)]]) == [{0: 1}]


def test_oriented_boxes_are_tracked_with_their_angle():
    tracker = Tracker(TrackerConfig())
    for t in range(5):
        tracked = tracker.update(np.array([[100 + 3 * t, 100, 60, 20]]), np.array([0.9]), np.array([0]),
                                 angles=np.array([0.3]))
    assert tracked.ids.tolist() == [1] and tracked.angles.tolist() == [0.3]


# -- camera motion ---------------------------------------------------------------------------------------------------
def test_sparse_optical_flow_measures_a_camera_pan():
    """A textured scene shifted by (6, -4) px per frame: the warp is that shift (full-size pixels)."""
    import cv2

    from yolo_openvino.track.motion import SparseOpticalFlow

    rng = np.random.default_rng(0)
    scene = cv2.GaussianBlur(rng.integers(0, 255, (400, 600), np.uint8), (0, 0), 2)
    scene = cv2.cvtColor(scene, cv2.COLOR_GRAY2BGR)
    flow = SparseOpticalFlow()
    warps = [flow.warp(scene[100 - 4 * -t:340 - 4 * -t, 100 - 6 * t:420 - 6 * t].copy()) for t in range(3)]
    np.testing.assert_array_equal(warps[0], np.eye(2, 3))  # the first frame: nothing to compare with
    for warp in warps[1:]:
        np.testing.assert_allclose(warp[:, :2], np.eye(2), atol=0.02)
        np.testing.assert_allclose(warp[:, 2], [6, -4], atol=0.5)


def test_botsort_follows_a_panning_camera():
    """With the camera's motion compensated, a static object filmed by a panning camera keeps its id even though it
    jumps 30 px a frame in the image."""
    import cv2

    rng = np.random.default_rng(1)
    scene = cv2.cvtColor(cv2.GaussianBlur(rng.integers(0, 255, (480, 1400), np.uint8), (0, 0), 2), cv2.COLOR_GRAY2BGR)
    tracker = Tracker(load_tracker_config("botsort.yaml"))
    for t in range(12):
        frame = scene[:, 30 * t:30 * t + 640].copy()
        tracked = tracker.update(np.array([[600 - 30 * t, 240, 24, 24]]), np.array([0.9]), np.array([0]), frame)
        assert tracked.ids.tolist() == [1], t


# -- tracker yaml ----------------------------------------------------------------------------------------------------
def test_built_in_yaml_files_are_the_reference_defaults():
    byte, bot = load_tracker_config("bytetrack.yaml"), load_tracker_config("botsort")
    assert byte == TrackerConfig()
    assert bot.tracker_type == "botsort" and bot.gmc_method == "sparseOptFlow" and bot.motion_compensation
    assert (bot.track_high_thresh, bot.track_low_thresh, bot.new_track_thresh, bot.track_buffer, bot.match_thresh,
            bot.fuse_score) == (0.25, 0.1, 0.25, 30, 0.8, True)


@pytest.mark.parametrize("text, message", [
    ("tracker_type: bytetrack\ntrack_bufer: 30\n", "unknown tracker key 'track_bufer' (did you mean 'track_buffer'?)"),
    ("tracker_type: bytetrak\n", "tracker_type: 'bytetrak' is not valid: expected one of bytetrack, botsort"),
    ("tracker_type: bytetrack\nmatch_thresh: 1.5\n", "match_thresh: 1.5 is not valid: expected a number in [0, 1]"),
    ("tracker_type: bytetrack\ntrack_buffer: 0\n", "track_buffer: 0 is not valid: expected an integer >= 1"),
    ("tracker_type: bytetrack\nfuse_score: maybe\n", "fuse_score: 'maybe' is not valid: expected True or False"),
    ("tracker_type: botsort\nwith_reid: True\n", "with_reid: True is not supported"),
    ("tracker_type: botsort\ngmc_method: orb\n", "gmc_method: 'orb' is not valid: expected one of sparseOptFlow, none"),
    ("track_buffer: 30\n", "tracker_type is missing"),
    ("tracker_type: bytetrack\ntrack_low_thresh: 0.5\n", "track_low_thresh 0.5 is above track_high_thresh 0.25"),
    ("- a\n- b\n", "a tracker yaml is a mapping"),
    ("tracker_type: [unclosed\n", "not a readable tracker yaml"),
])
def test_a_bad_tracker_yaml_is_one_line_naming_the_key(tmp_path, text, message):
    path = tmp_path / "mine.yaml"
    path.write_text(text)
    with pytest.raises(UsageError) as e:
        load_tracker_config(str(path))
    assert message in str(e.value) and str(path) in str(e.value) and "\n" not in str(e.value)


def test_a_missing_tracker_file_names_the_choices():
    with pytest.raises(UsageError, match="tracker=bytetracker.yaml: no such file; pass botsort.yaml, bytetrack.yaml"):
        load_tracker_config("bytetracker.yaml")


def test_a_users_yaml_may_leave_keys_to_their_defaults(tmp_path):
    path = tmp_path / "fast.yaml"
    path.write_text("tracker_type: bytetrack\ntrack_buffer: 60\n")
    assert load_tracker_config(str(path)) == TrackerConfig(track_buffer=60)


@pytest.mark.parametrize("tracker_type", ["bytetrack", "botsort"])
def test_a_box_of_no_width_or_height_is_never_tracked_and_breaks_nothing(tracker_type):
    """A box clipped to the image's edge can have no width: the filter's aspect would be inf, its cost NaN."""
    tracker = Tracker(TrackerConfig(tracker_type=tracker_type))
    boxes = np.array([[50.0, 50, 20, 40], [0, 30, 0, 10], [80, 80, 10, 0]])
    for step in range(3):
        tracked = tracker.update(boxes + [step, 0, 0, 0], np.array([0.9, 0.9, 0.9]), np.array([0, 0, 0]))
    assert tracked.indices.tolist() == [0]
