"""The prediction pipeline: sources -> letterbox (worker threads) -> backend -> NMS -> Result, in input order.

Decoding and letterboxing run in a small thread pool ahead of inference (OpenCV releases the GIL), the
backend's ``infer_many`` keeps the device busy, and every stage is bounded so memory does not grow with
the number of inputs.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Iterator

import numpy as np

from .backends.base import UINT8_NHWC_BGR, Backend
from ..errors import UsageError
from ..utils.files import Cover
from ..options import DEFAULT_MAX_DET
from ..options import defaults
from .processing import PAD_VALUE, Letterbox, letterbox, round_to_stride, to_chw_float
from ..results.result import Result
from .sources import SourceItem, is_video, iter_entries, read_streams
from ..tasks import task_named

LOGGER = logging.getLogger("yolo_openvino")
_DEFAULT = defaults("predict")  # the user-facing defaults are declared once, in options/


@dataclass
class PredictSettings:
    """What the pipeline needs: the user's predict options (checked) plus internal switches."""

    imgsz: int | tuple[int, int] | None = _DEFAULT["imgsz"]  # None: the model's own size
    conf: float = _DEFAULT["conf"]
    iou: float = _DEFAULT["iou"]
    max_det: int | None = _DEFAULT["max_det"]  # None: 300, or the rows of a model that outputs rows
    classes: list[int] | None = _DEFAULT["classes"]
    agnostic_nms: bool = _DEFAULT["agnostic_nms"]
    batch: int = _DEFAULT["batch"]
    workers: int = _DEFAULT["workers"]
    retina_masks: bool = _DEFAULT["retina_masks"]  # segment: masks at the original image size
    multi_label: bool = False  # every (box, class) pair above conf, as validation does
    keep_images: bool = False  # keep each file's decoded image on its Result (else read again when plotted)
    reduced_decode: bool = _DEFAULT["reduced_decode"]  # large JPEGs decoded at 1/2, 1/4, 1/8 (files.reduction)
    # Letterbox padding: square | minimal | val (see processing.letterbox_shape). None: minimal wherever shapes may
    # vary (a .pt, a dynamic export: the reference's .pt predict pads so too), else square.
    pad: str | None = None


@dataclass
class Prepared:
    """One letterboxed image ready for batching."""

    item: SourceItem
    input: np.ndarray  # letterboxed, in the backend's input kind: (3, h, w) float32 RGB or (h, w, 3) uint8 BGR
    box: Letterbox
    orig_shape: tuple[int, int]
    preprocess_ms: float
    started: float  # perf_counter() when reading began: the start of this input's end-to-end latency


@dataclass
class PredictStats:
    images: int = 0
    skipped: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)  # skipped name -> why (its one-line read error)
    seconds: float = 0.0
    speed_sums: dict[str, float] = field(default_factory=lambda: dict.fromkeys(("preprocess", "inference", "postprocess"), 0.0))
    input_shape: tuple[int, ...] | None = None  # (B, 3, H, W) of the last batch

    def speed_line(self) -> str:
        """``Speed: 1.2ms preprocess, 35.0ms inference, 0.8ms postprocess per image at shape (1, 3, 640, 640)``."""
        n = max(self.images, 1)
        parts = ", ".join(f"{total / n:.1f}ms {stage}" for stage, total in self.speed_sums.items())
        return f"Speed: {parts} per image at shape {self.input_shape}"


class Predictor:
    """Runs a backend over a source with shared pre/post-processing."""

    def __init__(self, backend: Backend, settings: PredictSettings):
        self.backend = backend
        self.settings = settings
        self.meta = backend.metadata
        self.task = task_named(self.meta.task)
        self.stats = PredictStats()
        if self.meta.dynamic:
            self.target = round_to_stride(settings.imgsz or self.meta.imgsz, self.meta.stride)
            self.batch = max(settings.batch, 1) if self.meta.batch <= 1 else min(max(settings.batch, 1), self.meta.batch)
        else:
            self.target = tuple(self.meta.imgsz)
            if settings.imgsz and round_to_stride(settings.imgsz, self.meta.stride, warn=False) != self.target:
                LOGGER.info("model has a static input %s; imgsz %s ignored", list(self.target), settings.imgsz)
            self.batch = self.meta.batch
        self.max_det = self._max_det(settings.max_det)
        # Shapes may only vary per image where the model is dynamic and each batch holds one image.
        self.pad = (settings.pad or "minimal") if self.meta.dynamic and self.batch == 1 else "square"

    def _max_det(self, asked: int | None) -> int:
        """``max_det`` as asked, else the default; a rows output gives at most the rows it was made with, so
        asking for more is an error rather than a silent cap."""
        if not self.meta.outputs_rows:
            return asked or DEFAULT_MAX_DET
        if asked and asked > self.meta.max_det:
            made_by = "its NMS" if self.meta.nms_in_graph else "its NMS-free head's top-k"
            raise UsageError(f"max_det={asked}: this {self.meta.format} model gives at most {self.meta.max_det} "
                             f"detections per image ({made_by}, fixed at export); re-export it with max_det={asked}")
        return asked or self.meta.max_det

    # -- stages ------------------------------------------------------------------------------------------------
    def _prepare(self, entry) -> Prepared | SourceItem:
        started = time.perf_counter()
        item = entry() if callable(entry) else entry
        if item.error:
            return item
        prepare = self.task.prepare if self.task.crops else letterbox  # a classifier crops instead
        model_input, box = prepare(item.image, self.target, self.pad, self.meta.stride, full_shape=item.orig_shape)
        if self.backend.input_kind != UINT8_NHWC_BGR:
            model_input = to_chw_float(model_input)  # here, in the worker threads, not in the inference loop
        orig_shape = item.orig_shape
        if not self.settings.keep_images and item.name != "array":  # an array is the caller's own: no cost to keep
            item = replace(item, image=None, full_shape=None)
        return Prepared(item, model_input, box, orig_shape, (time.perf_counter() - started) * 1000, started)

    def _prepared_stream(self, entries: list, concurrent: bool = False) -> Iterator[Prepared]:
        """Letterboxed images in order, decoded ahead in worker threads; unreadable ones reported and skipped.

        A single still image is prepared right here: a thread pool would only add its start-up to the latency.
        ``concurrent``: ``entries`` is a list of streams (lists of entries), read at once (``sources.read_streams``).
        """
        reduce = self.settings.reduced_decode and not self.settings.keep_images
        # a letterbox needs the longer side, a classifier's centre crop every side
        fit = (Cover(*self.target) if self.task.prepare else self.target) if reduce else None
        single = not concurrent and len(entries) == 1 and not is_video(entries[0])
        entries = read_streams(entries, fit) if concurrent else iter_entries(entries, fit=fit)
        if single:
            yield from self._checked(self._prepare(next(entries)))
            return
        depth = max(4, 2 * self.batch * max(self.settings.workers, 1))
        with ThreadPoolExecutor(max_workers=max(self.settings.workers, 1), thread_name_prefix="yolo-prep") as pool:
            pending: deque = deque()
            for entry in entries:
                pending.append(pool.submit(self._prepare, entry))
                if len(pending) >= depth:
                    yield from self._checked(pending.popleft().result())
            while pending:
                yield from self._checked(pending.popleft().result())

    def _checked(self, prepared) -> Iterator[Prepared]:
        if isinstance(prepared, SourceItem):
            LOGGER.warning("skipping %s", prepared.error)
            self.stats.skipped.append(prepared.name)
            self.stats.errors[prepared.name] = prepared.error
            return
        yield prepared

    def _batches(self, prepared: Iterator[Prepared]) -> Iterator[tuple[np.ndarray, list[Prepared]]]:
        """Group into model batches. A static batch model gets full batches: the last one is padded."""
        group: list[Prepared] = []
        for p in prepared:
            if group and p.input.shape != group[0].input.shape:  # non-square padding: shapes differ per image
                yield self._stack(group), group
                group = []
            group.append(p)
            if len(group) == self.batch:
                yield self._stack(group), group
                group = []
        if group:
            yield self._stack(group), group

    def _stack(self, group: list[Prepared]) -> np.ndarray:
        images = group[0].input[None] if len(group) == 1 else np.stack([p.input for p in group])
        h, w = (images.shape[1:3] if self.backend.input_kind == UINT8_NHWC_BGR else images.shape[2:4])
        self.stats.input_shape = (max(len(group), self.batch if not self.meta.dynamic else 1), 3, int(h), int(w))
        if not self.meta.dynamic and len(group) < self.batch:
            pad = PAD_VALUE if self.backend.input_kind == UINT8_NHWC_BGR else PAD_VALUE / 255
            filler = np.full((self.batch - len(group), *images.shape[1:]), pad, dtype=images.dtype)
            images = np.concatenate((images, filler))
        return images

    def _postprocess(self, outputs: list[np.ndarray], group: list[Prepared], infer_ms: float) -> list[Result]:
        """The task's post-processing of a batch's outputs into one Result per image (padding images dropped)."""
        started = time.perf_counter()
        outputs = [o[: len(group)] for o in outputs]  # drop the padding of a partial batch
        predictions = self.task.postprocess(outputs, self.meta, self.settings, self.max_det)
        input_hw = group[0].input.shape[:2] if self.backend.input_kind == UINT8_NHWC_BGR else group[0].input.shape[1:]
        results = []
        for p, prediction in zip(group, predictions):
            fields = self.task.fields(prediction, p.box, p.orig_shape, input_hw, self.settings)
            results.append(Result(p.item.name, p.orig_shape, names=self.meta.names, image=p.item.image,
                                  frame=p.item.frame, stream=p.item.stream, **fields))
        post_ms = (time.perf_counter() - started) * 1000 / len(group)
        for p, r in zip(group, results):
            r.speed = {"preprocess": p.preprocess_ms, "inference": infer_ms / len(group), "postprocess": post_ms}
            r.latency_ms = (time.perf_counter() - p.started) * 1000
        return results

    # -- entry points ----------------------------------------------------------------------------------------------
    def stream(self, entries: list, asynchronous: bool = True, concurrent: bool = False) -> Iterator[Result]:
        """Yield a Result per readable image of ``entries`` (from ``sources.expand_sources``), in input order; with
        ``concurrent``, ``entries`` lists streams (``sources.stream_groups``) read at once, each stream's frames in
        order and tagged with its index (``Result.stream``)."""
        started = time.perf_counter()
        batches = self._batches(self._prepared_stream(entries, concurrent))
        if asynchronous:
            for outputs, group, infer_ms in self.backend.infer_many(batches):
                yield from self._emit(self._postprocess(outputs, group, infer_ms))
        else:
            for batch, group in batches:
                t0 = time.perf_counter()
                outputs = self.backend.infer(batch)
                yield from self._emit(self._postprocess(outputs, group, (time.perf_counter() - t0) * 1000))
        self.stats.seconds = time.perf_counter() - started

    def batches(self, entries: list) -> Iterator[tuple[np.ndarray, list[Prepared]]]:
        """The model's input batches of ``entries`` (B, 3, H, W) and what each image is, without inference: for
        what reads a network's layers instead of its outputs (embed, visualize). Unreadable images are skipped."""
        return self._batches(self._prepared_stream(entries))

    def _emit(self, results: list[Result]) -> Iterator[Result]:
        self.stats.images += len(results)
        for r in results:
            for stage, ms in r.speed.items():
                self.stats.speed_sums[stage] += ms
        yield from results



class InputTransform:
    """What predict does to an image before the model: ``transform(image)`` (H, W, 3) BGR uint8 -> (3, h, w) float32
    RGB in [0, 1] at the model's input size (the letterbox; a classifier's resize and centre crop). The reference's
    ``model.transforms``, for every task."""

    def __init__(self, backend: Backend, settings: PredictSettings | None = None):
        self.predictor = Predictor(backend, settings or PredictSettings(reduced_decode=False))

    def __call__(self, image: np.ndarray) -> np.ndarray:
        from .sources import expand_sources

        batch, _ = next(self.predictor.batches(expand_sources(image)))
        return to_chw_float(batch[0]) if self.predictor.backend.input_kind == UINT8_NHWC_BGR else batch[0]

    def __repr__(self) -> str:
        kind = "centre crop" if self.predictor.task.crops else f"letterbox (pad {self.predictor.pad})"
        return f"InputTransform({kind} to {list(self.predictor.target)}, BGR uint8 -> RGB float32 CHW in [0, 1])"
