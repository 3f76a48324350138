"""``YOLO``: the thin facade users know. It loads a model of any format, checks arguments, delegates the work.

Jobs below it (export, validation, benchmark, report) receive what they need (a model and its path, a
backend, runtime options), never the facade, so imports point one way.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from .backends import load_backend, model_format
from .errors import UsageError
from .options import check, defaults, split_runtime

if TYPE_CHECKING:
    from .results import Result

LOGGER = logging.getLogger("yolo_openvino")
_OUTPUT_KEYS = ("save", "save_txt", "save_json", "project", "name")
_SCALE_KEYS = ("engine", "address", "output", "actors", "cpus_per_actor")


class YOLO:
    """A detector from a ``.pt`` checkpoint, an architecture name, or an exported model.

    >>> model = YOLO("yolov8n.pt")
    >>> results = model("bus.jpg")                       # list of Result
    >>> model.export(format="openvino", int8=True, data="coco128.yaml")  # -> "yolov8n_int8_openvino_model"
    >>> YOLO("yolov8n_openvino_model/", mode="throughput")("images/")
    """

    def __init__(self, model: str | Path = "yolov8n.pt", task: str | None = None, **runtime):
        if task not in (None, "detect"):
            raise UsageError(f"task='{task}': only detection is supported yet")
        self.runtime = check("runtime", runtime, where="YOLO")
        self.format = model_format(model)
        self.model = None  # the torch nn.Module for pytorch models
        self.load_time_s = 0.0  # reading a checkpoint (exports are loaded, and timed, by their backend)
        if self.format == "pytorch":
            started = time.perf_counter()
            self.model, self.ckpt_path = _load_torch_model(model)
            self.model_path = self.ckpt_path
            self.load_time_s = time.perf_counter() - started
        else:
            self.model_path = Path(model)
            self.ckpt_path = None
        self._backends: dict = {}
        self._load_said: set[int] = set()
        self.last_stats = None

    # -- runtime --------------------------------------------------------------------------------------------
    def backend(self, **overrides):
        """The loaded backend for these runtime options (compiled once per distinct option set)."""
        options = {**self.runtime, **{k: v for k, v in check("runtime", overrides).items() if v is not None}}
        key = tuple(sorted((k, repr(v)) for k, v in options.items()))
        if key not in self._backends:
            target = self.model if self.format == "pytorch" else self.model_path
            self._backends[key] = load_backend(target, self.format, **options)
        return self._backends[key]

    @property
    def names(self) -> dict[int, str]:
        if self.model is not None:
            return self.model.names
        return self.backend().metadata.names

    def info(self, **runtime) -> dict:
        """Effective runtime settings (for OpenVINO: streams, optimal requests, devices, precision)."""
        return self.backend(**runtime).info()

    def predict(self, source=None, stream: bool = False, verbose: bool = True, **kwargs) -> list[Result] | Iterator[Result]:
        """Detect objects in ``source``; see ``yolo-ov predict --help`` (or options.PREDICT) for every argument.

        ``verbose`` (default True, as in Ultralytics): a line per image or video frame and a speed summary
        on stdout (see console.py); the model's load time is said once, on its first prediction.
        """
        from .sources import expand_sources, is_video

        values = check("predict", {"source": source, **kwargs}, where="predict")
        runtime, values = split_runtime(values)
        scale = {k: values.pop(k) for k in _SCALE_KEYS if k in values}
        if scale.get("engine") == "ray":
            return self._predict_on_ray(values, runtime, scale)
        if any(v is not None for k, v in scale.items() if k != "engine"):
            LOGGER.warning("ignored without engine=ray: %s", sorted(k for k, v in scale.items() if v is not None))
        outputs = {k: v for k, v in defaults("predict").items() if k in _OUTPUT_KEYS}
        outputs.update({k: values.pop(k) for k in _OUTPUT_KEYS if values.get(k) is not None})
        show = values.pop("show", False)
        if show:
            from .results import check_display

            check_display()  # before any work: no display is one clear line, not a failure after the first image
        entries = expand_sources(values.pop("source"))
        many = len(entries) > 1 or any(is_video(e) for e in entries)
        if self.format == "openvino" and "mode" not in runtime and "mode" not in self.runtime:
            runtime["mode"] = "throughput" if many else "latency"  # the sensible default per use
        save, save_txt, save_json = outputs["save"], outputs["save_txt"], outputs["save_json"]
        loaded = self.backend(**runtime)
        backend = self._head(loaded, values.pop("nms", None))
        from .predictor import PredictSettings, Predictor  # OpenCV comes with it: only where images are read

        settings = PredictSettings(**{k: v for k, v in values.items() if v is not None}, keep_images=save)
        predictor = Predictor(backend, settings)
        self.last_stats = predictor.stats
        results = predictor.stream(entries)  # one image: one request of the pool, its output read in place
        if save or save_txt or save_json:
            from .outputs import save_results

            results = save_results(results, outputs["project"], outputs["name"], save, save_txt, save_json)
        if show:
            results = _shown(results, wait_ms=1 if many else 0)
        if verbose:
            from .console import printed

            results = printed(results, entries, predictor.stats, self._first_load_line(loaded))
        return results if stream else list(results)

    def _first_load_line(self, backend) -> str | None:
        """``Loaded …`` the first time a loaded backend predicts, None after: its load is a one-off cost."""
        if id(backend) in self._load_said:
            return None
        self._load_said.add(id(backend))  # backends live as long as this YOLO (self._backends): ids stay theirs
        return backend.loaded_line(str(Path(self.model_path).resolve()), self.load_time_s)

    __call__ = predict

    def _predict_on_ray(self, values: dict, runtime: dict, scale: dict):
        """engine=ray: a Ray Data job writing one Parquet row per input; returns its DatasetPrediction."""
        from .scale.batch import check_output_given, predict_dataset

        check_output_given(scale.get("output"))
        source = values.pop("source")
        if source is None:
            raise UsageError("engine=ray needs a source: a folder, glob, list of paths or URIs (s3://, gs://)")
        ignored = sorted(k for k in values if k in _OUTPUT_KEYS + ("show", "workers", "nms") and values[k])
        if ignored:
            LOGGER.warning("ignored with engine=ray: %s", ignored)
        predict = {k: v for k, v in values.items() if k not in _OUTPUT_KEYS + ("show", "workers", "nms")}
        return predict_dataset(self.model_path, source, scale["output"], address=scale.get("address"),
                               actors=scale.get("actors"), cpus_per_actor=scale.get("cpus_per_actor"),
                               runtime={**self.runtime, **runtime}, **predict)

    def _head(self, backend, nms: bool | None):
        """The backend running the head ``nms`` asks for: False selects an end-to-end model's NMS-free head."""
        if self.format == "pytorch" and self.model.end2end:
            return backend.with_head(one2one=nms is False)
        if nms is False and not backend.metadata.outputs_rows:
            LOGGER.info("nms=False: this %s model has no NMS-free head; NMS runs as usual", self.format)
        return backend

    # -- delegated jobs -------------------------------------------------------------------------------------
    def export(self, **kwargs) -> str:
        """Export to ``format`` (openvino, onnx, torchscript). Returns the written path."""
        from .exporters import export

        if self.model is None:
            raise UsageError(f"export needs a PyTorch model (.pt or architecture name), not a {self.format} model")
        return str(export(self.model, self.ckpt_path, **check("export", kwargs, where="export")))

    def val(self, verbose: bool = True, **kwargs):
        """COCO mAP on a YOLO-format dataset yaml; returns a ValidationResult (its summary printed if ``verbose``)."""
        from .validation import validate

        runtime, values = split_runtime(check("val", kwargs, where="val"))
        runtime.setdefault("mode", "latency")  # one image at a time: exact per-stage timings
        backend = self._head(self.backend(**runtime), values.pop("nms", None))
        result = validate(backend, **{k: v for k, v in values.items() if v is not None})
        if verbose:
            print(result.summary())
        return result

    def benchmark(self, **kwargs):
        """The per-format table (from a .pt: export, validate, time every format) or, for an OpenVINO model
        (or ``modes=True``), the latency/throughput report of hints, streams and requests."""
        extra = ("verbose", "batches", "fraction")  # Python-only parameters of the jobs, passed through
        values = {k: v for k, v in check("benchmark", kwargs, where="benchmark", extra=extra).items() if v is not None}
        modes = values.pop("modes", None)
        if modes or (modes is None and self.format == "openvino"):
            from .report import REPORT_KEYS, latency_throughput_report

            return latency_throughput_report(self.model_path, **_for_job(values, REPORT_KEYS, "report"))
        from .benchmark import TABLE_KEYS, benchmark_formats

        if self.model is None:
            raise UsageError(f"the format table exports from a PyTorch model (.pt); {self.model_path} is a "
                             f"{self.format} model. For an OpenVINO model's latency/throughput report use modes=True.")
        return benchmark_formats(self.model, self.ckpt_path, **_for_job(values, TABLE_KEYS, "format table"))


def _shown(results: Iterator[Result], wait_ms: int) -> Iterator[Result]:
    for result in results:
        result.show(wait_ms)
        yield result


def _for_job(values: dict, keys: tuple[str, ...], job: str) -> dict:
    ignored = sorted(set(values) - set(keys))
    if ignored:
        LOGGER.warning("ignored by the %s: %s", job, ignored)
    return {k: v for k, v in values.items() if k in keys}


def _load_torch_model(model):
    from .nn.architectures import is_architecture_name

    name = str(model)
    if is_architecture_name(Path(name).name) and not Path(name).exists():
        from .nn.architectures import architecture_from_name
        from .nn.model import DetectionModel

        LOGGER.info("building untrained %s", name)
        net = DetectionModel(architecture_from_name(Path(name).name)).eval()
        net.requires_grad_(False)
        net.args = {}
        return net.fuse(), Path(Path(name).stem + ".pt")
    from .checkpoint import load_model
    from .downloads import resolve_weights

    path = resolve_weights(name)
    return load_model(path), path
