"""The search's decisions, apart from measuring them: what a candidate is, which ones dominate, which are cut after a
round of short timed runs (successive halving), how the time budget is spent, and which one is picked.

Everything here works on figures handed to it, so the fast tests drive it with made-up measurements.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np



@dataclass(frozen=True)
class Variant:
    """One exported model: its precision, square input size and whether NMS is in the graph (accuracy is measured
    once per variant: runtime settings do not change it)."""

    precision: str
    imgsz: int
    nms: bool = False

    @property
    def label(self) -> str:
        """``int8``, ``int8+nms``: the precision, and NMS when it runs in the graph."""
        return self.precision + ("+nms" if self.nms else "")

    @property
    def key(self) -> str:
        return f"{self.label}-{self.imgsz}"

    @classmethod
    def from_key(cls, key: str) -> "Variant":
        label, _, imgsz = key.rpartition("-")
        precision, _, nms = label.partition("+")
        return cls(precision, int(imgsz), nms == "nms")


@dataclass(frozen=True)
class Setting:
    """How one compiled variant is run and timed: YOLO's runtime options (``mode``, ``streams``, ...) and the
    pipeline's own (``pipeline``: predict's ``reduced_decode``, ``batch`` of a dynamic model)."""

    name: str
    options: tuple[tuple[str, object], ...]
    pipeline: tuple[tuple[str, object], ...] = ()

    @classmethod
    def of(cls, name: str, pipeline: dict | None = None, **options) -> "Setting":
        return cls(name, tuple(sorted(options.items())), tuple(sorted((pipeline or {}).items())))

    @property
    def runtime(self) -> dict:
        return dict(self.options)

    @property
    def predict(self) -> dict:
        """Predict's options this setting runs with (what a deploy folder then sets for predict)."""
        return dict(self.pipeline)

    @property
    def decode(self) -> str:
        """``reduced`` (predict's default: large JPEGs decoded at 1/2, 1/4, 1/8) or ``full``: accuracy can differ."""
        return "full" if self.predict.get("reduced_decode") is False else "reduced"

    @property
    def device(self) -> str | None:
        """The device this setting runs on when several are searched (None: the one asked for)."""
        return self.runtime.get("device")

    @property
    def accuracy_key(self) -> str:
        """What its accuracy depends on, as a ledger key: the decode and the device (whose precision differs);
        the hint, streams and requests change nothing of it."""
        return "metric" + ("_full" if self.decode == "full" else "") + (f"@{self.device}" if self.device else "")


def on_devices(settings: list[Setting], devices: list[str]) -> list[Setting]:
    """``settings`` on each of ``devices`` (more than one: each setting named and run per device)."""
    if len(devices) < 2:
        return settings
    return [Setting(f"{s.name} on {d}", tuple(sorted({**s.runtime, "device": d}.items())), s.pipeline)
            for d in devices for s in settings]


def with_full_decode(settings: list[Setting]) -> list[Setting]:
    """``settings`` and each again with the full decode: for images whose reduced decode is a candidate worth
    weighing (it is faster on large JPEGs, and its accuracy is measured apart)."""
    return settings + [Setting(f"{s.name}, full decode", s.options, tuple(sorted({**s.predict,
                                                                                  "reduced_decode": False}.items())))
                       for s in settings]


def batch_settings(goal: str, batches=(4,)) -> list[Setting]:
    """A dynamic model's batches worth timing for throughput: the throughput hint fed ``batch`` images at a time."""
    return [Setting.of(f"throughput, batch {b}", pipeline={"batch": b}, mode="throughput") for b in batches] \
        if goal == "throughput" else []


def default_settings(goal: str) -> list[Setting]:
    """The OpenVINO ways to run one model on a CPU worth timing for ``goal``: the latency hint (one stream, every
    core on each image), the throughput hint (the device's streams, a request per stream kept busy) and, for
    throughput, one stream fed by two requests (no idle gap between images, every core on one)."""
    settings = [Setting.of("latency", mode="latency"), Setting.of("throughput", mode="throughput")]
    if goal == "throughput":
        settings.append(Setting.of("1 stream x 2 requests", mode="throughput", streams=1, requests=2))
    return settings


def default_sizes(trained: int, stride: int = 32, low: float = 0.6) -> list[int]:
    """The training size and two smaller multiples of ``stride`` spread down to ``low`` of it (largest first):
    640 -> [640, 512, 384]; 256 -> [256, 224, 160]. Fewer when the model is already small."""
    floor = max(stride, math.ceil(trained * low / stride) * stride)
    steps = {trained, floor, max(floor, round(trained * (1 + low) / 2 / stride) * stride)}
    return sorted((s for s in steps if s <= trained), reverse=True)


@dataclass
class Candidate:
    """One variant under one setting, and what was measured of it. ``rounds``: (images/s, p50 ms, p99 ms) of
    each timed run, end to end; ``metric``: the variant's accuracy (None until measured); ``status``: ``measured``,
    ``cut after round k`` (dominated in a short run), ``over max_drop``, ``not run: <why>`` or ``failed: <why>``."""

    variant: Variant
    setting: Setting
    metric: float | None = None
    rounds: list[tuple[float, float, float]] = field(default_factory=list)
    added_mb: float | None = None  # what compiling and running it added to the process's resident memory
    peak_rss_mb: float | None = None  # the process's peak resident memory while it ran
    size_mb: float | None = None
    precision: str | None = None  # what the device computed in (bf16, f32, int8 ...), read back when compiled
    status: str = "measured"

    @property
    def key(self) -> str:
        return f"{self.variant.key}/{self.setting.name}"

    @property
    def fps(self) -> float | None:
        return float(np.median([r[0] for r in self.rounds])) if self.rounds else None

    @property
    def p50_ms(self) -> float | None:
        return float(np.median([r[1] for r in self.rounds])) if self.rounds else None

    @property
    def p99_ms(self) -> float | None:
        return float(np.median([r[2] for r in self.rounds])) if self.rounds else None

    def speed(self, goal: str) -> float:
        """Higher is better: images/s for throughput, minus the p50 latency for latency."""
        if not self.rounds:
            return -math.inf
        return self.fps if goal == "throughput" else -self.p50_ms

    def drop(self, reference: float | None) -> float | None:
        return None if self.metric is None or reference is None else reference - self.metric


def dominates(a: Candidate, b: Candidate, goal: str) -> bool:
    """``a`` is at least as accurate and as fast as ``b``, and better in one."""
    if a.metric is None or b.metric is None or not a.rounds or not b.rounds:
        return False
    sa, sb = a.speed(goal), b.speed(goal)
    return a.metric >= b.metric and sa >= sb and (a.metric > b.metric or sa > sb)


def pareto(candidates: list[Candidate], goal: str) -> list[Candidate]:
    """The candidates no other one dominates (accuracy against speed), fastest first."""
    timed = [c for c in candidates if c.rounds and c.metric is not None]
    front = [c for c in timed if not any(dominates(o, c, goal) for o in timed if o is not c)]
    return sorted(front, key=lambda c: -c.speed(goal))


def allowed(c: Candidate, reference: float | None, max_drop: float, max_latency_ms: float | None) -> bool:
    """Within the accuracy drop (and the latency ceiling, on its p50)."""
    drop = c.drop(reference)
    if drop is None or drop > max_drop + 1e-9:
        return False
    return max_latency_ms is None or (c.p50_ms is not None and c.p50_ms <= max_latency_ms)


def halve(candidates: list[Candidate], goal: str, reference: float | None, max_drop: float,
          max_latency_ms: float | None, round_no: int, keep: float = 0.5) -> list[Candidate]:
    """Successive halving: of the candidates that may still be picked, keep the fastest ``keep`` share (at least
    two) for the next, longer round; mark the rest ``cut after round k``. Those outside the constraints are
    marked and not timed again (their one round stays in the table)."""
    alive = []
    for c in candidates:
        if not c.rounds:
            continue
        if c.drop(reference) is not None and c.drop(reference) > max_drop + 1e-9:
            c.status = "over max_drop"
        elif max_latency_ms is not None and c.p50_ms is not None and c.p50_ms > max_latency_ms * 1.5:
            c.status = "over max_latency_ms"  # 1.5x: a short round is noisy; a close one gets another round
        else:
            alive.append(c)
    alive.sort(key=lambda c: -c.speed(goal))
    count = max(2, math.ceil(len(alive) * keep))
    for c in alive[count:]:
        c.status = f"cut after round {round_no}"
    return alive[:count]


def pick(candidates: list[Candidate], goal: str, reference: float | None, max_drop: float,
         max_latency_ms: float | None = None) -> tuple[Candidate | None, Candidate | None]:
    """(the fastest candidate within the constraints, None if none is; the closest one: where the accuracy is kept
    but the latency ceiling is not, the lowest p50 of those; else the most accurate within the ceiling, or at all)."""
    timed = [c for c in candidates if c.rounds and c.metric is not None]
    ok = [c for c in timed if allowed(c, reference, max_drop, max_latency_ms)]
    if ok:
        best = max(ok, key=lambda c: (c.speed(goal), c.metric))
        return best, best
    accurate = [c for c in timed if allowed(c, reference, max_drop, None)]
    if accurate:
        return None, min(accurate, key=lambda c: c.p50_ms)
    fast_enough = [c for c in timed if max_latency_ms is None or c.p50_ms <= max_latency_ms] or timed
    return None, max(fast_enough, key=lambda c: (c.metric, c.speed(goal)), default=None)


class Budget:
    """The time a search may take (``minutes``), counted from its start; ``clock`` is replaceable for tests."""

    def __init__(self, minutes: float, clock=time.monotonic):
        self.seconds, self.clock, self.started = minutes * 60.0, clock, clock()

    @property
    def spent(self) -> float:
        return self.clock() - self.started

    @property
    def left(self) -> float:
        return max(0.0, self.seconds - self.spent)

    def allows(self, estimate_s: float) -> bool:
        """Whether a step expected to take ``estimate_s`` seconds still fits."""
        return estimate_s <= self.left
