"""The service's HTTP side, in process (no Ray): exact routes, 405 with Allow, repeated parameters refused,
malformed multipart a 400, nothing of the request echoed beyond a short escaped excerpt. The real service on a
Ray cluster is tested in test_scale.py (slow set)."""

from __future__ import annotations

import asyncio
import json

import pytest

pytest.importorskip("starlette")


class _Method:
    def __init__(self, answer):
        self.answer = answer

    async def remote(self, *args):
        return self.answer(*args)


class FakeReplicas:
    """What the ingress calls through its deployment handle: ``health`` and ``predict``."""

    def __init__(self):
        self.received = []
        self.health = _Method(lambda: {"pid": 1, "precision": "f32"})
        self.predict = _Method(self._predict)

    def _predict(self, request):
        self.received.append(request)
        return 200, json.dumps({"path": request[0]})


def png(h: int = 8, w: int = 8) -> bytes:
    import cv2
    import numpy as np

    return cv2.imencode(".png", np.zeros((h, w, 3), np.uint8))[1].tobytes()


IMAGE = png()


def request(method: str, raw_path: str, body: bytes = b"", query: str = "", content_type: str | None = None,
            authorization: str | None = None, chunk: int | None = None, reads: list = None, delay_s: float = 0.0):
    """A Starlette request of ``body``; ``chunk``: sent in pieces of that size without a Content-Length (chunked),
    each piece read appended to ``reads``, ``delay_s`` apart."""
    from starlette.requests import Request

    headers = [] if chunk else [(b"content-length", str(len(body)).encode())]
    pieces = [body[i:i + chunk] for i in range(0, len(body), chunk)] if chunk else [body]
    if content_type:
        headers.append((b"content-type", content_type.encode()))
    if authorization is not None:
        headers.append((b"authorization", authorization.encode()))
    scope = {"type": "http", "method": method, "path": raw_path, "raw_path": raw_path.encode(), "root_path": "",
             "query_string": query.encode(), "headers": headers, "scheme": "http", "server": ("127.0.0.1", 8000)}
    async def receive():
        await asyncio.sleep(delay_s)  # a slow client: this long between pieces
        if not pieces:
            return {"type": "http.disconnect"}
        piece = pieces.pop(0)
        if reads is not None:
            reads.append(len(piece))
        return {"type": "http.request", "body": piece, "more_body": bool(pieces)}

    return Request(scope, receive)


def call(method: str, raw_path: str, body: bytes = b"", api_key: str | None = None, max_pixels: float = 1.0,
         fit=None, **sent):
    """(status, headers, JSON answer, replicas) of one request (see :func:`request`) through an ingress of
    max_body_mb 1, max_pixels 1, body_timeout_s 0.5."""
    from yolo_openvino.scale.ingress import Ingress

    replicas = FakeReplicas()
    ingress = Ingress(replicas, max_body_mb=1, api_key=api_key, max_pixels=max_pixels, body_timeout_s=0.5, fit=fit)
    response = asyncio.run(ingress(request(method, raw_path, body, **sent)))
    return response.status_code, response.headers, json.loads(response.body), replicas


@pytest.mark.parametrize("method,path,status,allow", [
    ("POST", "/predict", 200, None), ("GET", "/healthz", 200, None),
    ("POST", "/x/y/predict", 404, None), ("POST", "//predict//", 404, None), ("POST", "/predict/", 404, None),
    ("GET", "/anything/healthz", 404, None), ("GET", "/-/routes", 404, None),
    ("GET", "/predict", 405, "POST"), ("PUT", "/predict", 405, "POST"), ("POST", "/healthz", 405, "GET"),
    ("GET", "/healthz/live", 200, None), ("GET", "/healthz/ready", 200, None), ("POST", "/metrics", 405, "GET"),
    ("GET", "/", 404, None),  # no page unless ui=True
])
def test_routes_match_exactly_and_a_wrong_method_is_405(method, path, status, allow):
    code, headers, answer, _ = call(method, path, body=IMAGE)
    assert code == status and headers.get("allow") == allow
    assert ("error" in answer) is (status != 200)


def test_nothing_long_or_unprintable_is_echoed():
    code, _, answer, _ = call("POST", "/" + "a" * 10_000 + "\x00\x1b[31m")
    assert code == 404 and len(answer["error"]) < 120 and "\x00" not in answer["error"] and "\x1b" not in answer["error"]
    code, _, answer, _ = call("POST", "/predict", b"x", query="\x1b[2J" + "q" * 500 + "=1")
    assert code == 400 and len(answer["error"]) < 200 and "\x1b" not in answer["error"]


@pytest.mark.parametrize("query", ["conf=0.1&conf=0.9", "max_det=5&iou=0.5&max_det=6"])
def test_repeated_query_parameters_are_refused(query):
    code, _, answer, replicas = call("POST", "/predict", IMAGE, query=query)
    assert code == 400 and "given more than once" in answer["error"] and not replicas.received


@pytest.mark.parametrize("content_type,body", [
    ("multipart/form-data", b"--x\r\nno boundary declared\r\n"),
    ("multipart/form-data; boundary=x", b"--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.jpg\"\r\n"),
])
def test_a_malformed_multipart_body_is_a_400_not_a_500(content_type, body):
    code, _, answer, replicas = call("POST", "/predict", body, content_type=content_type)
    assert code == 400 and not replicas.received and len(answer["error"].splitlines()) == 1


def test_a_multipart_filename_is_shortened_and_escaped():
    name = "../../etc/" + "x" * 200 + "\x1b.jpg"
    body = (f"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
            "Content-Type: image/jpeg\r\n\r\n").encode() + IMAGE + b"\r\n--b--\r\n"
    code, _, answer, replicas = call("POST", "/predict", body, content_type="multipart/form-data; boundary=b")
    assert code == 200 and "/" not in answer["path"] and "\x1b" not in answer["path"] and len(answer["path"]) <= 70


@pytest.mark.parametrize("authorization,status", [(None, 401), ("Bearer wrong", 401), ("Bearer s3cret", 200),
                                                  ("bearer s3cret", 401), ("s3cret", 401)])
def test_an_api_key_guards_predict_but_not_healthz(authorization, status):
    code, headers, answer, replicas = call("POST", "/predict", IMAGE, api_key="s3cret",
                                           authorization=authorization)
    assert code == status and bool(replicas.received) is (status == 200)
    assert (headers.get("www-authenticate") == "Bearer") is (status == 401)
    assert call("GET", "/healthz", api_key="s3cret")[0] == 200


@pytest.mark.parametrize("host,given,environment,key,warned", [
    ("127.0.0.1", None, None, None, False), ("0.0.0.0", None, None, None, True),
    ("0.0.0.0", "k1", None, "k1", False), ("0.0.0.0", None, "k2", "k2", False), ("127.0.0.1", "k1", "k2", "k1", False),
])
def test_the_key_comes_from_the_option_or_the_environment(monkeypatch, caplog, host, given, environment, key, warned):
    from yolo_openvino.scale.service import api_key_for

    if environment:
        monkeypatch.setenv("YOLO_OV_API_KEY", environment)
    assert api_key_for(host, given) == key
    assert ("without an API key" in caplog.text) is warned


@pytest.mark.parametrize("multipart", [False, True])
def test_an_oversized_body_is_cut_off_as_it_streams_in(multipart):
    """A chunked 4 MB upload against a 1 MB limit: 413 after about 1 MB was read, the connection closed."""
    image = b"\xff" * (4 * 1024 * 1024)
    body, content_type = image, None
    if multipart:
        body = (b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.jpg\"\r\n\r\n" + image +
                b"\r\n--b--\r\n")
        content_type = "multipart/form-data; boundary=b"
    reads = []
    code, headers, answer, replicas = call("POST", "/predict", body, content_type=content_type, chunk=64 * 1024,
                                           reads=reads)
    assert code == 413 and headers.get("connection") == "close" and not replicas.received
    assert sum(reads) <= 1024 * 1024 + 64 * 1024 < len(body)


@pytest.mark.parametrize("size,status", [((1000, 1000), 200), ((1200, 1000), 413), ((12000, 12000), 413)])
def test_the_pixel_cap_is_read_from_the_header_before_decoding(size, status, monkeypatch):
    """A PNG declaring 12000x12000 (a few hundred bytes here) is refused by its header; nothing decodes it."""
    import struct
    import zlib

    import yolo_openvino.utils.files as io_utils

    w, h = size
    header = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    fake = b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + header + struct.pack(">I", zlib.crc32(b"IHDR" + header))
    decoded = []
    real = io_utils.decode_image
    monkeypatch.setattr(io_utils, "decode_image", lambda *a: decoded.append(a) or real(*a))
    code, _, answer, replicas = call("POST", "/predict", png(h, w) if status == 200 else fake + b"\x00" * 64)
    assert bool(decoded) is (status == 200)
    assert code == status and bool(replicas.received) is (status == 200)
    assert status == 200 or f"{w}x{h} image is over the 1 megapixel limit" in answer["error"]


def test_a_slow_client_is_cut_with_408():
    code, headers, answer, replicas = call("POST", "/predict", b"x" * 40, chunk=4, delay_s=0.1)
    assert code == 408 and headers.get("connection") == "close" and "body_timeout_s" in answer["error"]
    assert not replicas.received


def test_images_are_decoded_in_the_ingress_reduced_to_what_the_model_needs():
    """The replica receives the decoded image: a 2000x1600 JPEG for a 320 model decoded at 1/4, its full size kept
    (boxes map back to it)."""
    import cv2
    import numpy as np

    from yolo_openvino.runtime.sources import DecodedImage

    jpeg = cv2.imencode(".jpg", np.full((1600, 2000, 3), 90, np.uint8))[1].tobytes()
    code, _, _, replicas = call("POST", "/predict", jpeg, max_pixels=40, fit=(320, 320))
    (name, image, _), = replicas.received
    assert code == 200 and isinstance(image, DecodedImage)
    assert image.image.shape == (400, 500, 3) and tuple(image.full_shape) == (1600, 2000)
    code, _, answer, replicas = call("POST", "/predict", b"not an image at all")
    assert code == 400 and "not a decodable image" in answer["error"] and not replicas.received


def test_a_slow_decode_is_cut_and_never_holds_up_another_request(monkeypatch):
    """Six images that decode for 1.5 s each against a 0.3 s budget (more than the decode threads; their headers
    are unreadable, so they queue with the large images): each a 413 at the budget; a good image sent at the same
    time is answered at once, not after them."""
    import time

    import yolo_openvino.utils.files as io_utils
    from yolo_openvino.scale.ingress import Ingress

    real = io_utils.decode_image

    def decode(data, name, fit=None, shrink_others=False):
        if data == b"slow" + IMAGE:
            time.sleep(1.5)
        return real(data.removeprefix(b"slow"), name, fit, shrink_others)

    monkeypatch.setattr(io_utils, "decode_image", decode)
    ingress = Ingress(FakeReplicas(), max_body_mb=1, max_pixels=1.0, body_timeout_s=1, decode_timeout_s=0.3)
    done = {}

    async def timed(label, body):
        response = await ingress(request("POST", "/predict", body))
        done[label] = (response.status_code, time.perf_counter() - started, json.loads(response.body))

    async def both():
        await asyncio.gather(*[timed(f"slow{i}", b"slow" + IMAGE) for i in range(6)], timed("good", IMAGE))

    started = time.perf_counter()
    try:
        asyncio.run(both())
    finally:
        ingress.close()
    assert done["good"][0] == 200 and done["good"][1] < 0.25
    for status, seconds, answer in (done[f"slow{i}"] for i in range(6)):
        assert status == 413 and 0.3 <= seconds < 1.0 and "decode_timeout_s" in answer["error"]


# -- the same ingress behind our own HTTP server (uvicorn on a real socket), still without Ray ---------------------
@pytest.fixture(scope="module")
def front():
    from yolo_openvino.scale.front import Front, bind
    from yolo_openvino.scale.ingress import Ingress

    ingress = Ingress(FakeReplicas(), max_body_mb=1, api_key="key", body_timeout_s=1)
    server = Front(ingress.asgi, bind("127.0.0.1", 0), header_timeout_s=1)
    yield server
    server.stop()
    ingress.close()


def _probe_cases():
    import service_probe

    return [case for case in service_probe.cases(max_body_mb=1, body_timeout_s=1) if not case.heavy]


@pytest.mark.parametrize("case", _probe_cases(), ids=lambda case: case.name)
def test_the_http_server_answers_the_hostile_probe(front, case):
    """tests/service_probe.py's cases (but the heavy one) over a real socket: bodies cut as they stream in, slow
    clients cut, connections closed after a 413 or 408, Ray Serve's own routes absent, the server healthy after."""
    import service_probe

    answer = case.send(front.url, IMAGE, {"Authorization": "Bearer key"})
    assert not case.problems(answer), (case.name, answer.status, answer.body[:200])
    assert service_probe.exchange(front.url, "GET", "/healthz").status == 200


def test_a_port_in_use_is_a_one_line_error():
    from yolo_openvino.errors import UsageError
    from yolo_openvino.scale.front import bind

    taken = bind("127.0.0.1", 0)
    taken.listen()
    try:
        with pytest.raises(UsageError, match=r"cannot listen on 127\.0\.0\.1:\d+ .*pick another port="):
            bind("127.0.0.1", taken.getsockname()[1])
    finally:
        taken.close()


@pytest.mark.parametrize("method,path", [("GET", "/healthz"), ("POST", "/predict")])
def test_replicas_that_keep_dying_are_a_503(method, path, monkeypatch):
    """Every attempt's replica died: a 503 with its one-line error, on both routes (never a 500)."""
    from ray.exceptions import RayActorError

    from yolo_openvino.scale.ingress import Ingress

    def dead(*_):
        raise RayActorError()

    replicas = FakeReplicas()
    replicas.health, replicas.predict = _Method(dead), _Method(dead)
    monkeypatch.setattr(Ingress, "RETRIES", 1)
    ingress = Ingress(replicas, max_body_mb=1)
    response = asyncio.run(ingress(request(method, path, IMAGE)))
    ingress.close()
    assert response.status_code == 503 and "retry later" in json.loads(response.body)["error"]


def test_past_the_in_flight_limit_a_request_gets_a_json_503(monkeypatch):
    """Not uvicorn's plain-text 503: the ingress's own, one-line JSON, with Retry-After."""
    import yolo_openvino.scale.ingress as ingress_module
    from yolo_openvino.scale.ingress import Ingress

    monkeypatch.setattr(ingress_module, "MAX_IN_FLIGHT", 0)
    ingress = Ingress(FakeReplicas(), max_body_mb=1)
    response = asyncio.run(ingress(request("POST", "/predict", IMAGE)))
    health = asyncio.run(ingress(request("GET", "/healthz")))
    ingress.close()
    assert response.status_code == 503 and response.headers["retry-after"] == "1"
    assert "requests in flight" in json.loads(response.body)["error"] and health.status_code == 200


def test_a_large_png_reaches_the_model_reduced_to_what_it_needs():
    """A PNG has no reduced decode: the ingress shrinks it after decoding (area averaging), as a JPEG's would be."""
    from yolo_openvino.scale.ingress import Ingress

    replicas = FakeReplicas()
    ingress = Ingress(replicas, max_body_mb=5, max_pixels=40, fit=(64, 64))
    response = asyncio.run(ingress(request("POST", "/predict", png(1200, 1600))))
    ingress.close()
    image = replicas.received[0][1]
    assert response.status_code == 200 and image.full_shape == (1200, 1600) and image.image.shape[:2] == (150, 200)


def test_the_page_is_served_without_the_key_and_holds_none():
    from yolo_openvino.scale.ingress import Ingress

    ingress = Ingress(FakeReplicas(), max_body_mb=1, api_key="secret-key", ui=True)
    page = asyncio.run(ingress(request("GET", "/")))
    refused = asyncio.run(ingress(request("POST", "/", IMAGE)))
    metrics = asyncio.run(ingress(request("GET", "/metrics")))
    ingress.close()
    html = page.body.decode()
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert "secret-key" not in html and "http://" not in html and "https://" not in html  # no key, no CDN
    assert refused.status_code == 405 and metrics.status_code == 401


def test_on_ray_a_small_jpeg_travels_encoded_and_anything_else_decoded():
    """A tenth of the bytes through Ray's object store: small JPEGs go to the replica as they came (decoded there,
    reduced), other formats are decoded in the ingress as before."""
    import cv2
    import numpy as np

    from yolo_openvino.runtime.sources import DecodedImage, EncodedImage
    from yolo_openvino.scale.ingress import Ingress

    jpeg = cv2.imencode(".jpg", np.full((480, 640, 3), 90, np.uint8))[1].tobytes()
    replicas = FakeReplicas()
    ingress = Ingress(replicas, max_body_mb=5, max_pixels=40, ship_encoded=True)
    for body in (jpeg, png(480, 640)):
        assert asyncio.run(ingress(request("POST", "/predict", body))).status_code == 200
    ingress.close()
    (_, first, _), (_, second, _) = replicas.received
    assert isinstance(first, EncodedImage) and first.data == jpeg and isinstance(second, DecodedImage)
