"""An HTTP detection service: ``POST /predict``, ``GET /healthz`` (and ``/healthz/live``, ``/healthz/ready``),
``GET /metrics``; the model in this process (one machine, the default) or replicated and autoscaled on Ray Serve
(``address=`` or ``engine=ray``).

    curl --data-binary @bus.jpg 'http://127.0.0.1:8000/predict?conf=0.4'
    curl -F file=@bus.jpg http://127.0.0.1:8000/predict

The answer is ``Result.to_dict()`` as JSON: path, frame, orig_shape, detections (name, class, confidence, box), speed.
Requests arrive at our own HTTP server (``front``) in the process that started the service, where the ingress
(``ingress``) checks them and decodes each image in threads of its own (reduced to what the model needs), so an
expensive image costs its own decode time, not the model's. One machine: the ingress hands the decoded image to
the model in the same process (``local``). On Ray: to a replica through a Serve handle (Ray Serve's HTTP proxy is
not started); requests arriving together at a replica are batched (``@serve.batch``) and run as one asynchronous
pipeline. SIGTERM or SIGINT stops it gracefully: readiness answers 503 ``draining``, no new connection is taken,
the requests in flight finish (up to ``drain_s``), then the model (and a local cluster) stop and it exits 0.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import defaultdict
from dataclasses import dataclass

from .cluster import connect, node_cpus
from .front import Front, bind
from .ingress import Ingress
from .plan import ResourcePlan, plan_resources
from .workers import ModelWorker, decode_fit, model_files, shipped_metadata, worker_options

LOGGER = logging.getLogger("yolo_openvino")
APP_NAME = "yolo-ov"


@dataclass
class Service:
    """A running service: its URL, its engine (``local`` or ``ray``) and, on Ray, how its replicas were placed, and
    the HTTP server that answers (in this process: the service lives as long as it does, or until
    :meth:`shutdown`)."""

    url: str
    plan: ResourcePlan | None
    autoscaling: dict | None
    front: Front
    ingress: Ingress
    engine: str = "ray"
    model: object = None  # the LocalModel of the one-machine engine
    started_cluster: bool = False  # a local Ray cluster this service started (stopped with it)

    def shutdown(self) -> float:
        """Stop gracefully: readiness answers 503 ``draining``, new connections are refused, the requests in flight
        finish (up to the front's ``drain_s``), then the model stops. Returns the seconds the drain took."""
        import time

        started = time.monotonic()
        self.ingress.draining = True
        self.front.stop()
        drained = time.monotonic() - started
        self.ingress.close()
        if self.model is not None:
            self.model.close()
        if self.engine == "ray":
            import ray
            from ray import serve

            serve.delete(APP_NAME)
            if self.started_cluster:  # ours to stop: the whole local cluster (the Serve controller with it)
                ray.shutdown()
        return drained


class Replica:
    """One model replica: batches of images (decoded by the ingress) through one compiled model. Wrapped by
    ``serve.deployment`` in :func:`build_app`; the ingress calls :meth:`predict` through a handle."""

    def __init__(self, shipped: list, runtime: dict, settings: dict, max_batch_size: int, batch_wait_s: float):
        import ray

        self.worker = ModelWorker(ray.get(shipped[0]), runtime, settings)
        self.lock = threading.Lock()  # one batch at a time through the model's infer-request pipeline
        self.predict.set_max_batch_size(max_batch_size)
        self.predict.set_batch_wait_timeout_s(batch_wait_s)

    def health(self) -> dict:
        meta = self.worker.backend.metadata
        return {"pid": self.worker.pid, "precision": self.worker.backend.inference_precision, "engine": "ray",
                "task": meta.task, "names": meta.names}

    async def predict(self, requests: list[tuple]) -> list[tuple[int, str, dict]]:
        """(status, JSON body, {stage: seconds}) per (name, DecodedImage, overrides) request that arrived together
        (``@serve.batch``)."""
        return await asyncio.to_thread(self._run, requests)

    def _run(self, requests: list[tuple]) -> list[tuple[int, str, dict]]:
        import json

        out: list = [None] * len(requests)
        groups: dict[tuple, list[int]] = defaultdict(list)
        for i, (_, _, overrides) in enumerate(requests):
            groups[overrides].append(i)
        with self.lock:
            for overrides, indices in groups.items():  # one pipeline per distinct conf/iou/max_det
                results = self.worker.results([requests[i][0] for i in indices], [requests[i][1] for i in indices],
                                                **dict(overrides))
                for i, result in zip(indices, results):
                    if isinstance(result, str):
                        out[i] = (400, json.dumps({"error": result}), {})
                    else:
                        out[i] = (200, json.dumps(result.to_dict()), {"inference": result.speed["inference"] / 1000})
        return out


def build_app(files: dict[str, bytes], *, replicas: int | None = 1, cpus_per_replica: float | None = None,
              max_batch_size: int = 8, batch_wait_ms: float = 5.0, autoscaling: dict | None = None,
              node_cpus_available: list[float] | None = None, runtime: dict | None = None, **predict):
    """(the Ray Serve application of the model replicas, its resource plan, the predict settings) for a model's
    files (``workers.model_files``); ``autoscaling`` is passed to Serve."""
    import ray
    from ray import serve

    runtime, settings = worker_options(predict, runtime, where="serve")
    workers = (autoscaling or {}).get("max_replicas", replicas) if autoscaling else replicas
    plan = plan_resources(node_cpus_available or [], workers, cpus_per_replica, noun="replica")
    runtime = {"mode": "throughput", "threads": plan.threads, "pinning": False, **runtime}
    predict_batched = serve.batch(max_batch_size=max_batch_size, batch_wait_timeout_s=batch_wait_ms / 1000)(
        Replica.predict)
    replica_class = type("YoloReplica", (Replica,), {"predict": predict_batched})
    options = {"ray_actor_options": {"num_cpus": plan.cpus_per_worker},
               "max_ongoing_requests": max(2 * max_batch_size, 8)}
    options.update({"autoscaling_config": autoscaling} if autoscaling else {"num_replicas": plan.workers})
    app = serve.deployment(name="detector", **options)(replica_class).bind(
        [ray.put(files)], runtime, settings, max_batch_size, batch_wait_ms / 1000)
    return app, plan, settings


def serve(model, *, host: str = "127.0.0.1", port: int = 8000, address: str | None = None, engine: str | None = None,
          blocking: bool = True, drain_s: float = 30.0, ui: bool = True, max_body_mb: float = 20.0,
          api_key: str | None = None,
          max_pixels: float = 40.0, body_timeout_s: float = 10.0, decode_timeout_s: float = 2.0,
          **options) -> Service:
    """Start the service: the model in this process (``engine=local``, the default without ``address``) or replicas
    on the Ray cluster at ``address`` (``engine=ray`` without one: a local cluster); our HTTP server on
    ``host:port`` in this process (port 0: a free one, see ``Service.url``); ``blocking`` serves until SIGTERM or
    SIGINT, then stops gracefully (``drain_s``); ``ui``: the page at ``GET /``.

    Options: runtime (OpenVINO options) and predict's conf, iou, max_det, imgsz, classes; on Ray also replicas,
    cpus_per_replica, max_batch_size, batch_wait_ms, autoscaling (Serve's ``autoscaling_config``).
    """
    files = model_files(model)  # a wrong model is a one-line error before any cluster work
    key = api_key_for(host, api_key)
    sock = bind(host, port)  # and so is a port in use
    on_ray = engine == "ray" or address is not None
    try:
        model_engine, plan, settings, started_cluster = (_on_ray(files, address, options) if on_ray
                                                         else _in_this_process(model, options))
        from ..runtime.deploy import deploy_predict

        # a deploy folder picked with the full decode (optimize: the reduced one cost accuracy) decodes in full
        fit = decode_fit(files, settings.get("imgsz")) if deploy_predict(model).get("reduced_decode", True) else None
        ingress = Ingress(model_engine, max_body_mb, key, max_pixels, body_timeout_s, decode_timeout_s,
                          fit, task=shipped_metadata(files).get("task"), ui=ui,
                          ship_encoded=on_ray, replica_died=None if on_ray else model_engine.died)
        front = Front(ingress.asgi, sock, header_timeout_s=body_timeout_s, drain_s=drain_s)
    except BaseException:
        sock.close()
        raise
    service = Service(front.url, plan, options.get("autoscaling"), front, ingress, "ray" if on_ray else "local",
                      None if on_ray else model_engine, started_cluster)
    where = plan.describe("replica") if plan else "the model in this process"
    LOGGER.info("serving %s at %s/predict with %s", model, service.url, where)
    if blocking:
        _serve_until_stopped(service)
    return service


RAY_ONLY = ("replicas", "cpus_per_replica", "max_batch_size", "batch_wait_ms", "autoscaling")


def _in_this_process(model, options: dict):
    """(the LocalModel, no plan, its predict settings, no cluster): Ray's own options said and ignored."""
    from ..options import defaults
    from .local import LocalModel

    ignored = sorted(k for k in RAY_ONLY if k in options and options[k] != defaults("serve").get(k))
    if ignored:
        LOGGER.warning("ignored without address= or engine=ray (the model runs in this process): %s", ignored)
    runtime, settings = worker_options({k: v for k, v in options.items() if k not in (*RAY_ONLY, "runtime")},
                                       options.get("runtime"), where="serve")
    return LocalModel(model, runtime, settings), None, settings, False


def _on_ray(files: dict, address: str | None, options: dict):
    """(the replicas' handle, their plan, the predict settings, whether a local cluster was started here)."""
    import ray as ray_module

    started = address is None and not ray_module.is_initialized()
    ray = connect(address)
    from ray import serve as ray_serve

    app, plan, settings = build_app(files, node_cpus_available=node_cpus(ray), **options)
    ray_serve.start(proxy_location="Disabled")  # no Serve proxy: our front is the only door
    replicas = ray_serve.run(app, name=APP_NAME, route_prefix=None, blocking=False)
    return replicas, plan, settings, started


def api_key_for(host: str, given: str | None) -> str | None:
    """The service's API key: ``api_key=``, else ``YOLO_OV_API_KEY``; none on a public interface is a warning."""
    import os

    key = given or os.environ.get("YOLO_OV_API_KEY") or None
    if not key and host not in ("127.0.0.1", "localhost", "::1"):
        LOGGER.warning("serving on %s without an API key: anyone who reaches it can use it; set api_key= (or "
                       "YOLO_OV_API_KEY) and put it behind a TLS proxy (README: Scale out)", host)
    return key


def _serve_until_stopped(service: Service) -> None:
    """Serve until SIGTERM or SIGINT (a supervisor's stop, ``kill -INT``, Ctrl-C), then stop gracefully and say so in
    one line. Python's own handlers are replaced for the while: the signal only sets an event here."""
    import signal
    import threading

    stop, received = threading.Event(), []

    def on_signal(signum, frame):
        received.append(signum)
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    print(f"POST images to {service.url}/predict (GET {service.url}/healthz, /metrics); SIGTERM or Ctrl-C stops",
          flush=True)
    try:
        while not stop.wait(3600):
            pass
        in_flight = service.ingress.in_flight
        drained = service.shutdown()
        print(f"stopped on {signal.Signals(received[0]).name}: {in_flight} request(s) in flight finished in "
              f"{drained:.1f} s", flush=True)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
