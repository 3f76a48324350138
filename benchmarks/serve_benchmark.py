"""The service against a local ``YOLO(ir)`` on the same image: throughput at 8 and 16 connections and p50 latency
at one, load from ``wrk`` (a C load generator: the client costs little CPU) on loopback.

    .venv/bin/python benchmarks/serve_benchmark.py --model yolov8n_openvino_model [--image bus.jpg] \\
        [--engines local ray] [--seconds 10] [--rounds 3] [--emulate avx512_vnni|avx2]

Each round, interleaved: the local figures in a fresh process (a stream of 200 copies of the image end to end:
decode, preprocess, inference, post-processing; then 50 single images one at a time, their p50), then for each
engine a fresh ``yolo-ov serve`` process, warmed up, loaded by ``wrk --latency`` at 1, 8 and 16 connections, and
stopped with SIGTERM. Best of the rounds per figure. Writes benchmarks/results_serve_local.json with the CPU kind.
Targets (the service issue, one-machine engine): throughput >= 0.9x local at 8 and 16 connections; p50 at one
connection <= local p50 + 5 ms.

``--emulate`` runs every process as another CPU kind would, on a newer CPU: oneDNN's kernels capped at that kind's
instruction set (``ONEDNN_MAX_CPU_ISA``: AVX512_CORE_VNNI or AVX2; OpenVINO's CPU plugin honours it, its
convolutions then run ``brgconv_avx2`` instead of ``brgconv_avx512``) and FP32 IRs run in f32, as those kinds run
them. Caches, clocks and memory stay this machine's: a stand-in where the real kind is not at hand, said as such in
the results (``cpu``), written to ``results_serve_local_<kind>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from yolo_openvino.utils.machine import machine_line  # noqa: E402

LOCAL = """
import sys, time, numpy as np
from yolo_openvino import YOLO
image, count = sys.argv[1], 200
runtime = {"inference_precision": sys.argv[3]} if len(sys.argv) > 3 else {}
stream = YOLO(sys.argv[2], **runtime)
list(stream([image] * 8, stream=True, verbose=False))
started = time.perf_counter()
n = sum(1 for _ in stream([image] * count, stream=True, verbose=False))
fps = n / (time.perf_counter() - started)
one = YOLO(sys.argv[2], **runtime)
one(image, verbose=False)
times = []
for _ in range(50):
    t0 = time.perf_counter(); one(image, verbose=False); times.append((time.perf_counter() - t0) * 1000)
print(fps, float(np.percentile(times, 50)))
"""


EMULATED = {"avx512_vnni": ("AVX512_CORE_VNNI", "AVX-512 VNNI"), "avx2": ("AVX2", "AVX2")}  # --emulate: ISA cap, kind
PRECISION: list[str] = []  # ["f32"] when emulating a kind without bf16


def local_figures(model: str, image: str) -> dict:
    out = subprocess.run([sys.executable, "-c", LOCAL, image, model, *PRECISION], capture_output=True, text=True,
                         check=True)
    fps, p50 = map(float, out.stdout.split()[-2:])
    return {"fps": round(fps, 1), "p50_ms": round(p50, 1)}


def wrk(url: str, script: Path, connections: int, seconds: float) -> dict:
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--latency", "-s", str(script),
                          f"{url}/predict"], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([0-9.]+)", out)[1])
    p50 = re.search(r"50%\s+([0-9.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p50[2]]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p50_ms": round(float(p50[1]) * scale, 1), "non_2xx": int(errors[1]) if errors else 0}


def service_figures(model: str, engine: str, script: Path, image: bytes, seconds: float) -> dict:
    process = subprocess.Popen([str(ROOT / ".venv" / "bin" / "yolo-ov"), "serve", f"model={model}", "port=0",
                                f"engine={engine}", *(f"inference_precision={p}" for p in PRECISION)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = re.search(r"(http://\S+)/predict", process.stdout.readline())[1]
        for _ in range(10):  # warm-up: compiled, threads started, caches filled
            urllib.request.urlopen(urllib.request.Request(f"{url}/predict", data=image), timeout=60).read()
        figures = {c: wrk(url, script, c, seconds) for c in (1, 8, 16)}
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="an OpenVINO IR folder")
    parser.add_argument("--image", default=str(ROOT.parent / "shared" / "datasets" / "coco128" / "images" /
                                               "train2017" / "000000000049.jpg"))
    parser.add_argument("--engines", nargs="+", default=["local"], choices=("local", "ray"))
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--emulate", choices=sorted(EMULATED), help="run as that CPU kind would (see above)")
    parser.add_argument("--out", help="default benchmarks/results_serve_local[_<emulated kind>].json")
    args = parser.parse_args()
    suffix = f"_{args.emulate}" if args.emulate else ""
    args.out = args.out or str(ROOT / "benchmarks" / f"results_serve_local{suffix}.json")
    if args.emulate:  # every process started from here inherits the cap
        os.environ["ONEDNN_MAX_CPU_ISA"] = EMULATED[args.emulate][0]
        PRECISION.append("f32")
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install wrk")
    image = Path(args.image).read_bytes()
    best: dict = {}

    def keep(key, value, higher=True):
        old = best.get(key)
        best[key] = value if old is None or (value > old) == higher else old

    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "post.lua"
        script.write_text(f'wrk.method = "POST"\nwrk.body = io.open("{args.image}", "rb"):read("*all")\n'
                          'wrk.headers["Content-Type"] = "application/octet-stream"\n')
        for r in range(args.rounds):
            local = local_figures(args.model, args.image)
            keep("local fps", local["fps"])
            keep("local p50_ms", local["p50_ms"], higher=False)
            for engine in args.engines:
                figures = service_figures(args.model, engine, script, image, args.seconds)
                for c, f in figures.items():
                    keep(f"{engine} c{c} rps", f["rps"])
                    keep(f"{engine} c{c} p50_ms", f["p50_ms"], higher=False)
                    keep(f"{engine} c{c} non_2xx", -f["non_2xx"])
            print(f"round {r + 1}: {json.dumps(best)}", flush=True)
    cpu = machine_line() + (f", emulating {EMULATED[args.emulate][1]} (oneDNN ISA {EMULATED[args.emulate][0]}, f32)"
                            if args.emulate else "")
    rows = []
    for engine in args.engines:
        rows.append({"engine": engine, "c8_rps": best[f"{engine} c8 rps"], "c16_rps": best[f"{engine} c16 rps"],
                     "c1_p50_ms": best[f"{engine} c1 p50_ms"], "c8_ratio": round(best[f"{engine} c8 rps"] /
                                                                                 best["local fps"], 2),
                     "c16_ratio": round(best[f"{engine} c16 rps"] / best["local fps"], 2),
                     "p50_over_local_ms": round(best[f"{engine} c1 p50_ms"] - best["local p50_ms"], 1)})
    result = {"cpu": cpu, "model": args.model, "image": Path(args.image).name, "seconds": args.seconds,
              "rounds": args.rounds, "local": {"fps": best["local fps"], "p50_ms": best["local p50_ms"]}, "rows": rows,
              "best": best}
    Path(args.out).write_text(json.dumps(result, indent=1))
    print(f"\nCPU: {cpu}; {Path(args.model).name}, {Path(args.image).name}; best of {args.rounds} rounds\n")
    print(f"local YOLO(ir): {best['local fps']} images/s end to end, p50 {best['local p50_ms']} ms\n")
    print("| engine | 8 conn. req/s (x local) | 16 conn. req/s (x local) | 1 conn. p50 ms (local +) |")
    print("|---|---|---|---|")
    for r in rows:
        print(f"| {r['engine']} | {r['c8_rps']} ({r['c8_ratio']}x) | {r['c16_rps']} ({r['c16_ratio']}x) | "
              f"{r['c1_p50_ms']} (+{r['p50_over_local_ms']}) |")


if __name__ == "__main__":
    main()
