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
from ..tables import counted

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
    from ..datasets import load_dataset, load_image_folder
    from ..tasks import task_named

    task = task_named(args.task)
    dataset = load_image_folder(args.data) if task.dataset_kind == "image_folder" else load_dataset(args.data)
    files = val_fraction(dataset, args.fraction)[: args.subset_size]
    if len(files) < args.batch:
        raise UsageError(f"{dataset.yaml_path}: {counted(len(files), 'calibration image')} but batch={args.batch}; "
                         "use a larger dataset or fraction, or a smaller batch")
    return files, dataset


def calibration_images(files: list, imgsz: tuple[int, int], batch: int, task: str = "detect") -> list[np.ndarray]:
    """(B, 3, H, W) float32 batches of ``files`` prepared as the task's inputs are (letterboxed; a classifier's
    centre crop); unreadable files skipped."""
    from ..io_utils import ImageReadError, read_image
    from ..processing import letterbox, to_nchw_float
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


def quantize_int8(ov_model, args):
    """NNCF INT8 (mixed preset: symmetric weights, asymmetric activations) with the decode kept in float."""
    import nncf

    files, dataset = calibration_files(args)
    batches = calibration_images(files, args.imgsz, args.batch, args.task)
    from ..tasks import task_named

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
        if args.max_drop is None:
            return nncf.quantize(ov_model, calibration, **common)
        return _quantize_with_accuracy_control(ov_model, calibration, args, dataset, common)


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


def _quantize_with_accuracy_control(ov_model, calibration, args, dataset, common):
    """Quantize, then revert the most harmful layers to float until the mAP drop is <= ``max_drop``."""
    import nncf

    from ..validation import map_of_compiled_model

    files = val_fraction(dataset, args.fraction)

    def validate(compiled_model, _items) -> float:
        return map_of_compiled_model(compiled_model, files, dataset, args.imgsz, args.batch)

    validation = nncf.Dataset([0])  # our validate() reads the images itself (it needs labels and letterbox info)
    return nncf.quantize_with_accuracy_control(
        ov_model, calibration, validation, validation_fn=validate, max_drop=float(args.max_drop),
        drop_type=nncf.DropType.ABSOLUTE, **common)
