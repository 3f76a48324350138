"""Connecting to a Ray cluster and reading its CPUs: shared by the batch job and the service."""

from __future__ import annotations

import logging


def connect(address: str | None):
    """The ``ray`` module, connected to ``address`` (``auto``, ``host:6379``, ``ray://host:10001``); None starts a
    local cluster. A token-authenticated cluster needs RAY_AUTH_MODE=token (and the token) in this process's
    environment before Python starts."""
    import ray

    if not ray.is_initialized():
        ray.init(address=address, log_to_driver=False)
        if address is None:
            _private_token()
    return ray


def _private_token() -> None:
    """A local cluster's ports listen on every interface (Ray has no loopback-only option) and its authentication
    token is what guards them; Ray writes it readable by every local user: make it the user's alone."""
    import os
    import stat
    from pathlib import Path

    path = Path(os.environ.get("RAY_AUTH_TOKEN_PATH") or Path.home() / ".ray" / "auth_token")
    try:
        info = path.stat()
        if info.st_uid == os.getuid() and info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            path.chmod(stat.S_IRUSR | stat.S_IWUSR)
            logging.getLogger("yolo_openvino").info("%s: made readable by its owner only (it guards the cluster)", path)
    except OSError:
        pass  # no token file (authentication off) or not ours to change: nothing to tighten


def node_cpus(ray) -> list[float]:
    """The CPUs of each alive node."""
    return [node["Resources"].get("CPU", 0.0) for node in ray.nodes() if node.get("Alive")]
