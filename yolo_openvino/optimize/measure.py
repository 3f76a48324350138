"""Measuring a candidate on this machine: a variant's accuracy (once: runtime settings do not change it) at the
precision the device will run it in, and one timed round of a variant under a setting, end to end on the user's own
images (decode + preprocess + inference + post-processing), compiled afresh for each round so that its memory is
its own and rounds of different candidates interleave on equal terms."""

from __future__ import annotations

import numpy as np

from ..utils.memory import PeakMemory


def score(backend, dataset, items: list, decode: str = "reduced") -> float:
    """The task's figure of a loaded backend on the scoring images (evaluation.validation.task_figure), decoded as
    the deployment will decode them (``reduced``: predict's default, or ``full``)."""
    from ..evaluation.validation import task_figure

    return task_figure(backend, dataset, items, reduced_decode=decode == "reduced")


def score_ir(path, dataset, items: list, device: str | None, decode: str = "reduced", **runtime) -> float:
    """An exported variant's figure, compiled as it will run (the device's own inference precision)."""
    from ..runtime.backends.openvino_backend import OpenVINOBackend

    return score(OpenVINOBackend.from_ir(path, device=device, mode="latency", **runtime), dataset, items, decode)


def time_round(path, runtime: dict, images: list, seconds: float, device: str | None,
               pipeline: dict | None = None) -> dict:
    """One timed round (``pipeline``: predict's options, e.g. reduced_decode, batch): {round: (images/s, p50 ms, p99 ms), grown_mb: what compiling and running it added to this
    process, peak_mb: this process's peak resident memory meanwhile, precision: what the device computed in}. The latency hint runs one image at a time (its latency is one
    image's); the others run the images as a stream (each latency includes its wait in the pipeline)."""
    from ..bench.measure import run_end_to_end
    from ..runtime.backends.openvino_backend import OpenVINOBackend
    from ..runtime.predictor import Predictor, PredictSettings

    with PeakMemory() as memory:
        backend = OpenVINOBackend.from_ir(path, device=device, **runtime)
        predictor = Predictor(backend, PredictSettings(**(pipeline or {})))
        fps, latencies = run_end_to_end(predictor, images, seconds, sync=runtime.get("mode") == "latency")
    p50, p99 = np.percentile(latencies, [50, 99]) if latencies else (float("nan"), float("nan"))
    return {"round": (round(float(fps), 2), round(float(p50), 2), round(float(p99), 2)),
            "grown_mb": memory.grown_mb, "peak_mb": memory.peak_mb, "precision": backend.inference_precision}
