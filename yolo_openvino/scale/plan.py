"""How many model workers (Ray Data actors, Ray Serve replicas) fit a cluster, and how many CPUs each gets.

Ray schedules by declared CPUs, not by use. A Ray Data job whose actor pool declares every CPU of the
cluster leaves its read tasks none, and the job waits forever without a word (tried: ``concurrency=2,
num_cpus=1`` on a 2-CPU cluster). So the plan keeps ``reserve`` CPUs free for those tasks, places workers
node by node (an actor never spans nodes), and a plan that cannot fit is a one-line error before Ray
starts anything.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..errors import UsageError

READ_TASK_CPUS = 0.25  # what each Ray Data read task declares: reading bytes is I/O, not compute
READ_RESERVE_CPUS = 2 * READ_TASK_CPUS  # two read tasks in flight keep the actors fed
DEFAULT_WORKER_CPUS = 4.0  # an OpenVINO CPU worker scales well to about 4 threads; more workers beyond that
_EPS = 1e-9


@dataclass(frozen=True)
class ResourcePlan:
    workers: int  # actors or replicas
    cpus_per_worker: float  # each worker's Ray CPU reservation (may be fractional)
    threads: int  # OpenVINO INFERENCE_NUM_THREADS per worker: its share of cores, at least 1
    reserved_cpus: float  # left free for Ray Data's read tasks
    node_cpus: tuple[float, ...]  # the CPUs of each alive node the plan was made for

    def describe(self, noun: str = "actor") -> str:
        cpus = f"{self.cpus_per_worker:g}"
        reading = f", {self.reserved_cpus:g} CPU left for reading" if self.reserved_cpus else ""
        return (f"{self.workers} {noun}{'s' if self.workers != 1 else ''} x {cpus} CPU ({self.threads} OpenVINO "
                f"thread{'s' if self.threads != 1 else ''} each){reading}, on {len(self.node_cpus)} "
                f"node{'s' if len(self.node_cpus) != 1 else ''} ({sum(self.node_cpus):g} CPUs)")


def _fits(free: list[float], cpus: float) -> int:
    """Workers of ``cpus`` CPUs each that fit on nodes with ``free`` CPUs."""
    return sum(math.floor(f / cpus + _EPS) for f in free) if cpus > 0 else 0


def plan_resources(node_cpus: list[float], workers: int | None = None, cpus_per_worker: float | None = None,
                   reserve: float = 0.0, noun: str = "actor") -> ResourcePlan:
    """Fit ``workers`` x ``cpus_per_worker`` on nodes of ``node_cpus`` CPUs, keeping ``reserve`` CPUs free.

    Either may be None: the workers default to as many as fit, the CPUs to the most that lets them fit
    (at most 4 each). The reserve is taken evenly from every node, since read tasks may run on any.
    """
    nodes = [float(c) for c in node_cpus if c > 0]
    if not nodes:
        raise UsageError("the Ray cluster has no CPUs: start it with `ray start --head --num-cpus N`")
    if workers is not None and workers < 1:
        raise UsageError(f"{noun}s={workers}: need at least 1")
    if cpus_per_worker is not None and cpus_per_worker <= 0:
        raise UsageError(f"cpus_per_{noun}={cpus_per_worker}: need a positive number (fractions like 0.5 are fine)")
    free = [c - reserve / len(nodes) for c in nodes]
    if cpus_per_worker is None:
        cpus_per_worker = _most_cpus_that_fit(free, workers or 1)
        if workers is None:  # as many workers as fit at that size, up to DEFAULT_WORKER_CPUS each
            cpus_per_worker = min(cpus_per_worker, DEFAULT_WORKER_CPUS)
    capacity = _fits(free, cpus_per_worker)
    workers = workers or capacity
    if capacity < workers or workers < 1:
        raise UsageError(
            f"{workers or 1} {noun}(s) x {cpus_per_worker:g} CPU do not fit this cluster: nodes of "
            f"{', '.join(f'{c:g}' for c in nodes)} CPU(s)" + (f", {reserve:g} kept for Ray Data's read tasks "
                                                               "(else the job would wait forever)" if reserve else "")
            + f"; use fewer {noun}s or a smaller cpus_per_{noun} (fractions like 0.5 are fine)")
    threads = max(1, round(cpus_per_worker))
    return ResourcePlan(workers, round(cpus_per_worker, 4), threads, reserve, tuple(nodes))


def _most_cpus_that_fit(free: list[float], workers: int) -> float:
    """The largest per-worker CPU share such that ``workers`` of them fit (0 when none does)."""
    candidates = sorted({f / k for f in free if f > 0 for k in range(1, workers + 1)}, reverse=True)
    return next((c for c in candidates if _fits(free, c) >= workers), 0.0)
