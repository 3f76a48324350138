"""The service's own HTTP server: uvicorn in a thread of the process that starts the service, on a socket bound
before any cluster work (a port in use is a one-line error; port 0 picks a free one). Ray Serve's HTTP proxy is
never started, so its own routes (``/-/routes``, ``/-/healthz``) do not exist: the ingress answers every request.
"""

from __future__ import annotations

import socket
import threading
import time

from ..errors import UsageError

# At most this many connections and requests at once; past it uvicorn answers 503 at once rather than queueing.
MAX_CONNECTIONS = 1024
KEEP_ALIVE_S = 5  # an idle keep-alive connection is closed after this


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


class Front:
    """Serves an ASGI ``app`` on ``sock`` in a daemon thread until :meth:`stop`."""

    def __init__(self, app, sock: socket.socket, start_timeout_s: float = 30.0):
        import uvicorn

        config = uvicorn.Config(app, interface="asgi3", lifespan="off", log_level="warning", access_log=False, server_header=False,
                                timeout_keep_alive=KEEP_ALIVE_S, limit_concurrency=MAX_CONNECTIONS,
                                timeout_graceful_shutdown=5)
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

    def stop(self, timeout_s: float = 10.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout_s)
