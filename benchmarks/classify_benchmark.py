"""Classification speed: end to end against benchmark_app on the same IR, and against the host floor.

    .venv/bin/python benchmarks/classify_benchmark.py [--rounds 3] [--seconds 10]

A classifier infers in a millisecond or two, so the host decides its speed. Exports yolo11n-cls-shapes
(../shared/models) to an FP32 IR at 224 (static, the default), then in ``--rounds`` interleaved rounds, best of
each, every figure in a fresh process (runtime_benchmark.py's method): our end-to-end predict with default
settings over the COCO128 folder (128 JPEGs of about 640x480: read, decode, resize and centre crop in the worker
threads, infer, Result with probs); ``benchmark_app -hint throughput`` on the IR; and the host floor, decoding
alone: every image read and fully decoded (cv2.imdecode) by as many threads as our pipeline uses. Writes
benchmarks/results_classify.json with the CPU kind. Target (the classification issue): our time per image
within 1.3x of the decode-alone floor; the ratio to benchmark_app is said beside it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import runtime_benchmark as rb  # noqa: E402 - the shared method: benchmark_app, fresh processes, the table
import task_benchmark  # noqa: E402 - the shared arguments and IR export

FLOOR_TARGET = 1.3  # our seconds per image / the decode-alone floor's


def decode_floor(folder: str, workers: int, repeats: int = 2) -> float:
    """Images per second of reading and fully decoding every JPEG of ``folder`` in ``workers`` threads."""
    from concurrent.futures import ThreadPoolExecutor

    import cv2
    import numpy as np

    files = sorted(Path(folder).glob("*.jpg"))

    def decode(path: Path):
        return cv2.imdecode(np.fromfile(path, dtype=np.uint8), cv2.IMREAD_COLOR).shape

    best = 0.0
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(decode, files[:8]))  # warm the pool and the codec
        for _ in range(repeats):
            started = time.perf_counter()
            list(pool.map(decode, files))
            best = max(best, len(files) / (time.perf_counter() - started))
    return best


def fresh(function: str, *args) -> float:
    """``function(*args)`` of this module in a new Python process."""
    code = (f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); import classify_benchmark as c; "
            f"print(c.{function}(*{list(args)!r}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return float(out.strip().splitlines()[-1])


def main() -> None:
    from yolo_openvino.options import defaults

    args = task_benchmark.arguments(__doc__, "classify")
    ir = task_benchmark.fp32_ir("yolo11n-cls-shapes", 224, args.work)
    xml, images = next(ir.glob("*.xml")), rb.COCO128 / "images" / "train2017"
    workers = defaults("predict")["workers"]
    best = {"ours": 0.0, "benchmark_app": 0.0, "decode floor": 0.0}
    started = time.perf_counter()
    for r in range(args.rounds):
        best["benchmark_app"] = max(best["benchmark_app"], rb.benchmark_app(xml, "throughput", args.seconds)["fps"])
        best["ours"] = max(best["ours"], rb.in_fresh_process(rb.our_throughput, ir, images))
        best["decode floor"] = max(best["decode floor"], fresh("decode_floor", str(images), workers))
        print(f"round {r + 1}/{args.rounds} done", file=sys.stderr, flush=True)
    floor_ratio = best["decode floor"] / best["ours"]  # our time per image over the floor's
    result = {"cpu": rb.cpu_kind(), "fps": {k: round(v, 1) for k, v in best.items()},
              "ours_vs_benchmark_app": round(best["ours"] / best["benchmark_app"], 3),
              "time_vs_decode_floor": round(floor_ratio, 3), "target_time_vs_floor": FLOOR_TARGET,
              "met": floor_ratio <= FLOOR_TARGET, "workers": workers, "rounds": args.rounds, "seconds": args.seconds}
    Path(args.out).write_text(json.dumps(result, indent=1))
    print(f"CPU: {rb.cpu_kind()}\n{json.dumps(result, indent=1)}\nmeasured in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
