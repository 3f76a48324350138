"""A real local Ray cluster for tests: a head and worker nodes on 127.0.0.1, token-authenticated, stopped by
the test session that started it (only its own processes: other Ray clusters on the machine are left alone).

Every process (nodes and this driver) runs with RAY_AUTH_MODE=token and the same fresh RAY_AUTH_TOKEN:
Ray 2.60 lets a second node join a local head only that way. Nothing is written to ~/.ray.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RAY = str(Path(sys.executable).with_name("ray"))
# Ray reads the auth mode when it is imported (the token itself when it connects): import this module first.
if "ray" in sys.modules and os.environ.get("RAY_AUTH_MODE") != "token":
    raise RuntimeError("import ray_cluster before ray: the driver's RAY_AUTH_MODE is fixed when ray is imported")
os.environ["RAY_AUTH_MODE"] = "token"
# No usage stats from this driver either, as from the nodes: otherwise Ray Data's usage poller keeps querying a
# Prometheus that does not exist here, and its thread printed a traceback after the session had ended.
os.environ["RAY_USAGE_STATS_ENABLED"] = "0"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalCluster:
    def __init__(self, nodes: int = 2, cpus_per_node: int = 1):
        self.env = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32),
                    "RAY_USAGE_STATS_ENABLED": "0"}
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.temp_dir = tempfile.mkdtemp(prefix="yov-ray-", dir="/tmp")  # short: Ray's sockets live under it
        self.cpus_per_node = cpus_per_node
        self.processes: list[subprocess.Popen] = []
        self._saved_token = os.environ.get("RAY_AUTH_TOKEN")
        try:
            self._start_node(head=True)
            for _ in range(nodes - 1):
                self.add_node()
            os.environ["RAY_AUTH_TOKEN"] = self.env["RAY_AUTH_TOKEN"]
            import ray

            ray.init(address=self.address, log_to_driver=False)
            self.wait_for_nodes(nodes)
        except BaseException:
            self.stop()
            raise

    def _start_node(self, head: bool = False) -> subprocess.Popen:
        args = [RAY, "start", "--block", "--node-ip-address=127.0.0.1", f"--num-cpus={self.cpus_per_node}"]
        if head:
            args += ["--head", f"--port={self.port}", "--include-dashboard=false", "--disable-usage-stats",
                     f"--temp-dir={self.temp_dir}", f"--ray-client-server-port={free_port()}"]
        else:
            args += [f"--address={self.address}"]
        process = subprocess.Popen(args, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   start_new_session=True)  # its own process group: stopped as one
        self.processes.append(process)
        if head:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    socket.create_connection(("127.0.0.1", self.port), 0.5).close()
                    break
                except OSError:
                    time.sleep(0.2)
            else:
                self.stop()
                raise RuntimeError("the Ray head did not start within 60 s")
        return process

    def add_node(self) -> subprocess.Popen:
        return self._start_node()

    def stop_node(self, process: subprocess.Popen) -> None:
        _stop_group(process)

    def wait_for_nodes(self, count: int, timeout: float = 60) -> None:
        import ray

        deadline = time.monotonic() + timeout
        while sum(n["Alive"] for n in ray.nodes()) < count:
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {sum(n['Alive'] for n in ray.nodes())} of {count} Ray nodes joined")
            time.sleep(0.5)

    def stop(self) -> None:
        if "ray" in sys.modules:
            sys.modules["ray"].shutdown()
        for process in reversed(self.processes):
            _stop_group(process)
        _kill_leftovers(self.temp_dir)
        shutil.rmtree(self.temp_dir, ignore_errors=True)
        if self._saved_token is None:
            os.environ.pop("RAY_AUTH_TOKEN", None)
        else:
            os.environ["RAY_AUTH_TOKEN"] = self._saved_token


def _stop_group(process: subprocess.Popen, grace: float = 10.0) -> None:
    """SIGTERM the node's process group (ray start --block, its raylet, GCS, workers), SIGKILL after ``grace``."""
    for sig in (signal.SIGTERM, signal.SIGKILL):  # SIGKILL too: the raylet and GCS may outlive `ray start`
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            pass


def processes_with(text: str) -> list[int]:
    """PIDs whose command line holds ``text`` (Ray titles an actor's process ``ray::<class>``)."""
    pids = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and text.encode() in (proc / "cmdline").read_bytes():
                pids.append(int(proc.name))
        except OSError:
            pass
    return sorted(pids)


def _kill_leftovers(temp_dir: str) -> None:
    """Kill any process whose command line names this cluster's temp dir (workers that left the group)."""
    for pid in processes_with(temp_dir):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
