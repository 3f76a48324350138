"""Recommending a setting: the simplest configuration the measurements cannot tell apart from the best, for each goal
(latency: one image in flight; throughput), with its expected range, a ``YOLO(...)`` call and a CLI line."""

from __future__ import annotations

from .measure import NOISE_FLOOR, Measurement, machine_noise

# -- recommendation ---------------------------------------------------------------------------------------------------------
def simplicity(m: Measurement, goal: str) -> tuple:
    """Sort key, simplest first: batch 1, fewest arguments, the goal's own hint, fewest streams and requests."""
    return (m.batch, len(m.settings), m.settings.get("mode") != goal, m.settings.get("streams") or 0,
            m.settings.get("requests") or 0)


def _clearly_worse(m: Measurement, best: Measurement, goal: str, noise: float) -> bool:
    """True when ``m``'s range lies wholly on the wrong side of ``best``'s range."""
    if goal == "latency":
        return m.p50_range(noise)[0] > best.p50_range(noise)[1]
    return m.fps_range(noise)[1] < best.fps_range(noise)[0]


def recommend_for(goal: str, candidates: list[Measurement], noise: float = NOISE_FLOOR) -> tuple[Measurement, str] | None:
    """The simplest candidate that the best one does not beat beyond both ranges, and why it was chosen.

    latency: lowest p50 with one image in flight (batch 1, one request): what a caller waiting on each
    image sees. throughput: highest FPS, any batch.
    """
    if goal == "latency":
        candidates = [m for m in candidates if m.batch == 1 and (m.requests or 1) == 1]
    if not candidates:
        return None
    figure = (lambda m: m.p50_ms) if goal == "latency" else (lambda m: -m.fps)
    best = min(candidates, key=figure)
    chosen = min((m for m in candidates if not _clearly_worse(m, best, goal, noise)), key=lambda m: simplicity(m, goal))
    others = [m for m in candidates if m is not chosen]
    if not others:
        why = "the only setting measured"
    elif all(_clearly_worse(m, chosen, goal, noise) for m in others):
        why = "beats every other setting beyond the ranges"
    elif chosen is best:
        why = "the best measured and the simplest of those within its range"
    else:
        why = f"the simplest within the range of the best measured ({best.name})"
    return chosen, why


def recommend(measurements: list[Measurement], model: str) -> dict:
    """For latency and throughput: the setting to use, its figure with its range, and how to ask for it."""
    candidates = [m for m in measurements if m.kind == "inference"]
    noise = machine_noise(candidates)
    out = {}
    for goal in ("latency", "throughput"):
        picked = recommend_for(goal, candidates, noise)
        if picked is None:
            continue
        m, why = picked
        low, high = m.p50_range(noise) if goal == "latency" else m.fps_range(noise)
        figure = (f"p50 {m.p50_ms:.1f} ms, expect {low:.1f}-{high:.1f}" if goal == "latency"
                  else f"{m.fps:.1f} images/s, expect {low:.1f}-{high:.1f}")
        args = ", ".join(f"{k}={v!r}" for k, v in m.settings.items())
        cli = " ".join(f"{k}={v}" for k, v in m.settings.items())
        extra = f" (batch {m.batch}: pass batch={m.batch} to predict)" if m.batch > 1 else ""
        out[goal] = {"name": m.name, "figure": figure + extra, "why": why, "range": [round(low, 2), round(high, 2)],
                     "noise": round(noise, 3),
                     "settings": m.settings, "batch": m.batch,
                     "python": f"YOLO({model!r}, {args})", "cli": f"yolo-ov predict model={model} {cli}"}
    return out


