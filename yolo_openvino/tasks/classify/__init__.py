"""Image classification: class probabilities for the whole image; ``Result.probs``.

The outlier of the table: no letterbox (the shorter side is resized to the input size, then the centre is cut
out, as the reference's inference transform), no boxes, no NMS, and ImageFolder datasets scored by top-1 / top-5
accuracy (evaluation/validation.py).
"""

from __future__ import annotations

import numpy as np

from ...errors import UsageError
from ..task import Task


def resized_size(shape: tuple[int, int], size: int) -> tuple[int, int]:
    """(h, w) with the shorter side ``size`` and the longer one scaled and truncated, as torchvision's Resize(int)."""
    h, w = shape
    if h <= w:
        return size, int(size * w / h)
    return int(size * h / w), size


def centre_crop(image: np.ndarray, target: tuple[int, int], pad=None, stride=None, full_shape=None):
    """(h, w, 3) uint8 -> ((th, tw, 3) uint8, Letterbox): the shorter side resized to the target's (Pillow's
    antialiased bilinear, as the reference's torchvision Resize on a PIL image, so probabilities match its own),
    then the centre cut out (torchvision's rounding). ``pad``, ``stride``, ``full_shape``: the letterbox's
    arguments, unused. The Letterbox maps input pixels back onto the image (a negative pad: the crop's offset)."""
    from PIL import Image

    from ...runtime.processing import Letterbox

    th, tw = target
    h, w = image.shape[:2]
    if th == tw:
        nh, nw = resized_size((h, w), th)
    else:  # a non-square input: scale so that both sides cover it
        scale = max(th / h, tw / w)
        nh, nw = max(th, round(h * scale)), max(tw, round(w * scale))
    resized = np.asarray(Image.fromarray(np.ascontiguousarray(image)).resize((nw, nh), Image.BILINEAR))
    top, left = int(round((nh - th) / 2.0)), int(round((nw - tw) / 2.0))
    crop = np.ascontiguousarray(resized[top:top + th, left:left + tw])
    return crop, Letterbox(nw / w, nh / h, -left, -top)


def postprocess(outputs: list[np.ndarray], meta, settings, max_det: int) -> list[dict]:
    return [{"probs": row} for row in outputs[0]]


def fields(prediction: dict, letterbox, orig_shape, input_hw, settings) -> dict:
    from .probs import Probs
    from ...results.boxes import Detections

    empty = Detections(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int64), orig_shape)
    return {"boxes": empty, "probs": Probs(prediction["probs"])}


def check_outputs(meta, shapes: list[tuple], where: str) -> None:
    """One output of (B, nc) probabilities."""
    nc = len(meta.names)
    if len(shapes) != 1 or len(shapes[0]) != 2 or shapes[0][1] not in (nc, -1):
        raise UsageError(f"{where}: outputs {[tuple(s) for s in shapes]}, but a classifier with {nc} classes gives "
                         f"one (B, {nc}) output; the metadata's task or names do not match the model")


def part() -> type:
    """``result.probs``'s class (imported when asked: reading the registry stays light)."""
    from .probs import Probs

    return Probs


CLASSIFY = Task("classify", "ClassificationModel", heads=("Classify",), outputs=("output0",), extra="", metric="top1",
                postprocess=postprocess, fields=fields, prepare=centre_crop, layout_check=check_outputs,
                metric_label="acc_top1", dataset_kind="image_folder", batchnorm_eps=1e-5,
                # the head and the block before it in float under INT8: on yolo11n-cls-shapes, whose classes score
                # within 0.08 of each other on half the images, top-1 0.3667 against FP32's 0.3833 (the walk
                # alone, keeping the Linear and softmax: 0.3333, as the reference's own INT8)
                int8_float_tail=2, trackable=False, part=part)
