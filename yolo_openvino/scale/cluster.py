"""Connecting to a Ray cluster and reading its CPUs: shared by the batch job and the service."""

from __future__ import annotations


def connect(address: str | None):
    """The ``ray`` module, connected to ``address`` (``auto``, ``host:6379``, ``ray://host:10001``); None starts a
    local cluster. A token-authenticated cluster needs RAY_AUTH_MODE=token (and the token) in this process's
    environment before Python starts."""
    import ray

    if not ray.is_initialized():
        ray.init(address=address, log_to_driver=False)
    return ray


def node_cpus(ray) -> list[float]:
    """The CPUs of each alive node."""
    return [node["Resources"].get("CPU", 0.0) for node in ray.nodes() if node.get("Alive")]
