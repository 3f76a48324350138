"""Speed of any task's IR against OpenVINO's benchmark_app on the same IR: end to end, throughput and latency.

    .venv/bin/python benchmarks/task_benchmark.py [--models yolo11n-pose-shapes yolov8n-obb-shapes] [--rounds 3]

Exports each model (../shared/models) to an FP32 IR at 640 (static, the default), then in ``--rounds`` interleaved
rounds, best of each side (runtime_benchmark.py's method and helpers, each of ours in a fresh process): our
end-to-end predict with default settings over the COCO128 folder (decode -> Results with the task's fields) against
``benchmark_app -hint throughput``, and one image end to end (p50) against ``-hint latency -api sync`` in
alternating pairs. Writes benchmarks/results_tasks.json with the CPU kind. Target (the pose and OBB issue):
end-to-end throughput >= 0.9x benchmark_app's.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import runtime_benchmark as rb  # noqa: E402 - the shared method: benchmark_app, fresh processes, the table

THROUGHPUT_TARGET = 0.9


def measure(ir: Path, label: str, rounds: int, seconds: float) -> dict:
    """Best of ``rounds`` interleaved rounds: {figure: {"ours": x, "reference": y}} for ``label``."""
    images = rb.COCO128 / "images" / "train2017"
    one = sorted(images.glob("*.jpg"))[0]
    xml = next(ir.glob("*.xml"))
    throughput, latency = f"throughput {label} fp32", f"latency {label} fp32"
    best = {throughput: {}, latency: {}}

    def keep(figure, side, value, higher_is_better=True):
        old = best[figure].get(side)
        best[figure][side] = round(value if old is None or (value > old) == higher_is_better else old, 2)

    for r in range(rounds):
        keep(throughput, "reference", rb.benchmark_app(xml, "throughput", seconds)["fps"])
        keep(throughput, "ours", rb.in_fresh_process(rb.our_throughput, ir, images))
        pair_seconds = max(1, int(seconds / rb.LATENCY_PAIRS))
        for _ in range(rb.LATENCY_PAIRS):
            keep(latency, "reference", rb.benchmark_app(xml, "latency", pair_seconds, ["-api", "sync"])["median_ms"],
                 False)
            keep(latency, "ours", rb.in_fresh_process(rb.our_latency_ms, ir, one, pair_seconds), False)
        print(f"{label}: round {r + 1}/{rounds} done", file=sys.stderr, flush=True)
    return best


def fp32_ir(name: str, imgsz: int, work: Path) -> Path:
    """The FP32 IR of ../shared/models/<name>.pt at ``imgsz`` (static, the default) in ``work``, exported once."""
    from yolo_openvino import YOLO

    ir = work / f"{name}_fp32_{imgsz}_openvino_model"
    if not ir.exists():
        YOLO(rb.SHARED / "models" / f"{name}.pt").export(format="openvino", imgsz=imgsz, output=str(ir))
    return ir


def arguments(description: str, name: str, more=None) -> argparse.Namespace:
    """The speed scripts' shared arguments (``--seconds``, ``--rounds``, ``--work``, ``--out`` results_<name>.json),
    plus what ``more(parser)`` adds; the work folder made."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10, help="benchmark_app duration per run")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; the best of each side is kept")
    parser.add_argument("--work", default=str(Path(tempfile.gettempdir()) / f"yolo-ov-{name}-benchmark"))
    parser.add_argument("--out", default=str(rb.ROOT / "benchmarks" / f"results_{name}.json"))
    if more:
        more(parser)
    args = parser.parse_args()
    args.work = Path(args.work)
    args.work.mkdir(parents=True, exist_ok=True)
    return args


def main() -> None:
    args = arguments(__doc__, "tasks", lambda parser: parser.add_argument(
        "--models", nargs="+", default=["yolo11n-pose-shapes", "yolov8n-obb-shapes"]))
    started, figures = time.perf_counter(), {}
    for name in args.models:
        rb.TARGETS[f"throughput {name}"] = (">=", THROUGHPUT_TARGET)
        figures.update(measure(fp32_ir(name, 640, args.work), name, args.rounds, args.seconds))
    text, rows = rb.table(figures)
    Path(args.out).write_text(json.dumps({"cpu": rb.cpu_kind(), "rows": rows, "rounds": args.rounds,
                                          "seconds": args.seconds}, indent=1))
    print(f"CPU: {rb.cpu_kind()}\n{text}\nmeasured in {time.perf_counter() - started:.0f} s, {args.rounds} rounds "
          f"of {args.seconds:.0f} s")


if __name__ == "__main__":
    main()
