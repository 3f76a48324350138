"""Latency vs throughput report for an OpenVINO IR: what each hint, stream and request count gives here.

Measures, on this machine and device:
- inference only (a fixed random input, as ``benchmark_app`` does): LATENCY sync (p50/p90/p99),
  THROUGHPUT and CUMULATIVE_THROUGHPUT async (FPS), a sweep over streams x infer requests, and batch
  sizes for a dynamic model;
- end to end (decode, letterbox, infer, NMS, results) for the LATENCY and THROUGHPUT hints, beside them;
- start-up: compile and first inference without cache, with a cold and a warm ``cache_dir``, without mmap;
- peak resident memory of the process during each measurement.
Then plots latency against throughput (PNG) and recommends the settings for each goal.
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

from .errors import UsageError
from .memory import PeakMemory
from .tables import csv_text, text_table

LOGGER = logging.getLogger("yolo_openvino")


@dataclass
class Measurement:
    """One configuration's figures. ``kind``: 'inference' (fixed input) or 'end_to_end' (real images)."""

    name: str
    kind: str
    settings: dict  # the YOLO(...) runtime arguments that reproduce it
    batch: int
    fps: float  # images per second
    p50_ms: float  # per-inference latency (a batch for batch > 1)
    p90_ms: float
    p99_ms: float
    iterations: int
    streams: int | None = None  # what the compiled model actually uses
    requests: int | None = None
    peak_rss_mb: float | None = None
    precision: str | None = None  # INFERENCE_PRECISION_HINT read back from the compiled model


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

    def table(self) -> str:
        head = ["Configuration", "Kind", "Batch", "Streams", "Requests", "Precision", "FPS", "p50 ms", "p90 ms", "p99 ms",
                "Peak RSS MB"]
        body = [[m.name, m.kind.replace("_", " "), str(m.batch), _text(m.streams), _text(m.requests), _text(m.precision),
                 f"{m.fps:.2f}", f"{m.p50_ms:.1f}", f"{m.p90_ms:.1f}", f"{m.p99_ms:.1f}", _text(m.peak_rss_mb)]
                for m in self.measurements]
        lines = [f"Latency vs throughput of {self.model} on {self.device} (end to end on {self.images})",
                 *text_table(head, body), "", "Start-up (load + compile, first inference):",
                 *text_table(["Loading", "Compile s", "First inference ms", "Peak RSS MB"],
                        [[s.name, f"{s.compile_s:.3f}", f"{s.first_inference_ms:.1f}", _text(s.peak_rss_mb)]
                         for s in self.startup])]
        for goal, rec in self.recommendation.items():
            lines.append(f"Best for {goal}: {rec['name']} ({rec['figure']}) -> {rec['python']}  |  CLI: {rec['cli']}")
        return "\n".join(lines)

    __str__ = table

    def to_dict(self) -> dict:
        return {"model": self.model, "device": self.device, "images": self.images,
                "measurements": [asdict(m) for m in self.measurements], "startup": [asdict(s) for s in self.startup],
                "recommendation": self.recommendation, "files": self.files}

    def to_csv(self) -> str:
        rows = [{**asdict(m), "settings": json.dumps(m.settings)} for m in self.measurements]
        return csv_text(rows, list(Measurement.__dataclass_fields__))

    def save(self, folder: str | Path) -> dict[str, str]:
        from .io_utils import write_text_atomic

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


# -- inference-only measurements ------------------------------------------------------------------------------------
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
    from .backends.openvino_backend import in_flight

    for _ in in_flight(compiled, requests, ((data, None) for _ in range(requests))):
        pass  # warm-up, not counted (benchmark_app does the same)
    latencies: list[float] = []
    started = time.perf_counter()

    def feed():
        count = 0
        while time.perf_counter() - started < seconds or count < min_iterations:
            count += 1
            yield data, None

    for request, _ in in_flight(compiled, requests, feed()):
        latencies.append(request.latency)
    return len(latencies) * len(data) / (time.perf_counter() - started), latencies


def _percentiles(latencies: list[float]) -> tuple[float, float, float]:
    p50, p90, p99 = np.percentile(latencies, [50, 90, 99])
    return round(float(p50), 2), round(float(p90), 2), round(float(p99), 2)


def _streams(info: dict) -> int | None:
    """NUM_STREAMS as compiled; None where the device reports none or AUTO/MULTI reports it per device."""
    streams = info.get("NUM_STREAMS")
    return streams if isinstance(streams, int) else None


def measure_inference(path, name: str, settings: dict, seconds: float, batch: int = 1, sync: bool = False,
                      device: str | None = None) -> Measurement:
    """Compile ``path`` with ``settings`` (YOLO runtime arguments) and measure inference only."""
    from .backends.openvino_backend import OpenVINOBackend

    with PeakMemory() as memory:
        backend = OpenVINOBackend(path, device=device or "cpu", **settings)
        compiled = backend.compiled
        data = random_input(compiled, batch, tuple(backend.metadata.imgsz))
        if sync:
            fps, latencies = run_sync(compiled, data, seconds)
            requests = 1
        else:
            requests = int(settings.get("requests") or backend.optimal_requests)
            fps, latencies = run_async(compiled, data, requests, seconds)
    return Measurement(name, "inference", settings, batch, round(fps, 2), *_percentiles(latencies), len(latencies),
                       _streams(backend.info()), requests, memory.peak_mb, backend.inference_precision)


# -- end to end -------------------------------------------------------------------------------------------------------
def measure_end_to_end(path, name: str, settings: dict, images: list, seconds: float, sync: bool,
                       device: str | None = None) -> Measurement:
    """Predict real images with the pipeline users get: one at a time (sync) or as a stream (async)."""
    from .backends.openvino_backend import OpenVINOBackend
    from .predictor import PredictSettings, Predictor

    with PeakMemory() as memory:
        backend = OpenVINOBackend(path, device=device or "cpu", **settings)
        predictor = Predictor(backend, PredictSettings())
        list(predictor.stream(images[:1], asynchronous=False))  # warm up
        latencies, count = [], 0
        started = time.perf_counter()
        while time.perf_counter() - started < seconds or count < len(images):
            if sync:
                t0 = time.perf_counter()
                list(predictor.stream([images[count % len(images)]], asynchronous=False))
                latencies.append((time.perf_counter() - t0) * 1000)
                count += 1
            else:
                results = list(predictor.stream(images, asynchronous=True))
                count += len(results)
                latencies += [r.latency_ms for r in results]  # read -> result, queueing in the pipeline included
        fps = count / (time.perf_counter() - started)
    info = backend.info()
    requests = 1 if sync else int(settings.get("requests") or info.get("OPTIMAL_NUMBER_OF_INFER_REQUESTS") or 1)
    return Measurement(name, "end_to_end", settings, 1, round(fps, 2), *_percentiles(latencies), count,
                       _streams(info), requests, memory.peak_mb, backend.inference_precision)


# -- start-up -----------------------------------------------------------------------------------------------------------
def measure_startup(path, device: str | None = None) -> list[Startup]:
    """Compile + first inference: no cache, no cache without mmap, cold cache (writes the blob), warm cache."""
    from .backends.openvino_backend import OpenVINOBackend

    cases = []
    with tempfile.TemporaryDirectory(prefix="yolo-ov-cache-") as cache:
        for name, options in (("no cache", {}), ("no cache, mmap off", {"mmap": False}),
                              ("cache_dir cold", {"cache_dir": cache}), ("cache_dir warm", {"cache_dir": cache})):
            with PeakMemory() as memory:
                backend = OpenVINOBackend(path, device=device or "cpu", mode="latency", **options)
                data = random_input(backend.compiled, 1, tuple(backend.metadata.imgsz))
                started = time.perf_counter()
                backend.compiled(data)
                first_ms = (time.perf_counter() - started) * 1000
            cases.append(Startup(name, round(backend.load_time_s, 3), round(first_ms, 1), memory.peak_mb))
            del backend
    return cases


# -- plot and recommendation ----------------------------------------------------------------------------------------------
def plot_tradeoff(report: ModesReport, png: Path) -> Path | None:
    """Latency (p50) against throughput, one point per configuration; None when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        LOGGER.warning("matplotlib is not installed: no plot (pip install 'yolo-openvino[report]')")
        return None
    fig, ax = plt.subplots(figsize=(8, 5.5), dpi=120)
    for kind, marker in (("inference", "o"), ("end_to_end", "s")):
        points = [m for m in report.measurements if m.kind == kind]
        ax.scatter([m.fps for m in points], [m.p50_ms for m in points], marker=marker, s=45,
                   label=kind.replace("_", " "))
        for m in points:
            ax.annotate(m.name, (m.fps, m.p50_ms), fontsize=7, xytext=(4, 3), textcoords="offset points")
    ax.set_xlabel("throughput (images/s), higher is better")
    ax.set_ylabel("latency p50 (ms per inference), lower is better")
    ax.set_title(f"{Path(report.model).name} on {report.device}", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    png.parent.mkdir(parents=True, exist_ok=True)
    tmp = png.with_name(png.name + ".tmp.png")
    fig.savefig(tmp)
    plt.close(fig)
    os.replace(tmp, png)
    return png


def recommend(measurements: list[Measurement], model: str) -> dict:
    """The inference-only configuration with the lowest p50 latency and the one with the highest FPS."""
    candidates = [m for m in measurements if m.kind == "inference"]
    if not candidates:
        return {}
    fastest = min((m for m in candidates if m.batch == 1), key=lambda m: m.p50_ms)
    busiest = max(candidates, key=lambda m: m.fps)
    out = {}
    for goal, m, figure in (("latency", fastest, f"p50 {fastest.p50_ms:.1f} ms"),
                            ("throughput", busiest, f"{busiest.fps:.1f} images/s")):
        args = ", ".join(f"{k}={v!r}" for k, v in m.settings.items())
        cli = " ".join(f"{k}={v}" for k, v in m.settings.items())
        extra = f" (batch {m.batch}: pass batch={m.batch} to predict)" if m.batch > 1 else ""
        out[goal] = {"name": m.name, "figure": figure + extra, "settings": m.settings, "batch": m.batch,
                     "python": f"YOLO({model!r}, {args})", "cli": f"yolo-ov predict model={model} {cli}"}
    return out


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
    """The end-to-end inputs: a source, a dataset's val images, or generated images (without decode)."""
    from .sources import expand_sources

    if source is not None:
        files = [str(f) for f in expand_sources(source)][:count]
        return files, str(source)
    if data is not None:
        from .datasets import load_dataset

        return [str(f) for f in load_dataset(data).images("val")[:count]], str(data)
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (480, 640, 3), dtype=np.uint8) for _ in range(8)]
    return images, "8 generated 640x480 arrays (no decode)"


REPORT_KEYS = ("source", "data", "seconds", "device", "sweep", "startup", "project", "name", "batches", "verbose")


def latency_throughput_report(model, source=None, data: str | None = None, seconds: float = 3.0,
                              device: str | None = None, sweep: bool = True, batches=(1, 2, 4, 8),
                              startup: bool = True, project: str | Path = "runs/detect", name: str = "modes",
                              verbose: bool = True) -> ModesReport:
    """Measure every mode of an OpenVINO IR on this machine; save JSON, CSV and a PNG; return the report."""
    from tqdm import tqdm

    import openvino as ov

    from .backends import model_format
    from .backends.openvino_backend import find_ir, read_ir_metadata, resolve_device
    from .outputs import next_run_dir

    if model_format(model) != "openvino":
        raise UsageError(f"{model}: the latency/throughput report needs an OpenVINO IR. Export one first: "
                         f"yolo-ov export model={model} format=openvino")
    xml = find_ir(model)  # fail now, with the fix, if the folder holds no IR
    images, images_text = report_images(source, data)
    dynamic = read_ir_metadata(xml).dynamic
    device_name = resolve_device(device or "cpu", ov.Core().available_devices)
    cores = os.cpu_count() or 1
    plan = [
        ("LATENCY sync", "inference", {"mode": "latency"}, 1, True),
        ("LATENCY sync", "end_to_end", {"mode": "latency"}, 1, True),
        ("THROUGHPUT async", "inference", {"mode": "throughput"}, 1, False),
        ("THROUGHPUT async", "end_to_end", {"mode": "throughput"}, 1, False),
        ("CUMULATIVE_THROUGHPUT async", "inference", {"mode": "cumulative_throughput"}, 1, False),
    ]
    if sweep:
        plan += [(f"streams={s} requests={r}", "inference", {"mode": "throughput", "streams": s, "requests": r}, 1, False)
                 for s, r in sweep_grid(cores)]
    if dynamic:
        plan += [(f"THROUGHPUT batch={b}", "inference", {"mode": "throughput"}, b, False) for b in batches if b > 1]
    measurements = []
    with tqdm(plan, desc="modes", unit="config", disable=None if verbose else True) as bar:
        for label, kind, settings, batch, sync in bar:
            bar.set_postfix_str(f"{label} ({kind.replace('_', ' ')})")
            # CUMULATIVE_THROUGHPUT spreads requests over devices: it runs on AUTO (all devices) unless told.
            dev = device or ("AUTO" if settings["mode"] == "cumulative_throughput" else None)
            if kind == "inference":
                measurements.append(measure_inference(model, label, settings, seconds, batch, sync, dev))
            else:
                measurements.append(measure_end_to_end(model, label, settings, images, seconds, sync, dev))
    starts = measure_startup(model, device) if startup else []
    report = ModesReport(str(model), device_name, images_text, measurements, starts, recommend(measurements, str(model)))
    report.save(next_run_dir(project, name))
    if verbose:
        print(report.table())
        print("saved " + ", ".join(report.files.values()))
    return report
