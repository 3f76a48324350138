"""Validation: COCO mAP of any model format on a YOLO-format dataset, computed by faster-coco-eval."""

from __future__ import annotations

import contextlib
import io
import json
import logging
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..tasks.label_files import LabelIssues
from .datasets import load_dataset
from ..errors import UsageError
from ..tasks import DEFAULT_TASK, SCORE_KINDS, SCORE_LABELS, task_named, tasks
from ..options import DEFAULT_MAX_DET, defaults
from ..runtime.predictor import PredictSettings, Predictor
from ..utils.tables import counted

LOGGER = logging.getLogger("yolo_openvino")


@dataclass
class Metric:
    """One kind of mAP (boxes, masks) over the dataset, 0..1: as the reference's ``metrics.box`` / ``metrics.seg``."""

    map50_95: float
    map50: float
    map75: float
    per_class: dict[str, float] = field(default_factory=dict)  # class name -> AP50-95
    per_class50: dict[str, float] = field(default_factory=dict)  # class name -> AP50
    # class name -> (precision (101,), score (101,)) at COCO's recall points, IoU 0.5: the curves (curves.py)
    pr50: dict = field(default_factory=dict, repr=False)

    @property
    def map(self) -> float:
        """mAP50-95, the reference's name for it."""
        return self.map50_95


@dataclass
class ValidationResult:
    """The task's metrics by results_dict suffix (``B`` boxes, ``M`` masks), mean speed per image in ms, and what
    was odd in the data. ``map50_95``, ``map50``, ``map75``, ``per_class`` are the boxes' (every task has them)."""

    metrics: dict[str, Metric]
    speed: dict[str, float]
    images: int
    instances: int
    issues: LabelIssues = field(default_factory=LabelIssues)
    skipped: list[str] = field(default_factory=list)
    inference_precision: str | None = None  # what the runtime computed in (bf16 on AVX512_BF16/AMX CPUs by default)
    task: str = DEFAULT_TASK
    names: dict[int, str] = field(default_factory=dict)  # the dataset's classes (per-class rows, ``maps``)
    class_instances: dict[str, int] = field(default_factory=dict)  # labelled objects per class name
    predictions: list = field(default_factory=list, repr=False)  # COCO detections (``predictions.json``)
    save_dir: Path | None = None  # where save_json, save_txt and plots wrote (the reference's attribute)
    confusion_matrix: object = field(default=None, repr=False)  # evaluation.confusion.ConfusionMatrix

    @property
    def box(self) -> Metric:
        return self.metrics["B"]

    @property
    def seg(self) -> Metric | None:
        """Mask mAP (segmentation models), else None."""
        return self.metrics.get("M")

    @property
    def pose(self) -> Metric | None:
        """Keypoint (OKS) mAP (pose models), else None."""
        return self.metrics.get("P")

    map50_95 = property(lambda self: self.box.map50_95)
    map50 = property(lambda self: self.box.map50)
    map75 = property(lambda self: self.box.map75)
    per_class = property(lambda self: self.box.per_class)

    def figure(self, metric: str) -> float:
        """mAP50-95 of one kind (``B``, ``M``, ``P``): the task's own figure in tables."""
        return self.metrics[metric].map50_95

    @property
    def results_dict(self) -> dict[str, float]:
        """The reference's keys: ``metrics/mAP50(B)``, ``metrics/mAP50-95(M)``, ... and ``fitness`` (0.1 mAP50 +
        0.9 mAP50-95, summed over the kinds, as the reference)."""
        out = {}
        for suffix, m in self.metrics.items():
            out.update({f"metrics/mAP50({suffix})": m.map50, f"metrics/mAP75({suffix})": m.map75,
                        f"metrics/mAP50-95({suffix})": m.map50_95})
        out["fitness"] = sum(0.1 * m.map50 + 0.9 * m.map50_95 for m in self.metrics.values())
        return out

    @property
    def maps(self) -> np.ndarray:
        """(nc,) mAP50-95 of the task's own kind per class id, as the reference's (a class without labels: the
        overall figure)."""
        kind = tasks().get(self.task)
        own = self.metrics.get(kind.metric, self.box) if kind else self.box
        return np.array([own.per_class.get(self.names.get(i, ""), own.map50_95) for i in range(len(self.names))])

    @property
    def curves(self) -> list[str]:
        """The reference's curve names: 'Precision-Recall(B)', 'F1-Confidence(B)', ... for every kind of metric."""
        from .curves import curve_names

        return curve_names(self.metrics)

    @property
    def curves_results(self) -> list[list]:
        """Per curve of :attr:`curves`: [x (points,), y (classes, points), x label, y label]."""
        from .curves import curves

        return [list(c) for m in self.metrics.values() for c in curves(m.pr50)]

    def plot(self, save_dir: str | Path) -> list[Path]:
        """Write the confusion matrix (counts and normalized) and every kind's four curves as PNGs in ``save_dir``."""
        from .curves import curves, save_curves

        written = [self.confusion_matrix.plot(normalize, save_dir) for normalize in (False, True)]
        for suffix, m in self.metrics.items():
            written += save_curves(suffix, list(m.pr50), curves(m.pr50), save_dir)
        return [p for p in written if p]

    def summary(self, normalize: bool = False, decimals: int = 5) -> list[dict]:
        """One dict per class with labels, as the reference's ``metrics.summary()``: ``Class``, ``Instances`` and
        for each kind (Box, Mask, Pose) its ``mAP50`` (where computed) and ``mAP50-95``."""
        rows = []
        for name in [n for n in self.names.values() if n in self.class_instances]:
            row = {"Class": name, "Instances": self.class_instances[name]}
            for suffix, m in self.metrics.items():
                kind = SCORE_KINDS.get(suffix, suffix)
                if name in m.per_class50:
                    row[f"{kind}-mAP50"] = round(m.per_class50[name], decimals)
                row[f"{kind}-mAP50-95"] = round(m.per_class.get(name, 0.0), decimals)
            rows.append(row)
        return rows

    def to_df(self, normalize: bool = False, decimals: int = 5):
        """:meth:`summary` as a pandas DataFrame (``pip install pandas``)."""
        import pandas as pd

        return pd.DataFrame(self.summary(normalize, decimals))

    def to_csv(self, normalize: bool = False, decimals: int = 5) -> str:
        from ..utils.tables import csv_text

        rows = self.summary(normalize, decimals)
        return csv_text(rows, list(rows[0]) if rows else ["Class"])

    def to_json(self, normalize: bool = False, decimals: int = 5) -> str:
        return json.dumps(self.summary(normalize, decimals))

    def __str__(self) -> str:
        return self.summary_line()

    def summary_line(self) -> str:
        """The one line ``val`` prints: counts, every kind's mAP, speed, precision, label issues."""
        speed = ", ".join(f"{k} {v:.1f}" for k, v in self.speed.items())
        kinds = "; ".join(f"{SCORE_LABELS.get(suffix, suffix)} mAP50-95 {m.map50_95:.4f}, mAP50 {m.map50:.4f}, "
                          f"mAP75 {m.map75:.4f}" for suffix, m in self.metrics.items())
        kinds = kinds.replace("boxes mAP50-95", "mAP50-95", 1) if list(self.metrics) == ["B"] else kinds
        text = (f"{counted(self.images, 'image')}, {counted(self.instances, 'instance')}: {kinds}; speed ms/image: "
                f"{speed}; inference precision {self.inference_precision or '?'}; labels: {self.issues.summary()}")
        return text + (f"; {counted(len(self.skipped), 'unreadable image')} skipped" if self.skipped else "")

    def to_dict(self) -> dict:
        return {"task": self.task, "map50_95": self.map50_95, "map50": self.map50, "map75": self.map75,
                "per_class": self.per_class,
                "metrics": {k: {f: v for f, v in asdict(m).items() if f != "pr50"} for k, m in self.metrics.items()},
                "speed": self.speed, "images": self.images, "instances": self.instances,
                "inference_precision": self.inference_precision, "results_dict": self.results_dict,
                "label_issues": vars(self.issues), "skipped": self.skipped}


@dataclass
class ClassificationResult:
    """A classifier's top-1 and top-5 accuracy (0..1) over an ImageFolder split, as the reference's
    ``metrics.top1`` / ``metrics.top5``; mean speed per image in ms; unreadable images skipped (named), class
    folders without images (per split)."""

    top1: float
    top5: float
    speed: dict[str, float]
    images: int
    skipped: list[str] = field(default_factory=list)
    empty_classes: list[str] = field(default_factory=list)
    inference_precision: str | None = None
    task: str = ""  # the classifier's task name, set by whoever scores it
    save_dir: Path | None = None  # where save_json, save_txt and plots wrote (the reference's attribute)
    confusion_matrix: object = field(default=None, repr=False)  # (nc, nc) evaluation.confusion.ConfusionMatrix
    curves: list = field(default_factory=list, repr=False)  # a classifier has none (the reference's too)
    curves_results: list = field(default_factory=list, repr=False)

    def plot(self, save_dir: str | Path) -> list[Path]:
        """Write the confusion matrix (counts and normalized) as PNGs in ``save_dir``."""
        return [p for p in (self.confusion_matrix.plot(n, save_dir) for n in (False, True)) if p]

    def figure(self, metric: str) -> float:
        return self.top1

    @property
    def results_dict(self) -> dict[str, float]:
        """The reference's keys: ``metrics/accuracy_top1``, ``metrics/accuracy_top5`` and ``fitness`` (their mean)."""
        return {"metrics/accuracy_top1": self.top1, "metrics/accuracy_top5": self.top5,
                "fitness": (self.top1 + self.top5) / 2}

    def summary(self, normalize: bool = False, decimals: int = 5) -> list[dict]:
        """As the reference's ``metrics.summary()`` of a classifier: one row for all classes (top-1, top-5)."""
        return [{"Class": "all", "top1_acc": round(self.top1, decimals), "top5_acc": round(self.top5, decimals)}]

    def to_df(self, normalize: bool = False, decimals: int = 5):
        import pandas as pd

        return pd.DataFrame(self.summary(normalize, decimals))

    def to_csv(self, normalize: bool = False, decimals: int = 5) -> str:
        from ..utils.tables import csv_text

        return csv_text(self.summary(normalize, decimals), ["Class", "top1_acc", "top5_acc"])

    def to_json(self, normalize: bool = False, decimals: int = 5) -> str:
        return json.dumps(self.summary(normalize, decimals))

    def __str__(self) -> str:
        return self.summary_line()

    def summary_line(self) -> str:
        """The one line ``val`` prints: accuracy, speed, precision, what was skipped."""
        speed = ", ".join(f"{k} {v:.1f}" for k, v in self.speed.items())
        text = (f"{counted(self.images, 'image')}: top-1 accuracy {self.top1:.4f}, top-5 {self.top5:.4f}; speed "
                f"ms/image: {speed}; inference precision {self.inference_precision or '?'}")
        if self.empty_classes:
            text += f"; class folders without images: {', '.join(self.empty_classes)}"
        return text + (f"; {counted(len(self.skipped), 'unreadable image')} skipped" if self.skipped else "")

    def to_dict(self) -> dict:
        return {"task": self.task, "top1": self.top1, "top5": self.top5, "speed": self.speed, "images": self.images,
                "inference_precision": self.inference_precision, "results_dict": self.results_dict,
                "skipped": self.skipped, "empty_classes": self.empty_classes}


def evaluate_classifier(backend, samples: list[tuple[Path, int]], settings: PredictSettings,
                        asynchronous: bool = True) -> ClassificationResult:
    """Top-1 / top-5 accuracy of ``backend`` on (image, class id) ``samples``; unreadable images are skipped and
    named (the predictor reports them), the rest scored."""
    from tqdm import tqdm

    from .confusion import ConfusionMatrix

    label_of = {str(f): c for f, c in samples}
    predictor = Predictor(backend, settings)
    hits1, hits5, speeds, pairs = [], [], [], []
    for result in tqdm(predictor.stream([str(f) for f, _ in samples], asynchronous=asynchronous), total=len(samples),
                       desc="val", leave=False, disable=None if len(samples) >= 16 else True):
        label = label_of[result.path]
        hits1.append(result.probs.top1 == label)
        hits5.append(label in result.probs.top5)
        speeds.append(result.speed)
        pairs.append((result.probs.top1, label))
    if not hits1:
        raise UsageError("no readable image to validate on")
    speed = {k: float(np.mean([s[k] for s in speeds])) for k in ("preprocess", "inference", "postprocess")}
    confusion = ConfusionMatrix(backend.metadata.names, background=False)
    confusion.add_labels(*np.array(pairs).T)
    return ClassificationResult(float(np.mean(hits1)), float(np.mean(hits5)), speed, len(hits1),
                                list(predictor.stats.skipped), inference_precision=backend.inference_precision,
                                task=predictor.task.name, confusion_matrix=confusion)


def validate_classifier(backend, o: dict, reduced_decode: bool = False) -> ClassificationResult:
    """``validate`` for a classifier: an ImageFolder dataset (a folder, as the reference accepts it)."""
    from .datasets import load_image_folder

    dataset = load_image_folder(o["data"])
    unknown = sorted(set(dataset.names.values()) - set(backend.metadata.names.values()))
    if unknown:
        LOGGER.warning("dataset %s has classes %s the model does not predict", dataset.root, unknown)
    split = o["split"]
    samples = dataset.samples(split)
    empty = dataset.empty.get(split, [])
    if empty:
        LOGGER.warning("%s: class folders without images in its '%s' split: %s", dataset.root, split, ", ".join(empty))
    settings = PredictSettings(imgsz=o["imgsz"], batch=o["batch"], reduced_decode=reduced_decode)
    result = evaluate_classifier(backend, samples, settings)
    result.empty_classes = empty
    return result


def coco_map(gt_images: list[dict], gt_annotations: list[dict], detections: list[dict], names: dict[int, str],
             max_det: int = DEFAULT_MAX_DET, iou_type: str = "bbox", **options) -> Metric:
    """mAP50-95, mAP50, mAP75 and per-class AP50-95 by faster-coco-eval's COCOeval for ``iou_type`` (bbox, segm,
    keypoints; ``options`` such as ``kpt_oks_sigmas`` go to COCOeval).

    ``gt_annotations`` / ``detections`` are COCO dicts (bbox x, y, w, h in pixels; segm: polygons / RLE;
    keypoints: x, y, v triples). maxDets is raised to ``max_det`` so the evaluation sees the same detections the
    validation kept; the figures are read from the precision table at all areas (keypoint evaluation has no
    'small' area and summarises at 20 detections, so its own summary would not be comparable).
    """
    from faster_coco_eval import COCO, COCOeval_faster

    if not gt_annotations:
        raise UsageError("no labelled boxes: mAP is undefined")
    gt = COCO()
    gt.dataset = {"images": gt_images, "annotations": [{**a, "id": i} for i, a in enumerate(gt_annotations, 1)],
                  "categories": [{"id": int(k), "name": v} for k, v in names.items()]}
    gt.createIndex()
    dt = gt.loadRes(detections) if detections else COCO()
    evaluator = COCOeval_faster(gt, dt, iou_type, print_function=LOGGER.debug, **options)
    evaluator.params.maxDets = [1, 10, max_det]
    with contextlib.redirect_stdout(io.StringIO()):  # COCOeval prints its table; we report our own
        evaluator.evaluate()
        evaluator.accumulate()
    precision = evaluator.eval["precision"][..., 0, -1]  # (iou thresholds, recall points, classes), all areas

    def mean(p: np.ndarray) -> float:
        return float(p[p > -1].mean()) if (p > -1).any() else -1.0
    present = [(k, names[int(cat_id)]) for k, cat_id in enumerate(evaluator.params.catIds)
               if (precision[:, :, k] > -1).any()]
    per_class = {name: mean(precision[:, :, k]) for k, name in present}
    per_class50 = {name: mean(precision[0, :, k]) for k, name in present}
    scores = evaluator.eval["scores"][0, :, :, 0, -1]  # (recall points, classes) at IoU 0.5
    pr50 = {name: (precision[0, :, k], scores[:, k]) for k, name in present}
    return Metric(mean(precision), mean(precision[0]), mean(precision[5]), per_class, per_class50, pr50)


def score(kind: str, gt_images, gt_annotations, detections, names, max_det: int, options: dict) -> Metric:
    """One of a task's metrics: a COCOeval iouType, or ``rotated`` (oriented boxes, evaluation/rotated_ap.py)."""
    if kind != "rotated":
        return coco_map(gt_images, gt_annotations, detections, names, max_det, kind, **options)
    from .rotated_ap import rotated_map

    m50_95, m50, m75, per_class, pr50 = rotated_map(gt_annotations, detections, list(names), max_det)
    return Metric(m50_95, m50, m75, {names[c]: ap for c, ap in per_class.items()},  # per-class AP50: not computed
                  pr50={names[c]: table for c, table in pr50.items()})


def evaluate_backend(backend, files: list[Path], dataset, settings: PredictSettings,
                     asynchronous: bool = False, where="the dataset", labels_dir: Path | None = None,
                     save_conf: bool = False) -> ValidationResult:
    """Predict ``files`` with ``backend`` and score them against their labels with the task's own metrics
    (problems in the labels reported). ``dataset``: what the labels mean (datasets.Dataset: names, kpt_shape).
    ``labels_dir``: also write each image's predictions there as a YOLO label file (``save_txt``)."""
    from dataclasses import replace

    from tqdm import tqdm

    from .confusion import ConfusionMatrix

    index_of = {str(f): i for i, f in enumerate(files)}
    # Masks on the original image: COCO scores them against the labels' polygons there.
    predictor = Predictor(backend, replace(settings, retina_masks=True))
    task = predictor.task
    detections, speeds, shapes = [], [], {}
    for result in tqdm(predictor.stream([str(f) for f in files], asynchronous=asynchronous), total=len(files),
                       desc="val", leave=False, disable=None if len(files) >= 16 else True):
        image_id = index_of[result.path]
        shapes[image_id] = result.orig_shape  # the size of the decode the predictor did: no second read
        speeds.append(result.speed)
        detections += task.coco_detections(result, image_id)
        if labels_dir is not None:
            result.save_txt(labels_dir / f"{Path(result.path).stem}.txt", save_conf=save_conf)
    issues = LabelIssues()
    gt_images, gt_annotations = [], []
    for image_id, f in enumerate(files):
        if image_id in shapes:  # unreadable images are left out: the predictor skipped and reported them
            h, w = shapes[image_id]
            gt_images.append({"id": image_id, "file_name": f.name, "height": h, "width": w})
            gt_annotations += task.ground_truth(f, image_id, (h, w), dataset, issues)
    if issues.corrupt or issues.out_of_range or issues.unreadable:
        LOGGER.warning("label issues in %s: %s dropped, the rest evaluated; e.g. %s", where, issues.summary(),
                       issues.examples())
    if not gt_annotations:
        raise UsageError(f"{where}: no usable labelled boxes, so mAP is undefined ({issues.summary()}"
                         + (f"; e.g. {issues.examples()}" if issues.examples() else "") + ")")
    names, options = dataset.names, task.metric_options(dataset)
    metrics = {suffix: score(kind, gt_images, gt_annotations, detections, names, predictor.max_det, options)
               for suffix, kind in task.scores}
    speed = {k: float(np.mean([s[k] for s in speeds])) for k in ("preprocess", "inference", "postprocess")} if speeds else {}
    skipped = list(predictor.stats.skipped)
    instances = Counter(names.get(a["category_id"], str(a["category_id"])) for a in gt_annotations)
    for d in detections:  # the reference's predictions.json names the image by its file stem
        d["file_name"] = files[d["image_id"]].name
    return ValidationResult(metrics, speed, len(files) - len(skipped), len(gt_annotations), issues, skipped,
                            backend.inference_precision, task.name, dict(names), dict(instances), detections,
                            confusion_matrix=ConfusionMatrix.of_detections(names, gt_annotations, detections))


def validate(backend, reduced_decode: bool = False, **options) -> ValidationResult:
    """Validate a loaded backend on a dataset; ``options`` as declared in options.VAL (defaults from there).
    Images are decoded in full, as the reference validates, unless ``reduced_decode`` (a deploy folder picked with
    predict's reduced decode is scored as it runs)."""
    o = {**defaults("val"), **options}
    if task_named(backend.metadata.task).dataset_kind == "image_folder":
        result = validate_classifier(backend, o, reduced_decode)
        _save_outputs(result, o, _run_folder(backend, o))
        return result
    dataset = load_dataset(o["data"])
    files = dataset.images(o["split"])
    # Labels are checked against, and scored by, the dataset's classes (its yaml is the authority on them).
    names = dataset.names
    unknown = sorted(set(names) - set(backend.metadata.names))
    if unknown:
        LOGGER.warning("dataset %s has class ids %s the model does not predict", dataset.yaml_path, unknown)
    use_rect = backend.metadata.dynamic if o["rect"] is None else o["rect"]
    # Full-size decoding (unless a deploy folder says otherwise), as the reference validates: its figures are
    # what ours are compared with.
    settings = PredictSettings(imgsz=o["imgsz"], conf=o["conf"], iou=o["iou"], max_det=o["max_det"], multi_label=True,
                               classes=o["classes"], agnostic_nms=o["agnostic_nms"],
                               batch=o["batch"], pad="val" if use_rect else "square", reduced_decode=reduced_decode)
    task = task_named(backend.metadata.task)
    if task.check_dataset:
        task.check_dataset(dataset, backend.metadata)
    folder = _run_folder(backend, o)
    result = evaluate_backend(backend, files, dataset, settings, where=dataset.yaml_path,
                              labels_dir=folder / "labels" if o["save_txt"] else None, save_conf=o["save_conf"])
    _save_outputs(result, o, folder)
    return result


def _run_folder(backend, o: dict) -> Path | None:
    """The task's next run folder (runs/<task>/val, val2, ...) when anything is to be written, else None."""
    if not (o["save_json"] or o["save_txt"] or o["plots"]):
        return None
    from ..predict.saving import next_run_dir

    return next_run_dir(o["project"] or task_named(backend.metadata.task).project, o["name"], exist_ok=o["exist_ok"])


def _save_outputs(result, o: dict, folder: Path | None) -> None:
    """Into ``folder``: with ``save_json`` the metrics (``metrics.json``) and, for a detection-style task, every
    prediction in COCO's format (``predictions.json``); with ``plots`` the confusion matrix and curves (PNG)."""
    if folder is None:
        return
    from ..utils.files import write_text_atomic

    if o["save_json"]:
        write_text_atomic(folder / "metrics.json", json.dumps(result.to_dict(), indent=1))
        if getattr(result, "predictions", None):  # COCO-format detections, as the reference's predictions.json
            write_text_atomic(folder / "predictions.json", json.dumps(result.predictions))
    if o["plots"]:
        result.plot(folder)
    result.save_dir = folder
    LOGGER.info("results saved to %s", folder)


def task_figure_of_compiled(compiled_model, files: list, dataset, metadata: dict) -> float:
    """The task's own figure (mAP50-95 of its kind, top-1 for a classifier) of a model compiled elsewhere (the INT8
    gate, NNCF's accuracy-control loop), through the usual pipeline at the export's size; ``metadata``: the
    export's (task, names, imgsz, kpt_shape, heads)."""
    from ..runtime.backends.openvino_backend import OpenVINOBackend
    from ..runtime.metadata import ModelMetadata

    meta = ModelMetadata.from_dict(metadata, "openvino")
    backend = OpenVINOBackend(compiled_model, meta)
    task = task_named(meta.task)
    if task.dataset_kind == "image_folder":
        wanted = set(files)
        samples = [(f, c) for f, c in dataset.samples("val") if f in wanted]
        return evaluate_classifier(backend, samples, PredictSettings(imgsz=meta.imgsz, reduced_decode=False)).top1
    val = defaults("val")  # the thresholds validation runs with, as declared
    settings = PredictSettings(imgsz=meta.imgsz, conf=val["conf"], iou=val["iou"], multi_label=True, pad="square",
                               reduced_decode=False)
    return evaluate_backend(backend, files, dataset, settings).figure(task.metric)


# -- one figure on part of a val split (optimize: every variant scored on the same images) -----------------------------
def scoring_set(data, task_name: str, fraction: float = 1.0, split: str = "val") -> tuple[object, list]:
    """(dataset, items) a figure is scored on: ``fraction`` of ``data``'s ``split``, evenly spread over it (at least
    one image), the same every time; items are image files, or (image, class id) for a classifier."""
    task = task_named(task_name)
    if task.dataset_kind == "image_folder":
        from .datasets import load_image_folder

        dataset = load_image_folder(data)
        everything = dataset.samples(split)
    else:
        dataset = load_dataset(data)
        everything = dataset.images(split)
    count = max(1, round(len(everything) * fraction))
    picked = np.unique(np.linspace(0, len(everything) - 1, count).round().astype(int))
    return dataset, [everything[i] for i in picked]


def task_figure(backend, dataset, items: list, reduced_decode: bool | None = None) -> float:
    """The task's own figure (mAP50-95 of its kind, top-1 for a classifier) of ``backend`` on ``items`` (from
    ``scoring_set``), with validation's thresholds at the model's size; ``reduced_decode`` as the deployment will
    decode (default: predict's)."""
    val = defaults("val")
    reduced = defaults("predict")["reduced_decode"] if reduced_decode is None else reduced_decode
    task = task_named(backend.metadata.task)
    if task.dataset_kind == "image_folder":
        return evaluate_classifier(backend, items, PredictSettings(reduced_decode=reduced)).top1
    if task.check_dataset:
        task.check_dataset(dataset, backend.metadata)
    settings = PredictSettings(conf=val["conf"], iou=val["iou"], max_det=val["max_det"], multi_label=True,
                               pad="val" if backend.metadata.dynamic else "square", reduced_decode=reduced)
    return evaluate_backend(backend, items, dataset, settings, where=dataset.yaml_path).figure(task.metric)
