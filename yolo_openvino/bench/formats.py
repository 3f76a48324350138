"""The per-format benchmark table: export to every format, validate each, and tabulate size, mAP and speed.

Every format is validated with the same square letterbox at batch 1 so the rows compare like for like
(plain ``val`` of a PyTorch model uses rectangular batches, which scores a little differently). A format
that fails to export (❌) or to run (❎) gets its row with the reason, and the run goes on.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..errors import UsageError, suggestion
from ..tasks import task_named
from ..utils.tables import csv_text, text_table

LOGGER = logging.getLogger("yolo_openvino")

STATUS_ICONS = {"passed": "✅", "run_failed": "❎", "export_failed": "❌"}


@dataclass(frozen=True)
class FormatSpec:
    """One row of the table: its label, the name ``format=`` accepts, and the export arguments (None: PyTorch)."""

    label: str
    key: str
    export: dict | None


FORMATS = (
    FormatSpec("PyTorch", "pytorch", None),
    FormatSpec("TorchScript", "torchscript", {"format": "torchscript"}),
    FormatSpec("ONNX", "onnx", {"format": "onnx"}),
    FormatSpec("OpenVINO FP32", "openvino", {"format": "openvino"}),
    FormatSpec("OpenVINO FP16", "openvino_fp16", {"format": "openvino", "half": True}),
    FormatSpec("OpenVINO INT8", "openvino_int8", {"format": "openvino", "int8": True}),
)
_ALIASES = {"openvino_fp32": "openvino", "fp32": "openvino", "fp16": "openvino_fp16", "half": "openvino_fp16",
            "int8": "openvino_int8", "pt": "pytorch", "torch": "pytorch"}


def select_formats(format=None) -> list[FormatSpec]:
    """``None``/``"all"`` -> every format; else one name or several (list or comma-separated), e.g. 'onnx,int8'."""
    if format is None or format == "all":
        return list(FORMATS)
    names = format if isinstance(format, (list, tuple)) else str(format).split(",")
    by_key = {f.key: f for f in FORMATS}
    by_key.update({f.label.lower().replace(" ", "_"): f for f in FORMATS})
    chosen = []
    for name in names:
        key = str(name).strip().lower().replace(" ", "_").replace("-", "_")
        key = _ALIASES.get(key, key)
        if key not in by_key:
            raise UsageError(f"format='{name}'{suggestion(key, [f.key for f in FORMATS])}: expected one of "
                             f"{[f.key for f in FORMATS]} (or several, comma-separated)")
        if by_key[key] not in chosen:
            chosen.append(by_key[key])
    return chosen


@dataclass
class BenchmarkRow:
    """One format's outcome. ``status``: passed | run_failed (exported, failed to run) | export_failed."""

    format: str
    status: str
    size_mb: float | None = None
    precision: str | None = None  # what the runtime computed in, read back from it (bf16 / f32)
    score: float | None = None  # the task's own figure, named by BenchmarkResult.metric (mAP50-95(M), acc_top1, ...)
    ms_per_image: float | None = None  # inference only, batch 1, mean over the dataset
    fps: float | None = None  # 1000 / ms_per_image
    export_s: float | None = None
    path: str | None = None
    error: str | None = None

    @property
    def icon(self) -> str:
        return STATUS_ICONS[self.status]


@dataclass
class BenchmarkResult:
    """The table as data: ``rows`` in format order, plus what was measured on what."""

    rows: list[BenchmarkRow]
    model: str
    data: str
    imgsz: tuple[int, int]
    device: str | None = None
    files: dict[str, str] = field(default_factory=dict)  # csv / json paths once saved
    metric: str = "mAP50-95(B)"  # what each row's score is: the task's own figure, named as in results_dict

    def row(self, format: str) -> BenchmarkRow:
        label = select_formats(format)[0].label
        return next(r for r in self.rows if r.format == label)

    def table(self) -> str:
        header = ["Format", "Status", "Size (MB)", "Precision", self.metric, "Inference time (ms/im)", "FPS"]
        lines = [[r.format, _status_text(r), _num(r.size_mb, 1), r.precision or "-", _num(r.score, 4),
                  _num(r.ms_per_image, 2), _num(r.fps, 2)] for r in self.rows]
        title = f"Benchmarks of {self.model} on {self.data} at imgsz={list(self.imgsz)}"
        return "\n".join([title, *text_table(header, lines)])

    __str__ = table

    def to_dict(self) -> dict:
        return {"model": self.model, "data": self.data, "imgsz": list(self.imgsz), "device": self.device,
                "metric": self.metric,
                "rows": [{**asdict(r), "status_icon": r.icon} for r in self.rows]}

    def to_csv(self) -> str:
        return csv_text([asdict(r) for r in self.rows], list(BenchmarkRow.__dataclass_fields__))

    def save(self, folder: str | Path) -> dict[str, str]:
        from ..utils.files import write_text_atomic

        folder = Path(folder)
        self.files = {"csv": str(write_text_atomic(folder / "benchmarks.csv", self.to_csv())),
                      "json": str(write_text_atomic(folder / "benchmarks.json", json.dumps(self.to_dict(), indent=1)))}
        return self.files


def _status_text(row: BenchmarkRow) -> str:
    return row.icon if row.error is None else f"{row.icon} {row.error}"


def _num(value, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _reason(error: BaseException) -> str:
    """One line naming the failure, short enough for a table cell."""
    text = " ".join(str(error).split()) or type(error).__name__
    text = f"{type(error).__name__}: {text}"
    return text if len(text) <= 120 else text[:117] + "..."


def benchmark_formats(model, ckpt_path, data: str = "coco8.yaml", imgsz=640, format=None, device: str | None = None,
                      project: str | Path | None = None, name: str = "benchmark", fraction: float = 1.0,
                      verbose: bool = True) -> BenchmarkResult:
    """Export ``model`` (our YOLOModel, loaded from ``ckpt_path``) to each format, validate each, and
    return the table. Exports go to the run folder (``project/name``), where the CSV and JSON are written too.
    """
    from tqdm import tqdm

    from ..predict.saving import next_run_dir
    from ..runtime.processing import round_to_stride

    size = round_to_stride(imgsz, int(max(model.stride)))
    task = task_named(model.task)
    metric = task.figure_name
    specs = select_formats(format)
    run_dir = next_run_dir(project or task.project, name)
    rows = []
    with tqdm(specs, desc="benchmark", unit="format", disable=None if verbose else True) as bar:
        for spec in bar:
            bar.set_postfix_str(spec.label)
            row = _benchmark_one(model, Path(ckpt_path), spec, data, size, run_dir, device, fraction, task.metric)
            rows.append(row)
            if verbose:
                tqdm.write(f"{row.format}: {_status_text(row)}"
                           + (f" {metric} {row.score:.4f}, {row.ms_per_image:.1f} ms/im" if row.status == "passed" else ""))
    result = BenchmarkResult(rows, str(ckpt_path), str(data), size, device, metric=metric)
    result.save(run_dir)
    if verbose:
        print(result.table())
        print(f"saved {result.files['csv']} and {result.files['json']}")
    return result


def _benchmark_one(model, ckpt_path: Path, spec: FormatSpec, data, imgsz, run_dir: Path, device, fraction,
                   metric: str) -> BenchmarkRow:
    import time

    from ..runtime.backends import load_backend
    from ..export import default_output, export
    from ..utils.files import file_size_mb
    from ..evaluation.validation import validate

    row = BenchmarkRow(spec.label, "passed")
    if spec.export is None:
        path, fmt = ckpt_path, "pytorch"
    else:
        # Each row in a folder of its own, under the name the export gives by default (FP32 and FP16 share it).
        output = default_output(run_dir / spec.key / ckpt_path.name, spec.export["format"], spec.export.get("int8", False))
        args = dict(spec.export, imgsz=imgsz, output=str(output))
        if args.get("int8"):
            args.update(data=data, fraction=fraction)
        started = time.perf_counter()
        try:
            path, fmt = export(model, ckpt_path, **args), spec.export["format"]
        except Exception as e:  # noqa: BLE001 - one format failing must not stop the table; the reason is shown
            LOGGER.warning("%s: export failed: %s", spec.label, e, exc_info=LOGGER.isEnabledFor(logging.DEBUG))
            return BenchmarkRow(spec.label, "export_failed", error=_reason(e))
        row.export_s = round(time.perf_counter() - started, 2)
    row.path = str(path)
    row.size_mb = round(file_size_mb(path), 1) if Path(path).exists() else None
    try:
        target = model if fmt == "pytorch" else path
        backend = load_backend(target, fmt, device=device, mode="latency")
        metrics = validate(backend, data=data, imgsz=imgsz, batch=1, rect=False)
    except Exception as e:  # noqa: BLE001 - exported but not runnable: shown as ❎ with the reason
        LOGGER.warning("%s: exported but failed to run: %s", spec.label, e, exc_info=LOGGER.isEnabledFor(logging.DEBUG))
        row.status, row.error = "run_failed", _reason(e)
        return row
    row.precision = metrics.inference_precision
    row.score = round(metrics.figure(metric), 4)
    row.ms_per_image = round(metrics.speed["inference"], 2)
    row.fps = round(1000 / metrics.speed["inference"], 2) if metrics.speed["inference"] > 0 else None
    return row
