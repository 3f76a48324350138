"""What optimize leaves behind: the table of every candidate (printed, ``candidates.csv``, ``optimize.json``), the plot
``pareto.png`` and the deploy folder (``deploy/``: the picked IR and ``deploy.yaml``), and the lines that end its
output (the predict and serve commands for the folder), or the one-line refusal when nothing keeps the accuracy."""

from __future__ import annotations

import json
import logging
import shutil
from datetime import datetime, timezone
from pathlib import Path

from ..utils.tables import csv_text, text_table
from .search import Candidate, allowed

LOGGER = logging.getLogger("yolo_openvino")
COLUMNS = ["precision", "imgsz", "setting", "metric", "drop", "fps", "p50_ms", "p99_ms", "rounds", "added_mb",
           "peak_rss_mb", "size_mb", "compute", "pareto", "status"]


def rows(result) -> list[dict]:
    """One dict per candidate, the table's columns; the pick marked in ``status``."""
    front = {id(c) for c in result.front}
    out = []
    for c in result.candidates:
        drop = c.drop(result.reference)
        status = "PICK" if c is result.pick else c.status
        if status == "measured" and not allowed(c, result.reference, result.max_drop, result.max_latency_ms):
            status = "over max_drop" if drop is not None and drop > result.max_drop else "over max_latency_ms"
        out.append({"precision": c.variant.label, "imgsz": c.variant.imgsz, "setting": c.setting.name,
                    "metric": _num(c.metric, 4), "drop": _num(drop, 4), "fps": _num(c.fps, 1),
                    "p50_ms": _num(c.p50_ms, 1), "p99_ms": _num(c.p99_ms, 1), "rounds": len(c.rounds),
                    "added_mb": _num(c.added_mb, 0), "peak_rss_mb": _num(c.peak_rss_mb, 0),
                    "size_mb": _num(c.size_mb, 1), "compute": c.precision or "",
                    "pareto": "yes" if id(c) in front else "", "status": status})
    return out


def _num(value, digits: int):
    return "" if value is None else round(float(value), digits)


def table_lines(result) -> list[str]:
    head = [*COLUMNS[:3], result.metric_name, *COLUMNS[4:]]
    return text_table(head, [[str(r[k]) for k in COLUMNS] for r in rows(result)])


def finish(result, exports: dict, data, verbose: bool):
    """Write the table, plot and deploy folder into the run folder and print the summary. When no candidate keeps
    the accuracy, ``result.refusal`` is the one line saying so and naming the closest (the CLI exits with it)."""
    from ..utils.files import write_text_atomic

    folder = result.folder
    table = rows(result)
    write_text_atomic(folder / "candidates.csv", csv_text(table, COLUMNS))
    if result.pick is not None:
        result.deploy = write_deploy(result, exports[result.pick.variant.key], data)
    write_text_atomic(folder / "optimize.json", json.dumps(_summary_dict(result, table), indent=1))
    plot_pareto(result, folder / "pareto.png")
    lines = _closing_lines(result)
    if result.pick is None:
        result.refusal = _refusal(result)
        lines.append(result.refusal)
    if verbose:
        print("\n".join([*table_lines(result), "", *lines]))
    elif result.refusal:
        LOGGER.warning("%s", result.refusal)
    return result


def _summary_dict(result, table: list[dict]) -> dict:
    pick = result.pick
    return {"goal": result.goal, "metric": result.metric_name, "reference": result.reference, "images": result.images,
            "max_drop": result.max_drop, "max_latency_ms": result.max_latency_ms, "machine": result.machine,
            "pick": None if pick is None else pick.key, "confirmed": result.confirmed,
            "deploy": None if result.deploy is None else str(result.deploy), "elapsed_s": round(result.elapsed_s, 1),
            "reused": result.reused, "candidates": table}


def _refusal(result) -> str:
    closest: Candidate | None = result.closest
    limit = f"max_drop={result.max_drop}" + (f" and max_latency_ms={result.max_latency_ms}"
                                              if result.max_latency_ms is not None else "")
    if closest is None:
        return (f"optimize: no candidate could be measured within time=; give it more minutes (the table is in "
                f"{result.folder})")
    return (f"optimize: no candidate meets {limit}; the closest is {closest.key} ({result.metric_name} "
            f"{closest.metric:.4f}, drop {closest.drop(result.reference):.4f}, {closest.fps:.1f} images/s, p50 "
            f"{closest.p50_ms:.1f} ms): raise max_drop or see {result.folder / 'candidates.csv'}")


def _closing_lines(result) -> list[str]:
    lines = [f"{result.metric_name} of the model: {result.reference:.4f} on {result.images} images; "
             f"searched in {result.elapsed_s / 60:.1f} min on {result.machine.get('cpu')} "
             f"({result.machine.get('cpu_kind')}, {result.machine.get('cores')} cores)"]
    if result.reused:
        lines.append(f"resumed: reused {len(result.reused)} earlier measurements of this folder "
                     f"({', '.join(result.reused[:3])}{', ...' if len(result.reused) > 3 else ''})")
    pick = result.pick
    if pick is None:
        return lines
    c = result.confirmed
    lines.append(f"pick: {pick.variant.label.upper()} at {pick.variant.imgsz}, {pick.setting.name}: "
                 f"{result.metric_name} {pick.metric:.4f} (drop {pick.drop(result.reference):+.4f}), "
                 f"{pick.fps:.1f} images/s, p50 {pick.p50_ms:.1f} ms")
    if c:
        b, p = c["baseline"], c["pick"]
        lines.append(f"confirmed side by side ({c['rounds']} interleaved rounds of {c['seconds']:g} s): "
                     f"{p['fps']:.1f} vs {b['fps']:.1f} images/s, p50 {p['p50_ms']:.1f} vs {b['p50_ms']:.1f} ms "
                     f"against the baseline (FP32 at {result.candidates[0].variant.imgsz}, latency hint): "
                     f"{c['ratio']:.2f}x for {result.goal}")
    lines += [f"deploy folder: {result.deploy}",
              f"  yolo-ov predict model={result.deploy} source=<images>",
              f"  yolo-ov serve model={result.deploy}"]
    return lines


def write_deploy(result, ir: Path, data) -> Path:
    """``deploy/``: the picked IR's files and ``deploy.yaml`` (settings, figures, machine, versions, date), written
    whole or not at all."""
    import openvino
    import yaml

    from ..runtime.deploy import DEPLOY_FILE
    from ..utils.files import atomic_output
    from ..version import __version__

    pick, c = result.pick, result.confirmed
    target = result.folder / "deploy"
    record = {
        "description": "picked by yolo-ov optimize: the fastest candidate within the accuracy drop, on this machine",
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "goal": result.goal, "precision": pick.variant.precision, "nms_in_graph": pick.variant.nms,
        "imgsz": pick.variant.imgsz,
        "runtime": pick.setting.runtime, "inference_precision": pick.precision,
        "predict": {"reduced_decode": pick.setting.decode == "reduced", **pick.setting.predict},
        "metric": {"name": result.metric_name, "value": pick.metric, "reference": result.reference,
                   "drop": round(pick.drop(result.reference), 5), "images": result.images, "data": str(data)},
        "speed": {"fps": round(pick.fps, 1), "p50_ms": round(pick.p50_ms, 1), "p99_ms": round(pick.p99_ms, 1),
                  "confirmed": c},
        "machine": result.machine, "versions": {"yolo_openvino": __version__, "openvino": openvino.__version__},
    }
    with atomic_output(target) as tmp:
        tmp.mkdir()
        for f in sorted(Path(ir).iterdir()):
            if f.suffix in (".xml", ".bin") or f.name == "metadata.yaml":
                shutil.copy2(f, tmp / f.name)
        (tmp / DEPLOY_FILE).write_text(yaml.safe_dump(record, sort_keys=False), encoding="utf-8")
    return target


def plot_pareto(result, png: Path) -> Path | None:
    """Metric against speed for every measured candidate: the front drawn, the max_drop line, the pick starred, the
    baseline marked; None without matplotlib (said once)."""
    from ..utils.figures import pyplot

    plt = pyplot("pareto.png")
    if plt is None:
        return None
    throughput = result.goal == "throughput"

    def x(c: Candidate) -> float:
        return c.fps if throughput else c.p50_ms

    measured = [c for c in result.candidates if c.rounds and c.metric is not None]
    fig, ax = plt.subplots(figsize=(11, 5.5), dpi=120)
    for precision, marker in (("fp32", "o"), ("fp16", "s"), ("int8", "^"), ("int8_ac", "v"), ("given", "o")):
        points = [c for c in measured if c.variant.precision == precision]
        if points:
            ax.scatter([x(c) for c in points], [c.metric for c in points], marker=marker, s=28, alpha=0.8,
                       label=precision.upper())
    front = sorted(result.front, key=x)
    if front:
        ax.plot([x(c) for c in front], [c.metric for c in front], "k--", lw=0.8, label="Pareto front")
    ax.axhline(result.reference - result.max_drop, color="crimson", lw=0.8,
               label=f"max_drop {result.max_drop:g} below the model's {result.reference:.3f}")
    baseline = result.candidates[0] if result.candidates and result.candidates[0].rounds else None
    if baseline is not None:
        ax.scatter([x(baseline)], [baseline.metric], s=140, facecolors="none", edgecolors="gray", label="baseline")
    if result.pick is not None:
        ax.scatter([x(result.pick)], [result.pick.metric], marker="*", s=320, color="gold", edgecolors="k",
                   zorder=5, label=f"pick: {result.pick.key}")
    ax.set_xlabel("images/s end to end, higher is better" if throughput else "p50 ms end to end, lower is better")
    ax.set_ylabel(result.metric_name)
    ax.set_title(f"optimize ({result.goal}) on {result.machine.get('cpu_kind')}, {result.images} images", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1), borderaxespad=0)  # beside: the points stay clear
    fig.tight_layout()
    fig.savefig(png)
    plt.close(fig)
    return png
