"""INT8 post-training quantization with NNCF.

The detection head's decode (DFL softmax and its fixed 1x1 conv, anchor/stride box arithmetic, sigmoid,
concatenations) must stay in float: quantizing it shifts boxes by whole pixels. We find that region from
the graph itself: walk back from the outputs and stop at the last learned convolutions of the head's
branches (a convolution is "learned" unless it reads a softmax, as DFL's does). Everything on the way is
the decode, whatever the head's architecture (YOLOv8 or YOLO11) or node names.
"""

from __future__ import annotations

import contextlib
import logging
import re

import numpy as np

from ..errors import UsageError
from ..tasks.task import DEFAULT_TASK
from ..utils.tables import counted

LOGGER = logging.getLogger("yolo_openvino")
RECOMMENDED_CALIBRATION_IMAGES = 300  # fewer rarely cover the activation ranges of real scenes
_PASS_THROUGH = {"Reshape", "Transpose", "Squeeze", "Unsqueeze", "Convert"}


def _reads_softmax(node) -> bool:
    """True when ``node``'s data input comes from a Softmax through shape-only ops (DFL's conv)."""
    source = node.input_value(0).get_node()
    while source.get_type_name() in _PASS_THROUGH:
        source = source.input_value(0).get_node()
    return source.get_type_name() in ("Softmax", "SoftMax")


def _is_bias_add(node) -> bool:
    if node.get_type_name() != "Add":
        return False
    kinds = {node.input_value(i).get_node().get_type_name() for i in range(2)}
    return "Convolution" in kinds and ("Constant" in kinds or "Convert" in kinds)


def decode_node_names(ov_model) -> list[str]:
    """Friendly names of the head-decode nodes: everything between the outputs and the head's learned convs."""
    names, seen = [], set()
    stack = [result.input_value(0).get_node() for result in ov_model.get_results()]
    while stack:
        node = stack.pop()
        name = node.get_friendly_name()
        if name in seen:
            continue
        seen.add(name)
        kind = node.get_type_name()
        if kind in ("Parameter", "Constant"):
            continue
        if _is_bias_add(node) or (kind == "Convolution" and not _reads_softmax(node)):
            continue  # a learned conv of a branch: the feature network starts here
        names.append(name)
        if kind == "ShapeOf":
            continue  # reads only a feature map's shape (anchors of a dynamic IR): its data is not the decode's
        stack.extend(node.input_value(i).get_node() for i in range(node.get_input_size()))
    return names


_LAYER = re.compile(r"model\.model\.(\d+)[./]")  # a traced node's layer index: __module.model.model.10.linear/...


def last_layers_patterns(ov_model, count: int) -> list[str]:
    """IgnoredScope patterns for the nodes of the model's last ``count`` layers (by their traced names)."""
    if count <= 0:
        return []
    indices = {int(m.group(1)) for op in ov_model.get_ops() if (m := _LAYER.search(op.get_friendly_name()))}
    last = sorted(indices)[-count:]
    return [rf".*model\.model\.{i}[./].*" for i in last]


def val_fraction(dataset, fraction: float) -> list:
    """The first ``fraction`` of the dataset's val images (at least one): what calibration and accuracy control use."""
    files = dataset.images("val")
    return files[: max(1, int(round(len(files) * fraction)))]


def calibration_files(args):
    """(image files, dataset): the val split cut by ``fraction`` and ``subset_size``, at least one ``batch`` of them.

    ``export`` calls this before converting the model too, so a missing dataset or one too small for the batch
    is said in a second, not after the conversion.
    """
    from ..evaluation.datasets import load_dataset, load_image_folder
    from ..tasks import task_named

    task = task_named(args.task)
    dataset = load_image_folder(args.data) if task.dataset_kind == "image_folder" else load_dataset(args.data)
    files = val_fraction(dataset, args.fraction)[: args.subset_size]
    if len(files) < args.batch:
        raise UsageError(f"{dataset.yaml_path}: {counted(len(files), 'calibration image')} but batch={args.batch}; "
                         "use a larger dataset or fraction, or a smaller batch")
    return files, dataset


def calibration_images(files: list, imgsz: tuple[int, int], batch: int, task: str = DEFAULT_TASK) -> list[np.ndarray]:
    """(B, 3, H, W) float32 batches of ``files`` prepared as the task's inputs are (letterboxed; a classifier's
    centre crop); unreadable files skipped."""
    from ..utils.files import ImageReadError, read_image
    from ..runtime.processing import letterbox, to_nchw_float
    from ..tasks import task_named

    prepare = task_named(task).prepare or letterbox
    inputs = []
    for f in files:
        try:
            inputs.append(prepare(read_image(f), imgsz)[0])
        except ImageReadError as e:
            LOGGER.warning("calibration: skipping %s", e)
    usable = len(inputs) // batch * batch
    return [to_nchw_float(np.stack(inputs[i:i + batch])) for i in range(0, usable, batch)]


def quantize_int8(ov_model, args, metadata: dict):
    """NNCF INT8 (mixed preset: symmetric weights, asymmetric activations) with the decode kept in float, then the
    accuracy gate (:func:`int8_check`) unless ``int8_check=False``: the INT8 model and the FP32 one scored with the
    task's metric, the result printed and recorded in ``metadata["int8_check"]``. A drop beyond ``max_drop``
    switches to NNCF's accuracy-controlled quantization on that metric; without ``max_drop``, a drop above
    ``LOUD_DROP`` is a warning naming it. Returns the INT8 model."""
    import nncf

    from ..tasks import task_named

    files, dataset = calibration_files(args)
    batches = calibration_images(files, args.imgsz, args.batch, args.task)
    # the decode always; a classifier also its head and the block before it (task table: int8_float_tail)
    patterns = last_layers_patterns(ov_model, task_named(args.task).int8_float_tail)
    ignored = nncf.IgnoredScope(names=decode_node_names(ov_model), patterns=patterns, validate=False)
    count = len(batches) * args.batch
    LOGGER.info("INT8: calibrating on %s of %s; %d decode nodes kept in float",
                counted(count, "image"), dataset.yaml_path, len(ignored.names))
    if count < RECOMMENDED_CALIBRATION_IMAGES:
        LOGGER.warning("INT8: %s is few; %d or more (e.g. your own validation set) give activation ranges "
                       "that hold on real scenes", counted(count, "calibration image"), RECOMMENDED_CALIBRATION_IMAGES)
    calibration = nncf.Dataset(batches)
    common = dict(preset=nncf.QuantizationPreset.MIXED, ignored_scope=ignored, subset_size=len(batches))
    with _nncf_quiet():
        quantized = plain_quantize(ov_model, calibration, common)
    if not args.int8_check:
        return quantized
    check = int8_check(ov_model, quantized, args, dataset, metadata)
    if args.max_drop is not None and check["drop"] > args.max_drop:
        LOGGER.info("INT8: the drop %.3f is beyond max_drop=%g: NNCF's accuracy-controlled quantization on %s",
                    check["drop"], args.max_drop, check["metric"])
        with _nncf_quiet():
            quantized = _quantize_with_accuracy_control(ov_model, calibration, args, dataset, common, metadata)
        check = int8_check(ov_model, quantized, args, dataset, metadata, fp32=check["fp32"])
    metadata["int8_check"] = check
    return quantized


def plain_quantize(ov_model, calibration, common: dict):
    """NNCF's post-training quantization (a seam: the tests hand the gate a broken model here)."""
    import nncf

    return nncf.quantize(ov_model, calibration, **common)


LOUD_DROP = 0.03  # an INT8 drop above this (absolute, the task's metric) is a warning when max_drop is not given


def int8_check(fp32_model, int8_model, args, dataset, metadata: dict, fp32: float | None = None) -> dict:
    """Score both models with the task's own metric on the first ``val_images`` of the dataset's val split, at the
    export size, in f32 (so the figure is the quantization's alone, not the device's bf16); say the result."""
    from ..tasks import task_named

    task = task_named(args.task)
    files = dataset.images("val")[: args.val_images]
    if fp32 is None:
        fp32 = task_figure_of(fp32_model, files, dataset, metadata)
    int8 = task_figure_of(int8_model, files, dataset, metadata)
    check = {"metric": task.figure_name, "fp32": round(fp32, 4), "int8": round(int8, 4), "drop": round(fp32 - int8, 4),
             "images": len(files), "data": str(dataset.yaml_path)}
    line = (f"INT8 {task.figure_name} {int8:.3f} vs FP32 {fp32:.3f} ({int8 - fp32:+.3f}) on "
            f"{counted(len(files), 'image')} of {dataset.yaml_path}")
    if check["drop"] > LOUD_DROP and args.max_drop is None:
        LOGGER.warning("%s: INT8 loses more than %.2f here; re-export with max_drop=0.01 (NNCF then keeps the "
                       "layers that cost the most in float until the drop is at most that)", line, LOUD_DROP)
    else:
        LOGGER.info("%s", line)
    return check


def task_figure_of(ov_model, files: list, dataset, metadata: dict) -> float:
    """The task's own figure (mAP50-95 of its kind, or top-1) of an in-memory OpenVINO model, compiled in f32."""
    import openvino as ov

    from ..evaluation.validation import task_figure_of_compiled

    compiled = ov.Core().compile_model(ov_model, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    return task_figure_of_compiled(compiled, files, dataset, metadata)


@contextlib.contextmanager
def _nncf_quiet():
    """NNCF's INFO lines (one per unquantized operation, ~25 for a YOLO head) only with --verbose; its progress
    bars stay."""
    nncf_logger = logging.getLogger("nncf")
    level = nncf_logger.level
    if not LOGGER.isEnabledFor(logging.DEBUG):
        nncf_logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        nncf_logger.setLevel(level)


def _quantize_with_accuracy_control(ov_model, calibration, args, dataset, common, metadata: dict):
    """Quantize, then revert the most harmful layers to float until the drop of the task's metric is at most
    ``max_drop``."""
    import nncf

    from ..evaluation.validation import task_figure_of_compiled

    files = val_fraction(dataset, args.fraction)[: args.val_images]

    def validate(compiled_model, _items) -> float:
        return task_figure_of_compiled(compiled_model, files, dataset, metadata)

    validation = nncf.Dataset([0])  # our validate() reads the images itself (it needs labels and letterbox info)
    return nncf.quantize_with_accuracy_control(
        ov_model, calibration, validation, validation_fn=validate, max_drop=float(args.max_drop),
        drop_type=nncf.DropType.ABSOLUTE, **common)
