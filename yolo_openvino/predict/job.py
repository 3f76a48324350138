"""The predict job: what one ``predict`` call asks for, routed once (:class:`PredictRequest`), and its run:
locally through the pipeline, with saving, showing and the console lines, or as a Ray Data job.

The facade (``YOLO.predict``) owns the model and its compiled backends; everything else a call needs is here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Iterator

from ..errors import UsageError
from ..options import NETWORK, OUTPUT, SCALE, TRACKING, check, defaults, names, split_runtime

LOGGER = logging.getLogger("yolo_openvino")
_LOCAL_ONLY = (*names(OUTPUT), *names(NETWORK), "show", "workers", "nms")  # what a Ray job does not do


@dataclass
class PredictRequest:
    """One predict call's checked options, by what they are for.

    runtime: OpenVINO options given (options.RUNTIME); scale: the SCALE options given (engine=ray and its
    cluster); outputs: options.OUTPUT (save, save_txt, save_conf, save_json, save_crop, save_frames, project, name, exist_ok;
    defaults filled); settings: the pipeline's
    (PredictSettings fields given: imgsz, conf, iou, max_det, classes, agnostic_nms, batch, workers);
    nms: the public head choice (False: a YOLO26 checkpoint's NMS-free head); network: what only a .pt's own
    network does (options.NETWORK: augment, visualize, embed), those asked for.
    """

    source: Any
    runtime: dict
    scale: dict
    outputs: dict  # project None: the task's (runs/detect, runs/segment)
    show: bool
    nms: bool | None
    settings: dict = field(default_factory=dict)
    tracking: dict = field(default_factory=dict)  # track: tracker, persist, trail
    network: dict = field(default_factory=dict)  # augment, visualize, embed: only those asked for

    @classmethod
    def parse(cls, source, kwargs: dict, command: str = "predict") -> "PredictRequest":
        """Check every option of ``command`` (predict, track; one line for a bad one); a display is checked now,
        before any work. Tracking's own options (``options.TRACKING``) go to ``tracking``."""
        # a command's own defaults where they differ from predict's (track: conf 0.1), as if given
        own = {k: v for k, v in defaults(command).items() if k in defaults("predict") and defaults("predict")[k] != v}
        values = check(command, {**own, "source": source, **kwargs}, where=command)
        tracking = {k: values.pop(k) for k in names(TRACKING) if k in values}
        network = {k: v for k, v in ((k, values.pop(k)) for k in names(NETWORK) if k in values) if v}
        runtime, values = split_runtime(values)
        scale = {k: values.pop(k) for k in names(SCALE) if k in values}
        outputs = {k: v for k, v in defaults(command).items() if k in names(OUTPUT)}
        outputs.update({k: values.pop(k) for k in names(OUTPUT) if k in values})
        request = cls(values.pop("source"), runtime, scale, outputs, bool(values.pop("show", False)),
                      values.pop("nms", None), {k: v for k, v in values.items() if v is not None}, tracking, network)
        if request.show and not request.on_ray:
            from ..results.annotate import check_display

            check_display()  # no display is one clear line, not a failure after the first image
        return request

    @property
    def on_ray(self) -> bool:
        return self.scale.get("engine") == "ray"

    @property
    def keeps_images(self) -> bool:
        """Saving pictures needs each original image past the pipeline (else it is dropped once read)."""
        return any(self.outputs[k] for k in ("save", "save_crop", "save_frames"))

    @property
    def saves(self) -> bool:
        return self.keeps_images or self.outputs["save_txt"] or self.outputs["save_json"]

    def runtime_for(self, fmt: str, model_runtime: dict, entries: list) -> dict:
        """The runtime options to compile with: an OpenVINO model with no ``mode`` (in the call or the model)
        gets the sensible one for its use: latency for one image, throughput for many or a video."""
        from ..runtime.sources import is_video

        runtime = dict(self.runtime)
        if fmt == "openvino" and "mode" not in runtime and "mode" not in model_runtime:
            many = len(entries) > 1 or any(is_video(e) for e in entries)
            runtime["mode"] = "throughput" if many else "latency"
        return runtime


def run_local(backend, request: PredictRequest, entries: list, verbose: bool, load_line: str | None):
    """(results iterator, its PredictStats): the pipeline over ``entries``, saved, shown and printed as asked."""
    from ..runtime.predictor import PredictSettings, Predictor  # OpenCV comes with it: only where images are read

    predictor = Predictor(backend, PredictSettings(**request.settings, keep_images=request.keeps_images))
    results = predictor.stream(entries)  # one image: one request of the pool, its output read in place
    return finish(results, request, predictor, entries, verbose, load_line), predictor.stats


def finish(results: Iterator, request: PredictRequest, predictor, entries: list, verbose: bool,
           load_line: str | None, trail: int = 0) -> Iterator:
    """``results`` saved, shown and printed as ``request`` asks (``trail``: frames of track history drawn)."""
    if request.saves:
        from .saving import save_results

        o = request.outputs
        project = o["project"] or predictor.task.project
        results = save_results(results, project, o, trail)
    if request.show:
        from ..runtime.sources import is_video

        # a key press per image for one still image; videos and many images play on
        results = _shown(results, wait_ms=1 if len(entries) > 1 or any(is_video(e) for e in entries) else 0)
    if verbose:
        from .console import printed

        results = printed(results, entries, predictor.stats, load_line)
    return results


def _shown(results: Iterator, wait_ms: int) -> Iterator:
    for result in results:
        result.show(wait_ms)
        yield result


def run_on_ray(model_path, request: PredictRequest, model_runtime: dict):
    """engine=ray: a Ray Data job writing one Parquet row per input; returns its DatasetPrediction."""
    from ..scale.batch import check_output_given, predict_dataset

    check_output_given(request.scale.get("output"))
    if request.source is None:
        raise UsageError("engine=ray needs a source: a folder, glob, list of paths or URIs (s3://, gs://)")
    given = {**request.outputs, **request.settings, **request.network, "show": request.show, "nms": request.nms}
    ignored = sorted(k for k in _LOCAL_ONLY if given.get(k) and given[k] != defaults("predict").get(k))
    if ignored:
        LOGGER.warning("ignored with engine=ray: %s", ignored)
    settings = {k: v for k, v in request.settings.items() if k not in _LOCAL_ONLY}
    scale = request.scale
    return predict_dataset(model_path, request.source, scale["output"], address=scale.get("address"),
                           actors=scale.get("actors"), cpus_per_actor=scale.get("cpus_per_actor"),
                           runtime={**model_runtime, **request.runtime}, **settings)


def warn_unused_scale_options(request: PredictRequest) -> None:
    unused = sorted(k for k, v in request.scale.items() if k != "engine" and v is not None)
    if unused:
        LOGGER.warning("ignored without engine=ray: %s", unused)
