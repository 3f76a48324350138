"""The track job: predict's ordered async pipeline with a tracker per stream after it.

One stream (a video, a folder of frames, a user's loop with ``persist=True``) or many at once (a list, a
``.streams`` file): every stream is read by its own thread, all share one compiled model and its request
ring, each stream's frames stay in order and go to that stream's own tracker (``Result.stream`` says which).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Iterator

import numpy as np

from ..errors import UsageError
from ..runtime.processing import xywh_to_xyxy
from ..results.result import Detections, Result
from . import TrackedBoxes, Tracker, TrackerConfig

class StreamTrackers:
    """One tracker per stream, made on first use. A stream's tracker starts afresh when its sequence changes: a
    new video file, or video to images; images (files or arrays) in a row are one sequence."""

    def __init__(self, config: TrackerConfig):
        self.config = config
        self.trackers: dict[int, Tracker] = {}
        self.sequences: dict[int, tuple] = {}

    @property
    def needs_images(self) -> bool:
        """Camera-motion compensation (BoT-SORT) looks at every frame."""
        return self.config.motion_compensation

    def tracker_for(self, result: Result) -> Tracker:
        key = result.stream or 0
        sequence = ("video", result.path) if result.frame is not None else ("images",)
        tracker = self.trackers.get(key)
        if tracker is None:
            tracker = self.trackers[key] = Tracker(self.config)
        elif self.sequences.get(key) != sequence:
            tracker.reset()
        self.sequences[key] = sequence
        return tracker


def check_trackable(task: str) -> None:
    from ..tasks import tasks

    trackable = [name for name, entry in tasks().items() if entry.trackable]
    if task not in trackable:
        raise UsageError(f"track needs a model that finds objects ({', '.join(trackable)}); a {task} model has no "
                         "boxes to track: use predict")


def tracked(results: Iterator[Result], trackers: StreamTrackers, keep_images: bool) -> Iterator[Result]:
    """Each result with only its tracked objects, their boxes the trackers' (with ``boxes.id``), in the same order;
    a frame on which the tracker confirms nothing keeps its detections, without ids, as the reference's does.

    ``keep_images``: leave each frame on its result (for saving); otherwise it is dropped once the tracker has
    seen it (kept only where motion compensation needs it).
    """
    for result in results:
        tracker = trackers.tracker_for(result)
        image = result.image if tracker.motion is not None else None
        xywh, angles = _boxes_of(result)
        tracks = tracker.update(xywh, result.boxes.confidence, result.boxes.class_id, image, angles)
        out = with_tracks(result, tracks) if len(tracks.ids) else result
        if not keep_images and out.path != "array":  # an array is the caller's own: no cost to keep
            out.image = None
        yield out


def _boxes_of(result: Result) -> tuple[np.ndarray, np.ndarray | None]:
    """(N, 4) centre x, y, width, height of each detection and, for oriented boxes, (N,) their angles."""
    if result.obb is not None:
        return result.obb.xywhr[:, :4], result.obb.xywhr[:, 4]
    return result.boxes.xywh, None


def with_tracks(result: Result, tracks: TrackedBoxes) -> Result:
    """The result's tracked detections (masks, keypoints kept) with the trackers' boxes and ids."""
    selected = result[tracks.indices]
    confidence, class_id = selected.boxes.confidence, selected.boxes.class_id
    if result.obb is not None:
        from ..tasks.obb.oriented import OrientedBoxes
        from ..runtime.rotated import regularize

        # a frame with no confirmed track has no angles to read (the tracker cannot tell boxes from none)
        angles = tracks.angles if tracks.angles is not None else np.zeros(len(tracks.xywh))
        xywhr = regularize(np.concatenate((tracks.xywh, angles[:, None]), 1).astype(np.float32))
        obb = OrientedBoxes(xywhr, confidence, class_id, result.orig_shape, tracks.ids)
        return replace(selected, obb=obb, boxes=Detections(obb.xyxy, confidence, class_id, result.orig_shape, tracks.ids))
    xyxy = xywh_to_xyxy(tracks.xywh)
    return replace(selected, boxes=Detections(xyxy, confidence, class_id, result.orig_shape, tracks.ids))


def run_tracking(backend, request, groups: list[list], trackers: StreamTrackers, verbose: bool,
                 load_line: str | None):
    """(results iterator, its PredictStats): ``groups`` (``sources.stream_groups``) through the pipeline, tracked,
    then saved, shown and printed as predict does."""
    from ..predict.job import finish
    from ..runtime.predictor import PredictSettings, Predictor

    save = request.keeps_images
    settings = PredictSettings(**request.settings, keep_images=save or trackers.needs_images)
    predictor = Predictor(backend, settings)
    check_trackable(predictor.task.name)
    several = len(groups) > 1
    results = predictor.stream(groups if several else groups[0], concurrent=several)
    results = tracked(results, trackers, keep_images=save)
    # the console numbers frames by stream when there are several (``video 3/8 (frame 10/240)``)
    entries = [group[0] for group in groups if group] if several else groups[0]
    return finish(results, request, predictor, entries, verbose, load_line, request.tracking.get("trail", 0)), \
        predictor.stats
