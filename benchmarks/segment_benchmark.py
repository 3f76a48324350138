"""Segmentation speed against OpenVINO's benchmark_app on the same IR, and the mask stage alone.

    .venv/bin/python benchmarks/segment_benchmark.py [--rounds 3] [--seconds 10]

Exports yolov8n-seg-shapes (../shared/models) to an FP32 IR at 640 (static, the default), then in ``--rounds``
interleaved rounds, best of each side (runtime_benchmark.py's method and helpers, each of ours in a fresh
process): our end-to-end predict with default settings over the COCO128 folder (decode -> Results with masks)
against ``benchmark_app -hint throughput``, and one image end to end (p50) against ``-hint latency -api sync``
in four alternating pairs per round (task_benchmark.measure). Then, in this process, the mask stage alone: the time spent turning
coefficients and prototypes into masks (masks.mask_crops) per image and per mask. Writes
benchmarks/results_segment.json with the CPU kind. Targets (the segmentation issue): throughput >= 0.85x,
latency <= 1.15x.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import runtime_benchmark as rb  # noqa: E402 - the shared method: benchmark_app, fresh processes, the table
import task_benchmark  # noqa: E402 - the interleaved end-to-end measurement of any task's IR

TARGETS = {"throughput yolov8n-seg": (">=", 0.85), "latency yolov8n-seg": ("<=", 1.15)}


def mask_stage(ir: Path, folder: Path) -> dict:
    """Milliseconds spent computing masks per image and per mask over ``folder`` (predict defaults)."""
    from yolo_openvino import YOLO
    from yolo_openvino.tasks.segment import masks
    from yolo_openvino.tasks import segment

    spent, calls = [0.0], [0]
    real = masks.mask_crops

    def timed(*args, **kwargs):
        started = time.perf_counter()
        out = real(*args, **kwargs)
        spent[0] += time.perf_counter() - started
        calls[0] += len(out[0])
        return out

    masks.mask_crops = segment.mask_crops = timed
    try:
        model = YOLO(ir)
        results = list(model(str(folder), verbose=False))
    finally:
        masks.mask_crops = segment.mask_crops = real
    stats = model.last_stats
    return {"images": len(results), "masks": calls[0], "mask_ms_per_image": round(1000 * spent[0] / len(results), 3),
            "mask_ms_per_mask": round(1000 * spent[0] / max(calls[0], 1), 3),
            "postprocess_ms_per_image": round(stats.speed_sums["postprocess"] / max(stats.images, 1), 3)}


def main() -> None:
    args = task_benchmark.arguments(__doc__, "segment")
    ir = task_benchmark.fp32_ir("yolov8n-seg-shapes", 640, args.work)
    rb.TARGETS.update(TARGETS)
    started = time.perf_counter()
    text, rows = rb.table(task_benchmark.measure(ir, "yolov8n-seg", args.rounds, args.seconds))
    stage = mask_stage(ir, rb.COCO128 / "images" / "train2017")
    summary = (f"CPU: {rb.cpu_kind()}\n{text}\nmask stage over COCO128 (predict defaults): {stage}\n"
               f"measured in {time.perf_counter() - started:.0f} s, {args.rounds} rounds of {args.seconds:.0f} s")
    Path(args.out).write_text(json.dumps({"cpu": rb.cpu_kind(), "rows": rows, "mask_stage": stage,
                                          "rounds": args.rounds, "seconds": args.seconds}, indent=1))
    print(summary)


if __name__ == "__main__":
    main()
