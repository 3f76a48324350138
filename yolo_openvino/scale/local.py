"""The one-machine engine: the model in the serving process, where a Ray Serve handle stands on a cluster (the
ingress calls ``predict.remote(...)`` and ``health.remote()`` on either). No serialization, no object store, no
second process between the decoded image and the model.

One hint alone gives one target or the other: the latency hint puts every core on one image (the lowest latency,
but images wait in line under load), the throughput hint gives each core a stream (the most images per second,
but one image alone runs on one core). So the IR is compiled twice: a request that arrives while nothing else is
in flight runs on the latency-hinted model, and one that arrives while others are running joins the
throughput-hinted model's streams. An explicit ``mode`` (given, or from a deploy folder's ``deploy.yaml``) compiles
that one model only.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


class _Remote:
    """``method.remote(*args)``, awaitable, as a Ray Serve handle's methods are called."""

    def __init__(self, function):
        self.function = function

    async def remote(self, *args):
        return await self.function(*args)


class NeverRaised(Exception):
    """What the ingress retries on for this engine: nothing (a model in this process does not die alone)."""


class LocalModel:
    """The model, compiled for a request alone and for requests together; ``predict`` and ``health`` as the ingress
    calls them. ``predict`` answers (status, JSON body, {stage: seconds}) with the stages ``queue`` (waiting for a
    thread) and ``inference``."""

    died = NeverRaised

    def __init__(self, model: str | Path, runtime: dict, settings: dict):
        from ..runtime.backends import load_backend, model_format
        from ..runtime.deploy import deploy_runtime
        from .workers import ModelWorker

        fmt = model_format(model)
        runtime = {**(deploy_runtime(model) if fmt == "openvino" else {}), **runtime}
        self.alone = ModelWorker.of(load_backend(model, fmt, **{"mode": "latency", **runtime}), settings)
        if fmt == "openvino" and "mode" not in runtime:
            self.together = ModelWorker.of(load_backend(model, fmt, **{**runtime, "mode": "throughput"}), settings)
        else:  # one model: the mode asked for (or a runtime without hints)
            self.together = self.alone
        # A thread per request the throughput model can overlap (its ring), one more for a latency request: each runs
        # a request's preprocessing, inference and post-processing; OpenVINO's inference releases the GIL.
        threads = max(2, getattr(self.together.backend, "ring_size", 2) + 1)
        self.pool = ThreadPoolExecutor(threads, thread_name_prefix="yolo-infer")
        self.running = 0  # requests in flight, counted on the event loop's thread only
        self.predict = _Remote(self._predict)
        self.health = _Remote(self._health)

    async def _predict(self, request: tuple) -> tuple[int, str, dict]:
        name, image, overrides = request
        worker = self.alone if self.running == 0 else self.together
        self.running += 1
        submitted = time.perf_counter()
        try:
            return await asyncio.get_running_loop().run_in_executor(self.pool, self._run, worker, name, image,
                                                                    dict(overrides), submitted)
        finally:
            self.running -= 1

    @staticmethod
    def _run(worker, name: str, image, overrides: dict, submitted: float) -> tuple[int, str, dict]:
        queued = time.perf_counter() - submitted
        result = worker.results([name], [image], **overrides)[0]
        if isinstance(result, str):
            return 400, json.dumps({"error": result}), {"queue": queued}
        return 200, json.dumps(result.to_dict()), {"queue": queued, "inference": result.speed["inference"] / 1000}

    async def _health(self) -> dict:
        backend = self.alone.backend
        return {"pid": os.getpid(), "precision": backend.inference_precision, "engine": "local",
                "task": backend.metadata.task, "names": backend.metadata.names}

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
