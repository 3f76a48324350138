"""What exported graphs may contain, whatever the task or head: no integer Floor / Divide / FloorMod / Mod (NPUs
refuse int64 Floor, GPUs compute it inexactly), static shapes unless asked. Tiny models, every task's head."""

from __future__ import annotations

from pathlib import Path

import pytest

from yolo_openvino import YOLO

INTEGER_ARITHMETIC = {"Floor", "FloorMod", "Divide", "Mod"}


def integer_arithmetic(ir) -> list[tuple[str, str]]:
    """(op type, element type) of every integer Floor / Divide / FloorMod / Mod in the IR at ``ir``."""
    import openvino as ov

    model = ov.Core().read_model(next(Path(ir).glob("*.xml")))
    found = []
    for op in model.get_ops():
        kind = op.get_type_name()
        element = op.get_output_element_type(0)
        if kind in INTEGER_ARITHMETIC and element.is_integral():
            found.append((kind, element.get_type_name()))
    return found


CASES = [  # (task, family, nms, dynamic): YOLO26's NMS-free top-k (nms=False) is where the division was
    ("detect", "yolo26", False, False),
    *[pytest.param(task, family, nms, dynamic, marks=pytest.mark.slow)
      for task in ("detect", "segment", "pose", "obb", "classify") for family in ("yolov8", "yolo26")
      for nms in ((None, False) if family == "yolo26" and task != "classify" else (None,))
      for dynamic in (False, True) if (task, family, nms, dynamic) != ("detect", "yolo26", False, False)],
]


@pytest.mark.parametrize("task,family,nms,dynamic", CASES)
def test_no_exported_graph_holds_integer_division(tmp_path, task, family, nms, dynamic):
    import ultralytics_fakes

    ckpt = tmp_path / "m.pt"
    ultralytics_fakes.save_checkpoint(ckpt, arch=ultralytics_fakes.tiny_arch(task=task, family=family))
    ir = YOLO(ckpt).export(format="openvino", imgsz=64, nms=nms, dynamic=dynamic, output=str(tmp_path / "m_openvino_model"))
    assert integer_arithmetic(ir) == []
