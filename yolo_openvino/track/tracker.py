"""ByteTrack and BoT-SORT (without re-identification): one tracker per video stream, fed one frame at a time.

Each frame (Zhang et al., "ByteTrack", 2022; Aharon et al., "BoT-SORT", 2022):

1. Every confirmed or lost track is moved one frame ahead by its Kalman filter (BoT-SORT: then warped by
   the camera's motion).
2. Confident detections (score >= ``track_high_thresh``) are matched to those tracks by IoU weighted by
   score (``fuse_score``), cost at most ``match_thresh``; a lost track that matches is found again.
3. Tracks still unmatched are matched to the weak detections (between ``track_low_thresh`` and the high
   threshold) by plain IoU, cost at most 0.5: an occluded object's weak detection keeps its track alive.
   Tracks unmatched after that are lost.
4. Tracks born last frame (unconfirmed) are matched to the confident detections left, cost at most 0.7;
   an unmatched one is dropped: one frame's false positive never becomes a track.
5. Confident detections left start tracks (score >= ``new_track_thresh``), confirmed when they match next
   frame (at once on the first frame). Tracks lost for more than ``track_buffer`` frames are removed, and
   where a tracked and a lost track overlap (IoU > 0.85) the younger one goes.

The reported boxes are the filter's corrected states, as the reference reports them. Oriented boxes are
tracked on x, y, w, h (the filter) with the angle of their latest detection; they match by probabilistic IoU.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..runtime.processing import xywh_to_xyxy
from .config import TrackerConfig
from .kalman import KalmanFilter
from .matching import assign, fuse_score, iou_cost

TRACKED, LOST, REMOVED = "tracked", "lost", "removed"


@dataclass(eq=False)
class Track:
    """A detection, or a track (one that started from a detection). ``box`` (4,) x, y, w, h (centre): a detection's
    own, a track's from its filter's state (kept in step with it: the matching reads it many times a frame)."""

    box: np.ndarray
    score: float
    class_id: int
    index: int  # the detection's index in the current frame's detections
    angle: float | None = None  # oriented boxes: radians
    id: int = 0  # 0 until it starts a track
    mean: np.ndarray | None = None  # (8,) the filter's state; None for a plain detection
    covariance: np.ndarray | None = None  # (8, 8)
    state: str = TRACKED
    confirmed: bool = False
    frame: int = 0  # the last frame it was updated in
    start_frame: int = 0

    def absorb(self, detection: "Track", frame: int) -> None:
        """Take a matched detection's score, class, index and angle (the filter is corrected separately)."""
        self.score, self.class_id = detection.score, detection.class_id
        self.index, self.angle = detection.index, detection.angle
        self.state, self.confirmed, self.frame = TRACKED, True, frame


@dataclass
class TrackedBoxes:
    """One frame's confirmed tracks: ``xywh`` (K, 4) filtered boxes (centre, size), ``ids`` (K,) int64,
    ``indices`` (K,) int64 of the detection each matched this frame, ``angles`` (K,) for oriented boxes."""

    xywh: np.ndarray
    ids: np.ndarray
    indices: np.ndarray
    angles: np.ndarray | None = None


class Tracker:
    """ByteTrack (``tracker_type: bytetrack``) or BoT-SORT (``botsort``) over one stream's frames.

    >>> tracker = Tracker(load_tracker_config("bytetrack.yaml"))
    >>> tracked = tracker.update(xywh, scores, class_ids)     # per frame, in order
    """

    def __init__(self, config: TrackerConfig, frame_rate: float = 30):
        self.config = config
        self.kalman = KalmanFilter(aspect=config.tracker_type == "bytetrack")
        self.max_lost = int(frame_rate / 30 * config.track_buffer)
        self.motion = None
        if config.motion_compensation:
            from .motion import SparseOpticalFlow

            self.motion = SparseOpticalFlow()
        self.reset()

    def reset(self) -> None:
        """Forget every track (a new video); ids start at 1 again."""
        self.frame = 0
        self.tracked: list[Track] = []
        self.lost: list[Track] = []
        self.last_id = 0
        if self.motion is not None:
            self.motion.reset()

    # -- one frame ---------------------------------------------------------------------------------------------
    def update(self, xywh: np.ndarray, scores: np.ndarray, class_ids: np.ndarray, image: np.ndarray | None = None,
               angles: np.ndarray | None = None) -> TrackedBoxes:
        """Track one frame's detections: ``xywh`` (N, 4) centre and size in pixels, ``scores`` (N,), ``class_ids`` (N,),
        ``image`` (H, W, 3) BGR for camera-motion compensation (BoT-SORT), ``angles`` (N,) for oriented boxes."""
        self.frame += 1
        config = self.config
        scores = np.asarray(scores, np.float32).reshape(-1)
        xywh = np.asarray(xywh, np.float64).reshape(-1, 4)
        detections = [Track(box, float(s), int(c), i, None if angles is None else float(angles[i]))
                      for i, (box, s, c) in enumerate(zip(xywh, scores, class_ids))]
        corners = self._corners(xywh, angles)  # every detection's box as the overlap needs it, once
        # a box of no width or height (clipped to the image's edge) has no aspect for the filter: never a track
        usable = np.isfinite(xywh).all(1) & (xywh[:, 2] > 0) & (xywh[:, 3] > 0)
        high = np.flatnonzero((scores >= config.track_high_thresh) & usable)
        low = np.flatnonzero((scores > config.track_low_thresh) & (scores < config.track_high_thresh) & usable)
        unconfirmed = [t for t in self.tracked if not t.confirmed]
        pool = _joined([t for t in self.tracked if t.confirmed], self.lost)
        self._predict(pool)
        if self.motion is not None and image is not None:
            self._warp(pool + unconfirmed, self.motion.warp(image))

        pool_boxes = self._boxes(pool)
        cost = self._fused(iou_cost(pool_boxes, corners[high]), scores[high])
        pairs, unmatched_tracks, unmatched_high = assign(cost, config.match_thresh)
        matched = [(pool[t], detections[high[d]]) for t, d in pairs]
        refound = [track for track, _ in matched if track.state == LOST]
        remaining = [t for t in unmatched_tracks if pool[t].state == TRACKED]
        pairs, still_unmatched, _ = assign(iou_cost(pool_boxes[remaining], corners[low]), 0.5)
        matched += [(pool[remaining[t]], detections[low[d]]) for t, d in pairs]
        newly_lost = [pool[remaining[t]] for t in still_unmatched]
        leftovers = high[unmatched_high]
        cost = self._fused(iou_cost(self._boxes(unconfirmed), corners[leftovers]), scores[leftovers])
        pairs, unmatched_new, unmatched_left = assign(cost, 0.7)
        matched += [(unconfirmed[t], detections[leftovers[d]]) for t, d in pairs]

        for track in newly_lost:
            track.state = LOST
        for t in unmatched_new:
            unconfirmed[t].state = REMOVED
        self._correct(matched)
        started = self._start([detections[leftovers[d]] for d in unmatched_left
                               if scores[leftovers[d]] >= config.new_track_thresh])
        for track in self.lost:
            if self.frame - track.frame > self.max_lost:
                track.state = REMOVED
        self._keep(started, refound, newly_lost)
        return self._confirmed()

    def _fused(self, cost: np.ndarray, scores: np.ndarray) -> np.ndarray:
        """The first-stage cost: IoU weighted by the detection's score where ``fuse_score`` asks."""
        return fuse_score(cost, scores) if self.config.fuse_score and cost.size else cost

    def _predict(self, tracks: list[Track]) -> None:
        """Move ``tracks`` one frame ahead; a lost track's size stops changing (its size velocities zeroed)."""
        if not tracks:
            return
        mean = np.array([t.mean for t in tracks])
        not_tracked = np.array([t.state != TRACKED for t in tracks])
        mean[not_tracked, 7 if self.kalman.aspect else 6:8] = 0
        mean, covariance = self.kalman.predict(mean, np.array([t.covariance for t in tracks]))
        for track, m, c, box in zip(tracks, mean, covariance, self._state_boxes(mean)):
            track.mean, track.covariance, track.box = m, c, box

    def _warp(self, tracks: list[Track], warp: np.ndarray) -> None:
        """Apply the camera's motion (2, 3) to each track's state: every (x, y)-like pair turned and scaled by its
        linear part, the position shifted."""
        if not tracks or np.array_equal(warp, np.eye(2, 3)):
            return
        rotation = np.kron(np.eye(4), warp[:, :2])  # (8, 8)
        for track in tracks:
            track.mean = rotation @ track.mean
            track.mean[:2] += warp[:, 2]
            track.covariance = rotation @ track.covariance @ rotation.T
            track.box = self._state_boxes(track.mean[None])[0]

    def _correct(self, matched: list[tuple[Track, Track]]) -> None:
        """The filter's update of every matched track at once with its detection."""
        if not matched:
            return
        mean = np.array([t.mean for t, _ in matched])
        covariance = np.array([t.covariance for t, _ in matched])
        measured = self._measurement(np.array([d.box for _, d in matched]))
        mean, covariance = self.kalman.update(mean, covariance, measured)
        for (track, detection), m, c, box in zip(matched, mean, covariance, self._state_boxes(mean)):
            track.mean, track.covariance, track.box = m, c, box
            track.absorb(detection, self.frame)

    def _start(self, detections: list[Track]) -> list[Track]:
        """New tracks from ``detections``, numbered in order; confirmed at once only on the stream's first frame."""
        if not detections:
            return []
        mean, covariance = self.kalman.initiate(self._measurement(np.array([d.box for d in detections])))
        for detection, m, c in zip(detections, mean, covariance):
            self.last_id += 1
            detection.id, detection.mean, detection.covariance = self.last_id, m, c
            detection.state, detection.confirmed = TRACKED, self.frame == 1
            detection.frame = detection.start_frame = self.frame
        return detections

    def _keep(self, started: list[Track], refound: list[Track], newly_lost: list[Track]) -> None:
        """The track lists after a frame: tracked (still, then new, then found again), lost (then newly lost), with
        expired tracks and the younger of each overlapping tracked / lost pair dropped."""
        self.tracked = _joined([t for t in self.tracked if t.state == TRACKED], started + refound)
        back = {id(t) for t in self.tracked}
        self.lost = [t for t in self.lost + newly_lost if id(t) not in back and t.state == LOST]
        if not self.tracked or not self.lost:
            return
        cost = iou_cost(self._boxes(self.tracked), self._boxes(self.lost))
        drop_tracked, drop_lost = set(), set()
        for p, q in zip(*np.nonzero(cost < 0.15)):
            p_age = self.tracked[p].frame - self.tracked[p].start_frame
            q_age = self.lost[q].frame - self.lost[q].start_frame
            (drop_lost.add(q) if p_age > q_age else drop_tracked.add(p))
        self.tracked = [t for i, t in enumerate(self.tracked) if i not in drop_tracked]
        self.lost = [t for i, t in enumerate(self.lost) if i not in drop_lost]

    def _confirmed(self) -> TrackedBoxes:
        tracks = [t for t in self.tracked if t.confirmed]
        xywh = np.array([t.box for t in tracks], np.float64).reshape(-1, 4)
        angles = None if not tracks or tracks[0].angle is None else np.array([t.angle for t in tracks], np.float64)
        return TrackedBoxes(xywh, np.array([t.id for t in tracks], np.int64),
                            np.array([t.index for t in tracks], np.int64), angles)

    # -- box forms ---------------------------------------------------------------------------------------------
    def _measurement(self, xywh: np.ndarray) -> np.ndarray:
        """(N, 4) x, y, w, h -> what the filter measures: x, y, w / h, h (ByteTrack) or x, y, w, h."""
        if not self.kalman.aspect:
            return xywh
        return np.concatenate((xywh[:, :2], xywh[:, 2:3] / xywh[:, 3:4], xywh[:, 3:4]), 1)

    def _boxes(self, tracks: list[Track]) -> np.ndarray:
        """Each track's current box as the overlap needs it (see :meth:`_corners`)."""
        if not tracks:
            return np.zeros((0, 4))
        angles = None if tracks[0].angle is None else np.array([t.angle for t in tracks])
        return self._corners(np.array([t.box for t in tracks]), angles)

    @staticmethod
    def _corners(xywh: np.ndarray, angles: np.ndarray | None) -> np.ndarray:
        """(N, 4) x1, y1, x2, y2 of (N, 4) x, y, w, h boxes, or (N, 5) x, y, w, h, angle for oriented ones."""
        if angles is not None:
            return np.concatenate((xywh, np.reshape(angles, (-1, 1))), 1)
        return xywh_to_xyxy(xywh)

    def _state_boxes(self, mean: np.ndarray) -> np.ndarray:
        """(N, 4) x, y, w, h of filter states (N, 8)."""
        box = mean[:, :4].copy()
        if self.kalman.aspect:
            box[:, 2] *= box[:, 3]
        return box


def _joined(first: list[Track], second: list[Track]) -> list[Track]:
    """``first`` then the tracks of ``second`` not already in it."""
    seen = {id(t) for t in first}
    return first + [t for t in second if id(t) not in seen]
