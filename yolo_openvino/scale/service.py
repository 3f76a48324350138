"""An HTTP detection service on Ray Serve: ``POST /predict`` and ``GET /healthz``, replicated and autoscaled.

    curl --data-binary @bus.jpg 'http://127.0.0.1:8000/predict?conf=0.4'
    curl -F file=@bus.jpg http://127.0.0.1:8000/predict

The answer is ``Result.to_json()``: path, frame, orig_shape, detections (name, class, confidence, box),
speed. Images are decoded in the ingress's own threads (JPEGs reduced to what the model needs), never in a model
replica, so an expensive image costs its own decode time, not everyone's; requests arriving together are batched
(``@serve.batch``) and run as one asynchronous pipeline, so the model's infer requests stay busy. A bad request gets a 4xx and a one-line message: 400 (not an
image, a bad, unknown or repeated query parameter, a malformed multipart body), 404 (any other path: routes
match exactly), 405 with ``Allow`` (the wrong method), 413 (over ``max_body_mb``); what the client sent is
shown only as a short, escaped excerpt.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ..errors import UsageError
from ..options import PER_REQUEST, names
from .cluster import connect, node_cpus
from .plan import ResourcePlan, plan_resources
from .workers import Detector, decode_fit, model_files, worker_options

LOGGER = logging.getLogger("yolo_openvino")
APP_NAME = "yolo-ov"


@dataclass
class Service:
    """A running service: its URL and how its replicas were placed."""

    url: str
    plan: ResourcePlan
    autoscaling: dict | None

    def shutdown(self) -> None:
        from ray import serve

        serve.delete(APP_NAME)


ROUTES = {"/predict": "POST", "/healthz": "GET"}  # path -> its one method; matched exactly


def excerpt(text: str, limit: int = 40) -> str:
    """Client-supplied text as a message may show it: at most ``limit`` characters, anything not printable ASCII
    escaped, so no request can write control characters or a long payload into an answer or a log."""
    short = text[:limit].encode("unicode_escape").decode("ascii")
    return short + ("..." if len(text) > limit else "")


class BadRequest(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


class Replica:
    """One model replica: batches of images (decoded by the ingress) through one compiled model. Wrapped by
    ``serve.deployment`` in :func:`build_app`; the ingress calls :meth:`predict` through a handle."""

    def __init__(self, shipped: list, runtime: dict, settings: dict, max_batch_size: int, batch_wait_s: float):
        import ray

        self.detector = Detector(ray.get(shipped[0]), runtime, settings)
        self.lock = threading.Lock()  # one batch at a time through the model's infer-request pipeline
        self.predict.set_max_batch_size(max_batch_size)
        self.predict.set_batch_wait_timeout_s(batch_wait_s)

    def health(self) -> dict:
        return {"pid": self.detector.pid, "precision": self.detector.backend.inference_precision}

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
                results = self.detector.results([requests[i][0] for i in indices], [requests[i][1] for i in indices],
                                                **dict(overrides))
                for i, result in zip(indices, results):
                    unreadable = isinstance(result, str)
                    out[i] = (400, json.dumps({"error": result})) if unreadable else (200, result.to_json())
        return out


class Ingress:
    """The HTTP side: parses and checks requests, hands images to a model replica, answers. Inference is
    idempotent, so a request whose replica dies (a crash, a lost node) is sent again to another."""

    RETRIES = 3

    def __init__(self, replicas, max_body_mb: float, api_key: str | None = None, max_pixels: float = 40.0,
                 body_timeout_s: float = 10.0, decode_timeout_s: float = 2.0, fit=None):
        self.replicas = replicas  # a DeploymentHandle to the model replicas
        self.max_body = int(max_body_mb * 1024 * 1024)
        self.api_key = api_key
        self.max_pixels = int(max_pixels * 1e6)
        self.body_timeout_s = body_timeout_s
        self.decode_timeout_s = decode_timeout_s
        self.fit = fit  # what a reduced JPEG decode must still cover (workers.decode_fit)
        # OpenCV releases the GIL while decoding: these threads decode side by side with the event loop
        self.decoder = ThreadPoolExecutor(min(4, os.cpu_count() or 1), thread_name_prefix="yolo-decode")

    def authorized(self, request) -> bool:
        """No key set, or ``Authorization: Bearer <key>`` compared in constant time (no timing of the prefix)."""
        import hmac

        if not self.api_key:
            return True
        given = request.headers.get("authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {self.api_key}".encode())

    async def __call__(self, request):
        from starlette.responses import JSONResponse, Response

        path = request.url.path
        method = ROUTES.get(path)
        if method is None:
            return JSONResponse({"error": f"{excerpt(path)}: not found; use POST /predict or GET /healthz"}, 404)
        if request.method != method:
            return JSONResponse({"error": f"{excerpt(request.method, 10)} {path}: use {method} {path}"}, 405,
                                headers={"Allow": method})
        if path == "/healthz":
            return JSONResponse({"status": "ok", **await self._call("health")})
        if not self.authorized(request):
            return JSONResponse({"error": "missing or wrong API key: send Authorization: Bearer <key>"}, 401,
                                headers={"WWW-Authenticate": "Bearer"})
        try:
            name, data, overrides = await self._parse(request)
            image = await self._decoded(name, data)
            status, body = await self._call("predict", (name, image, tuple(sorted(overrides.items()))))
        except BadRequest as e:  # a 413 or 408 ends the connection: the rest of the body is never read
            close = {"Connection": "close"} if e.status in (408, 413) else None
            return JSONResponse({"error": str(e)}, e.status, headers=close)
        return Response(body, status_code=status, media_type="application/json")

    async def _call(self, method: str, *args):
        """``replicas.<method>(*args)``, sent again (up to RETRIES times) when the replica dies meanwhile."""
        from ray.exceptions import RayActorError

        for attempt in range(self.RETRIES + 1):
            try:
                return await getattr(self.replicas, method).remote(*args)
            except RayActorError as e:
                LOGGER.warning("a replica died during a request (%s); attempt %d of %d", type(e).__name__,
                               attempt + 1, self.RETRIES + 1)
                await asyncio.sleep(0.1 * (attempt + 1))
        raise BadRequest(503, "no model replica could answer (they keep dying): retry later")

    async def _decoded(self, name: str, data: bytes):
        """The image as a ``DecodedImage``, decoded in the ingress's threads within ``decode_timeout_s`` (a 413 after
        it: the decode finishes in the background, bounded by ``max_pixels``; nobody waits for it)."""
        from ..io_utils import ImageReadError, decode_image
        from ..sources import DecodedImage

        job = asyncio.get_running_loop().run_in_executor(self.decoder, decode_image, data, name, self.fit)
        try:
            image, full_shape = await asyncio.wait_for(job, self.decode_timeout_s)
        except asyncio.TimeoutError:
            raise BadRequest(413, f"the image took longer than {self.decode_timeout_s:g} s to decode "
                                  "(decode_timeout_s): send a smaller or simpler one (a JPEG decodes fastest)") from None
        except ImageReadError as e:
            raise BadRequest(400, str(e)) from None  # names the upload by its escaped excerpt, as _parse made it
        return DecodedImage(name, image, full_shape)

    async def _body(self, request) -> bytes:
        """The body as it streams in (Content-Length, chunked or multipart alike): a 413 the moment it passes
        ``max_body_mb``, so an oversized upload is never held whole."""
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > self.max_body:
                raise BadRequest(413, f"body over the {self.max_body} byte limit (max_body_mb): send a smaller image")
            chunks.append(chunk)
        return b"".join(chunks)

    async def _parse(self, request) -> tuple[str, bytes, dict]:
        """(name, image bytes, conf/iou/max_det overrides) of a raw-bytes or multipart request."""
        from ..options import check

        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self.max_body:
            raise BadRequest(413, f"body of {int(declared)} bytes is over the {self.max_body} byte limit "
                                  "(max_body_mb): send a smaller image")
        allowed = names(PER_REQUEST)
        unknown = sorted(set(request.query_params) - set(allowed))
        if unknown:
            shown = ", ".join(excerpt(u, 20) for u in unknown[:5])
            raise BadRequest(400, f"unknown query parameter(s) {shown}: use {', '.join(allowed)}")
        given = Counter(key for key, _ in request.query_params.multi_items())
        repeated = sorted(key for key, count in given.items() if count > 1)
        if repeated:
            raise BadRequest(400, f"query parameter(s) {', '.join(repeated)} given more than once: give each once")
        try:
            overrides = check("predict", dict(request.query_params), where="query")
        except UsageError as e:
            raise BadRequest(400, str(e)) from None
        try:
            body = await asyncio.wait_for(self._body(request), self.body_timeout_s)
        except asyncio.TimeoutError:
            raise BadRequest(408, f"the body took longer than {self.body_timeout_s:g} s to arrive (body_timeout_s): "
                                  "send it faster") from None
        name = "upload"
        data = body
        if request.headers.get("content-type", "").startswith("multipart/form-data"):
            try:
                form = await _parse_multipart(request.headers, body)
            except Exception as e:  # noqa: BLE001 - Starlette's MultiPartException and kin: the client's body
                raise BadRequest(400, f"malformed multipart body ({excerpt(str(e), 80)}): send the image as the "
                                      "field 'file'") from None
            upload = form.get("file") or next((v for v in form.values() if hasattr(v, "read")), None)
            if upload is None or not hasattr(upload, "read"):
                raise BadRequest(400, "multipart request without a file: send the image as the field 'file'")
            # the answer's path: the file's own name, short and escaped (never a path the client chose)
            filename = (upload.filename or name).replace("\\", "/").rsplit("/", 1)[-1]
            name, data = excerpt(filename, 64), await upload.read()
        if not data:
            raise BadRequest(400, "empty body: POST the image bytes, or multipart with the field 'file'")
        self._check_pixels(data)
        return name, data, overrides

    def _check_pixels(self, data: bytes) -> None:
        """A 413 for an image whose header declares more than ``max_pixels``, before anything decodes it (a small
        PNG can declare 144 megapixels and cost seconds and gigabytes to decode)."""
        import io

        import imagesize

        width, height = imagesize.get(io.BytesIO(data))  # (-1, -1) where the header is not one it knows
        if width > 0 and height > 0 and width * height > self.max_pixels:
            raise BadRequest(413, f"a {width}x{height} image is over the {self.max_pixels / 1e6:g} megapixel limit "
                                  "(max_pixels): send a smaller one")


async def _parse_multipart(headers, body: bytes):
    """Starlette's multipart parser over a body already read within the limit (one part: the image)."""
    from starlette.formparsers import MultiPartParser

    async def stream():
        yield body
        yield b""
    return await MultiPartParser(headers, stream(), max_files=1, max_fields=16).parse()


def build_app(files: dict[str, bytes], *, replicas: int | None = 1, cpus_per_replica: float | None = None, max_batch_size: int = 8,
              batch_wait_ms: float = 5.0, max_body_mb: float = 20.0, api_key: str | None = None,
              max_pixels: float = 40.0, body_timeout_s: float = 10.0, decode_timeout_s: float = 2.0,
              autoscaling: dict | None = None,
              node_cpus_available: list[float] | None = None, runtime: dict | None = None, **predict):
    """The Ray Serve application (and its resource plan) for a model's files (``workers.model_files``);
    ``autoscaling`` is passed to Serve."""
    from ray import serve

    runtime, settings = worker_options(predict, runtime, where="serve")
    workers = (autoscaling or {}).get("max_replicas", replicas) if autoscaling else replicas
    plan = plan_resources(node_cpus_available or [], workers, cpus_per_replica, noun="replica")
    runtime = {"mode": "throughput", "threads": plan.threads, "pinning": False, **runtime}
    import ray

    predict_batched = serve.batch(max_batch_size=max_batch_size, batch_wait_timeout_s=batch_wait_ms / 1000)(
        Replica.predict)
    replica_class = type("YoloReplica", (Replica,), {"predict": predict_batched})
    options = {"ray_actor_options": {"num_cpus": plan.cpus_per_worker},
               "max_ongoing_requests": max(2 * max_batch_size, 8)}
    options.update({"autoscaling_config": autoscaling} if autoscaling else {"num_replicas": plan.workers})
    replicas = serve.deployment(name="detector", **options)(replica_class).bind(
        [ray.put(files)], runtime, settings, max_batch_size, batch_wait_ms / 1000)
    # The ingress only parses and forwards (I/O): it declares no CPU, so the planned replicas always fit.
    ingress = serve.deployment(name="ingress", ray_actor_options={"num_cpus": 0},
                               max_ongoing_requests=1000)(Ingress)
    app = ingress.bind(replicas, max_body_mb, api_key, max_pixels, body_timeout_s, decode_timeout_s,
                       decode_fit(files, settings.get("imgsz")))
    return app, plan


def serve(model, *, host: str = "127.0.0.1", port: int = 8000, address: str | None = None, blocking: bool = True,
          **options) -> Service:
    """Start (or update) the service on the cluster at ``address`` and return it; ``blocking`` waits for Ctrl-C.

    Options: replicas, cpus_per_replica, max_batch_size, batch_wait_ms, max_body_mb, max_pixels, body_timeout_s,
    decode_timeout_s, api_key, autoscaling (Serve's
    ``autoscaling_config``), runtime (OpenVINO options), and predict's conf, iou, max_det, imgsz, classes.
    """
    files = model_files(model)  # a wrong model is a one-line error before any cluster work
    options["api_key"] = api_key_for(host, options.get("api_key"))
    ray = connect(address)
    from ray import serve as ray_serve

    app, plan = build_app(files, node_cpus_available=node_cpus(ray), **options)
    ray_serve.start(http_options={"host": host, "port": port})
    host, port = _listening(host, port)
    ray_serve.run(app, name=APP_NAME, route_prefix="/", blocking=False)
    service = Service(f"http://{host}:{port}", plan, options.get("autoscaling"))
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


def _listening(host: str, port: int) -> tuple[str, int]:
    """Where Serve really listens: a Serve instance already running on the cluster keeps its own address."""
    try:
        from ray.serve.context import _get_global_client  # no public getter of the running HTTP options

        config = _get_global_client().http_config
    except Exception:  # noqa: BLE001 (a private API: if it moves, trust what was asked for)
        return host, port
    if (config.host, config.port) != (host, port):
        LOGGER.warning("Ray Serve already runs on this cluster at %s:%d; the service is there (host=%s port=%d "
                       "ignored: `serve shutdown` first to move it)", config.host, config.port, host, port)
    return config.host, config.port


def _wait_for_interrupt(service: Service) -> None:
    import time

    print(f"POST images to {service.url}/predict (GET {service.url}/healthz); Ctrl-C stops", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        service.shutdown()
