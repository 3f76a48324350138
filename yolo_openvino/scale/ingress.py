"""The service's HTTP side: routes, request checks, the body read as it streams in, the image decoded in threads
of its own, an answer from the model (in this process, ``local``, or a replica on Ray Serve). It runs in the
process that started the service, behind our own HTTP server (``front``), never behind Ray Serve's proxy, so only
its routes answer: ``POST /predict``; ``GET /healthz`` (ready: 503 ``draining`` once a stop began),
``/healthz/ready`` (the same) and ``/healthz/live`` (the process answers); ``GET /metrics`` (Prometheus); ``GET /``
the page (``ui``), without the key (it holds none: the key is typed into it).

A bad request gets a 4xx and a one-line JSON ``error``: 400 (not an image, a bad, unknown or repeated query
parameter, a malformed multipart body), 401 (a missing or wrong API key), 404 (any other path: routes match
exactly), 405 with ``Allow`` (the wrong method), 408 (a body slower than ``body_timeout_s``), 413 (over
``max_body_mb`` or ``max_pixels``, or slower to decode than ``decode_timeout_s``), and 503 when every replica
it tried died or more than MAX_IN_FLIGHT requests are in flight; what the client sent is shown only as a short,
escaped excerpt.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from ..errors import UsageError
from ..options import PER_REQUEST, names

LOGGER = logging.getLogger("yolo_openvino")
LARGE_PIXELS = 12_000_000  # above this an image decodes in the large-image pool (4K UHD is 8.3 MP: ordinary)
# On Ray, a JPEG up to this size travels to the replica encoded (a 1080p JPEG decodes in ~10 ms, reduced in less)
SHIP_ENCODED_PIXELS = 2_100_000

ROUTES = {"/predict": "POST", "/healthz": "GET", "/healthz/ready": "GET", "/healthz/live": "GET",
          "/metrics": "GET"}  # path -> its one method; matched exactly
OPEN_ROUTES = ("/healthz", "/healthz/ready", "/healthz/live")  # what answers without the API key (probes)
MAX_IN_FLIGHT = 1024  # requests answered at once; past it a 503 at once rather than a queue without end
# The page runs its own inline script and talks to this service only: nothing else may load or be reached from it.
PAGE_HEADERS = {"Content-Security-Policy": "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
                                          "connect-src 'self'; img-src 'self' blob: data:",
                "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}


def excerpt(text: str, limit: int = 40) -> str:
    """Client-supplied text as a message may show it: at most ``limit`` characters, anything not printable ASCII
    escaped, so no request can write control characters or a long payload into an answer or a log."""
    short = text[:limit].encode("unicode_escape").decode("ascii")
    return short + ("..." if len(text) > limit else "")


class BadRequest(Exception):
    def __init__(self, status: int, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status = status
        self.headers = headers or {}


def _declares_body(request) -> bool:
    return request.headers.get("content-length", "0") not in ("", "0") or "transfer-encoding" in request.headers


class Ingress:
    """The HTTP side: parses and checks requests, hands images to a model replica, answers. Inference is
    idempotent, so a request whose replica dies (a crash, a lost node) is sent again to another."""

    RETRIES = 3

    def __init__(self, replicas, max_body_mb: float, api_key: str | None = None, max_pixels: float = 40.0,
                 body_timeout_s: float = 10.0, decode_timeout_s: float = 2.0, fit=None, task: str | None = None,
                 ui: bool = False, ship_encoded: bool = False, replica_died: type[BaseException] | None = None):
        from .metrics import ServiceMetrics

        self.replicas = replicas  # the model: a LocalModel, or a DeploymentHandle to the replicas on Ray Serve
        self.max_body = int(max_body_mb * 1024 * 1024)
        self.api_key = api_key
        self.max_pixels = int(max_pixels * 1e6)
        self.body_timeout_s = body_timeout_s
        self.decode_timeout_s = decode_timeout_s
        self.fit = fit  # what a reduced decode must still cover (workers.decode_fit)
        self.task = task or "unknown"  # the images counter's label
        self.draining = False  # a stop began: readiness answers 503, requests in flight finish
        self.in_flight = 0
        self.metrics = ServiceMetrics([*ROUTES, "/"])
        self.page = _page() if ui else None  # GET /: the page (page.html), read once
        self.ship_encoded = ship_encoded  # the model is in other processes (Ray): small JPEGs travel encoded
        # OpenCV releases the GIL while decoding: these threads decode side by side with the event loop. Images
        # whose header declares more than LARGE_PIXELS (or nothing we can read) queue in a pool of their own, so an
        # ordinary image never waits behind expensive ones: those share the CPU with it, and their own time limit.
        threads = min(4, os.cpu_count() or 1)
        self.decoders = {large: ThreadPoolExecutor(threads, thread_name_prefix=f"yolo-decode{'-large' * large}")
                         for large in (False, True)}
        # imported now, not by the first request: importing OpenCV and Starlette holds the event loop a second
        import cv2  # noqa: F401
        import imagesize  # noqa: F401
        import starlette.formparsers  # noqa: F401
        import starlette.responses  # noqa: F401

        # what a request is retried on: a replica's death on Ray (a Serve handle answers any attribute, so it is given,
        # never looked up on ``replicas``); the one-machine engine passes an exception it never raises
        self.replica_died = replica_died or _ray_actor_error()

    def authorized(self, request) -> bool:
        """No key set, or ``Authorization: Bearer <key>`` compared in constant time (no timing of the prefix)."""
        import hmac

        if not self.api_key:
            return True
        given = request.headers.get("authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {self.api_key}".encode())

    async def asgi(self, scope, receive, send) -> None:
        """The ingress as an ASGI application (what ``front.Front`` serves): HTTP requests; nothing else is accepted."""
        from starlette.requests import Request

        if scope["type"] == "http":
            response = await self(Request(scope, receive))
            await response(scope, receive, send)

    async def __call__(self, request):
        """The answer to one request, counted in the metrics (route, status, time, requests in flight)."""
        started = time.perf_counter()
        self.in_flight += 1
        self.metrics.in_flight.inc()
        try:
            response = await self._answer(request)
        finally:
            self.in_flight -= 1
            self.metrics.in_flight.dec()
        self.metrics.answered(request.url.path, response.status_code, time.perf_counter() - started)
        return response

    async def _answer(self, request):
        from starlette.responses import JSONResponse, Response

        path = request.url.path
        method = ROUTES.get(path) or ("GET" if path == "/" and self.page else None)
        try:
            if method is None:
                raise BadRequest(404, f"{excerpt(path)}: not found; use POST /predict, GET /healthz or GET /metrics")
            if request.method != method:
                raise BadRequest(405, f"{excerpt(request.method, 10)} {path}: use {method} {path}", {"Allow": method})
            if path not in (*OPEN_ROUTES, "/") and not self.authorized(request):
                raise BadRequest(401, "missing or wrong API key: send Authorization: Bearer <key>",
                                 {"WWW-Authenticate": "Bearer"})
            if path == "/":
                return Response(self.page, media_type="text/html; charset=utf-8", headers=PAGE_HEADERS)
            if path in OPEN_ROUTES:
                return await self._health(path)
            if path == "/metrics":
                body, content_type = self.metrics.text()
                return Response(body, media_type=content_type)
            if self.in_flight > MAX_IN_FLIGHT:
                raise BadRequest(503, f"over {MAX_IN_FLIGHT} requests in flight: retry later", {"Retry-After": "1"})
            name, data, overrides = await self._parse(request)
            pixels = self._pixels(data)
            image = self._shipped_encoded(name, data, pixels) or await self._decoded(name, data, pixels)
            answer = await self._call("predict", (name, image, tuple(sorted(overrides.items()))))
        except BadRequest as e:  # answered before the body was read whole: the connection ends, the rest unread
            unread = _declares_body(request) and not getattr(request.state, "body_read", False)
            close = {"Connection": "close"} if e.status in (408, 413) or unread else {}
            return JSONResponse({"error": str(e)}, e.status, headers={**e.headers, **close})
        status, body = answer[:2]
        for stage, seconds in (answer[2] if len(answer) > 2 else {}).items():  # the model's own stages
            self.metrics.stage(stage, seconds)
        if status == 200:
            self.metrics.images.labels(self.task).inc()
        return Response(body, status_code=status, media_type="application/json")

    async def _health(self, path: str):
        """Liveness: the process answers. Readiness (``/healthz``, ``/healthz/ready``): the model answers, and no stop
        has begun (then 503 ``draining``: a load balancer sends no more, requests in flight still finish)."""
        from starlette.responses import JSONResponse

        if path == "/healthz/live":
            return JSONResponse({"status": "alive"})
        if self.draining:
            return JSONResponse({"status": "draining"}, 503)
        return JSONResponse({"status": "ok", **await self._call("health")})

    async def _call(self, method: str, *args):
        """``replicas.<method>(*args)``, sent again (up to RETRIES times) when the replica dies meanwhile."""
        for attempt in range(self.RETRIES + 1):
            try:
                return await getattr(self.replicas, method).remote(*args)
            except self.replica_died as e:
                self.metrics.restarts.inc()
                LOGGER.warning("a replica died during a request (%s); attempt %d of %d", type(e).__name__,
                               attempt + 1, self.RETRIES + 1)
                await asyncio.sleep(0.1 * (attempt + 1))
        raise BadRequest(503, "no model replica could answer (they keep dying): retry later")

    def close(self) -> None:
        for pool in self.decoders.values():
            pool.shutdown(wait=False, cancel_futures=True)

    def _shipped_encoded(self, name: str, data: bytes, pixels: int):
        """On Ray, a JPEG of at most SHIP_ENCODED_PIXELS goes to the replica as its bytes (an ``EncodedImage``, decoded
        there, reduced to what the model needs): a tenth of the decoded array through the object store, and a decode
        that is cheap and bounded. Anything else is decoded here, under the decode time limit. None: decode here."""
        from ..runtime.sources import EncodedImage

        if self.ship_encoded and data[:3] == b"\xff\xd8\xff" and 0 < pixels <= SHIP_ENCODED_PIXELS:
            return EncodedImage(name, data)
        return None

    async def _decoded(self, name: str, data: bytes, pixels: int):
        """The image as a ``DecodedImage``, decoded in the ingress's threads within ``decode_timeout_s`` (a 413 after
        it: the decode finishes in the background, bounded by ``max_pixels``; nobody waits for it)."""
        from ..utils.files import ImageReadError, decode_image
        from ..runtime.sources import DecodedImage

        pool = self.decoders[not 0 < pixels <= LARGE_PIXELS]
        started = time.perf_counter()
        job = asyncio.get_running_loop().run_in_executor(pool, decode_image, data, name, self.fit, True)
        try:
            image, full_shape = await asyncio.wait_for(job, self.decode_timeout_s)
            self.metrics.stage("decode", time.perf_counter() - started)
        except asyncio.TimeoutError:
            raise BadRequest(413, f"the image took longer than {self.decode_timeout_s:g} s to decode "
                                  "(decode_timeout_s): send a smaller or simpler one (a JPEG decodes fastest)") from None
        except ImageReadError as e:
            raise BadRequest(400, str(e)) from None  # names the upload by its escaped excerpt, as _parse made it
        return DecodedImage(name, image, full_shape)

    async def _body(self, request) -> bytes:
        """The body as it streams in (Content-Length, chunked or multipart alike): a 413 the moment it passes
        ``max_body_mb``, so an oversized upload is never held whole."""
        from starlette.requests import ClientDisconnect

        chunks, size = [], 0
        try:
            async for chunk in request.stream():
                size += len(chunk)
                if size > self.max_body:
                    raise BadRequest(413, f"body over the {self.max_body} byte limit (max_body_mb): send a smaller image")
                chunks.append(chunk)
        except ClientDisconnect:  # the client's doing, not a bug of ours: nobody is left to answer
            raise BadRequest(400, "the client disconnected before its body ended") from None
        request.state.body_read = True
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
        return name, data, overrides

    def _pixels(self, data: bytes) -> int:
        """The pixels the image's header declares (0 where unreadable); a 413 above ``max_pixels``, before anything
        decodes it (a small PNG can declare 144 megapixels and cost seconds and gigabytes to decode)."""
        import io

        import imagesize

        width, height = imagesize.get(io.BytesIO(data))  # (-1, -1) where the header is not one it knows
        if width > 0 and height > 0 and width * height > self.max_pixels:
            raise BadRequest(413, f"a {width}x{height} image is over the {self.max_pixels / 1e6:g} megapixel limit "
                                  "(max_pixels): send a smaller one")
        return max(width, 0) * max(height, 0)


def _page() -> bytes:
    """page.html: one self-contained page (no CDN) to try the service from a browser."""
    from importlib.resources import files

    return files("yolo_openvino.scale").joinpath("page.html").read_bytes()


def _ray_actor_error():
    """Ray's "the replica's actor died" (retried on another); Ray is in this process already when it serves on Ray."""
    from ray.exceptions import RayActorError

    return RayActorError


async def _parse_multipart(headers, body: bytes):
    """Starlette's multipart parser over a body already read within the limit (one part: the image)."""
    from starlette.formparsers import MultiPartParser

    async def stream():
        yield body
        yield b""
    return await MultiPartParser(headers, stream(), max_files=1, max_fields=16).parse()


