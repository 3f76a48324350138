"""optimize on the shapes models: the pick's accuracy against the ``.pt``'s and its end-to-end speed against the
baseline (FP32 IR at the training size, latency hint, as the reference exports and runs it), side by side in one run.

    .venv/bin/python benchmarks/optimize_benchmark.py [--models yolov8n-seg-shapes ...] [--time 10] [--goal throughput]

Runs ``yolo-ov optimize model=... data=... goal=... time=...`` for each model in its own process (as a user runs it)
and reads its ``optimize.json``. Writes benchmarks/results_optimize.json with the CPU kind and prints a Markdown
table. Targets (the optimize issue): the pick's drop <= max_drop (0.01) and its throughput >= 1.5x the baseline's,
within 12 minutes.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
sys.path.insert(0, str(ROOT))
from yolo_openvino.utils.machine import machine_line  # noqa: E402

MODELS = {  # model -> its data (the datasets it was trained on; ../shared/SOURCES.md)
    "yolov8n-seg-shapes": "datasets/shapes-seg.yaml",
    "yolo11n-pose-shapes": "datasets/shapes-pose.yaml",
    "yolov8n-obb-shapes": "datasets/shapes-obb.yaml",
    "yolo26n-shapes": "datasets/shapes-seg.yaml",
    "yolo11n-cls-shapes": "datasets/shapes-cls",
}


def run(model: str, minutes: float, goal: str, project: Path) -> dict:
    command = [str(ROOT / ".venv" / "bin" / "yolo-ov"), "optimize", f"model={SHARED / 'models' / (model + '.pt')}",
               f"data={SHARED / MODELS[model]}", f"goal={goal}", f"time={minutes:g}", f"project={project}",
               f"name={model}"]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode not in (0, 2):
        raise SystemExit(f"{model}: exit {done.returncode}\n{done.stderr[-2000:]}")
    summary = json.loads((project / model / "optimize.json").read_text())
    confirmed = summary["confirmed"] or {}
    pick = next((c for c in summary["candidates"] if c["status"] == "PICK"), None)
    return {"model": model, "command": "yolo-ov " + " ".join(command[1:]).replace(str(SHARED), "../shared"),
            "wall_s": round(wall, 1), "metric": summary["metric"], "reference": summary["reference"],
            "images": summary["images"], "pick": summary["pick"],
            "pick_metric": pick and pick["metric"], "drop": pick and pick["drop"],
            "pick_fps": confirmed.get("pick", {}).get("fps"), "baseline_fps": confirmed.get("baseline", {}).get("fps"),
            "pick_p50_ms": confirmed.get("pick", {}).get("p50_ms"),
            "baseline_p50_ms": confirmed.get("baseline", {}).get("p50_ms"), "ratio": confirmed.get("ratio"),
            "last_line": done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr.strip()[-300:]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--time", type=float, default=10.0, help="optimize's budget per model, minutes")
    parser.add_argument("--goal", default="throughput", choices=("throughput", "latency"))
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results_optimize.json"))
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="yolo-ov-optimize-bench-") as project:
        for model in args.models:
            rows.append(run(model, args.time, args.goal, Path(project)))
            print(json.dumps(rows[-1]), flush=True)
    cpu = machine_line()
    Path(args.out).write_text(json.dumps({"cpu": cpu, "goal": args.goal, "time_min": args.time, "rows": rows},
                                         indent=1))
    print(f"\nCPU: {cpu}; goal={args.goal}, time={args.time:g} min\n")
    print("| model | metric | `.pt` | pick | pick's metric (drop) | images/s pick / baseline | x | wall |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['model']} | {r['metric']} | {r['reference']:.4f} | {r['pick']} | {r['pick_metric']} "
              f"({r['drop']}) | {r['pick_fps'] or 0:.1f} / {r['baseline_fps'] or 0:.1f} | {r['ratio']} | "
              f"{r['wall_s'] / 60:.1f} min |")


if __name__ == "__main__":
    main()
