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


CASES = [  # (task, family, nms, dynamic): YOLO26's NMS-free top-k (nms=False) is where the division was; 5 s each
    pytest.param(task, family, nms, dynamic, marks=pytest.mark.slow)
    for task in ("detect", "segment", "pose", "obb", "classify") for family in ("yolov8", "yolo26")
    for nms in ((None, False, True) if family == "yolo26" and task != "classify" else (None, True) if task != "classify"
                else (None,)) for dynamic in (False, True)
]


@pytest.mark.parametrize("task,family,nms,dynamic", CASES)
def test_no_exported_graph_holds_integer_division(tmp_path, task, family, nms, dynamic):
    import ultralytics_fakes

    ckpt = tmp_path / "m.pt"
    ultralytics_fakes.save_checkpoint(ckpt, arch=ultralytics_fakes.tiny_arch(task=task, family=family))
    ir = YOLO(ckpt).export(format="openvino", imgsz=64, nms=nms, dynamic=dynamic, output=str(tmp_path / "m_openvino_model"))
    assert integer_arithmetic(ir) == []


# What INT8 keeps in float, per task, on top of the network it quantizes: the ops of each task's own decode.
FLOAT_PARTS = {"detect": {"Softmax", "Sigmoid"},  # DFL's softmax, the class sigmoid
               "segment": {"Softmax", "Sigmoid", "Concat"},  # and the mask coefficients joined to the rows
               "pose": {"Softmax", "Sigmoid", "Multiply"},  # and the keypoint decode (x = (2t + cell) x stride)
               "obb": {"Softmax", "Sigmoid", "Cos", "Sin"},  # and the angle turning the box
               "classify": {"Softmax", "MatMul"}}  # the final Linear and softmax


@pytest.mark.slow  # NNCF on each tiny model: about 10 s a task
@pytest.mark.parametrize("task", sorted(FLOAT_PARTS))
def test_int8_keeps_each_tasks_decode_in_float(tmp_path, task):
    """The recipe per task, on the IR's graph: the network is quantized (FakeQuantize), the task's decode is not."""
    import openvino as ov

    import ultralytics_fakes
    from conftest import write_image
    from yolo_openvino.export.quantize import decode_node_names

    ckpt = tmp_path / "m.pt"
    ultralytics_fakes.save_checkpoint(ckpt, arch=ultralytics_fakes.tiny_arch(task=task))
    if task == "classify":
        for name in ("c0", "c1"):
            for i in range(2):
                write_image(tmp_path / "data" / "val" / name / f"{i}.jpg")
        data = tmp_path / "data"
    else:
        from conftest import write_dataset

        data = write_dataset(tmp_path / "data", {f"im{i}": "" for i in range(4)})
    ir = YOLO(ckpt).export(format="openvino", int8=True, data=str(data), imgsz=64, int8_check=False,
                           output=str(tmp_path / "q_openvino_model"))
    model = ov.Core().read_model(next(Path(ir).glob("*.xml")))
    kinds = {op.get_friendly_name(): op.get_type_name() for op in model.get_ops()}
    decode = {kinds[name] for name in decode_node_names(model)}
    assert sum(kind == "FakeQuantize" for kind in kinds.values()) > 20
    assert "FakeQuantize" not in decode and FLOAT_PARTS[task] <= decode, FLOAT_PARTS[task] - decode
