"""Validation: COCO mAP of any model format on a YOLO-format dataset, computed by faster-coco-eval."""

from __future__ import annotations

import contextlib
import io
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .datasets import LabelIssues, load_dataset, read_labels
from .errors import UsageError
from .options import defaults
from .predictor import PredictSettings, Predictor
from .tables import counted

LOGGER = logging.getLogger("yolo_openvino")


@dataclass
class ValidationResult:
    """mAPs (0..1), per-class AP50-95, mean speed per image in ms, and what was odd in the data."""

    map50_95: float
    map50: float
    map75: float
    per_class: dict[str, float]
    speed: dict[str, float]
    images: int
    instances: int
    issues: LabelIssues = field(default_factory=LabelIssues)
    skipped: list[str] = field(default_factory=list)
    inference_precision: str | None = None  # what the runtime computed in (bf16 on AVX512_BF16/AMX CPUs by default)

    @property
    def results_dict(self) -> dict[str, float]:
        return {"metrics/mAP50(B)": self.map50, "metrics/mAP75(B)": self.map75, "metrics/mAP50-95(B)": self.map50_95,
                "fitness": 0.1 * self.map50 + 0.9 * self.map50_95}

    def summary(self) -> str:
        speed = ", ".join(f"{k} {v:.1f}" for k, v in self.speed.items())
        text = (f"{counted(self.images, 'image')}, {counted(self.instances, 'instance')}: mAP50-95 {self.map50_95:.4f}, mAP50 {self.map50:.4f}, "
                f"mAP75 {self.map75:.4f}; speed ms/image: {speed}; inference precision {self.inference_precision or '?'}; "
                f"labels: {self.issues.summary()}")
        return text + (f"; {counted(len(self.skipped), 'unreadable image')} skipped" if self.skipped else "")

    def to_dict(self) -> dict:
        return {"map50_95": self.map50_95, "map50": self.map50, "map75": self.map75, "per_class": self.per_class,
                "speed": self.speed, "images": self.images, "instances": self.instances,
                "inference_precision": self.inference_precision,
                "results_dict": self.results_dict, "label_issues": vars(self.issues), "skipped": self.skipped}


def coco_map(gt_images: list[dict], gt_boxes: list[dict], detections: list[dict], names: dict[int, str],
             max_det: int = 300) -> tuple[float, float, float, dict[str, float]]:
    """(mAP50-95, mAP50, mAP75, per-class AP50-95) by faster-coco-eval's COCOeval.

    ``gt_boxes`` / ``detections`` are COCO annotation dicts (bbox x, y, w, h in pixels). maxDets is
    raised to ``max_det`` so the evaluation sees the same detections the validation kept.
    """
    from faster_coco_eval import COCO, COCOeval_faster

    if not gt_boxes:
        raise UsageError("no labelled boxes: mAP is undefined")
    gt = COCO()
    gt.dataset = {"images": gt_images, "annotations": gt_boxes,
                  "categories": [{"id": int(k), "name": v} for k, v in names.items()]}
    gt.createIndex()
    dt = gt.loadRes(detections) if detections else COCO()
    evaluator = COCOeval_faster(gt, dt, "bbox", print_function=LOGGER.debug)
    evaluator.params.maxDets = [1, 10, max_det]
    with contextlib.redirect_stdout(io.StringIO()):  # COCOeval prints its table; we report our own
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    stats = evaluator.stats
    precision = evaluator.eval["precision"]  # (iou thresholds, recall points, classes, areas, max dets)
    per_class = {}
    for k, cat_id in enumerate(evaluator.params.catIds):
        p = precision[:, :, k, 0, -1]
        if (p > -1).any():
            per_class[names[int(cat_id)]] = float(p[p > -1].mean())
    return float(stats[0]), float(stats[1]), float(stats[2]), per_class


def _ground_truth(files, shapes: dict[int, tuple[int, int]], names, issues: LabelIssues):
    """COCO image and annotation dicts for the images that were read (``shapes``: image id -> (h, w)).

    Unreadable images are left out: the predictor skips and reports them.
    """
    images, boxes = [], []
    for image_id, f in enumerate(files):
        if image_id not in shapes:
            continue
        h, w = shapes[image_id]
        labels = read_labels(f, len(names), issues)
        images.append({"id": image_id, "file_name": f.name, "height": h, "width": w})
        for cls, cx, cy, bw, bh in labels:
            box = [float((cx - bw / 2) * w), float((cy - bh / 2) * h), float(bw * w), float(bh * h)]
            boxes.append({"id": len(boxes) + 1, "image_id": image_id, "category_id": int(cls), "bbox": box,
                          "area": box[2] * box[3], "iscrowd": 0})
    return images, boxes


def evaluate_backend(backend, files: list[Path], names: dict[int, str], settings: PredictSettings,
                     asynchronous: bool = False, where="the dataset") -> ValidationResult:
    """Predict ``files`` with ``backend`` and score them against their labels (problems reported)."""
    index_of = {str(f): i for i, f in enumerate(files)}
    predictor = Predictor(backend, settings)
    detections, speeds, shapes = [], [], {}
    from tqdm import tqdm

    for result in tqdm(predictor.stream([str(f) for f in files], asynchronous=asynchronous), total=len(files),
                       desc="val", leave=False, disable=None if len(files) >= 16 else True):
        image_id = index_of[result.path]
        shapes[image_id] = result.orig_shape  # the size of the decode the predictor did: no second read
        speeds.append(result.speed)
        for (x1, y1, x2, y2), score, cls in zip(result.boxes.xyxy, result.boxes.confidence, result.boxes.class_id):
            detections.append({"image_id": image_id, "category_id": int(cls), "score": float(score),
                               "bbox": [float(x1), float(y1), float(x2 - x1), float(y2 - y1)]})
    issues = LabelIssues()
    gt_images, gt_boxes = _ground_truth(files, shapes, names, issues)
    if issues.corrupt or issues.out_of_range or issues.unreadable:
        LOGGER.warning("label issues in %s: %s dropped, the rest evaluated; e.g. %s", where, issues.summary(),
                       issues.examples())
    if not gt_boxes:
        raise UsageError(f"{where}: no usable labelled boxes, so mAP is undefined ({issues.summary()}"
                         + (f"; e.g. {issues.examples()}" if issues.examples() else "") + ")")
    map50_95, map50, map75, per_class = coco_map(gt_images, gt_boxes, detections, names, predictor.max_det)
    speed = {k: float(np.mean([s[k] for s in speeds])) for k in ("preprocess", "inference", "postprocess")} if speeds else {}
    skipped = list(predictor.stats.skipped)
    return ValidationResult(map50_95, map50, map75, per_class, speed, len(files) - len(skipped), len(gt_boxes),
                            issues, skipped, backend.inference_precision)


def validate(backend, **options) -> ValidationResult:
    """Validate a loaded backend on a dataset; ``options`` as declared in options.VAL (defaults from there)."""
    o = {**defaults("val"), **options}
    dataset = load_dataset(o["data"])
    files = dataset.images(o["split"])
    # Labels are checked against, and scored by, the dataset's classes (its yaml is the authority on them).
    names = dataset.names
    unknown = sorted(set(names) - set(backend.metadata.names))
    if unknown:
        LOGGER.warning("dataset %s has class ids %s the model does not predict", dataset.yaml_path, unknown)
    use_rect = backend.metadata.dynamic if o["rect"] is None else o["rect"]
    settings = PredictSettings(imgsz=o["imgsz"], conf=o["conf"], iou=o["iou"], max_det=o["max_det"], multi_label=True,
                               batch=o["batch"], pad="val" if use_rect else "square")
    result = evaluate_backend(backend, files, names, settings, where=dataset.yaml_path)
    if o["save_json"]:
        from .io_utils import write_text_atomic
        from .outputs import next_run_dir

        write_text_atomic(next_run_dir(o["project"], o["name"]) / "metrics.json", json.dumps(result.to_dict(), indent=1))
    return result


def map_of_compiled_model(compiled_model, files, names, imgsz, batch: int = 1) -> float:
    """mAP50-95 of a model compiled elsewhere (NNCF's accuracy-control loop), through the usual pipeline."""
    from .backends.openvino_backend import OpenVINOBackend
    from .metadata import ModelMetadata

    metadata = ModelMetadata(names=names, imgsz=tuple(imgsz), batch=batch, format="openvino")
    backend = OpenVINOBackend(compiled_model, metadata)
    settings = PredictSettings(imgsz=tuple(imgsz), conf=0.001, iou=0.7, multi_label=True, pad="square")
    return evaluate_backend(backend, files, names, settings).map50_95
