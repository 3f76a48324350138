"""Hostile requests against a running service, sent as an attacker would, each with the answer it must get.

    .venv/bin/python tests/service_probe.py http://127.0.0.1:8000 --api-key KEY --max-body-mb 20 --body-timeout-s 10

Every case talks HTTP/1.1 over its own socket (so it can stream a body in chunks, send it slowly, or stop once the
service has answered) and records the status, the time to the answer, how much of the body went out, whether the
service closed the connection after answering, and whether ``/healthz`` still answers. ``tests/test_scale.py``
runs the table on a real ``serve`` (slow set) and adds the service's memory before and after each case.
"""

from __future__ import annotations

import http.client
import json
import select
import socket
import struct
import time
import zlib
from dataclasses import dataclass
from urllib.parse import urlsplit

CRLF = b"\r\n"
PIECE = 64 * 1024  # bytes per send: the probe checks for an early answer between pieces


@dataclass
class Answer:
    status: int
    headers: dict
    body: bytes
    seconds: float  # from the first byte sent to the whole answer read
    sent: int  # body bytes that went out before the service answered (or closed)
    closed: bool  # the service closed the connection after its answer

    def json(self) -> dict:
        return json.loads(self.body or b"{}")


def exchange(url: str, method: str, path: str, body=b"", headers: dict | None = None, *, chunked: bool = False,
             pace_s: float = 0.0, timeout_s: float = 60.0) -> Answer:
    """One request; ``body`` is bytes or an iterable of byte pieces (streamed; with ``chunked`` in the chunked
    encoding, else under the Content-Length given in ``headers`` or their total), ``pace_s`` apart."""
    where = urlsplit(url)
    sock = socket.create_connection((where.hostname, where.port), timeout=timeout_s)
    headers = {"Host": where.netloc, **(headers or {})}
    pieces = [body[i:i + PIECE] for i in range(0, len(body), PIECE)] if isinstance(body, bytes) else body
    if chunked:
        headers["Transfer-Encoding"] = "chunked"
    elif "Content-Length" not in headers:
        pieces = list(pieces)
        headers["Content-Length"] = str(sum(len(p) for p in pieces))
    head = f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    started = time.perf_counter()
    sent = 0
    try:
        sock.sendall(head.encode("latin-1"))
        for piece in pieces:
            if select.select([sock], [], [], 0)[0]:  # the service has answered (or closed): stop sending
                break
            sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
            sent += len(piece)
            if pace_s:
                time.sleep(pace_s)
        else:
            if chunked:
                sock.sendall(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        pass  # the service closed the connection on an unfinished body: its answer is already on its way
    response = http.client.HTTPResponse(sock)
    try:
        response.begin()
        answer_body = response.read()
    except (ConnectionResetError, http.client.RemoteDisconnected):  # closed without an answer: status 0
        return Answer(0, {}, b"", time.perf_counter() - started, sent, True)
    seconds = time.perf_counter() - started
    answer = Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, answer_body, seconds, sent,
                    _closed(sock))
    sock.close()
    return answer


def trickle_headers(url: str, limit_s: float, pace_s: float = 0.5) -> Answer:
    """Request headers a byte every ``pace_s`` (never finished) until the service closes the connection or
    ``limit_s`` passes; status 0: no answer."""
    where = urlsplit(url)
    sock = socket.create_connection((where.hostname, where.port), timeout=limit_s + 5)
    head = b"POST /predict HTTP/1.1\r\nHost: probe\r\nX-Slow: " + b"a" * 100_000
    started = time.perf_counter()
    sent = 0
    try:
        for byte in head:
            if time.perf_counter() - started > limit_s or select.select([sock], [], [], 0)[0]:
                break  # time is up, or the service closed the connection
            sock.sendall(bytes([byte]))
            sent += 1
            time.sleep(pace_s)
    except (BrokenPipeError, ConnectionResetError):
        pass
    answer = Answer(0, {}, b"", time.perf_counter() - started, sent, _closed(sock))
    sock.close()
    return answer


def _closed(sock: socket.socket, wait_s: float = 0.2) -> bool:
    """Whether the service closed the connection (it does so right after its answer: 0.2 s is ample on loopback)."""
    sock.settimeout(wait_s)
    try:
        return sock.recv(1) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True
    except TimeoutError:
        return False


def zeros(total: int):
    """``total`` zero bytes in pieces, made as they are sent (never held whole by the probe)."""
    block = bytes(PIECE)
    for start in range(0, total, PIECE):
        yield block[:min(PIECE, total - start)]


def black_png(width: int, height: int, rows: int | None = None) -> bytes:
    """A black PNG of ``width`` x ``height`` (kilobytes that decode to width * height * 3 bytes); with ``rows``,
    only that many rows of pixel data follow its header (what a service that reads the header first never sees)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    packer = zlib.compressobj(9)
    row = bytes(1 + width * 3)  # filter byte + one row of black
    data = b"".join(packer.compress(row) for _ in range(height if rows is None else rows)) + packer.flush()
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", data) + chunk(b"IEND", b""))


def multipart(data: bytes, filename: str = "image.jpg", boundary: str = "yolo-ov-probe") -> tuple[bytes, str]:
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n"
            f"Content-Type: application/octet-stream\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


@dataclass
class Case:
    """What to send (``send(url, image, auth headers) -> Answer``) and what must come back."""

    name: str
    send: object
    status: int
    within_s: float = 5.0  # the answer within this long
    closes: bool = False  # and the connection closed after it
    check: object = None  # more to check on the Answer (a function returning a message, or None when fine)
    needs_key: bool = False  # only where the service has an API key
    heavy: bool = False  # seconds of CPU and hundreds of MB (left out of the fast, fake-model run)

    def problems(self, answer: Answer) -> list[str]:
        """What is wrong with ``answer`` (nothing: it came out as it must)."""
        found = [None if answer.status == self.status else f"status {answer.status}, expected {self.status}",
                 None if answer.seconds <= self.within_s else f"answered after {answer.seconds:.2f} s",
                 None if answer.closed or not self.closes else "connection left open",
                 None if answer.status < 500 else "a 5xx",
                 self.check(answer) if self.check else None]
        return [p for p in found if p]


def _short_and_clean(answer: Answer) -> str | None:
    text = answer.body.decode("utf-8", "replace")
    if len(answer.body) > 300 or "\x00" in text or "A" * 100 in text:
        return f"the answer echoes the request: {text[:120]!r}..."
    return None


def _path_is_a_file_name(answer: Answer) -> str | None:
    """The answer's path is the upload's own file name: no folder, at most 64 characters (+ "..."), printable."""
    path = answer.json().get("path", "")
    fine = len(path) <= 67 and "/" not in path and path.isprintable()
    return None if fine else f"path echoed: {path!r}"


def _allow_post(answer: Answer) -> str | None:
    return None if answer.headers.get("allow") == "POST" else f"Allow: {answer.headers.get('allow')!r}"


def cases(max_body_mb: float, body_timeout_s: float) -> list[Case]:
    """The table: the cases of issue #27 and what each must come out as."""
    limit = int(max_body_mb * 1024 * 1024)
    huge = 300 * 1024 * 1024
    # what may have gone out when the 413 comes: the limit, plus what loopback's socket buffers hold (~10 MB)
    cut = limit + 16 * 1024 * 1024

    def cut_early(answer: Answer) -> str | None:
        return None if answer.sent <= cut else f"{answer.sent} bytes went out before the 413"

    def post(path="/predict", **kw):
        return lambda url, image, auth: exchange(url, "POST", path, image, auth, **kw)

    def post_body(body, content_type=None, path="/predict", **kw):
        return lambda url, image, auth: exchange(
            url, "POST", path, body, {**auth, **({"Content-Type": content_type} if content_type else {})}, **kw)

    def get(path):
        return lambda url, image, auth: exchange(url, "GET", path, b"", auth)

    def chunked_zeros(url, image, auth):  # the pieces made as they go out, afresh for each send
        return exchange(url, "POST", "/predict", zeros(huge), auth, chunked=True)

    def multipart_chunked(url, image, auth):
        head, content_type = multipart(b"")
        opening = head[:head.index(b"\r\n--yolo-ov-probe--")]
        return exchange(url, "POST", "/predict", [opening, *zeros(huge)], {**auth, "Content-Type": content_type},
                        chunked=True)

    def filename(url, image, auth):
        body, content_type = multipart(image, "../../etc/" + "A" * 500 + "\x01.jpg")
        return exchange(url, "POST", "/predict", body, {**auth, "Content-Type": content_type})

    def declared_length(url, image, auth):
        return exchange(url, "POST", "/predict", zeros(PIECE), {**auth, "Content-Length": str(huge)})

    def slow(url, image, auth):
        one_byte_a_second = (b"\0" for _ in range(1024 * 1024))
        return exchange(url, "POST", "/predict", one_byte_a_second, {**auth, "Content-Length": str(1024 * 1024)},
                        pace_s=1.0, timeout_s=body_timeout_s + 30)

    def beside_heavy_decodes(url, image, auth):
        """A good image sent while four 36-megapixel PNGs (under the pixel cap, ~0.7 s each to decode) arrive."""
        from concurrent.futures import ThreadPoolExecutor

        heavy = black_png(6000, 6000)
        with ThreadPoolExecutor(4) as pool:
            others = [pool.submit(exchange, url, "POST", "/predict", heavy, auth) for _ in range(4)]
            time.sleep(0.2)  # they are decoding
            answer = exchange(url, "POST", "/predict", image, auth)
            statuses = sorted(f.result().status for f in others)
        answer.headers["x-heavy-statuses"] = statuses  # 200, or 413 past their decode budget
        return answer

    def no_key(url, image, auth):
        return exchange(url, "POST", "/predict", image, {"Authorization": "Bearer wrong"} if auth else {})

    big_png = black_png(12000, 12000, rows=16)
    return [
        Case("chunked 300 MB body", chunked_zeros, 413, 3.0, True, cut_early),
        Case("multipart chunked 300 MB body", multipart_chunked, 413, 3.0, True, cut_early),
        Case("Content-Length 300 MB", declared_length, 413, 2.0, True),
        Case("multipart without a boundary", post_body(b"--x\r\n\r\n", "multipart/form-data"), 400),
        Case("multipart with a broken part", post_body(b"--b\r\nContent-Disposition: form-data; name=\"file\"\r\n"
                                                       b"garbage", "multipart/form-data; boundary=b"), 400),
        Case("POST /x/y/predict", post("/x/y/predict"), 404),
        Case("900 KB posted to a wrong path (the body left unread)", post_body(bytes(900 * 1024), path="/nope"), 404,
             closes=True),
        Case("1 MB of request headers", lambda url, image, auth: exchange(
            url, "POST", "/predict", image, {**auth, "X-Big": "a" * (1 << 20)}), 431, closes=True),
        Case("POST //predict//", post("//predict//"), 404),
        Case("GET /anything/healthz", get("/anything/healthz"), 404),
        Case("GET /-/routes (Ray Serve's)", get("/-/routes"), 404),
        Case("GET /-/healthz (Ray Serve's)", get("/-/healthz"), 404),
        Case("GET /predict", get("/predict"), 405, check=_allow_post),
        Case("conf=0.1&conf=0.9", post("/predict?conf=0.1&conf=0.9"), 400),
        Case("a 10 KB path", post("/" + "A" * 10240), 404, check=_short_and_clean),
        Case("a NUL in the path", post("/predict%00"), 404, check=_short_and_clean),
        Case("a hostile multipart file name", filename, 200, check=_path_is_a_file_name),
        Case("a PNG declaring 12000x12000", post_body(big_png), 413, 1.0),
        Case("1 byte/s on a declared 1 MB body", slow, 408, body_timeout_s + 3.0, True),
        Case("headers at 2 bytes/s, never finished", lambda url, image, auth: trickle_headers(
            url, 3 * body_timeout_s + 5), 0, 2 * body_timeout_s + 1.5, True),
        Case("a good image beside 4 heavy decodes", beside_heavy_decodes, 200, 1.5, heavy=True,
             check=lambda a: None if set(a.headers["x-heavy-statuses"]) <= {200, 413} else
             f"heavy images answered {a.headers['x-heavy-statuses']}"),
        Case("a wrong API key", no_key, 401, needs_key=True),
        Case("a good image", post(), 200),
    ]


def run(url: str, image: bytes, api_key: str | None, max_body_mb: float, body_timeout_s: float, measure=None,
        slack: float = 64.0):
    """Each case's row: name, expected and actual status, seconds, closed, healthy after, problems (and what
    ``measure()`` gives before and after, e.g. the service's memory in MB: after is read once it is back within
    ``slack`` of before, or 5 s after the answer)."""
    auth = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    rows = []
    for case in cases(max_body_mb, body_timeout_s):
        if case.needs_key and not api_key:
            continue
        before = measure() if measure else None
        answer = case.send(url, image, auth)
        healthy = exchange(url, "GET", "/healthz").status == 200
        problems = case.problems(answer)
        rows.append({"case": case.name, "expected": case.status, "status": answer.status,
                     "seconds": round(answer.seconds, 3), "closed": answer.closed, "healthy_after": healthy,
                     "before": before, "after": settled(measure, before + slack) if measure else None,
                     "problems": problems})
    return rows


def settled(measure, target: float, limit_s: float = 5.0, step_s: float = 0.1):
    """``measure()`` once it is back to ``target`` or below, or after ``limit_s`` (memory comes back a moment after
    the answer: Ray drops its references to the request's image asynchronously)."""
    deadline = time.monotonic() + limit_s
    while (now := measure()) > target and time.monotonic() < deadline:
        time.sleep(step_s)
    return now


def main() -> None:
    import argparse
    from pathlib import Path

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url")
    parser.add_argument("--image", default=str(Path(__file__).resolve().parents[2] / "shared" / "datasets" / "coco128"
                                              / "images" / "train2017" / "000000000049.jpg"))
    parser.add_argument("--api-key")
    parser.add_argument("--max-body-mb", type=float, default=20.0)
    parser.add_argument("--body-timeout-s", type=float, default=10.0)
    args = parser.parse_args()
    rows = run(args.url, Path(args.image).read_bytes(), args.api_key, args.max_body_mb, args.body_timeout_s)
    for row in rows:
        print(f"{row['case']:<40} {row['status']} (expected {row['expected']}) {row['seconds']:>7.3f} s "
              f"closed={row['closed']!s:<5} healthy={row['healthy_after']!s:<5} {'; '.join(row['problems']) or 'ok'}")
    raise SystemExit(1 if any(row["problems"] or not row["healthy_after"] for row in rows) else 0)


if __name__ == "__main__":
    main()
