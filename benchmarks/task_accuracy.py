"""Accuracy of a task fixture in every form we run it, beside the reference's figures (golden/val_tasks.json).

    .venv/bin/python benchmarks/task_accuracy.py [--model yolov8n-seg-shapes]

Validates the checkpoint (rect, as the reference's .pt), our FP32 IR (static, square) at the CPU's default
precision and at f32, and our INT8 IR (NNCF, calibrated on the dataset's val split, decode kept in float) at
both, on the fixture's dataset at its training size; prints each results_dict beside the reference's and
writes benchmarks/results_<model>.json with the CPU kind. For segmentation it also measures memory: a 4K mosaic
of the val images with 100 retina masks, and 300 images streamed.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import runtime_benchmark as rb  # noqa: E402 - the CPU kind and the paths

GOLDEN = rb.SHARED / "golden"


def memory(model_path: Path, images: Path) -> dict:
    """MB held by 100 retina masks on a 4K image (crops) and grown during it; RSS growth over 300 streamed images."""
    import cv2
    import numpy as np

    from yolo_openvino import YOLO
    from yolo_openvino.utils.memory import PeakMemory

    tiles = [cv2.resize(cv2.imread(str(p)), (480, 360)) for p in sorted(images.glob("*.jpg"))[:48]]
    mosaic = np.vstack([np.hstack(tiles[r * 8:(r + 1) * 8]) for r in range(6)])
    model = YOLO(model_path)
    model(mosaic[:64, :64], verbose=False)
    with PeakMemory() as peak:
        result = model(mosaic, imgsz=1280, conf=0.05, max_det=100, retina_masks=True, verbose=False)[0]
    held = sum(c.nbytes for c in result.masks.crops) / 1e6
    files = [str(p) for p in sorted(images.glob("*.jpg"))] * 5  # 300 images
    list(model(files[:50], stream=True, verbose=False))
    with PeakMemory() as stream:
        count = sum(1 for _ in model(files, stream=True, verbose=False))
    return {"4k_instances": len(result), "4k_masks_held_mb": round(held, 1), "4k_grown_mb": _grown(peak),
            "full_planes_would_be_mb": round(len(result) * 3840 * 2160 / 1e6, 1),
            "stream_images": count, "stream_grown_mb": _grown(stream)}


def _grown(peak) -> float | None:
    """MB the resident size rose in the block (None where /proc is missing)."""
    return None if peak.grown_mb is None else round(peak.grown_mb, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="yolov8n-seg-shapes")
    parser.add_argument("--work", default=str(Path(tempfile.gettempdir()) / "yolo-ov-task-accuracy"))
    args = parser.parse_args()
    from yolo_openvino import YOLO

    reference = json.loads((GOLDEN / "val_tasks.json").read_text())[args.model]
    data, size = str(rb.SHARED / "datasets" / reference["data"]), reference["imgsz"]
    checkpoint = YOLO(rb.SHARED / "models" / f"{args.model}.pt")
    work = Path(args.work)
    irs = {}
    for kind, extra in (("fp32", {}), ("int8", {"int8": True, "data": data})):
        folder = work / f"{args.model}_{kind}_openvino_model"
        irs[kind] = folder if folder.exists() else checkpoint.export(format="openvino", imgsz=size, output=str(folder),
                                                                       **extra)
    runs = {"pytorch": checkpoint.val(data=data, verbose=False)}
    for kind, ir in irs.items():
        runs[f"openvino_{kind}_cpu_default"] = YOLO(ir).val(data=data, verbose=False)
        runs[f"openvino_{kind}_f32"] = YOLO(ir, inference_precision="f32").val(data=data, verbose=False)
    figures = {name: {k: round(v, 4) for k, v in run.results_dict.items() if "mAP50-95" in k or "mAP50(" in k}
               for name, run in runs.items()}
    out = {"cpu": rb.cpu_kind(), "model": args.model, "data": reference["data"], "imgsz": size, "ours": figures,
           "reference": {k: v for k, v in reference.items() if isinstance(v, dict)}}
    if "metrics/mAP50-95(M)" in figures["pytorch"]:
        out["memory"] = memory(rb.SHARED / "models" / f"{args.model}.pt", Path(data).parent / Path(data).stem /
                               "images" / "val")
    (rb.ROOT / "benchmarks" / f"results_{args.model}.json").write_text(json.dumps(out, indent=1))
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
