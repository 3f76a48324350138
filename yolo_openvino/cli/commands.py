"""What each ``yolo-ov`` subcommand does, on top of the Python API. Values arrive checked (see options/catalogue.py)."""

from __future__ import annotations

import logging
from pathlib import Path

from ..errors import UsageError
from ..options import split_runtime

LOGGER = logging.getLogger("yolo_openvino")


def _given(options: dict) -> dict:
    return {k: v for k, v in options.items() if v is not None}


def predict(model, source, task=None, verbose: bool = True, **options) -> int:
    """One line per image (``image k/N``) or frame (``video k/N (frame i/F)``), then the speed summary."""
    from ..yolo import YOLO

    runtime, options = split_runtime(options)
    if options.get("engine") == "ray":
        from ..scale.batch import check_output_given

        check_output_given(options.get("output"))
        print(YOLO(model, task=task, **runtime).predict(source, **_given(options)).summary())
        return 0
    yolo = YOLO(model, task=task, **runtime)
    if options.get("embed"):
        return _embedded(yolo, source, options)
    return _streamed(yolo, yolo.predict(source, stream=True, verbose=verbose, **_given(options)), source)


def _embedded(yolo, source, options: dict) -> int:
    """``embed=``: the vectors as one (N, C) ``embeddings.npy`` in the run folder (a line per image said)."""
    import numpy as np

    from ..predict.saving import next_run_dir
    from ..tasks import task_named
    from ..utils.files import atomic_output

    vectors = [v.numpy() for v in yolo.predict(source, **_given(options))]
    if not vectors:
        raise UsageError(f"no readable image in {source}")
    folder = next_run_dir(options.get("project") or task_named(yolo.task).project, options.get("name") or "predict",
                          bool(options.get("exist_ok")))
    with atomic_output(folder / "embeddings.npy") as tmp:
        with open(tmp, "wb") as f:
            np.save(f, np.stack(vectors))
    print(f"{len(vectors)} embeddings of {vectors[0].shape[0]} values saved to {folder / 'embeddings.npy'}")
    return 0


def _streamed(yolo, results, source) -> int:
    """Run ``results`` (printing as they come); nothing readable at all is one line naming what was skipped."""
    count = sum(1 for _ in results)
    stats = yolo.last_stats
    if not count and stats.skipped:
        raise UsageError(f"no readable image in {source}: {len(stats.skipped)} skipped ({', '.join(stats.skipped[:3])})")
    return 0


def track(model, source, task=None, verbose: bool = True, **options) -> int:
    """Predict's lines per frame, with only the tracked objects; an unreadable stream among several is skipped."""
    from ..yolo import YOLO

    runtime, options = split_runtime(options)
    yolo = YOLO(model, task=task, **runtime)
    return _streamed(yolo, yolo.track(source, stream=True, verbose=verbose, **_given(options)), source)


def export(model, task=None, **options) -> int:
    from ..yolo import YOLO

    print(YOLO(model, task=task).export(**_given(options)))
    return 0


def val(model, task=None, verbose: bool = True, **options) -> int:
    from ..yolo import YOLO

    runtime, options = split_runtime(options)
    YOLO(model, task=task, **runtime).val(verbose=verbose, **_given(options))  # prints its summary
    return 0


def benchmark(model, task=None, **options) -> int:
    """The per-format table for a .pt; the latency/throughput report for an OpenVINO model or modes=True."""
    from ..yolo import YOLO

    YOLO(model, task=task).benchmark(**_given(options))
    return 0


def optimize(model, task=None, **options) -> int:
    """The search; the job prints its table and closing lines, the last of them the refusal when nothing keeps the
    accuracy (then exit code 2, as for every user error)."""
    from ..yolo import YOLO

    return 2 if YOLO(model, task=task).optimize(**_given(options)).refusal else 0


def serve(model, task=None, **options) -> int:
    """Run the Ray Serve service until Ctrl-C."""
    from ..scale.service import serve as run
    from ..yolo import YOLO

    if task:
        YOLO(model, task=task).backend()  # the task word checked against the model before any cluster work
    runtime, options = split_runtime(options)
    run(model, runtime=runtime, blocking=True, **_given(options))
    return 0


def demo(model: str = "yolov8n.yaml", project: str = "runs/demo") -> int:
    """Offline end to end: build (or load) a model, export it to OpenVINO, run it on generated images."""
    from .demo import run_demo

    run_demo(model, Path(project))
    return 0


def checks() -> int:
    """Versions, the CPU kind and its flags, OpenVINO's devices and precisions, the extras installed."""
    from .checks import report

    print(report())
    return 0


def cfg() -> int:
    """Every command's defaults, as YAML (from options/catalogue.py, their one declaration)."""
    import yaml

    from ..options import COMMANDS, defaults, options_of

    table = {command: {k: list(v) if isinstance(v, tuple) else v for k, v in defaults(command).items()}
             for command in COMMANDS if options_of(command)}
    table["runtime"] = defaults("runtime")
    print(yaml.safe_dump(table, sort_keys=False), end="")
    return 0


def settings(words: list[str]) -> int:
    """``yolo-ov settings`` (show), ``settings reset``, ``settings key=value ...``; the file's path said."""
    import yaml

    from ..utils.settings import KEYS, settings as current, settings_file

    words = [w for w in words if not w.startswith("-")]
    if words == ["reset"]:
        current.reset()
    elif words:
        pairs = [w.partition("=") for w in words]
        bad = [w for w, (_, eq, _) in zip(words, pairs) if not eq]
        if bad:
            raise UsageError(f"settings: '{bad[0]}' is not key=value or reset (keys: {', '.join(KEYS)})")
        current.update({key: value for key, _, value in pairs})
    print(f"# {settings_file()}")
    print(yaml.safe_dump(current.as_dict(), sort_keys=False), end="")
    return 0


def run(command: str, options: dict) -> int:
    """Run the subcommand ``command`` (a name of ``options.COMMANDS``, one function here each) with its options."""
    return globals()[command](**options)
