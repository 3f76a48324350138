"""Runtime performance targets, measured against OpenVINO's own benchmark_app on the same IR.

    .venv/bin/python benchmarks/runtime_benchmark.py [--model ../shared/models/yolov8n-init.pt]
        [--images ../shared/datasets/coco128/images/train2017] [--seconds 10] [--rounds 2]

Exports the model FP32 and INT8 at 640 (INT8 calibrated on the images' dataset), then reports:
- throughput: our end-to-end predict over the folder (decode -> results) vs `benchmark_app -hint throughput`;
- latency: one image end to end, p50 of repeated calls, vs `benchmark_app -hint latency -api sync` median;
- INT8 vs FP32 throughput;
- load + first inference with a cold and a warm cache_dir;
- preprocessing in the graph (PrePostProcessor) against on the host (the default), end to end;
- the inference-only LATENCY and THROUGHPUT rows of `yolo-ov benchmark modes=True` against benchmark_app.
Targets (from the runtime issue) are printed beside each ratio. Writes benchmarks/results.json.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


def benchmark_app(xml: Path, hint: str, seconds: float, extra: list[str] = ()) -> dict:
    """Run OpenVINO's benchmark_app and parse throughput and median latency."""
    exe = shutil.which("benchmark_app") or str(Path(sys.executable).parent / "benchmark_app")
    cmd = [exe, "-m", str(xml), "-d", "CPU", "-hint", hint, "-t", str(int(seconds)), *extra]
    text = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    fps = float(re.search(r"Throughput:\s+([\d.]+)\s+FPS", text).group(1))
    median = float(re.search(r"Median:\s+([\d.]+)\s+ms", text).group(1))
    return {"fps": fps, "median_ms": median, "command": " ".join(cmd[1:])}


def our_throughput(ir: Path, images: Path, repeats: int = 2, preprocess: str | None = None) -> float:
    """Images per second of YOLO(ir)(folder), end to end (decode, letterbox, infer, NMS, results)."""
    from yolo_openvino import YOLO

    model = YOLO(ir, mode="throughput", preprocess=preprocess)
    model(str(images))  # compile and warm up
    best = 0.0
    for _ in range(repeats):
        started = time.perf_counter()
        results = model(str(images))
        best = max(best, len(results) / (time.perf_counter() - started))
    return best


def our_latency_ms(ir: Path, image: Path, calls: int = 60) -> float:
    """p50 of one image end to end (read, letterbox, infer, NMS) in latency mode."""
    from yolo_openvino import YOLO

    model = YOLO(ir, mode="latency")
    for _ in range(5):
        model(str(image))
    times = []
    for _ in range(calls):
        started = time.perf_counter()
        model(str(image))
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def report_rows(ir: Path, seconds: float) -> dict:
    """The inference-only LATENCY sync p50 and THROUGHPUT async FPS of our latency/throughput report."""
    from yolo_openvino.report import latency_throughput_report

    report = latency_throughput_report(ir, seconds=seconds, sweep=False, startup=False, verbose=False,
                                       project=tempfile.mkdtemp(prefix="yolo-ov-modes-"))
    rows = {m.name: m for m in report.measurements if m.kind == "inference"}
    return {"latency_p50_ms": rows["LATENCY sync"].p50_ms, "throughput_fps": rows["THROUGHPUT async"].fps}


def first_inference_ms(ir: Path, cache_dir: Path | None, image: Path) -> float:
    """Load + compile + first inference in a fresh process (what a user's program start sees)."""
    code = (f"import time; t=time.perf_counter(); from yolo_openvino import YOLO; "
            f"m=YOLO({str(ir)!r}, mode='latency', cache_dir={str(cache_dir) if cache_dir else None!r}); "
            f"m({str(image)!r}); print((time.perf_counter()-t)*1000)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return float(out.strip().splitlines()[-1])


def measure_ir(name: str, ir: Path, images: Path, one: Path, seconds: float, rounds: int) -> dict:
    """Ours and benchmark_app, interleaved for ``rounds`` rounds, best of each kept.

    A shared 2-core VM drifts by 30% between minutes; interleaving and best-of keep the ratios about the
    software, not about when each side happened to run.
    """
    xml = next(ir.glob("*.xml"))
    # benchmark_app with its defaults: the device's own precision, as our runtime now uses (bf16 on
    # AVX512_BF16/AMX CPUs, f32 on AVX2-only ones).
    precision = []
    best: dict = {}

    def keep(key, value, higher_is_better):
        if key not in best or (value > best[key]) == higher_is_better:
            best[key] = value

    for _ in range(rounds):
        tput = benchmark_app(xml, "throughput", seconds, precision)
        keep("ba_fps", tput["fps"], True)
        keep("device_fps", our_throughput(ir, images, preprocess="device"), True)
        keep("host_fps", our_throughput(ir, images, preprocess="host"), True)
        lat = benchmark_app(xml, "latency", seconds, ["-api", "sync", *precision])
        keep("ba_p50", lat["median_ms"], False)
        keep("ours_p50", our_latency_ms(ir, one), False)
        modes = report_rows(ir, seconds)
        keep("modes_fps", modes["throughput_fps"], True)
        keep("modes_p50", modes["latency_p50_ms"], False)
    default = "host"  # OpenVINOBackend's default preprocessing
    best["ours_fps"] = best[f"{default}_fps"]
    return {
        "benchmark_app_throughput_fps": best["ba_fps"], "ours_end_to_end_fps": round(best["ours_fps"], 2),
        "throughput_ratio": round(best["ours_fps"] / best["ba_fps"], 3), "default_preprocess": default,
        "ours_end_to_end_fps_device_preprocess": round(best["device_fps"], 2),
        "ours_end_to_end_fps_host_preprocess": round(best["host_fps"], 2),
        "device_over_host_preprocess": round(best["device_fps"] / best["host_fps"], 3),
        "benchmark_app_latency_median_ms": best["ba_p50"], "ours_end_to_end_p50_ms": round(best["ours_p50"], 2),
        "latency_ratio": round(best["ours_p50"] / best["ba_p50"], 3),
        "report_inference_throughput_fps": best["modes_fps"],
        "report_throughput_ratio": round(best["modes_fps"] / best["ba_fps"], 3),
        "report_inference_latency_p50_ms": best["modes_p50"],
        "report_latency_ratio": round(best["modes_p50"] / best["ba_p50"], 3),
        "benchmark_app_commands": [tput["command"], lat["command"]], "rounds": rounds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=str(SHARED / "models" / "yolov8n-init.pt"))
    parser.add_argument("--images", default=str(SHARED / "datasets" / "coco128" / "images" / "train2017"))
    parser.add_argument("--data", default=str(SHARED / "datasets" / "coco128.yaml"))
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds; the best of each side is kept")
    parser.add_argument("--fp32-ir", help="reuse this FP32 IR folder instead of exporting")
    parser.add_argument("--int8-ir", help="reuse this INT8 IR folder instead of exporting")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results.json"))
    args = parser.parse_args()

    from yolo_openvino import YOLO

    work = Path(tempfile.mkdtemp(prefix="yolo-ov-bench-"))
    images = Path(args.images)
    one = sorted(images.glob("*.jpg"))[0]
    model = YOLO(args.model) if not (args.fp32_ir and args.int8_ir) else None
    fp32 = Path(args.fp32_ir or model.export(format="openvino", imgsz=640, output=str(work / "fp32_openvino_model")))
    int8 = Path(args.int8_ir or model.export(format="openvino", imgsz=640, int8=True, data=args.data,
                                             output=str(work / "int8_openvino_model")))
    report = {name: measure_ir(name, ir, images, one, args.seconds, args.rounds)
              for name, ir in (("fp32", fp32), ("int8", int8))}
    cache = work / "cache"
    cold = first_inference_ms(fp32, cache, one)
    no_cache = [first_inference_ms(fp32, None, one) for _ in range(3)]
    warm = [first_inference_ms(fp32, cache, one) for _ in range(3)]
    report["first_inference_ms"] = {  # a fresh process each: import, load, compile, first image (median of 3)
        "no_cache": round(statistics.median(no_cache), 1), "cold_cache": round(cold, 1),
        "warm_cache": round(statistics.median(warm), 1),
    }
    report["int8_over_fp32_throughput"] = round(report["int8"]["ours_end_to_end_fps"] / report["fp32"]["ours_end_to_end_fps"], 3)
    targets = {"fp32 throughput_ratio": ">= 0.85", "int8 throughput_ratio": ">= 0.80", "latency_ratio": "<= 1.2",
               "int8_over_fp32_throughput": ">= 2 (on CPUs with VNNI)", "warm_cache": "< no_cache",
               "report_throughput_ratio / report_latency_ratio": "within 0.9 .. 1.1",
               "device_over_host_preprocess": "> 1 keeps preprocessing in the graph"}
    report["targets"] = targets
    Path(args.out).write_text(json.dumps(report, indent=1))
    print(json.dumps(report, indent=1))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
