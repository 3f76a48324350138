"""Measuring an OpenVINO IR's speed: inference-only loops (a fixed random input, as ``benchmark_app``), the end-to-end
pipeline on real images, one configuration (hint, streams, requests, batch) per run, start-up with and without a
model cache; every figure a median with its min-max over interleaved repeats."""

from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import dataclass, field

import numpy as np

from ..utils.memory import PeakMemory

LOGGER = logging.getLogger("yolo_openvino")

# The least run-to-run noise we assume (shared 2-core machines drift by this much between seconds). The
# stated range of a figure is at least its median +- the noise (this floor, or what the repeats showed), so
# a setting must beat a simpler one by more than the noise before we recommend it, and a re-measurement
# lands inside the range.
NOISE_FLOOR = 0.10


@dataclass
class Sample:
    """One repeat of one configuration: images per second and per-inference latencies (ms)."""

    fps: float
    latencies: list[float]


@dataclass
class Measurement:
    """One configuration's figures over its repeats. ``kind``: 'inference' (fixed input) or 'end_to_end'."""

    name: str
    kind: str
    settings: dict  # the YOLO(...) runtime arguments that reproduce it
    batch: int
    fps: float  # images per second, median of the repeats
    fps_min: float
    fps_max: float
    p50_ms: float  # per-inference latency (a batch for batch > 1), median of the repeats' p50
    p50_min: float
    p50_max: float
    p90_ms: float  # over every latency of every repeat
    p99_ms: float
    iterations: int  # inferences (or images end to end) over every repeat
    repeats: int = 1
    streams: int | None = None  # what the compiled model actually uses
    requests: int | None = None
    peak_rss_mb: float | None = None
    precision: str | None = None  # read back from the compiled model (bf16 / f32 / int8)
    input_hw: tuple[int, int] | None = None  # inference only: the pipeline's input for the first image

    @classmethod
    def from_samples(cls, name: str, kind: str, settings: dict, batch: int, samples: list[Sample],
                     **compiled) -> Measurement:
        fps = [s.fps for s in samples]
        p50 = [float(np.percentile(s.latencies, 50)) for s in samples]
        every = [v for s in samples for v in s.latencies]
        p90, p99 = np.percentile(every, [90, 99])
        return cls(name, kind, settings, batch, _r(np.median(fps)), _r(min(fps)), _r(max(fps)), _r(np.median(p50)),
                   _r(min(p50)), _r(max(p50)), _r(p90), _r(p99), len(every), len(samples), **compiled)

    def fps_range(self, noise: float = NOISE_FLOOR) -> tuple[float, float]:
        """(low, high) images/s this setting gives: its repeats' range, at least median +- ``noise``."""
        return min(self.fps_min, self.fps * (1 - noise)), max(self.fps_max, self.fps * (1 + noise))

    def p50_range(self, noise: float = NOISE_FLOOR) -> tuple[float, float]:
        """(low, high) p50 latency in ms, likewise."""
        return min(self.p50_min, self.p50_ms * (1 - noise)), max(self.p50_max, self.p50_ms * (1 + noise))

    def spread(self) -> float:
        """The repeats' relative spread, (max - min) / median, the larger of FPS and p50."""
        return max((self.fps_max - self.fps_min) / self.fps, (self.p50_max - self.p50_min) / self.p50_ms)


def machine_noise(rows: list[Measurement]) -> float:
    """This run's noise: the widest relative spread of its rows, at least NOISE_FLOOR.

    The widest, not the typical: a neighbour waking up mid-run slows whichever row runs then, and a
    re-measurement later may meet the same. On a quiet machine every spread is a few percent and the floor
    rules; on a busy one only a setting that wins by more than the worst drift is worth its complexity.
    """
    return max([NOISE_FLOOR, *(m.spread() for m in rows)])


def _r(value) -> float:
    return round(float(value), 2)


@dataclass
class Startup:
    """Compile (read + compile) and first inference times for one way of loading."""

    name: str
    compile_s: float
    first_inference_ms: float
    peak_rss_mb: float | None = None


# -- inference-only loops -----------------------------------------------------------------------------------------------
def random_input(compiled, batch: int, imgsz: tuple[int, int]) -> np.ndarray:
    """A random input of the compiled model's type and layout (u8 NHWC with in-graph preprocessing, else f32 NCHW)."""
    port = compiled.input(0)
    rng = np.random.default_rng(0)
    partial = port.get_partial_shape()
    if port.get_element_type().get_type_name() == "u8":
        shape = (batch, *imgsz, 3) if partial.is_dynamic or partial[3].get_length() == 3 else (batch, 3, *imgsz)
        return rng.integers(0, 256, shape, dtype=np.uint8)
    return rng.random((batch, 3, *imgsz), dtype=np.float32)


def run_sync(compiled, data: np.ndarray, seconds: float, min_iterations: int = 10) -> tuple[float, list[float]]:
    """One request, ``infer`` in a loop (benchmark_app ``-api sync``). Returns (images/s, latencies in ms)."""
    import openvino as ov

    request = compiled.create_infer_request()
    request.set_input_tensor(ov.Tensor(data))
    request.infer()  # warm-up, not counted (benchmark_app does the same)
    latencies = []
    started = time.perf_counter()
    while time.perf_counter() - started < seconds or len(latencies) < min_iterations:
        request.infer()
        latencies.append(request.latency)
    return len(latencies) * len(data) / (time.perf_counter() - started), latencies


def run_async(compiled, data: np.ndarray, requests: int, seconds: float, min_iterations: int = 10) -> tuple[float, list[float]]:
    """``requests`` infer requests kept busy (benchmark_app ``-api async``). Returns (images/s, latencies in ms).

    Runs on the same in-flight ring as prediction (backends.openvino_backend.in_flight). Latencies are
    OpenVINO's own per-request start-to-completion times (``InferRequest.latency``).
    """
    from ..runtime.backends.openvino_backend import in_flight

    ring = [compiled.create_infer_request() for _ in range(requests)]
    for _ in in_flight(ring, ((data, None) for _ in range(requests))):
        pass  # warm-up, not counted (benchmark_app does the same)
    latencies: list[float] = []
    started = time.perf_counter()

    def feed():
        count = 0
        while time.perf_counter() - started < seconds or count < min_iterations:
            count += 1
            yield data, None

    for request, _ in in_flight(ring, feed()):
        latencies.append(request.latency)
    return len(latencies) * len(data) / (time.perf_counter() - started), latencies


def run_end_to_end(predictor, images: list, seconds: float, sync: bool) -> tuple[float, list[float]]:
    """The pipeline users get over real images: one at a time (sync) or as a stream (async).

    Latency: sync, one image's call from read to result; async, each image's read-to-result time,
    queueing in the pipeline included. Returns (images/s, latencies in ms).
    """
    list(predictor.stream(images[:1], asynchronous=False))  # warm-up, not counted, as for inference only
    latencies: list[float] = []
    count = 0
    started = time.perf_counter()
    while time.perf_counter() - started < seconds or count < min(len(images), 10):
        if sync:
            t0 = time.perf_counter()
            list(predictor.stream([images[count % len(images)]], asynchronous=False))
            latencies.append((time.perf_counter() - t0) * 1000)
            count += 1
        else:
            results = list(predictor.stream(images, asynchronous=True))
            count += len(results)
            latencies += [r.latency_ms for r in results]
    return count / (time.perf_counter() - started), latencies


# -- one configuration ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)  # hashed by identity: one entry per planned run
class Config:
    """A configuration to measure: runtime ``settings`` (YOLO arguments), batch, sync or async."""

    name: str
    settings: dict
    batch: int = 1
    sync: bool = False
    end_to_end: bool = False  # also run the pipeline on real images, on the same compiled model
    device: str | None = None


@dataclass
class _Runs:
    """Samples of one configuration so far, and what its compiled model reported."""

    inference: list[Sample] = field(default_factory=list)
    end_to_end: list[Sample] = field(default_factory=list)
    compiled: dict = field(default_factory=dict)


def _streams(info: dict) -> int | None:
    """NUM_STREAMS as compiled; None where the device reports none or AUTO/MULTI reports it per device."""
    streams = info.get("NUM_STREAMS")
    return streams if isinstance(streams, int) else None


def pipeline_input_hw(predictor, images: list) -> tuple[int, int]:
    """(h, w) of the input the pipeline gives the model for the first image; the model's own without images.

    Inference only is measured at this shape, so it compares like for like with end to end: a dynamic
    model gets each image padded only to the stride (a 480-high, 640-wide photo is fed as (480, 640) at
    imgsz=640, not (640, 640)), which is less compute than the square a fixed random input would have.
    """
    if images:
        stream = predictor.stream(images[:1], asynchronous=False)
        try:
            next(stream, None)  # the first image only (a video source would otherwise run to its end)
        finally:
            stream.close()
        if predictor.stats.input_shape:
            return tuple(predictor.stats.input_shape[2:])
    return tuple(predictor.meta.imgsz)


def measure_once(path, config: Config, images: list, seconds: float, runs: _Runs) -> None:
    """Compile ``config`` and add one inference-only sample (and one end-to-end sample) to ``runs``."""
    from ..runtime.backends.openvino_backend import OpenVINOBackend
    from ..runtime.predictor import Predictor, PredictSettings

    with PeakMemory() as memory:
        backend = OpenVINOBackend.from_ir(path, device=config.device, **config.settings)
        predictor = Predictor(backend, PredictSettings(batch=config.batch))
        hw = pipeline_input_hw(predictor, images)
        data = random_input(backend.compiled, config.batch, hw)
        requests = 1 if config.sync else backend.ring_size  # as the pipeline's ring: both kinds of row alike
        fps, latencies = (run_sync(backend.compiled, data, seconds) if config.sync
                          else run_async(backend.compiled, data, requests, seconds))
        runs.inference.append(Sample(fps, latencies))
        if config.end_to_end:
            runs.end_to_end.append(Sample(*run_end_to_end(predictor, images, seconds, config.sync)))
    peak = max(filter(None, (runs.compiled.get("peak_rss_mb"), memory.peak_mb)), default=None)
    runs.compiled = {"streams": _streams(backend.info()), "requests": requests, "peak_rss_mb": peak,
                     "precision": backend.inference_precision, "input_hw": hw}


def summarize(config: Config, runs: _Runs) -> list[Measurement]:
    """The configuration's rows: inference only, then end to end when measured."""
    rows = [Measurement.from_samples(config.name, "inference", config.settings, config.batch, runs.inference,
                                     **runs.compiled)]
    if runs.end_to_end:
        rows.append(Measurement.from_samples(config.name, "end_to_end", config.settings, 1, runs.end_to_end,
                                             **{**runs.compiled, "input_hw": None}))  # each image its own
    return rows


def measure(path, config: Config, images: list | None = None, seconds: float = 3.0, repeats: int = 3) -> list[Measurement]:
    """One configuration alone, ``repeats`` times (the report interleaves many; this re-checks one)."""
    runs = _Runs()
    for _ in range(repeats):
        measure_once(path, config, images or [], seconds, runs)
    return summarize(config, runs)


# -- start-up -----------------------------------------------------------------------------------------------------------
def measure_startup(path, device: str | None = None) -> list[Startup]:
    """Compile + first inference: no cache, no cache without mmap, cold cache (writes the blob), warm cache."""
    from ..runtime.backends.openvino_backend import OpenVINOBackend

    cases = []
    with tempfile.TemporaryDirectory(prefix="yolo-ov-cache-") as cache:
        for name, options in (("no cache", {}), ("no cache, mmap off", {"mmap": False}),
                              ("cache_dir cold", {"cache_dir": cache}), ("cache_dir warm", {"cache_dir": cache})):
            with PeakMemory() as memory:
                backend = OpenVINOBackend.from_ir(path, device=device, mode="latency", **options)
                data = random_input(backend.compiled, 1, tuple(backend.metadata.imgsz))
                started = time.perf_counter()
                backend.compiled(data)
                first_ms = (time.perf_counter() - started) * 1000
            cases.append(Startup(name, round(backend.load_time_s, 3), round(first_ms, 1), memory.peak_mb))
            del backend
    return cases


