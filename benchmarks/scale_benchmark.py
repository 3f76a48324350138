"""Scale-out figures on this machine: Ray Data against single-process predict, and Ray Serve at 1 and 2 replicas.

    .venv/bin/python benchmarks/scale_benchmark.py --model v8n_openvino_model --images ../shared/datasets/coco128/images/train2017

Batch: the same images (the folder listed ``--repeat`` times), end to end from the call to the last row,
model compile included on both sides; Ray on an already running local cluster (its start is not counted:
a cluster outlives one job), alternated with single-process runs, best of ``--runs``. A job of 8 images
measures each side's start (actor start-up, compile, planning); the big job minus it gives the per-image
rate once running, the figure that decides a job over millions of images. Serve: ``--requests``
requests from ``--clients`` concurrent clients on loopback, requests/s and p50/p99 per replica count.
Prints one JSON object; quote it with the CPU kind (``lscpu``).

``--against TREE`` measures only the service, ours against another source tree of this project (a
``git worktree`` of an older commit), each run a fresh process and local cluster, alternated, best of ``--runs``:

    git worktree add /tmp/before 0f79a0b^
    .venv/bin/python benchmarks/scale_benchmark.py --model v8n320 --images ../shared/datasets/coco128/images/train2017 \
        --against /tmp/before --replicas 1 --clients 8 --requests 400 --runs 3
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SMALL = 8  # images of the start-up job
sys.path.insert(0, str(ROOT / "tests"))
import ray_cluster  # noqa: E402  (before ray: it sets the driver's RAY_AUTH_MODE)


def cpu_kind() -> str:
    """'AMD EPYC, 2 cores, AVX512_BF16': the package's own reading of the machine (utils/machine.py)."""
    from yolo_openvino.utils.machine import machine_line

    return machine_line()


def single_process(model: str, files: list[str]) -> float:
    from yolo_openvino import YOLO

    started = time.perf_counter()
    count = sum(1 for _ in YOLO(model).predict(files, stream=True, verbose=False))
    assert count == len(files)
    return time.perf_counter() - started


def on_ray(model: str, files: list[str], address: str) -> float:
    from yolo_openvino.scale import predict_dataset

    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        done = predict_dataset(model, files, Path(tmp) / "preds.parquet", address=address)
        assert done.rows == len(files), done.summary()
        return time.perf_counter() - started


def serve_burst(model: str, image: bytes, address: str, replicas: int, requests: int, clients: int) -> dict:
    import numpy as np

    from yolo_openvino.scale import serve

    service = serve(model, replicas=replicas, port=ray_cluster.free_port(), address=address, blocking=False)
    url = f"{service.url}/predict"

    def one(_):
        started = time.perf_counter()
        with urllib.request.urlopen(urllib.request.Request(url, data=image), timeout=300) as response:
            response.read()
        return time.perf_counter() - started

    try:
        list(ThreadPoolExecutor(clients).map(one, range(2 * clients)))  # warm-up: every replica compiled and busy
        started = time.perf_counter()
        latencies = list(ThreadPoolExecutor(clients).map(one, range(requests)))
        seconds = time.perf_counter() - started
    finally:
        service.shutdown()
    p50, p99 = np.percentile(np.array(latencies) * 1000, [50, 99])
    return {"replicas": replicas, "requests_per_s": round(requests / seconds, 2), "p50_ms": round(p50, 1),
            "p99_ms": round(p99, 1), "plan": service.plan.describe("replica")}


def service_against(tree: str, args) -> dict:
    """Serve throughput from this tree and from ``tree``, runs alternated, each in a fresh process."""
    import os

    rows: dict[str, list] = {"ours": [], "theirs": []}
    command = [sys.executable, __file__, "--model", str(Path(args.model).resolve()), "--images",
               str(Path(args.images).resolve()), "--burst", "--requests", str(args.requests), "--clients",
               str(args.clients), "--replicas", str(args.replicas)]
    for _ in range(args.runs):
        for side, root in (("theirs", Path(tree).resolve()), ("ours", ROOT)):
            env = {**os.environ, "PYTHONPATH": str(root)}
            done = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, check=True)
            rows[side].append(json.loads(done.stdout.strip().splitlines()[-1]))
    best = {side: max(rows[side], key=lambda r: r["requests_per_s"]) for side in rows}
    return {"cpu": cpu_kind(), "model": args.model, "against": tree, "clients": args.clients,
            "requests": args.requests, "best": best,
            "ratio": round(best["ours"]["requests_per_s"] / best["theirs"]["requests_per_s"], 3),
            "runs_requests_per_s": {side: [r["requests_per_s"] for r in rows[side]] for side in rows}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="an OpenVINO IR folder")
    parser.add_argument("--images", required=True, help="a folder of images")
    parser.add_argument("--repeat", type=int, default=4, help="list the folder this many times")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--against", help="another source tree: measure only the service, ours against it")
    parser.add_argument("--replicas", type=int, default=1, help="the service's replicas, with --against")
    parser.add_argument("--burst", action="store_true", help="(internal) one service burst on a fresh local cluster")
    args = parser.parse_args()
    image = sorted(Path(args.images).glob("*.jpg"))[0].read_bytes()
    if args.burst:
        import yolo_openvino

        row = serve_burst(args.model, image, None, args.replicas, args.requests, args.clients)
        print(json.dumps({**row, "code": str(Path(yolo_openvino.__file__).parents[1])}))
        return
    if args.against:
        print(json.dumps(service_against(args.against, args), indent=1))
        return
    files = sorted(str(p) for p in Path(args.images).glob("*.jpg")) * args.repeat
    small = files[:SMALL]
    cluster = ray_cluster.LocalCluster(nodes=1, cpus_per_node=2)
    try:
        times = {key: [] for key in ("single", "single_small", "ray", "ray_small")}
        for _ in range(args.runs):  # interleaved
            times["single"].append(single_process(args.model, files))
            times["ray"].append(on_ray(args.model, files, cluster.address))
            times["single_small"].append(single_process(args.model, small))
            times["ray_small"].append(on_ray(args.model, small, cluster.address))
        serve_rows = [serve_burst(args.model, image, cluster.address, r, args.requests, args.clients) for r in (1, 2)]
    finally:
        cluster.stop()
    best = {key: min(values) for key, values in times.items()}
    # Per-image rate once running: the big job minus a SMALL-image job (start-up, compile, job planning).
    marginal = {side: (len(files) - SMALL) / (best[side] - best[f"{side}_small"]) for side in ("single", "ray")}
    print(json.dumps({
        "cpu": cpu_kind(), "model": args.model, "images": len(files),
        "single_process_images_per_s": round(len(files) / best["single"], 2),
        "ray_data_images_per_s": round(len(files) / best["ray"], 2),
        "ray_overhead_total": round(best["ray"] / best["single"] - 1, 3),
        "start_s": {"single": round(best["single_small"], 2), "ray": round(best["ray_small"], 2)},
        "marginal_images_per_s": {side: round(rate, 2) for side, rate in marginal.items()},
        "ray_overhead_marginal": round(marginal["single"] / marginal["ray"] - 1, 3), "target_overhead": "<= 0.15",
        "runs_s": {key: [round(t, 2) for t in values] for key, values in times.items()},
        "serve": serve_rows}, indent=1))


if __name__ == "__main__":
    main()
