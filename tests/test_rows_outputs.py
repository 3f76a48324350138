"""Models whose output is final rows (B, max_det, 6): NMS in the graph, or YOLO26's NMS-free head and its top-k.

Their row count is ``max_det``, honoured where the rows are made (the top-k of a checkpoint, an export's NMS
or top-k) and refused in one line where an export cannot give more; and Intel's model-api gets a
``model_info`` only for outputs it can read. Tiny models (no ../shared needed).
"""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from yolo_openvino import YOLO
from yolo_openvino.errors import UsageError

IMAGE = np.random.default_rng(0).integers(0, 256, (256, 256, 3), dtype=np.uint8)


def test_max_det_is_the_top_k_of_a_nms_free_checkpoint(yolo26_checkpoint):
    """At 256 px YOLO26 has 1344 anchors: max_det=500 gives 500 rows (a fixed top-k of 300 gave 300)."""
    model = YOLO(yolo26_checkpoint)
    assert len(model(IMAGE, imgsz=256, nms=False, conf=0.0, max_det=500, verbose=False)[0]) == 500
    assert len(model(IMAGE, imgsz=256, nms=False, conf=0.0, verbose=False)[0]) == 300  # the default


@pytest.mark.parametrize("source,nms,made_by", [pytest.param("yolo26", False, "its NMS-free head's top-k",
                                                             marks=pytest.mark.slow),
                                                ("yolov8", True, "its NMS")])
def test_an_export_gives_the_rows_it_was_made_with_and_refuses_more(checkpoint, yolo26_checkpoint, tmp_path, source,
                                                                     nms, made_by):
    model = YOLO(checkpoint if source == "yolov8" else yolo26_checkpoint)
    ir = model.export(format="openvino", imgsz=64, nms=nms, max_det=40, conf=0.0,
                      output=str(tmp_path / "rows_openvino_model"))
    assert yaml.safe_load((tmp_path / "rows_openvino_model" / "metadata.yaml").read_text())["args"]["max_det"] == 40
    rows = YOLO(ir)
    assert rows.backend().metadata.max_det == 40
    assert len(rows(IMAGE, conf=0.0, max_det=10, verbose=False)[0]) <= 10
    xml = next((tmp_path / "rows_openvino_model").glob("*.xml"))
    import openvino as ov

    assert not ov.Core().read_model(xml).has_rt_info(["model_info"])  # rows are not a layout model-api reads
    with pytest.raises(UsageError, match=f"max_det=100: this openvino model gives at most 40 detections per image "
                                         f"\\({made_by}, fixed at export\\); re-export it with max_det=100"):
        rows(IMAGE, max_det=100, verbose=False)


@pytest.mark.parametrize("source", ["yolov8", pytest.param("yolo26", marks=pytest.mark.slow)])
@pytest.mark.slow
def test_model_api_info_for_raw_outputs(checkpoint, yolo26_checkpoint, tmp_path, source):
    """Raw (B, 4 + nc, A) outputs carry model-api's model_info (YOLO26's one-to-many head has that layout too);
    rows out of NMS or a top-k carry none (checked above: its YOLOv8 wrapper would misread them as anchors)."""
    import openvino as ov

    model = YOLO(checkpoint if source == "yolov8" else yolo26_checkpoint)
    ir = model.export(format="openvino", imgsz=64, output=str(tmp_path / "m_openvino_model"))
    xml = ov.Core().read_model(next((tmp_path / "m_openvino_model").glob("*.xml")))
    assert not YOLO(ir).backend().metadata.outputs_rows
    assert xml.get_rt_info(["model_info", "model_type"]).astype(str) == "YOLOv8"
