"""Instance segmentation: detection plus 32 mask coefficients per box and the prototypes; ``Result.masks``."""

from __future__ import annotations

import numpy as np

from ..task import Task
from ..detect import boxes_field, rows_of
from ..detect import coco_detections as box_detections


def _prototype_count(meta, shapes: list[tuple]) -> int:
    """The mask coefficients per anchor: the prototypes' channel count (output1 is (B, 32, H/4, W/4))."""
    return int(shapes[1][1]) if len(shapes) > 1 and len(shapes[1]) == 4 else -1


def postprocess(outputs: list[np.ndarray], meta, settings, max_det: int) -> list[dict]:
    protos = outputs[1]
    rows = rows_of(outputs[0], meta, settings, max_det, extra=protos.shape[1])
    return [{"rows": r, "protos": p} for r, p in zip(rows, protos)]


def retina_source(protos_hw: tuple[int, int], input_hw: tuple[int, int], letterbox, orig_shape) -> tuple:
    """(y0, x0, h, w) in prototype pixels: the region that maps onto the original image (inside the letterbox's
    padding), from the letterbox itself, so any padding (square, minimal, validation's) maps exactly."""
    ry, rx = protos_hw[0] / input_hw[0], protos_hw[1] / input_hw[1]
    return (letterbox.pad_y * ry, letterbox.pad_x * rx, orig_shape[0] * letterbox.scale_y * ry,
            orig_shape[1] * letterbox.scale_x * rx)


def fields(prediction: dict, letterbox, orig_shape, input_hw, settings) -> dict:
    from .masks import Masks, mask_crops

    rows, protos = prediction["rows"], prediction["protos"]
    boxes = boxes_field(rows, letterbox, orig_shape)
    coefficients = rows[:, 6:]
    if settings.retina_masks:  # on the original image: the padding removed, upsampled, cut to the box
        source = retina_source(protos.shape[1:], input_hw, letterbox, orig_shape)
        crops, offsets = mask_crops(protos, coefficients, boxes.xyxy, orig_shape, source, cut_first=False)
        masks = Masks(crops, offsets, orig_shape, orig_shape)
    else:  # on the model input, as the reference: cut to the box in the prototypes' grid, then upsampled
        crops, offsets = mask_crops(protos, coefficients, rows[:, :4], tuple(input_hw))
        to_image = (letterbox.scale_x, letterbox.scale_y, letterbox.pad_x, letterbox.pad_y)
        masks = Masks(crops, offsets, tuple(input_hw), orig_shape, to_image)
    return {"boxes": boxes, "masks": masks}


def ground_truth(image, image_id: int, shape: tuple[int, int], dataset, issues) -> list[dict]:
    """COCO annotations of ``image``'s polygons: the polygon in pixels, its box and area."""
    import cv2

    from .labels import read_polygons

    h, w = shape
    annotations = []
    for cls, points in read_polygons(image, len(dataset.names), issues):
        pixels = points * np.array([w, h], np.float32)
        (x1, y1), (x2, y2) = pixels.min(0), pixels.max(0)
        annotations.append({"image_id": image_id, "category_id": cls, "iscrowd": 0,
                            "segmentation": [pixels.reshape(-1).astype(float).tolist()],
                            "area": float(cv2.contourArea(pixels)),
                            "bbox": [float(x1), float(y1), float(x2 - x1), float(y2 - y1)]})
    return annotations


def coco_detections(result, image_id: int) -> list[dict]:
    """Boxes and, for COCO's segm evaluation, each mask as RLE on the original image (validation asks for retina
    masks, whose canvas is the image)."""
    detections = box_detections(result, image_id)
    if tuple(result.masks.shape) != tuple(result.orig_shape):
        raise ValueError("COCO masks need retina_masks=True: these masks are on the model input")
    for detection, rle in zip(detections, result.masks.rle()):
        detection["segmentation"] = rle
    return detections


def part() -> type:
    """``result.masks``'s class (imported when asked: reading the registry stays light)."""
    from .masks import Masks

    return Masks


SEGMENT = Task("segment", "SegmentationModel", heads=("Segment", "Segment26"), outputs=("output0", "output1"),
               extra="mask coefficients", metric="M", postprocess=postprocess, fields=fields,
               extra_channels=_prototype_count, ground_truth=ground_truth, coco_detections=coco_detections,
               scores=(("B", "bbox"), ("M", "segm")), part=part, nms_in_graph="op")
