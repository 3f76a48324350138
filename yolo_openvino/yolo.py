"""``YOLO``: the thin facade users know. It loads a model of any format and delegates the work."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Iterator

from .backends import load_backend, model_format
from .predictor import PredictSettings, Predictor
from .results import Result

LOGGER = logging.getLogger("yolo_openvino")
# Runtime options that change how a backend is compiled (so a different value means another backend).
RUNTIME_OPTIONS = ("device", "mode", "streams", "requests", "threads", "pinning", "inference_precision", "config",
                   "cache_dir", "mmap", "preprocess")


class YOLO:
    """A detector from a ``.pt`` checkpoint, an architecture name, or an exported model.

    >>> model = YOLO("yolov8n.pt")
    >>> results = model("bus.jpg")                       # list of Result
    >>> model.export(format="openvino", int8=True)      # -> 'yolov8n_int8_openvino_model'
    >>> YOLO("yolov8n_openvino_model/", mode="throughput")("images/")
    """

    def __init__(self, model: str | Path = "yolov8n.pt", task: str | None = None, **runtime):
        if task not in (None, "detect"):
            raise NotImplementedError(f"task='{task}': only detection is supported yet")
        unknown = set(runtime) - set(RUNTIME_OPTIONS)
        if unknown:
            raise TypeError(f"unknown runtime option(s) {sorted(unknown)}; valid: {list(RUNTIME_OPTIONS)}")
        self.format = model_format(model)
        self.runtime = runtime
        self.model = None  # the torch nn.Module for pytorch models
        if self.format == "pytorch":
            self.model, self.ckpt_path = _load_torch_model(model)
            self.model_path = self.ckpt_path
        else:
            self.model_path = Path(model)
            self.ckpt_path = None
        self._backends: dict = {}

    # -- runtime --------------------------------------------------------------------------------------------
    def backend(self, **overrides):
        """The loaded backend for these runtime options (compiled once per distinct option set)."""
        options = {**self.runtime, **{k: v for k, v in overrides.items() if v is not None}}
        key = tuple(sorted((k, repr(v)) for k, v in options.items()))
        if key not in self._backends:
            target = self.model if self.format == "pytorch" else self.model_path
            options.setdefault("imgsz", None)
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

    def predict(self, source=None, stream: bool = False, save: bool = False, save_txt: bool = False,
                save_json: bool = False, project: str | Path = "runs/predict", name: str = "exp", verbose: bool = False,
                **kwargs) -> list[Result] | Iterator[Result]:
        """Detect objects in ``source``; see ``yolo-ov predict --help`` for every argument."""
        from .sources import expand_sources

        runtime = {k: kwargs.pop(k) for k in list(kwargs) if k in RUNTIME_OPTIONS}
        many = len(expand_sources(source)) > 1 or _has_video(source)
        if self.format == "openvino" and "mode" not in runtime and "mode" not in self.runtime:
            runtime["mode"] = "throughput" if many else "latency"  # the sensible default per use
        settings = _settings(kwargs, keep_images=save)
        predictor = Predictor(self.backend(**runtime), settings)
        results = predictor.stream(source, asynchronous=many)
        if save or save_txt or save_json:
            from .outputs import save_results

            results = save_results(results, project, name, save, save_txt, save_json)
        if stream:
            return results
        out = list(results)
        if verbose or predictor.stats.skipped:
            LOGGER.info("%s", predictor.stats.summary())
        self.last_stats = predictor.stats
        return out

    __call__ = predict

    # -- delegated jobs -------------------------------------------------------------------------------------
    def export(self, **kwargs) -> str:
        """Export to ``format`` (openvino, onnx, torchscript). Returns the written path."""
        from .exporters import export

        if self.model is None:
            raise ValueError(f"export needs a PyTorch model (.pt or architecture name), not a {self.format} model")
        return str(export(self.model, self.ckpt_path, **kwargs))

    def val(self, **kwargs):
        """COCO mAP on a YOLO-format dataset yaml; returns a ValidationResult."""
        from .validation import validate

        runtime = {k: kwargs.pop(k) for k in list(kwargs) if k in RUNTIME_OPTIONS}
        runtime.setdefault("mode", kwargs.pop("mode", None))
        return validate(self, runtime=runtime, **kwargs)

    def benchmark(self, modes: bool | None = None, **kwargs):
        """The per-format table (from a .pt: export, validate, time every format) or, for an OpenVINO model
        (or ``modes=True``), the latency/throughput report of hints, streams and requests.

        Table: ``data``, ``imgsz``, ``format`` (one or several; default all), ``device``, ``project``, ``name``.
        Report: ``source`` or ``data`` (end-to-end images), ``seconds`` per measurement, ``device``, ``sweep``.
        """
        if modes or (modes is None and self.format == "openvino"):
            from .report import latency_throughput_report

            return latency_throughput_report(self.model_path, **kwargs)
        from .benchmark import benchmark_formats

        return benchmark_formats(self, **kwargs)


def _has_video(source) -> bool:
    from .sources import _is_video, expand_sources

    return any(_is_video(e) for e in expand_sources(source) if not hasattr(e, "shape"))


def _settings(kwargs: dict, keep_images: bool) -> PredictSettings:
    allowed = set(PredictSettings.__dataclass_fields__)
    unknown = set(kwargs) - allowed
    if unknown:
        from .cli import suggestion

        hints = "; ".join(f"'{u}'{suggestion(u, allowed | set(RUNTIME_OPTIONS))}" for u in sorted(unknown))
        raise TypeError(f"unknown predict argument(s): {hints}")
    values = dict(kwargs)
    imgsz = values.get("imgsz")
    if imgsz is not None:
        values["imgsz"] = (int(imgsz), int(imgsz)) if isinstance(imgsz, (int, float)) else tuple(imgsz)
    values["keep_images"] = keep_images or values.get("keep_images", False)
    return PredictSettings(**values)


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
