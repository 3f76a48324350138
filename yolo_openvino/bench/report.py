"""Latency vs throughput report for an OpenVINO IR: what each hint, stream and request count gives here.

Measures, on this machine and device, every configuration in ``repeats`` interleaved rounds (round 1 runs
them all, then round 2, ...), so slow drift of a shared machine lands on every configuration alike:
- inference only (a fixed random input, as ``benchmark_app`` does): LATENCY sync (p50/p90/p99),
  THROUGHPUT async (FPS), CUMULATIVE_THROUGHPUT where more than one device exists, a sweep over streams x
  infer requests, and batch sizes for a dynamic model;
- end to end (decode, letterbox, infer, NMS, results) for the LATENCY and THROUGHPUT hints, on the very
  compiled model, right after its inference-only run and for as long, so the two compare like for like;
- start-up: compile and first inference without cache, with a cold and a warm ``cache_dir``, without mmap;
- peak resident memory of the process during each configuration.
Each row shows the median and the min–max of its repeats. A setting is recommended only when it beats
the simpler ones beyond their ranges; otherwise the simpler one is (see ``recommend``).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..errors import UsageError
from ..utils.memory import PeakMemory
from ..tasks import task_named
from ..utils.tables import csv_text, text_table

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


@dataclass
class ModesReport:
    """The report as data; ``table()`` prints it, ``save()`` writes JSON, CSV and the PNG plot."""

    model: str
    device: str
    images: str
    measurements: list[Measurement]
    startup: list[Startup]
    recommendation: dict = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # what was left out and why

    def table(self) -> str:
        head = ["Configuration", "Kind", "Batch", "Input", "Streams", "Requests", "Precision", "FPS median (min-max)",
                "p50 ms median (min-max)", "p90 ms", "p99 ms", "Peak RSS MB"]
        body = [[m.name, m.kind.replace("_", " "), str(m.batch), "x".join(map(str, m.input_hw or ())) or "per image",
                 _text(m.streams), _text(m.requests), _text(m.precision),
                 f"{m.fps:.2f} ({m.fps_min:.2f}-{m.fps_max:.2f})", f"{m.p50_ms:.1f} ({m.p50_min:.1f}-{m.p50_max:.1f})",
                 f"{m.p90_ms:.1f}", f"{m.p99_ms:.1f}", _text(m.peak_rss_mb)]
                for m in self.measurements]
        repeats = max((m.repeats for m in self.measurements), default=0)
        title = (f"Latency vs throughput of {self.model} on {self.device} (end to end on {self.images}; "
                 f"{repeats} interleaved repeats per row)")
        lines = [title, *text_table(head, body), *self.notes]
        if self.startup:
            lines += ["", "Start-up (load + compile, first inference):",
                      *text_table(["Loading", "Compile s", "First inference ms", "Peak RSS MB"],
                                  [[s.name, f"{s.compile_s:.3f}", f"{s.first_inference_ms:.1f}", _text(s.peak_rss_mb)]
                                   for s in self.startup])]
        for goal, rec in self.recommendation.items():
            lines.append(f"Best for {goal}: {rec['name']} ({rec['figure']}; {rec['why']}) -> {rec['python']}  |  "
                         f"CLI: {rec['cli']}")
        return "\n".join(lines)

    __str__ = table

    def to_dict(self) -> dict:
        return {"model": self.model, "device": self.device, "images": self.images,
                "measurements": [asdict(m) for m in self.measurements], "startup": [asdict(s) for s in self.startup],
                "recommendation": self.recommendation, "notes": self.notes, "files": self.files}

    def to_csv(self) -> str:
        rows = [{**asdict(m), "settings": json.dumps(m.settings)} for m in self.measurements]
        return csv_text(rows, list(Measurement.__dataclass_fields__))

    def save(self, folder: str | Path) -> dict[str, str]:
        from ..utils.files import write_text_atomic

        folder = Path(folder)
        plot = plot_tradeoff(self, folder / "latency_vs_throughput.png")
        self.files = {"csv": str(write_text_atomic(folder / "modes.csv", self.to_csv()))}
        if plot:
            self.files["png"] = str(plot)
        self.files["json"] = str(folder / "modes.json")
        write_text_atomic(folder / "modes.json", json.dumps(self.to_dict(), indent=1))
        return self.files


def _text(value) -> str:
    return "-" if value is None else f"{value:.0f}" if isinstance(value, float) else str(value)


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


# -- recommendation ---------------------------------------------------------------------------------------------------------
def simplicity(m: Measurement, goal: str) -> tuple:
    """Sort key, simplest first: batch 1, fewest arguments, the goal's own hint, fewest streams and requests."""
    return (m.batch, len(m.settings), m.settings.get("mode") != goal, m.settings.get("streams") or 0,
            m.settings.get("requests") or 0)


def _clearly_worse(m: Measurement, best: Measurement, goal: str, noise: float) -> bool:
    """True when ``m``'s range lies wholly on the wrong side of ``best``'s range."""
    if goal == "latency":
        return m.p50_range(noise)[0] > best.p50_range(noise)[1]
    return m.fps_range(noise)[1] < best.fps_range(noise)[0]


def recommend_for(goal: str, candidates: list[Measurement], noise: float = NOISE_FLOOR) -> tuple[Measurement, str] | None:
    """The simplest candidate that the best one does not beat beyond both ranges, and why it was chosen.

    latency: lowest p50 with one image in flight (batch 1, one request): what a caller waiting on each
    image sees. throughput: highest FPS, any batch.
    """
    if goal == "latency":
        candidates = [m for m in candidates if m.batch == 1 and (m.requests or 1) == 1]
    if not candidates:
        return None
    figure = (lambda m: m.p50_ms) if goal == "latency" else (lambda m: -m.fps)
    best = min(candidates, key=figure)
    chosen = min((m for m in candidates if not _clearly_worse(m, best, goal, noise)), key=lambda m: simplicity(m, goal))
    others = [m for m in candidates if m is not chosen]
    if not others:
        why = "the only setting measured"
    elif all(_clearly_worse(m, chosen, goal, noise) for m in others):
        why = "beats every other setting beyond the ranges"
    elif chosen is best:
        why = "the best measured and the simplest of those within its range"
    else:
        why = f"the simplest within the range of the best measured ({best.name})"
    return chosen, why


def recommend(measurements: list[Measurement], model: str) -> dict:
    """For latency and throughput: the setting to use, its figure with its range, and how to ask for it."""
    candidates = [m for m in measurements if m.kind == "inference"]
    noise = machine_noise(candidates)
    out = {}
    for goal in ("latency", "throughput"):
        picked = recommend_for(goal, candidates, noise)
        if picked is None:
            continue
        m, why = picked
        low, high = m.p50_range(noise) if goal == "latency" else m.fps_range(noise)
        figure = (f"p50 {m.p50_ms:.1f} ms, expect {low:.1f}-{high:.1f}" if goal == "latency"
                  else f"{m.fps:.1f} images/s, expect {low:.1f}-{high:.1f}")
        args = ", ".join(f"{k}={v!r}" for k, v in m.settings.items())
        cli = " ".join(f"{k}={v}" for k, v in m.settings.items())
        extra = f" (batch {m.batch}: pass batch={m.batch} to predict)" if m.batch > 1 else ""
        out[goal] = {"name": m.name, "figure": figure + extra, "why": why, "range": [round(low, 2), round(high, 2)],
                     "noise": round(noise, 3),
                     "settings": m.settings, "batch": m.batch,
                     "python": f"YOLO({model!r}, {args})", "cli": f"yolo-ov predict model={model} {cli}"}
    return out


# -- plot -------------------------------------------------------------------------------------------------------------------------
def label_box(annotation, renderer):
    """The text's own box in display pixels (an Annotation's extent would include its leader line)."""
    from matplotlib.text import Text

    annotation.update_positions(renderer)  # where the offset text lands, before any draw
    return Text.get_window_extent(annotation, renderer)


def place_labels(ax, points: list[tuple[float, float, str]], fontsize: float = 7) -> list:
    """Annotate each (x, y, text) at the first nearby offset where its box stays inside the axes and covers
    no other label and no marker.

    Tries 8 directions at growing distances (points); a label moved away from its point gets a thin
    leader line. Returns the annotation artists. Needs a figure that can render (Agg).
    """
    from matplotlib.transforms import Bbox

    ax.figure.canvas.draw()  # settle the axis limits first: the extents below are in display pixels
    ax.set_autoscale_on(False)
    renderer = ax.figure.canvas.get_renderer()
    inside = ax.get_window_extent(renderer)
    marker = 5 * ax.figure.dpi / 72  # half a marker, in pixels
    obstacles = [Bbox.from_extents(px - marker, py - marker, px + marker, py + marker)
                 for px, py in ax.transData.transform([(x, y) for x, y, _ in points])] if points else []
    artists = []
    directions = [(1, 1), (1, -1), (-1, 1), (-1, -1), (1, 0), (-1, 0), (0, 1), (0, -1)]
    for x, y, text in points:
        annotation = None
        for distance, (dx, dy) in ((d, v) for d in (5, 14, 26, 40, 56, 76, 100) for v in directions):
            if annotation is not None:
                annotation.remove()
            annotation = ax.annotate(
                text, (x, y), xytext=(dx * distance, dy * distance), textcoords="offset points", fontsize=fontsize,
                ha="left" if dx > 0 else "right" if dx < 0 else "center",
                va="bottom" if dy > 0 else "top" if dy < 0 else "center",
                arrowprops=None if distance == 5 else {"arrowstyle": "-", "lw": 0.5, "color": "0.5"})
            box = label_box(annotation, renderer)
            fits = inside.containsx(box.x0) and inside.containsx(box.x1) and inside.containsy(box.y0) \
                and inside.containsy(box.y1)
            if fits and not any(box.expanded(1.05, 1.15).overlaps(other) for other in obstacles):
                break
        obstacles.append(label_box(annotation, renderer))
        artists.append(annotation)
    return artists


def plot_tradeoff(report: ModesReport, png: Path) -> Path | None:
    """Latency (p50) against throughput with min–max bars; the recommended points starred; None without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        LOGGER.warning("matplotlib is not installed: no plot (pip install 'yolo-openvino[report]')")
        return None
    fig, ax = plt.subplots(figsize=(11, 6), dpi=120)
    labels = []
    for kind, marker in (("inference", "o"), ("end_to_end", "s")):
        points = [m for m in report.measurements if m.kind == kind]
        if not points:
            continue
        ax.errorbar([m.fps for m in points], [m.p50_ms for m in points], fmt=marker, ms=5, capsize=2, lw=0.8,
                    xerr=[[m.fps - m.fps_min for m in points], [m.fps_max - m.fps for m in points]],
                    yerr=[[m.p50_ms - m.p50_min for m in points], [m.p50_max - m.p50_ms for m in points]],
                    label=f"{kind.replace('_', ' ')} (median, min-max)")
        labels += [(m.fps, m.p50_ms, m.name + (" (e2e)" if kind == "end_to_end" else "")) for m in points]
    tags: dict[str, list[str]] = {}
    for goal, color in (("latency", "crimson"), ("throughput", "darkgreen")):
        rec = report.recommendation.get(goal)
        if rec is None:
            continue
        m = next(m for m in report.measurements if m.kind == "inference" and m.name == rec["name"])
        ax.scatter([m.fps], [m.p50_ms], marker="*", s=300, facecolors="none", edgecolors=color, linewidths=1.4,
                   zorder=5, label=f"recommended for {goal}")
        tags.setdefault(m.name, []).append(goal)
    labels = [(x, y, t + (f"  [best for {' and '.join(tags[t])}]" if t in tags else "")) for x, y, t in labels]
    ax.set_xlabel("throughput (images/s), higher is better")
    ax.set_ylabel("latency p50 (ms per inference), lower is better")
    ax.set_title(f"{Path(report.model).name} on {report.device}", fontsize=10)
    ax.grid(alpha=0.3)
    ax.margins(0.15)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1), borderaxespad=0)  # beside: data stays clear
    fig.tight_layout()
    place_labels(ax, labels)
    png.parent.mkdir(parents=True, exist_ok=True)
    tmp = png.with_name(png.name + ".tmp.png")
    fig.savefig(tmp)
    plt.close(fig)
    os.replace(tmp, png)
    return png


# -- the whole report -------------------------------------------------------------------------------------------------------
def sweep_grid(cores: int) -> list[tuple[int, int]]:
    """(streams, requests) pairs: streams in powers of two up to the core count, 1x and 2x requests per stream."""
    streams, s = [], 1
    while s <= max(cores, 1):
        streams.append(s)
        s *= 2
    if streams[-1] != cores and cores > 1:
        streams.append(cores)
    return [(s, r) for s in streams for r in (s, 2 * s)]


def report_images(source=None, data: str | None = None, count: int = 32) -> tuple[list, str]:
    """The end-to-end inputs: the first ``count`` of a source's or a dataset's val images, or generated images
    (without decode); and what they are, in words ("the first 32 of 128 images of coco128.yaml")."""
    from ..runtime.sources import expand_sources

    if source is not None:
        files = [str(f) for f in expand_sources(source)]
        return files[:count], _first(count, len(files), str(source))
    if data is not None:
        from ..evaluation.datasets import load_dataset

        files = [str(f) for f in load_dataset(data).images("val")]
        return files[:count], _first(count, len(files), f"val images of {data}")
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (480, 640, 3), dtype=np.uint8) for _ in range(8)]
    return images, "8 generated 640x480 arrays (no decode)"


def _first(count: int, total: int, what: str) -> str:
    return f"the first {count} of {total} {what}" if total > count else f"{total} {what}"


def report_plan(device: str | None, devices: list[str], cores: int, sweep: bool, dynamic: bool,
                batches) -> tuple[list[Config], list[str]]:
    """The configurations valid for this device, and notes on what was left out and why."""
    plan = [Config("LATENCY sync", {"mode": "latency"}, sync=True, end_to_end=True, device=device),
            Config("THROUGHPUT async", {"mode": "throughput"}, end_to_end=True, device=device)]
    notes = []
    target = (device or "CPU").upper()
    if target.startswith(("AUTO", "MULTI")) and len(devices) > 1:
        plan.append(Config("CUMULATIVE_THROUGHPUT async", {"mode": "cumulative_throughput"}, device=device))
    else:
        # CUMULATIVE_THROUGHPUT spreads requests over several devices; on one device it is THROUGHPUT.
        notes.append(f"CUMULATIVE_THROUGHPUT left out: it needs device=AUTO with several devices "
                     f"(available: {', '.join(devices)})")
    if sweep:
        plan += [Config(f"streams={s} requests={r}", {"mode": "throughput", "streams": s, "requests": r}, device=device)
                 for s, r in sweep_grid(cores)]
    if dynamic:
        plan += [Config(f"THROUGHPUT batch={b}", {"mode": "throughput"}, batch=b, device=device)
                 for b in batches if b > 1]
    return plan, notes


def latency_throughput_report(model, source=None, data: str | None = None, images: int = 32, seconds: float = 3.0,
                              repeats: int = 3,
                              device: str | None = None, sweep: bool = True, batches=(1, 2, 4, 8),
                              startup: bool = True, project: str | Path | None = None, name: str = "modes",
                              verbose: bool = True) -> ModesReport:
    """Measure every mode of an OpenVINO IR on this machine; save JSON, CSV and a PNG; return the report."""
    from tqdm import tqdm

    from ..runtime.backends import model_format
    from ..runtime.backends.openvino_backend import find_ir, read_ir_metadata, resolve_device
    from ..predict.saving import next_run_dir
    from ..utils.telemetry import import_openvino

    if model_format(model) != "openvino":
        raise UsageError(f"{model}: the latency/throughput report needs an OpenVINO IR. Export one first: "
                         f"yolo-ov export model={model} format=openvino")
    xml = find_ir(model)  # fail now, with the fix, if the folder holds no IR
    images, images_text = report_images(source, data, images)
    devices = import_openvino().Core().available_devices
    device_name = resolve_device(device, devices)
    plan, notes = report_plan(device, devices, os.cpu_count() or 1, sweep, read_ir_metadata(xml).dynamic, batches)
    runs = {config: _Runs() for config in plan}
    with tqdm(total=repeats * len(plan), desc="modes", unit="run", disable=None if verbose else True) as bar:
        for round_ in range(1, repeats + 1):  # interleaved: every configuration once per round
            for config in plan:
                bar.set_postfix_str(f"round {round_}/{repeats}: {config.name}")
                measure_once(model, config, images, seconds, runs[config])
                bar.update()
    measurements = [row for config in plan for row in summarize(config, runs[config])]
    starts = measure_startup(model, device) if startup else []
    report = ModesReport(str(model), device_name, images_text, measurements, starts,
                         recommend(measurements, str(model)), notes=notes)
    report.save(next_run_dir(project or task_named(read_ir_metadata(xml).task).project, name).resolve())
    if verbose:
        print(report.table())
        print("saved " + ", ".join(report.files.values()))
    return report
