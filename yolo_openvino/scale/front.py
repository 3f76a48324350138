"""The service's own HTTP server: uvicorn in a thread of the process that starts the service, on a socket bound
before any cluster work (a port in use is a one-line error; port 0 picks a free one). Ray Serve's HTTP proxy is
never started, so its own routes (``/-/routes``, ``/-/healthz``) do not exist: the ingress answers every request.
"""

from __future__ import annotations

import socket
import threading
import time

from ..errors import UsageError

KEEP_ALIVE_S = 5  # an idle keep-alive connection is closed after this
MAX_HEADER_BYTES = 64 * 1024  # a request's line and headers; more is a 431 (uvicorn's httptools has no limit)


def bind(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host:port`` (not yet listening)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        raise UsageError(f"cannot listen on {host}:{port} ({e.strerror or e}): pick another port= (or host=), or stop "
                         "what holds it") from None
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def with_header_timeout(seconds: float) -> type:
    """uvicorn's HTTP protocol, closing a connection whose request headers take longer than ``seconds`` to arrive
    or pass MAX_HEADER_BYTES (a 431).

    uvicorn times a keep-alive connection only while it is idle: a client that opens a connection and sends its
    headers a byte at a time holds it (and a socket) forever. Every ``seconds`` each connection
    is checked: a request must have begun (its headers complete: a new ``cycle``) or be under way since the last
    check, else the connection is closed. So headers get between one and two periods; the body has its own
    limit in the ingress (``body_timeout_s``). And httptools buffers headers without a limit: bytes received
    while no request has begun are counted, and past MAX_HEADER_BYTES the connection gets a 431 and is closed.
    """
    from uvicorn.protocols.http.auto import AutoHTTPProtocol

    class HeaderTimeoutProtocol(AutoHTTPProtocol):
        def connection_made(self, transport) -> None:
            super().connection_made(transport)
            self._header_bytes = 0
            self._arm()

        def data_received(self, data: bytes) -> None:
            before = self.cycle
            super().data_received(data)
            if self.transport.is_closing():
                return
            if self.cycle is not before or not self._between_requests():
                self._header_bytes = 0  # a request began (its headers are in) or is under way
                return
            self._header_bytes += len(data)
            if self._header_bytes > MAX_HEADER_BYTES:
                body = b'{"error":"request headers over %d bytes: send fewer or shorter ones"}' % MAX_HEADER_BYTES
                self.transport.write(b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: "
                                     b"application/json\r\nconnection: close\r\ncontent-length: %d\r\n\r\n%s"
                                     % (len(body), body))
                self.transport.close()

        def _between_requests(self) -> bool:
            """No request under way: what arrives now is (the start of) the next request's headers."""
            return self.cycle is None or self.cycle.response_complete

        def _arm(self) -> None:
            self._seen = self.cycle
            self._deadline = self.loop.call_later(seconds, self._headers_due)

        def _headers_due(self) -> None:
            if self.transport.is_closing():
                return
            if self.cycle is self._seen and self._between_requests():  # none began in a period: slow, or idle
                self.transport.close()
            else:
                self._arm()

        def connection_lost(self, exc) -> None:
            self._deadline.cancel()
            super().connection_lost(exc)

    return HeaderTimeoutProtocol


class Front:
    """Serves an ASGI ``app`` on ``sock`` in a daemon thread until :meth:`stop`; request headers must arrive
    within ``header_timeout_s`` (see :func:`with_header_timeout`); a stop lets requests in flight finish for up to
    ``drain_s``. Requests past the ingress's own limit get its JSON 503 (uvicorn's ``limit_concurrency`` would
    answer in plain text: it is not set)."""

    def __init__(self, app, sock: socket.socket, header_timeout_s: float = 10.0, start_timeout_s: float = 30.0,
                 drain_s: float = 30.0):
        import uvicorn

        config = uvicorn.Config(app, http=with_header_timeout(header_timeout_s), interface="asgi3", lifespan="off",
                                log_level="warning", access_log=False, server_header=False,
                                timeout_keep_alive=KEEP_ALIVE_S, timeout_graceful_shutdown=drain_s)
        self.drain_s = drain_s
        self.url = url_of(sock)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]}, name="yolo-ov-http",
                                       daemon=True)
        self.thread.start()
        deadline = time.monotonic() + start_timeout_s
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the HTTP server at {self.url} did not start (see the log above)")
            time.sleep(0.01)

    def stop(self) -> None:
        """Stop listening (new connections are refused), let requests in flight finish (up to ``drain_s``), close."""
        self.server.should_exit = True
        self.thread.join(self.drain_s + 10)
