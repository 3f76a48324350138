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
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..errors import UsageError
from ..tasks import task_named
from ..utils.tables import csv_text, text_table
from .measure import Measurement, Startup, _Runs, Config, measure_once, measure_startup, summarize
from .plot import plot_tradeoff
from .recommend import recommend

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
        plot = plot_tradeoff(f"{Path(self.model).name} on {self.device}", self.measurements, self.recommendation,
                             folder / "latency_vs_throughput.png")
        self.files = {"csv": str(write_text_atomic(folder / "modes.csv", self.to_csv()))}
        if plot:
            self.files["png"] = str(plot)
        self.files["json"] = str(folder / "modes.json")
        write_text_atomic(folder / "modes.json", json.dumps(self.to_dict(), indent=1))
        return self.files


def _text(value) -> str:
    return "-" if value is None else f"{value:.0f}" if isinstance(value, float) else str(value)


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
    from ..runtime.backends.openvino_devices import resolve_device
    from ..runtime.backends.openvino_files import find_ir, read_ir_metadata
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
