"""One task's entry: everything the rest of the library asks about a task (the registry, ``tasks/__init__.py``,
lists them)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..errors import UsageError

# What a file that names no task holds (exports and checkpoints of older versions: detection).
DEFAULT_TASK = "detect"
# A results_dict suffix -> what its mAP scores, in summaries ("pose mAP50-95 ...").
SCORE_LABELS = {"B": "boxes", "M": "masks", "P": "pose"}
# The same suffix as the reference names it in per-class summaries and curve files ("Box-mAP50", "BoxPR_curve.png").
SCORE_KINDS = {"B": "Box", "M": "Mask", "P": "Pose"}

@dataclass(frozen=True)
class Task:
    """One task. ``outputs``: the model's outputs in order, named as the reference names them. ``extra``: what
    follows the class scores in ``output0`` per anchor (a raw output is (B, 4 + nc + E, A), rows (B, k, 6 + E)).
    ``postprocess(outputs, meta, settings, max_det)`` -> per image a dict of arrays in model-input pixels;
    ``fields(prediction, letterbox, orig_shape, input_hw, settings)`` -> the Result fields it fills, in
    original-image pixels. ``metric``: the suffix of its own mAP in ``results_dict`` (B boxes, M masks, P pose).
    ``extra_channels(metadata, output shapes)`` -> E. ``scores``: (results_dict suffix, what scores it) in order:
    a COCOeval iouType (bbox, segm, keypoints) or ``rotated`` (our rotated-IoU AP, evaluation/validation.py);
    ``metric_options(dataset)`` -> what that scoring needs beyond the annotations (pose: OKS sigmas).
    ``box_layout``: how rows carry the box, ``xyxy`` corners or ``xywh`` centre and size (oriented boxes)."""

    name: str
    model_class: str
    heads: tuple[str, ...]
    outputs: tuple[str, ...]
    extra: str
    metric: str
    postprocess: Callable
    fields: Callable
    extra_channels: Callable[[object, list[tuple]], int] = lambda meta, shapes: 0
    ground_truth: Callable = None  # (image file, image id, (h, w), Dataset, issues) -> COCO annotations of its labels
    coco_detections: Callable = None  # (Result, image id) -> COCO detections
    scores: tuple[tuple[str, str], ...] = (("B", "bbox"),)
    metric_options: Callable = lambda dataset: {}
    box_layout: str = "xyxy"
    prepare: Callable = None  # (image, target, pad, stride, full_shape) -> (input, Letterbox); None: the letterbox
    layout_check: Callable = None  # (metadata, output shapes, where) -> None or one line; None: the dense layout
    metric_label: str = None  # its figure's name in tables (classify: acc_top1); None: mAP50-95(<metric>)
    dataset_kind: str = "yolo"  # yolo (images/ + labels/ with a yaml) or image_folder (<split>/<class>/*.jpg)
    batchnorm_eps: float = 1e-3  # the BatchNorm epsilon its models are trained with (the reference's, per task)
    int8_float_tail: int = 0  # layers at the model's end that INT8 keeps in float (beside the decode, always float)
    model_api: bool = False  # Intel's model-api runs its raw output (its YOLOv8 / YOLO11 detection wrappers)
    # How an nms=True export makes its rows: "op" (OpenVINO's NMS op, axis-aligned boxes, the extra channels
    # gathered along), "traced" (oriented boxes: our Fast-NMS traced into the graph, export/wrapper.py), "" not at all.
    nms_in_graph: str = ""
    trackable: bool = True  # it finds objects a tracker can follow (a classifier has no boxes)
    augmentable: bool = False  # augment=True on a .pt: test-time augmentation (the reference's: detection only)
    check_dataset: Callable = None  # (dataset, metadata) -> None or one line: labels this model cannot be scored on
    # () -> the class of what it adds to a Result (``results.parts.BoxPart`` per box, or per image: Probs), read by
    # its ``FIELD`` (``result.masks``); a new kind of part needs no change to Result (``Result.extra_parts``)
    part: Callable[[], type] = None
    # what its exports add to the metadata, read from the network by the same name (pose: kpt_shape); the runtime
    # keeps them in ``ModelMetadata.task_keys`` as the file has them
    metadata_keys: tuple[str, ...] = ()

    def metadata_of(self, network) -> dict:
        """The network's values of ``metadata_keys``, as YAML writes them (tuples as lists); absent ones left out."""
        values = {key: getattr(network, key, None) for key in self.metadata_keys}
        return {key: list(v) if isinstance(v, tuple) else v for key, v in values.items() if v is not None}

    @property
    def figure_name(self) -> str:
        """The name of its one figure in tables (the benchmark's metric column): mAP50-95(M), acc_top1, ..."""
        return self.metric_label or f"mAP50-95({self.metric})"

    @property
    def crops(self) -> bool:
        """Its input is a crop of the image (a classifier's centre crop), not a letterbox of all of it."""
        return self.prepare is not None

    @property
    def project(self) -> str:
        """Where its jobs write by default, as Ultralytics users look: runs/detect, runs/segment, ... (the
        ``runs_dir`` setting, utils/settings.py)."""
        from ..utils.settings import settings

        return str(Path(settings["runs_dir"]) / self.name)

    def check_outputs(self, meta, shapes: list[tuple], where: str) -> None:
        """Refuse, in one line, outputs whose count or layout is not this task's for ``meta``'s classes: an IR
        whose metadata says one task and whose graph is another's would otherwise run with wrong results.
        ``shapes``: each output's shape, -1 for a dynamic dimension (not compared: the first run's are)."""
        if self.layout_check:
            return self.layout_check(meta, shapes, where)
        if len(shapes) != len(self.outputs):
            raise UsageError(f"{where}: {len(shapes)} outputs, but a {self.name} model has {len(self.outputs)} "
                             f"({', '.join(self.outputs)}); its metadata's task does not match the model")
        try:
            nc, extra = len(meta.names), self.extra_channels(meta, shapes)
        except UsageError as e:
            raise UsageError(f"{where}: {e}") from None
        first = shapes[0]
        got, want = (first[-1], 6 + extra) if meta.outputs_rows else (first[1] if len(first) == 3 else None,
                                                                       4 + nc + extra)
        if got not in (want, -1):  # -1: dynamic in the file, checked on the first run (backends.load_backend)
            box = "x1 y1 x2 y2" if self.box_layout == "xyxy" else "cx cy w h"
            layout = f"rows of {box} score class" if meta.outputs_rows else f"4 box + {nc} class"
            raise UsageError(f"{where}: output0 has shape {tuple(first)}, but a {self.name} model with {nc} classes "
                             f"gives {want} ({layout}{' + ' + str(extra) + ' ' + self.extra if extra else ''}) per "
                             "anchor; the metadata's task or names do not match the model")
