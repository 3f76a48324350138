"""What our INT8 recipe is worth, per task: FP32 against INT8 with the recipe and INT8 by a plain NNCF run.

    .venv/bin/python benchmarks/int8_recipe.py [--models yolov8n-seg-shapes ...]

For each task fixture (../shared/models) at its training size: our FP32 IR; our INT8 IR (NNCF MIXED, calibrated
on the dataset's val split, the task's decode kept in float, a classifier's head too); and a plain NNCF MIXED
run on the same FP32 IR with the same calibration images and nothing kept in float. Each is validated with the
task's own metric on the val split at f32 (the quantization's cost alone, not the CPU's bf16). Writes
benchmarks/results_int8_recipe.json with the CPU kind.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import runtime_benchmark as rb  # noqa: E402 - the CPU kind and the paths

FIXTURES = {  # model: (dataset, size, task figure's results_dict key)
    "yolov8s-coco128": ("coco128.yaml", 640, "metrics/mAP50-95(B)"),
    "yolov8n-seg-shapes": ("shapes-seg.yaml", 256, "metrics/mAP50-95(M)"),
    "yolo11n-pose-shapes": ("shapes-pose.yaml", 256, "metrics/mAP50-95(P)"),
    "yolov8n-obb-shapes": ("shapes-obb.yaml", 256, "metrics/mAP50-95(B)"),
    "yolo11n-cls-shapes": ("shapes-cls", 224, "metrics/accuracy_top1"),
}


def plain_int8(fp32_ir: Path, out: Path, data: str, size: int, task: str) -> Path:
    """NNCF MIXED on the FP32 IR, calibrated on the same images as ours, nothing kept in float."""
    import nncf
    import openvino as ov

    from yolo_openvino.export.quantize import calibration_files, calibration_images
    from yolo_openvino.options import defaults

    args = argparse.Namespace(**{**defaults("export"), "data": data, "imgsz": (size, size), "task": task})
    files, _ = calibration_files(args)
    batches = calibration_images(files, (size, size), 1, task)
    model = ov.Core().read_model(next(fp32_ir.glob("*.xml")))
    quantized = nncf.quantize(model, nncf.Dataset(batches), preset=nncf.QuantizationPreset.MIXED,
                              subset_size=len(batches))
    out.mkdir(parents=True, exist_ok=True)
    ov.save_model(quantized, out / next(fp32_ir.glob("*.xml")).name)
    meta = (fp32_ir / "metadata.yaml").read_text()
    (out / "metadata.yaml").write_text(meta.replace('"precision": "fp32"', '"precision": "int8"'))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=list(FIXTURES))
    parser.add_argument("--work", default=str(Path(tempfile.gettempdir()) / "yolo-ov-int8-recipe"))
    parser.add_argument("--out", default=str(rb.ROOT / "benchmarks" / "results_int8_recipe.json"))
    args = parser.parse_args()
    from yolo_openvino import YOLO

    work = Path(args.work)
    shutil.rmtree(work, ignore_errors=True)
    rows = {}
    for name in args.models:
        dataset, size, key = FIXTURES[name]
        data = str(rb.SHARED / "datasets" / dataset)
        checkpoint = YOLO(rb.SHARED / "models" / f"{name}.pt")
        fp32 = Path(checkpoint.export(format="openvino", imgsz=size, output=str(work / f"{name}_fp32_openvino_model")))
        ours = checkpoint.export(format="openvino", imgsz=size, int8=True, data=data, int8_check=False,
                                 output=str(work / f"{name}_int8_openvino_model"))
        plain = plain_int8(fp32, work / f"{name}_plain_openvino_model", data, size, checkpoint.task)
        figures = {label: round(YOLO(ir, inference_precision="f32").val(data=data, verbose=False).results_dict[key], 4)
                   for label, ir in (("fp32", fp32), ("int8_recipe", ours), ("int8_plain", plain))}
        rows[name] = {"metric": key, **figures}
        print(name, rows[name], flush=True)
    Path(args.out).write_text(json.dumps({"cpu": rb.cpu_kind(), "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
