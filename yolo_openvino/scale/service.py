"""An HTTP detection service: ``POST /predict`` and ``GET /healthz``, model replicas on Ray Serve, replicated and
autoscaled.

    curl --data-binary @bus.jpg 'http://127.0.0.1:8000/predict?conf=0.4'
    curl -F file=@bus.jpg http://127.0.0.1:8000/predict

The answer is ``Result.to_dict()`` as JSON: path, frame, orig_shape, detections (name, class, confidence, box), speed.
Requests arrive at our own HTTP server (``front``) in the process that started the service, where the ingress
(``ingress``) checks them and decodes each image in threads of its own (JPEGs reduced to what the model needs),
so an expensive image costs its own decode time, not a replica's; it calls a model replica through a Serve
handle. Ray Serve's HTTP proxy is not started. Requests arriving together at a replica are batched
(``@serve.batch``) and run as one asynchronous pipeline, so the model's infer requests stay busy.
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
from .workers import ModelWorker, decode_fit, model_files, worker_options

LOGGER = logging.getLogger("yolo_openvino")
APP_NAME = "yolo-ov"


@dataclass
class Service:
    """A running service: its URL, how its replicas were placed, and the HTTP server that answers (in this
    process: the service lives as long as it does, or until :meth:`shutdown`)."""

    url: str
    plan: ResourcePlan
    autoscaling: dict | None
    front: Front
    ingress: Ingress

    def shutdown(self) -> None:
        from ray import serve

        self.front.stop()
        self.ingress.close()
        serve.delete(APP_NAME)


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
        return {"pid": self.worker.pid, "precision": self.worker.backend.inference_precision}

    async def predict(self, requests: list[tuple]) -> list[tuple[int, str]]:
        """(status, JSON body) per (name, DecodedImage, overrides) request that arrived together (``@serve.batch``)."""
        return await asyncio.to_thread(self._run, requests)

    def _run(self, requests: list[tuple]) -> list[tuple[int, str]]:
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
                    unreadable = isinstance(result, str)
                    out[i] = (400, json.dumps({"error": result})) if unreadable else (200, json.dumps(result.to_dict()))
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


def serve(model, *, host: str = "127.0.0.1", port: int = 8000, address: str | None = None, blocking: bool = True,
          max_body_mb: float = 20.0, api_key: str | None = None, max_pixels: float = 40.0,
          body_timeout_s: float = 10.0, decode_timeout_s: float = 2.0, **options) -> Service:
    """Start the service: model replicas on the cluster at ``address`` (None: a local one), our HTTP server on
    ``host:port`` in this process (port 0: a free one, see ``Service.url``); ``blocking`` waits for Ctrl-C.

    Options: replicas, cpus_per_replica, max_batch_size, batch_wait_ms, autoscaling (Serve's
    ``autoscaling_config``), runtime (OpenVINO options), and predict's conf, iou, max_det, imgsz, classes.
    """
    files = model_files(model)  # a wrong model is a one-line error before any cluster work
    key = api_key_for(host, api_key)
    sock = bind(host, port)  # and so is a port in use
    try:
        ray = connect(address)
        from ray import serve as ray_serve

        app, plan, settings = build_app(files, node_cpus_available=node_cpus(ray), **options)
        ray_serve.start(proxy_location="Disabled")  # no Serve proxy: our front is the only door
        replicas = ray_serve.run(app, name=APP_NAME, route_prefix=None, blocking=False)
        ingress = Ingress(replicas, max_body_mb, key, max_pixels, body_timeout_s, decode_timeout_s,
                          decode_fit(files, settings.get("imgsz")))
        front = Front(ingress.asgi, sock, header_timeout_s=body_timeout_s)
    except BaseException:
        sock.close()
        raise
    service = Service(front.url, plan, options.get("autoscaling"), front, ingress)
    LOGGER.info("serving %s at %s/predict with %s", model, service.url, plan.describe("replica"))
    if blocking:
        _wait_for_interrupt(service)
    return service


def api_key_for(host: str, given: str | None) -> str | None:
    """The service's API key: ``api_key=``, else ``YOLO_OV_API_KEY``; none on a public interface is a warning."""
    import os

    key = given or os.environ.get("YOLO_OV_API_KEY") or None
    if not key and host not in ("127.0.0.1", "localhost", "::1"):
        LOGGER.warning("serving on %s without an API key: anyone who reaches it can use it; set api_key= (or "
                       "YOLO_OV_API_KEY) and put it behind a TLS proxy (README: Scale out)", host)
    return key


def _wait_for_interrupt(service: Service) -> None:
    import time

    print(f"POST images to {service.url}/predict (GET {service.url}/healthz); Ctrl-C stops", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        service.shutdown()
