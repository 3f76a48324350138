"""Our PyTorch model: architecture, checkpoint loading, parity with the reference's golden outputs."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from conftest import COCO128_IMAGES, GOLDEN, needs_shared, predict_as_listed, shared_model
from yolo_openvino.model.architectures import architecture_from_name
from yolo_openvino.model.network import YOLOModel
from yolo_openvino.runtime.processing import box_iou

MODELS = ["yolov8s-coco128", "yolov8n-init", "yolo11n-init"]

# Parameter counts the reference prints for each architecture (unfused, 80 classes).
PARAMS = {
    "yolov8n": 3_157_200, "yolov8s": 11_166_560, "yolov8m": 25_902_640, "yolov8l": 43_691_520, "yolov8x": 68_229_648,
    "yolo11n": 2_624_080, "yolo11s": 9_458_752, "yolo11m": 20_114_688, "yolo11l": 25_372_160, "yolo11x": 56_966_176,
}


@pytest.mark.parametrize("name", sorted(PARAMS))
def test_architecture_parameter_count(name):
    with torch.device("meta"):  # shapes only: yolov8x's 68 M parameters need no memory to be counted
        model = YOLOModel(architecture_from_name(f"{name}.yaml"))
    assert sum(p.numel() for p in model.parameters()) == PARAMS[name]
    assert model.stride.tolist() == [8.0, 16.0, 32.0]


TASK_SUFFIXES = {"-seg": "segment", "-pose": "pose", "-obb": "obb", "-cls": "classify"}


@pytest.mark.parametrize("suffix", sorted(TASK_SUFFIXES))
@pytest.mark.parametrize("family", ["yolov8", "yolo11", "yolo26"])
@pytest.mark.parametrize("scale", "nsmlx")
def test_every_task_architecture_has_the_reference_parameter_count(family, scale, suffix):
    """The task table's heads on every family and scale, against the reference's counts (architectures_tasks.json)."""
    if not (GOLDEN / "architectures_tasks.json").exists():
        pytest.skip("golden architecture counts not found (shared fixtures absent)")
    expected = json.loads((GOLDEN / "architectures_tasks.json").read_text())[f"{family}{scale}{suffix}"]
    with torch.device("meta"):
        model = YOLOModel(architecture_from_name(f"{family}{scale}{suffix}.yaml"))
    assert model.task == TASK_SUFFIXES[suffix] and sum(p.numel() for p in model.parameters()) == expected["params"]


@pytest.mark.parametrize("name,fused", [("yolov8n.yaml", True), ("yolo11n.yaml", True), ("yolo26n.yaml", False)])
def test_models_are_made_ready_for_inference_in_one_place(name, fused):
    """A name and a checkpoint go through the same for_inference(): fused, except YOLO26 (see its docstring)."""
    from yolo_openvino import YOLO

    model = YOLO(name).model
    assert model.is_fused is fused and not model.training and model.args == {}
    assert not any(p.requires_grad for p in model.parameters())


@pytest.mark.parametrize("name", ["yolov8n.yaml", "yolo11n.yaml"])
def test_untrained_forward_shape_and_fuse(name):
    model = YOLOModel(architecture_from_name(name)).eval()
    x = torch.rand(2, 3, 256, 320)
    with torch.no_grad():
        before = model(x)
        after = model.fuse()(x)
    assert before.shape == (2, 84, (32 * 40 + 16 * 20 + 8 * 10))
    assert model.is_fused
    torch.testing.assert_close(after, before, atol=1e-3, rtol=1e-4)


def test_older_multiple_form_builds_the_same_network():
    """Checkpoints of older releases store depth_multiple/width_multiple instead of scales."""
    arch = architecture_from_name("yolov8n.yaml")
    depth, width, _ = arch.pop("scales")["n"]
    arch.pop("scale")
    arch.update(depth_multiple=depth, width_multiple=width)
    assert sum(p.numel() for p in YOLOModel(arch).parameters()) == PARAMS["yolov8n"]


def test_unknown_architecture_name():
    with pytest.raises(ValueError, match="Known architectures"):
        architecture_from_name("yolov9q.yaml")


@pytest.mark.parametrize("name,family,depthwise", [("yolov8n.yaml", "yolov8", False), ("yolo11n.yaml", "yolo11", True),
                                                   ("yolo26n.yaml", "yolo26", True)])
def test_family_and_head_style_are_named_apart(name, family, depthwise):
    """The family (written to metadata) and the head's classification branch are two questions: YOLO26 is not
    a YOLO11, though both have the depth-wise branch."""
    from yolo_openvino.model.architectures import depthwise_class_branch, family as family_of

    arch = architecture_from_name(name)
    assert family_of(arch) == family and depthwise_class_branch(arch) is depthwise


@needs_shared
@pytest.mark.parametrize("name", MODELS)
def test_golden_raw_output(name):
    """Fused model on the golden input. Scores to 1e-3 absolute; boxes are pixels up to 640, where float32
    rounding through ~70 layers alone differs by up to ~3e-3 (the golden file itself differs from a float64
    run of the same weights by 2e-3), so boxes get 1e-3 + 1e-5 relative."""
    from yolo_openvino.model.checkpoint import load_model

    golden = np.load(GOLDEN / f"{name}_raw.npz")
    model = load_model(shared_model(name))
    with torch.no_grad():
        out = model(torch.from_numpy(golden["input"])).numpy()
    assert out.shape == golden["output"].shape
    np.testing.assert_allclose(out[:, 4:], golden["output"][:, 4:], atol=1e-3, rtol=0)
    np.testing.assert_allclose(out[:, :4], golden["output"][:, :4], atol=1e-3, rtol=1e-5)


@needs_shared
@pytest.mark.parametrize("name", [pytest.param("yolov8s-coco128", marks=pytest.mark.slow), "yolov8n-init",
                                  "yolo11n-init"])
def test_golden_predictions(name):
    from yolo_openvino import YOLO

    golden = json.loads((GOLDEN / f"{name}_predict.json").read_text())
    files = [str(COCO128_IMAGES / f) for f in golden["images"]]
    results = predict_as_listed(YOLO(shared_model(name)), files, conf=golden["conf"], iou=golden["iou"],
                                imgsz=golden["imgsz"])
    assert len(results) == len(files)
    for result, (file, expected) in zip(results, golden["images"].items()):
        assert list(result.orig_shape) == expected["orig_shape"], file
        assert len(result) == len(expected["conf"]), file
        if not len(result):
            continue
        iou = box_iou(np.asarray(expected["xyxy"]), result.boxes.xyxy)
        match = iou.argmax(1)
        assert iou.max(1).min() >= 0.99, file
        np.testing.assert_array_equal(result.boxes.class_id[match], expected["cls"])
        np.testing.assert_allclose(result.boxes.confidence[match], expected["conf"], atol=0.01)


@needs_shared
def test_yolo_model_is_eval_module_returning_raw_head():
    from yolo_openvino import YOLO

    model = YOLO(shared_model("yolov8n-init")).model
    assert isinstance(model, torch.nn.Module) and not model.training
    out = model(torch.zeros(1, 3, 320, 320))
    assert out.shape == (1, 84, 2100)


# -- the reference's model methods -----------------------------------------------------------------------------------
# What the reference prints for these fused networks (``YOLO("yolov8n.pt").info()``): parameters and GFLOPs at 640.
SUMMARY = {"yolov8n.yaml": (3_151_904, 8.7), "yolo11n.yaml": (2_616_248, 6.5), "yolov8s.yaml": (11_156_544, 28.6)}


@pytest.mark.parametrize("name", sorted(SUMMARY))
def test_info_prints_and_returns_the_references_summary(name, capsys):
    from yolo_openvino import YOLO

    layers, parameters, gradients, gflops = YOLO(name).info()
    assert (parameters, round(gflops, 1)) == SUMMARY[name] and gradients == 0 and layers > 100
    assert f"{parameters:,} parameters, 0 gradients, {gflops:.1f} GFLOPs" in capsys.readouterr().out
    assert len(YOLO(name).info(detailed=True, verbose=False)) == 4


def test_model_methods_of_a_pt_and_their_one_line_refusals_on_an_export(tiny_ir, checkpoint):
    import numpy as np

    from yolo_openvino import YOLO
    from yolo_openvino.errors import UsageError

    model = YOLO(checkpoint)
    before = [p.clone() for p in model.model.parameters()]
    assert model.device == "cpu" and model.to("cpu") is model and model.fuse() is model
    model.reset_weights()
    assert any(not torch.equal(a, b) for a, b in zip(before, model.model.parameters()))
    model.load(checkpoint)  # every tensor back from the checkpoint
    assert all(torch.equal(a, b) for a, b in zip(before, model.model.parameters()))
    assert len(model(np.zeros((32, 32, 3), np.uint8), imgsz=64, verbose=False)) == 1
    with pytest.raises(UsageError, match="export it"):
        model.to("cuda:0")
    exported = YOLO(tiny_ir)
    for method in ("fuse", "reset_weights"):
        with pytest.raises(UsageError, match=f"{method}\\(\\) works on a .pt's network"):
            getattr(exported, method)()
    with pytest.warns(FutureWarning, match="runtime_info"):
        assert exported.info()["device"] == exported.runtime_info()["device"]


@pytest.mark.parametrize("task, shape", [("detect", (3, 192, 320)), ("classify", (3, 320, 320))])  # trained at 320
def test_transforms_give_the_input_predict_feeds_the_model(tmp_path, task, shape):
    """model.transforms: the letterbox (or a classifier's resize and centre crop) predict applies, for a .pt and its
    export alike: its output run through the network gives predict's own raw output."""
    import numpy as np

    import ultralytics_fakes
    from yolo_openvino import YOLO

    path = tmp_path / f"{task}.pt"
    ultralytics_fakes.save_checkpoint(path, arch=ultralytics_fakes.tiny_arch(task=task))
    image = np.random.default_rng(0).integers(0, 256, (48, 80, 3), dtype=np.uint8)
    model = YOLO(path)
    x = model.transforms(image)
    assert x.shape == shape and x.dtype == np.float32 and 0 <= x.min() and x.max() <= 1
    assert "centre crop" in repr(model.transforms) if task == "classify" else "letterbox" in repr(model.transforms)
    ir = YOLO(model.export(format="openvino", imgsz=64, output=str(tmp_path / "ir")))
    assert ir.transforms(image).shape == (3, 64, 64)  # a static export: its square input
    if task == "classify":
        with torch.no_grad():
            probs = model.model(torch.from_numpy(x[None]))[0].numpy()
        np.testing.assert_allclose(probs, model(image, verbose=False)[0].probs.data, atol=1e-6)


def test_task_map_names_each_tasks_model_and_jobs(checkpoint):
    from yolo_openvino import YOLO
    from yolo_openvino.tasks import tasks

    task_map = YOLO(checkpoint).task_map
    assert list(task_map) == list(tasks()) and task_map["segment"]["model"] == "SegmentationModel"
    assert all(callable(entry["predictor"]) and callable(entry["validator"]) for entry in task_map.values())
