"""OpenVINO IR export: FP32, FP16 (compressed weights), INT8 (NNCF), dynamic shapes, in-graph NMS."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from ..runtime.metadata import metadata_text
from ..tasks import task_named
from ..utils.telemetry import unasked_telemetry_off
from ..utils.torch_tracing import tracing

LOGGER = logging.getLogger("yolo_openvino")


def export_openvino(module, example, target: Path, metadata: dict, args) -> Path:
    """Write ``target/`` with ``<stem>.xml``, ``<stem>.bin`` and ``metadata.yaml``."""
    import openvino as ov

    stem = metadata["source"].rsplit(".", 1)[0]
    batch, _, height, width = example.shape
    if args.dynamic:
        # In-model NMS is built per image, so its batch stays static; spatial dims are free either way.
        shape = ov.PartialShape([batch if args.nms_in_graph else -1, 3, -1, -1])
    else:
        shape = ov.PartialShape([batch, 3, height, width])
    with unasked_telemetry_off():  # NNCF decides at import, OVC per conversion: both inside
        with tracing():  # convert_model traces the module with torch.jit (utils/torch_tracing.py)
            ov_model = ov.convert_model(module, example_input=example, input=[shape])
        # NMS first: the INT8 check scores the graph it ships, whose rows the metadata describes
        if args.nms_in_graph and task_named(metadata["task"]).nms_in_graph == "op":  # else traced (wrapper.py)
            ov_model = append_nms(ov_model, batch, args)
        if args.int8:
            from .quantize import quantize_int8

            ov_model = quantize_int8(ov_model, args, metadata)  # records its measured drop in metadata
    for i, output in enumerate(ov_model.outputs):  # output0, output1: the reference's names
        output.get_tensor().set_names({f"output{i}"})
    ov_model.inputs[0].get_tensor().set_names({"images"})
    if task_named(metadata["task"]).model_api and not (args.nms_in_graph or args.one2one):
        _set_model_info(ov_model, metadata)
    target.mkdir(parents=True)
    ov.save_model(ov_model, target / f"{stem}.xml", compress_to_fp16=bool(args.half))
    (target / "metadata.yaml").write_text(metadata_text(metadata), encoding="utf-8")
    return target


def _set_model_info(ov_model, metadata: dict) -> None:
    """rt_info ``model_info`` that Intel's openvino-model-api reads to pre/post-process the model itself.

    Only for a task whose raw output it reads (detection's (B, 4 + nc, A), which its YOLOv8 / YOLO11 wrappers
    decode; YOLO26's one-to-many head has that layout too). Rows out of in-graph NMS or the NMS-free head are not a layout model-api
    knows: such an IR gets no ``model_info`` at all, rather than a ``model_type`` that would misread it.
    """
    labels = " ".join(name.replace(" ", "_") for _, name in sorted(metadata["names"].items()))
    args = metadata["args"]
    info = {
        "model_type": "YOLO11" if metadata["family"] == "yolo11" else "YOLOv8",
        "labels": labels,
        "pad_value": "114",
        "resize_type": "fit_to_window_letterbox",
        "reverse_input_channels": "YES",
        "scale_values": "255",
        "confidence_threshold": str(args["conf"]),
        "iou_threshold": str(args["iou"]),
    }
    for key, value in info.items():
        ov_model.set_rt_info(value, ["model_info", key])


def append_nms(ov_model, batch: int, args):
    """Replace the (boxes, scores, best class, extra) outputs by NMS rows (B, max_det, 6 + E): x1 y1 x2 y2 score
    class and the anchor's E extra channels (mask coefficients, keypoints); the head's further outputs (segment's
    prototypes) follow unchanged.

    Per image: OpenVINO NonMaxSuppression (class-aware through the masked scores), the best ``max_det``
    selections by score (TopK), the extra channels gathered by the selected box indices (the op gives indices
    only), padded with zero rows to a fixed ``max_det``.
    """
    import openvino as ov
    import openvino.opset13 as ops

    boxes, scores, best_class, extra, *more = (result.input_value(0) for result in ov_model.get_results())
    width = 6 + extra.get_partial_shape()[2].get_length()

    def const(value, dtype):
        return ops.constant(np.array(value, dtype=dtype))

    def first(node):  # (1, ...) -> (...)
        return ops.squeeze(node, const(0, np.int64))

    rows_per_image = []
    for b in range(batch):
        index = const([b], np.int64)
        image_boxes = ops.gather(boxes, index, const(0, np.int64))  # (1, A, 4)
        image_scores = ops.gather(scores, index, const(0, np.int64))  # (1, C, A)
        image_class = ops.gather(best_class, const(b, np.int64), const(0, np.int64))  # (A,)
        nms = ops.non_max_suppression(image_boxes, image_scores, const(args.max_det, np.int64),
                                      const(args.iou, np.float32), const(args.conf, np.float32),
                                      box_encoding="corner", sort_result_descending=False, output_type="i64")
        box_index = ops.gather(nms.output(0), const(2, np.int64), const(1, np.int64))  # (M,)
        box_score = ops.gather(nms.output(1), const(2, np.int64), const(1, np.int64))  # (M,)
        count = ops.minimum(ops.shape_of(box_score, "i64"), const([args.max_det], np.int64))
        top = ops.topk(box_score, first(count), 0, "max", "value", "i64")
        chosen = ops.gather(box_index, top.output(1), const(0, np.int64))  # (K,)
        rows = ops.concat([
            ops.gather(first(image_boxes), chosen, const(0, np.int64)),  # (K, 4)
            ops.unsqueeze(top.output(0), const(1, np.int64)),
            ops.unsqueeze(ops.gather(image_class, chosen, const(0, np.int64)), const(1, np.int64)),
            ops.gather(ops.gather(extra, const(b, np.int64), const(0, np.int64)), chosen, const(0, np.int64)),  # (K, E)
        ], 1)
        padded = ops.concat([rows, const(np.zeros((args.max_det, width)), np.float32)], 0)
        fixed = ops.slice(padded, const([0], np.int64), const([args.max_det], np.int64), const([1], np.int64))
        rows_per_image.append(ops.unsqueeze(fixed, const(0, np.int64)))
    output = rows_per_image[0] if batch == 1 else ops.concat(rows_per_image, 0)
    return ov.Model([output.output(0), *more], ov_model.get_parameters(), "yolo_nms")
