"""``YOLO``: the thin facade users know. It loads a model of any format, checks arguments, delegates the work.

Jobs below it (export, validation, benchmark, report) receive what they need (a model and its path, a
backend, runtime options), never the facade, so imports point one way.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from .runtime.backends import load_backend, model_format
from .callbacks import Callbacks, Exporter, Predictor, Validator, called_back
from .errors import UsageError
from .options import check, defaults, split_runtime

if TYPE_CHECKING:
    from .results.result import Result

LOGGER = logging.getLogger("yolo_openvino")


class YOLO:
    """A detector from a ``.pt`` checkpoint, an architecture name, or an exported model.

    >>> model = YOLO("yolov8n.pt")
    >>> results = model("bus.jpg")                       # list of Result
    >>> model.export(format="openvino", int8=True, data="coco128.yaml")  # -> "yolov8n_int8_openvino_model"
    >>> YOLO("yolov8n_openvino_model/", mode="throughput")("images/")
    >>> YOLO("http://127.0.0.1:8000")("bus.jpg")          # a running `yolo-ov serve`: the same Results
    """

    def __init__(self, model: str | Path = "yolov8n.pt", task: str | None = None, **runtime):
        from .tasks import task_named

        self.expected_task = task_named(task, where=f"task={task}").name if task else None
        self.client = None  # a service's client (YOLO("http://host:8000")): predict runs there
        if _is_service_url(model):
            from .scale.client import Client

            self.client = Client(str(model), api_key=runtime.pop("api_key", None))
        self.runtime = check("runtime", runtime, where="YOLO")
        self.format = "service" if self.client else model_format(model)
        self.model = None  # the torch nn.Module for pytorch models
        self.load_time_s = 0.0  # reading a checkpoint (exports are loaded, and timed, by their backend)
        if self.format == "pytorch":
            started = time.perf_counter()
            self.model, self.ckpt_path = _load_torch_model(model)
            self.model_path = self.ckpt_path
            self.load_time_s = time.perf_counter() - started
            self._check_task(self.model.task)
        else:
            self.model_path = str(model) if self.client else Path(model)
            self.ckpt_path = None
        self.predict_defaults: dict = {}  # predict's options a deploy folder sets (its decode, batch)
        if self.format == "openvino":  # a deploy folder (optimize): its settings, under those given here
            from .runtime.deploy import deploy_predict, deploy_runtime

            self.runtime = {**deploy_runtime(self.model_path), **self.runtime}
            self.predict_defaults = deploy_predict(self.model_path)
        self._backends: dict = {}
        self._load_said: set[int] = set()
        self.last_stats = None
        self._trackers = None  # track(): the trackers of the last call, kept for the next with persist=True
        self.callbacks = Callbacks()

    # -- callbacks, as the reference's -------------------------------------------------------------------------
    def add_callback(self, event: str, function) -> None:
        """Call ``function(subject)`` on ``event`` (callbacks.EVENTS: on_predict_start, ..., on_export_end)."""
        self.callbacks.add(event, function)

    def clear_callback(self, event: str) -> None:
        self.callbacks.clear(event)

    def reset_callbacks(self) -> None:
        self.callbacks = Callbacks()

    def _called_back(self, results, request):
        """``results`` with predict's callbacks around them (the results as they are when none is added)."""
        if not self.callbacks:
            return results
        return called_back(results, self.callbacks, Predictor(self, {**request.settings, **request.outputs}))

    def _check_task(self, actual: str) -> None:
        """One line where ``task=`` (the CLI's task word) is not the model's own."""
        if self.expected_task and actual != self.expected_task:
            raise UsageError(f"{self.model_path}: a {actual} model, not {self.expected_task}: leave the task out "
                             f"or pass a {self.expected_task} model")

    @property
    def task(self) -> str:
        """The model's task (tasks/): a checkpoint's from its head, an export's from its metadata, a service's from
        its ``/healthz``."""
        if self.client:
            return self.client.task
        return self.model.task if self.model is not None else self.backend().metadata.task

    # -- runtime --------------------------------------------------------------------------------------------
    def backend(self, **overrides):
        """The loaded backend for these runtime options (compiled once per distinct option set)."""
        if self.client:
            raise UsageError(f"{self.model_path} is an HTTP service: predict runs there (and names, task); run this "
                             "on a local model (YOLO('x.pt') or an export folder)")
        options = {**self.runtime, **{k: v for k, v in check("runtime", overrides).items() if v is not None}}
        key = tuple(sorted((k, repr(v)) for k, v in options.items()))
        if key not in self._backends:
            target = self.model if self.format == "pytorch" else self.model_path
            self._backends[key] = load_backend(target, self.format, **options)
            self._check_task(self._backends[key].metadata.task)
        return self._backends[key]

    @property
    def names(self) -> dict[int, str]:
        if self.client:
            return self.client.names
        if self.model is not None:
            return self.model.names
        return self.backend().metadata.names

    def runtime_info(self, **runtime) -> dict:
        """Effective runtime settings (for OpenVINO: streams, optimal requests, devices, precision)."""
        return self.backend(**runtime).info()

    def info(self, detailed: bool = False, verbose: bool = True, **runtime):
        """As the reference's: a ``.pt``'s summary printed (``verbose``) and returned, (layers, parameters, gradients,
        GFLOPs); ``detailed`` adds a line per parameter. An exported model has no torch network to count: its
        runtime settings are returned (``runtime_info``, the name they have now; ``info()`` still gives them)."""
        if self.model is None:
            import warnings

            warnings.warn("YOLO.info() of an exported model returns its runtime settings; call runtime_info() "
                          "for them (info() summarises a .pt's network, as Ultralytics')", FutureWarning, stacklevel=2)
            return self.runtime_info(**runtime)
        from .model.summary import model_summary

        lines, summary = model_summary(self.model, Path(self.model_path).stem, detailed=detailed)
        if verbose:
            print("\n".join(lines))
        return summary

    # -- a .pt's network, as the reference's model methods --------------------------------------------------------
    @property
    def device(self) -> str:
        """Where the model runs: ``cpu`` for a ``.pt`` (our PyTorch runs on the CPU), the OpenVINO device else."""
        return "cpu" if self.model is not None else self.runtime_info().get("device", "CPU")

    def fuse(self) -> "YOLO":
        """Fold BatchNorm into the convolutions of a ``.pt`` (already done on load, except YOLO26's, kept exact)."""
        self._network("fuse").fuse()
        self._backends.clear()
        return self

    def to(self, device) -> "YOLO":
        """The reference moves a ``.pt`` to a device; ours runs on the CPU: ``cpu`` is accepted, any other device is
        one line (export to OpenVINO and pass ``device=`` to run on a GPU or NPU)."""
        if str(device).lower() not in ("cpu", "torch.device('cpu')"):
            raise UsageError(f"to({device!s}): a .pt runs on the CPU here; export it (format=openvino) and pass "
                             f"device='{device!s}' to run it there")
        return self

    def reset_weights(self) -> "YOLO":
        """Initialise every parameter of a ``.pt`` anew (its layers' own initialisation), as the reference's."""
        for module in self._network("reset_weights").modules():
            if hasattr(module, "reset_parameters"):
                module.reset_parameters()
        self._backends.clear()
        return self

    def load(self, weights) -> "YOLO":
        """Copy into this ``.pt``'s network every tensor of ``weights`` (a checkpoint path, or another YOLO) whose name
        and shape match, as the reference's ``load``; says how many it took."""
        network = self._network("load")
        source = weights.model if isinstance(weights, YOLO) else _load_torch_model(weights)[0]
        if source is None:
            raise UsageError("load(weights): the weights must be a .pt or a YOLO of one")
        ours, theirs = network.state_dict(), source.state_dict()
        matched = {k: v for k, v in theirs.items() if k in ours and ours[k].shape == v.shape}
        network.load_state_dict(matched, strict=False)
        LOGGER.info("transferred %d/%d items from pretrained weights", len(matched), len(ours))
        self._backends.clear()
        return self

    def _network(self, what: str):
        if self.model is None:
            raise UsageError(f"{what}() works on a .pt's network; {self.model_path} is a {self.format} model")
        return self.model

    def predict(self, source=None, stream: bool = False, verbose: bool = True, **kwargs) -> list[Result] | Iterator[Result]:
        """Detect objects in ``source``; see ``yolo-ov predict --help`` (or options.PREDICT) for every argument.

        ``verbose`` (default True, as in Ultralytics): a line per image or video frame and a speed summary
        on stdout (see predict/console.py); the model's load time is said once, on its first prediction.
        """
        from .predict.job import PredictRequest, run_local, run_on_ray, warn_unused_scale_options
        from .runtime.sources import expand_sources

        if self.client:  # the service predicts; Results come back as a local model returns them
            return self.client.predict(source, stream=stream, **kwargs)
        request = PredictRequest.parse(source, {**self.predict_defaults, **kwargs})
        if request.on_ray:
            return run_on_ray(self.model_path, request, self.runtime)
        warn_unused_scale_options(request)
        if request.network and self.model is None:
            asked = ", ".join(f"{k}={v}" for k, v in request.network.items())
            raise UsageError(f"{asked}: needs a .pt's own network; {self.model_path} is an exported model "
                             f"({self.format}): predict the .pt with it, or leave it out")
        entries = expand_sources(request.source)
        loaded = self.backend(**request.runtime_for(self.format, self.runtime, entries))
        backend = self._head(loaded, request.nms, request.settings.get("max_det"))
        if request.network:
            backend = self._network_views(backend, request, entries)
            if request.network.get("embed"):
                from .predict.features import embed_stream

                vectors = embed_stream(backend, self.model, request.settings, entries, request.network["embed"])
                return vectors if stream else list(vectors)
        load_line = self._first_load_line(loaded) if verbose else None
        results, self.last_stats = run_local(backend, request, entries, verbose, load_line)
        results = self._called_back(results, request)
        return results if stream else list(results)

    def embed(self, source=None, stream: bool = False, **kwargs) -> list:
        """Each image's feature vector (a torch tensor (C,)): by default the output of the layer before the head,
        average-pooled; ``embed=[layers]`` to choose. A ``.pt``'s network only, as the reference's."""
        if not kwargs.get("embed"):
            kwargs["embed"] = [len(self._network("embed").model) - 2]
        return self.predict(source, stream=stream, verbose=False, **kwargs)

    def _network_views(self, backend, request, entries):
        """What only a .pt's network does (augment, visualize; embed is read by predict), refused in one line for
        an export (by predict); ``visualize`` saves its maps now, into the run folder that saving (if asked) then
        shares."""
        if request.network.get("visualize"):
            from .predict.features import save_feature_maps
            from .predict.saving import next_run_dir

            o = request.outputs
            folder = next_run_dir(o["project"] or self._task_entry().project, o["name"], o["exist_ok"])
            save_feature_maps(backend, self.model, request.settings, entries, folder)
            request.outputs.update(name=folder.name, exist_ok=True, project=str(folder.parent))
        if request.network.get("augment"):
            if self._task_entry().augmentable and not backend.metadata.one2one:
                return backend.with_augment()
            LOGGER.warning("augment=True: test-time augmentation is for detection models with NMS (as in "
                           "Ultralytics); this %s model predicts at one scale", self.task)
        return backend

    @property
    def transforms(self):
        """The transform predict applies to an image before the model (runtime.predictor.InputTransform): call it on
        an (H, W, 3) BGR uint8 image for the (3, h, w) float32 input."""
        from .runtime.predictor import InputTransform

        return InputTransform(self.backend())

    @property
    def task_map(self) -> dict[str, dict]:
        """Per task: the checkpoint class it loads from, and what predicts, validates and exports it here (the
        reference maps tasks to its model, trainer, validator and predictor classes; there is no trainer here)."""
        from .evaluation.validation import validate
        from .export import export
        from .runtime.predictor import Predictor
        from .tasks import tasks

        return {name: {"model": task.model_class, "predictor": Predictor, "validator": validate, "exporter": export}
                for name, task in tasks().items()}

    def _task_entry(self):
        """The registry entry of this model's task (tasks/)."""
        from .tasks import task_named

        return task_named(self.task)

    def track(self, source=None, stream: bool = False, persist: bool = False, tracker="bytetrack.yaml",
              verbose: bool = True, **kwargs) -> list[Result] | Iterator[Result]:
        """Follow objects across frames: predict's results with ``boxes.id``, only the tracked objects; see ``yolo-ov
        track --help`` (or options.TRACK) for every argument.

        ``tracker``: ``bytetrack.yaml``, ``botsort.yaml`` or a path to your own. ``persist``: keep the trackers for
        the next call (frame by frame from your own loop). ``source`` as a list or a ``.streams`` file: each video,
        stream or webcam tracked at once by its own tracker through this one model (``Result.stream`` says which).
        """
        from .predict.job import PredictRequest
        from .runtime.sources import stream_groups
        from .track import load_tracker_config
        from .track.job import StreamTrackers, check_trackable, run_tracking

        request = PredictRequest.parse(source, {**self.predict_defaults, **kwargs, "persist": persist,
                                                "tracker": tracker}, command="track")
        config = load_tracker_config(request.tracking["tracker"])
        check_trackable(self.task)
        groups = stream_groups(request.source)
        if not request.tracking["persist"] or self._trackers is None or self._trackers.config != config:
            self._trackers = StreamTrackers(config)
        entries = [entry for group in groups for entry in group]
        loaded = self.backend(**request.runtime_for(self.format, self.runtime, entries))
        backend = self._head(loaded, request.nms, request.settings.get("max_det"))
        load_line = self._first_load_line(loaded) if verbose else None
        results, self.last_stats = run_tracking(backend, request, groups, self._trackers, verbose, load_line)
        results = self._called_back(results, request)
        return results if stream else list(results)

    def _first_load_line(self, backend) -> str | None:
        """``Loaded …`` the first time a loaded backend predicts, None after: its load is a one-off cost."""
        if id(backend) in self._load_said:
            return None
        self._load_said.add(id(backend))  # backends live as long as this YOLO (self._backends): ids stay theirs
        return backend.loaded_line(str(Path(self.model_path).resolve()), self.load_time_s)

    __call__ = predict

    def _head(self, backend, nms: bool | None, max_det: int | None = None):
        """The backend running the head ``nms`` asks for: False selects a YOLO26 checkpoint's NMS-free head, with
        a top-k of ``max_det`` (default 300); an export runs the head it was exported with."""
        if self.format == "pytorch" and self.model.has_one2one:
            return backend.with_head(one2one=nms is False, max_det=max_det)
        if nms is False and not backend.metadata.outputs_rows:
            LOGGER.info("nms=False: this %s model has no NMS-free head; NMS runs as usual", self.format)
        return backend

    # -- delegated jobs -------------------------------------------------------------------------------------
    def export(self, **kwargs) -> str:
        """Export to ``format`` (openvino, onnx, torchscript). Returns the written path."""
        from .export import export

        if self.model is None:
            raise UsageError(f"export needs a PyTorch model (.pt or architecture name), not a {self.format} model")
        args = check("export", kwargs, where="export")
        exporter = Exporter(self, args)
        self.callbacks.run("on_export_start", exporter)
        exporter.file = str(export(self.model, self.ckpt_path, **args))
        self.callbacks.run("on_export_end", exporter)
        return exporter.file

    def val(self, verbose: bool = True, **kwargs):
        """The task's metrics on a dataset: COCO mAP on a YOLO-format dataset yaml (detect, segment, pose, obb) or top-1
        / top-5 on an ImageFolder (classify); returns a ValidationResult or ClassificationResult (its summary
        printed if ``verbose``)."""
        from .evaluation.validation import validate

        runtime, values = split_runtime(check("val", kwargs, where="val"))
        validator = Validator(self, {**runtime, **values})
        self.callbacks.run("on_val_start", validator)
        runtime.setdefault("mode", "latency")  # one image at a time: exact per-stage timings
        backend = self._head(self.backend(**runtime), values.pop("nms", None), values.get("max_det"))
        # a deploy folder is scored as it runs: with the decode it was picked with (optimize measured it so)
        decode = self.predict_defaults.get("reduced_decode", False)
        result = validator.metrics = validate(backend, decode, **{k: v for k, v in values.items() if v is not None})
        self.callbacks.run("on_val_end", validator)
        if verbose:
            print(result.summary_line())
        return result

    def benchmark(self, **kwargs):
        """The per-format table (from a .pt: export, validate, time every format) or, for an OpenVINO model
        (or ``modes=True``), the latency/throughput report of hints, streams and requests."""
        from .bench.formats import benchmark_formats
        from .bench.report import latency_throughput_report

        # The jobs' own keyword parameters that the CLI does not declare (verbose, batches, fraction) pass through.
        values = {k: v for k, v in check("benchmark", kwargs, where="benchmark",
                                         extra=_parameters(benchmark_formats, latency_throughput_report)).items()
                  if v is not None}
        modes = values.pop("modes", None)
        if modes or (modes is None and self.format == "openvino"):
            return latency_throughput_report(self.model_path, **_for_job(values, latency_throughput_report, "report"))
        if self.model is None:
            raise UsageError(f"the format table exports from a PyTorch model (.pt); {self.model_path} is a "
                             f"{self.format} model. For an OpenVINO model's latency/throughput report use modes=True.")
        return benchmark_formats(self.model, self.ckpt_path, **_for_job(values, benchmark_formats, "format table"))


    def optimize(self, verbose: bool = True, **kwargs):
        """Search this machine for the fastest deployment of this model that keeps its accuracy on ``data``: precision
        (FP32, FP16, INT8, INT8 with accuracy control), input size and runtime settings, measured end to end; writes
        the table, ``pareto.png`` and a deploy folder (``YOLO(folder)`` runs it as picked). See ``yolo-ov optimize
        --help`` (options.OPTIMIZE). Returns an OptimizeResult."""
        from .optimize import optimize

        values = {k: v for k, v in {**defaults("optimize"), **check("optimize", kwargs, where="optimize")}.items()
                  if k not in ("model", "task")}
        if self.model is None and self.format != "openvino":
            raise UsageError(f"optimize searches a .pt's exports or an OpenVINO IR's runtime settings, not a "
                             f"{self.format} model")
        return optimize(self.model, self.ckpt_path or self.model_path, self.format, values, verbose)


def _is_service_url(model) -> bool:
    """An http(s) address that names no model file: a running service (a URL of a .pt is weights to fetch)."""
    text = str(model)
    return text.startswith(("http://", "https://")) and Path(text.split("?")[0]).suffix.lower() not in (
        ".pt", ".pth", ".onnx", ".torchscript", ".xml")


def _parameters(*jobs) -> tuple[str, ...]:
    """The keyword parameters of ``jobs`` (functions), less the model they are given positionally."""
    import inspect

    return tuple(name for job in jobs for name, p in inspect.signature(job).parameters.items()
                 if p.kind is p.POSITIONAL_OR_KEYWORD and p.default is not p.empty)


def _for_job(values: dict, job, label: str) -> dict:
    """The values ``job`` takes (read from its signature, so no list of its keys is kept here); the rest warned."""
    keys = _parameters(job)
    ignored = sorted(set(values) - set(keys))
    if ignored:
        LOGGER.warning("ignored by the %s: %s", label, ignored)
    return {k: v for k, v in values.items() if k in keys}


def _load_torch_model(model):
    from .model.architectures import is_architecture_name

    name = str(model)
    if is_architecture_name(Path(name).name) and not Path(name).exists():
        from .model.architectures import architecture_from_name
        from .model.network import YOLOModel

        LOGGER.info("building untrained %s", name)
        return YOLOModel(architecture_from_name(Path(name).name)).for_inference(), Path(Path(name).stem + ".pt")
    from .model.checkpoint import load_model
    from .utils.downloads import resolve_weights

    path = resolve_weights(name)
    return load_model(path), path
