"""Instance segmentation end to end: architectures, raw parity with the reference's goldens (PyTorch and the FP32
IR at f32, YOLO26's two heads), predict parity with its masks, its own IR, validation against its figures, the
label reader, refusals, memory. Tiny models where parity does not need the shared fixtures."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch
import yaml

from conftest import DATASETS, GOLDEN, needs_shared, shared_model, write_image
from yolo_openvino import YOLO
from yolo_openvino.errors import UsageError

SEG_DATA = DATASETS / "shapes-seg.yaml"
SEG_IMAGES = DATASETS / "shapes-seg" / "images" / "val"
REFERENCE_IR = GOLDEN / "reference-ir" / "yolov8n-seg-shapes_openvino_model"
# (fixture, its size, the heads to check: None the one-to-many head, False YOLO26's NMS-free one)
GOLDEN_MODELS = [("yolov8n-seg-shapes", 256, (None,)), ("yolo26n-seg-init", 320, (None, False))]


def _golden_outputs(golden, one2one) -> list[np.ndarray]:
    prefix = "" if one2one is None and "output0" in golden else ("one2one_" if one2one is False else "one2many_")
    return [golden[f"{prefix}output{i}"] for i in range(2)]


def _assert_raw_close(ours: list[np.ndarray], theirs: list[np.ndarray], rows: bool, box_px: float, other: float):
    """Boxes within ``box_px`` pixels, scores, coefficients and prototypes within ``other``."""
    out0, ref0 = ours[0], theirs[0]
    assert out0.shape == ref0.shape and ours[1].shape == theirs[1].shape
    boxes = (slice(None), slice(None), slice(0, 4)) if rows else (slice(None), slice(0, 4))
    rest = (slice(None), slice(None), slice(4, None)) if rows else (slice(None), slice(4, None))
    np.testing.assert_allclose(out0[boxes], ref0[boxes], atol=box_px, rtol=0)
    np.testing.assert_allclose(out0[rest], ref0[rest], atol=other, rtol=0)
    np.testing.assert_allclose(ours[1], theirs[1], atol=other, rtol=0)


@needs_shared
@pytest.mark.parametrize("name,size,heads", GOLDEN_MODELS, ids=[m[0] for m in GOLDEN_MODELS])
def test_raw_outputs_match_the_reference(name, size, heads):
    from yolo_openvino.model.checkpoint import load_model

    golden = np.load(GOLDEN / f"{name}_raw.npz")
    model = load_model(shared_model(name))
    assert model.task == "segment" and golden["input"].shape[2:] == (size, size)
    assert np.abs(_golden_outputs(golden, heads[0])[1]).max() > 1e-3  # the prototypes are not trivially zero
    for head in heads:
        with torch.no_grad():
            ours = [o.numpy() for o in model(torch.from_numpy(golden["input"]), one2one=head is False)]
        _assert_raw_close(ours, _golden_outputs(golden, head), head is False, box_px=0.01, other=1e-4)


@needs_shared
@pytest.mark.parametrize("name,size,heads", [GOLDEN_MODELS[0], pytest.param(*GOLDEN_MODELS[1], marks=pytest.mark.slow)],
                         ids=[m[0] for m in GOLDEN_MODELS])  # YOLO26: two exports (14 s), in the slow set
@pytest.mark.slow
def test_fp32_ir_matches_the_reference_at_f32(exported, name, size, heads):
    """The untrained YOLO26 fixture scores every one-to-one row alike (1.56e-4: which 300 of 2100 x 80 pairs its
    top-k keeps is arbitrary, SOURCES.md), so that head's rows are compared by their scores, its prototypes
    exactly; PyTorch, running the same top-k, matches it row for row (above)."""
    from yolo_openvino.runtime.backends import load_backend

    golden = np.load(GOLDEN / f"{name}_raw.npz")
    for head in heads:
        ir = exported(name, imgsz=size, nms=head)
        backend = load_backend(ir, "openvino", preprocess="host", inference_precision="f32")
        assert backend.metadata.task == "segment" and backend.output_shapes()[1][1] == 32
        outputs = [np.concatenate(o) for o in zip(*(backend.infer(x[None]) for x in golden["input"]))]
        theirs = _golden_outputs(golden, head)
        if head is False:
            assert outputs[0].shape == theirs[0].shape == (2, 300, 38)
            np.testing.assert_allclose(np.sort(outputs[0][..., 4]), np.sort(theirs[0][..., 4]), atol=1e-4)
            np.testing.assert_allclose(outputs[1], theirs[1], atol=1e-4)
        else:
            _assert_raw_close(outputs, theirs, False, box_px=0.01, other=1e-4)


def _mask_ious(result, expected: dict, only_confident: bool = False) -> tuple[list[float], int]:
    """(IoU of each golden mask with our mask of the same detection, golden detections unmatched); matched
    greedily by box corners and class."""
    from faster_coco_eval.core import mask as mask_utils

    ious, unmatched, planes = [], 0, result.masks.at_image_size()
    for box, conf, cls, rle in zip(expected["xyxy"], expected["conf"], expected["cls"], expected["masks_rle"]):
        if only_confident and conf < 0.5:
            continue
        distance = np.abs(result.boxes.xyxy - np.asarray(box)).max(1) if len(result) else np.zeros(0)
        candidates = np.flatnonzero((result.boxes.class_id == cls) & (distance < 3))
        if not len(candidates):
            unmatched += 1
            continue
        theirs = mask_utils.decode(rle).astype(bool)
        ours = planes[candidates[np.argmin(distance[candidates])]]
        ious.append((theirs & ours).sum() / max((theirs | ours).sum(), 1))
    return ious, unmatched


@needs_shared
@pytest.mark.parametrize("fmt", ["pytorch", pytest.param("openvino_dynamic", marks=pytest.mark.slow)])
def test_predictions_and_masks_match_the_reference(exported, fmt):
    """One image per call, every default, full-size decoding: the same detections; retina masks against the
    reference's (measured: IoU 1.0 from the .pt)."""
    golden = json.loads((GOLDEN / "yolov8n-seg-shapes_predict.json").read_text())
    model = (YOLO(shared_model("yolov8n-seg-shapes")) if fmt == "pytorch" else
             YOLO(exported("yolov8n-seg-shapes", imgsz=256, dynamic=True), inference_precision="f32"))
    ious = []
    for name, expected in golden["images"].items():
        result = model(str(SEG_IMAGES / name), retina_masks=True, reduced_decode=False, verbose=False)[0]
        assert len(result) == len(expected["conf"]), name
        order = np.argsort(-result.boxes.conf)
        np.testing.assert_allclose(result.boxes.xyxy[order], expected["xyxy"], atol=0.01)
        np.testing.assert_allclose(result.boxes.conf[order], expected["conf"], atol=1e-4)
        image_ious, unmatched = _mask_ious(result, expected)
        assert unmatched == 0, name
        ious += image_ious
    assert np.mean(ious) >= 0.97 and min(ious) >= 0.9, (np.mean(ious), min(ious))


@needs_shared
def test_the_references_own_static_ir_runs_with_its_masks():
    """Made by the other tool (square letterbox): the same confident detections, masks of mean IoU >= 0.85
    (measured 0.998)."""
    golden = json.loads((GOLDEN / "yolov8n-seg-shapes_predict.json").read_text())
    model = YOLO(REFERENCE_IR, inference_precision="f32")
    assert model.task == "segment"
    ious = []
    for name, expected in golden["images"].items():
        result = model(str(SEG_IMAGES / name), retina_masks=True, verbose=False)[0]
        image_ious, unmatched = _mask_ious(result, expected, only_confident=True)
        assert unmatched == 0, name
        ious += image_ious
    assert len(ious) >= 5 and np.mean(ious) >= 0.85


@needs_shared
@pytest.mark.parametrize("fmt", ["pytorch", pytest.param("openvino", marks=pytest.mark.slow)])
@pytest.mark.slow
def test_val_box_and_mask_map_match_the_reference(exported, fmt):
    """PyTorch against the reference's .pt (rect validation), our FP32 IR against its FP32 IR (static, the CPU's
    default precision), within 0.005 for boxes and masks."""
    reference = json.loads((GOLDEN / "val_tasks.json").read_text())["yolov8n-seg-shapes"]
    if fmt == "pytorch":
        model, expected = YOLO(shared_model("yolov8n-seg-shapes")), reference["pytorch"]
    else:
        model, expected = YOLO(exported("yolov8n-seg-shapes", imgsz=256)), reference["openvino_fp32_cpu_default"]
    metrics = model.val(data=str(SEG_DATA), verbose=False)
    assert metrics.seg is not None and metrics.task == "segment"
    for key in ("metrics/mAP50-95(B)", "metrics/mAP50-95(M)", "metrics/mAP50(M)"):
        assert abs(metrics.results_dict[key] - expected[key]) <= 0.005, (key, metrics.results_dict[key], expected[key])
    assert metrics.seg.map == metrics.results_dict["metrics/mAP50-95(M)"]


@pytest.mark.parametrize("line,reason", [
    ("0 0.1 0.1 0.5 0.1 0.5", "5 coordinates, expected x y pairs"),
    ("0 0.1 0.1 0.5 0.1", "a box (class cx cy w h), not a polygon"),
    ("0 0.1 0.1 0.5 0.1 nan 0.5", "NaN or infinite"),
    ("0 0.1 0.1 0.5 0.1 1.5 0.5", "point outside the image"),
    ("0 0.1 0.1 0.5", "3 coordinates"),
    ("7 0.1 0.1 0.5 0.1 0.5 0.5", "class 7 outside the dataset's 2 classes"),
])
def test_bad_polygon_lines_are_counted_with_their_reason(tmp_path, line, reason):
    from yolo_openvino.tasks.label_files import LabelIssues
    from yolo_openvino.tasks.segment.labels import read_polygons

    label = tmp_path / "labels" / "a.txt"
    label.parent.mkdir(parents=True)
    label.write_text(f"1 0.2 0.2 0.6 0.2 0.4 0.7\n{line}\n")
    issues = LabelIssues()
    polygons = read_polygons(tmp_path / "images" / "a.jpg", nc=2, issues=issues)
    assert [cls for cls, _ in polygons] == [1] and polygons[0][1].shape == (3, 2)
    dropped = issues.corrupt + issues.out_of_range
    assert len(dropped) == 1 and dropped[0].endswith(f"a.txt:2: {reason}" if ":" not in reason else reason) or \
        reason in dropped[0], dropped


# -- tiny models: the pipeline, refusals, memory (no ../shared) ------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_seg_ir(seg_checkpoint, tmp_path_factory):
    out = tmp_path_factory.mktemp("segir") / "s_openvino_model"
    return YOLO(seg_checkpoint).export(format="openvino", imgsz=64, dynamic=True, output=str(out))


@pytest.mark.parametrize("retina", [False, True])
def test_masks_api_on_a_tiny_model(seg_checkpoint, tiny_seg_ir, tmp_path, retina):
    """Every box has its mask; data at the inference shape (or the image's), outlines in image pixels; the .pt and
    its IR agree; plot, txt, JSON and indexing carry the masks."""
    image = write_image(tmp_path / "a.jpg", h=48, w=64)
    pt = YOLO(seg_checkpoint)(str(image), imgsz=64, conf=0.0, max_det=5, retina_masks=retina, verbose=False)[0]
    ir = YOLO(tiny_seg_ir, inference_precision="f32")(str(image), conf=0.0, max_det=5, retina_masks=retina,
                                                      verbose=False)[0]
    for r in (pt, ir):
        assert len(r) == len(r.masks) == 5
        assert r.masks.data.shape == ((5, 48, 64) if retina else (5, 64, 64))  # 48x64 pads to 64x64 (stride 32)
        assert r.masks.at_image_size().shape == (5, 48, 64)
        assert all(p.shape[1] == 2 and (p >= 0).all() and (p[:, 0] <= 64).all() for p in r.masks.xy)
    np.testing.assert_allclose(pt.boxes.xyxy, ir.boxes.xyxy, atol=0.05)
    assert (pt.masks.data == ir.masks.data).mean() > 0.99
    first = pt[0]
    assert len(first.masks) == 1 and np.array_equal(first.masks.data[0], pt.masks.data[0])
    lines = pt.to_yolo_txt().splitlines()
    assert len(lines) == 5 and all(len(line.split()) % 2 == 1 and len(line.split()) >= 7 for line in lines if
                                   pt.masks.xy[lines.index(line)].size)
    assert "polygon" in pt.to_dict()["detections"][0] and pt.plot().shape == (48, 64, 3)


def test_masks_are_cut_to_their_boxes():
    """A mask never reaches beyond its box by more than the upsampling's one prototype pixel (4 input pixels),
    and on the original image (retina) never beyond the box at all."""
    from yolo_openvino.tasks.segment.masks import mask_crops

    rng = np.random.default_rng(0)
    protos, coefficients = rng.normal(size=(32, 16, 16)).astype(np.float32), rng.normal(size=(3, 32))
    boxes = np.array([[4, 8, 30, 40], [0, 0, 64, 64], [50, 50, 52, 53]], np.float32)
    for cut_first, margin in ((True, 4), (False, 0)):
        crops, offsets = mask_crops(protos, coefficients, boxes, (64, 64), cut_first=cut_first)
        for crop, (y, x), (x1, y1, x2, y2) in zip(crops, offsets, boxes):
            ys, xs = np.nonzero(crop)
            if len(ys):
                assert ys.min() + y >= y1 - margin and ys.max() + y < y2 + margin
                assert xs.min() + x >= x1 - margin and xs.max() + x < x2 + margin


def test_a_segmentation_ir_read_as_detection_is_refused(tiny_seg_ir, tmp_path):
    """Its 32 mask coefficients would be read as classes: the layout is checked against the metadata's task."""
    folder = tmp_path / "lying_openvino_model"
    shutil.copytree(tiny_seg_ir, folder)
    metadata = yaml.safe_load((folder / "metadata.yaml").read_text())
    (folder / "metadata.yaml").write_text(yaml.safe_dump({**metadata, "task": "detect"}))
    with pytest.raises(UsageError, match="2 outputs, but a detect model has 1"):
        YOLO(folder).backend()
    for task, said in (("depth", "a 'depth' model, which is not supported yet"), ("mystery", "unknown task 'mystery'")):
        (folder / "metadata.yaml").write_text(yaml.safe_dump({**metadata, "task": task}))
        with pytest.raises(NotImplementedError, match=f"{said} \\(supported: detect, segment, pose, obb, classify\\)"):
            YOLO(folder).backend()


def test_a_stream_keeps_flat_memory(tiny_seg_ir):
    """300 images through a segmentation model: the resident size after 300 is what it was after 50."""
    from yolo_openvino.utils.memory import PeakMemory

    image = np.random.default_rng(0).integers(0, 256, (480, 640, 3), dtype=np.uint8)
    model = YOLO(tiny_seg_ir)

    def run(n):
        for result in model([image] * n, stream=True, conf=0.0, max_det=30, verbose=False):
            assert len(result.masks) == len(result) > 10

    run(50)
    with PeakMemory() as memory:
        run(300)
    if memory.grown_mb is None:
        pytest.skip("no /proc on this system: the resident size is not measured")
    assert memory.grown_mb < 50, f"grew by {memory.grown_mb:.0f} MB over 300 images"


@needs_shared
def test_a_4k_image_with_100_instances_stays_small(tmp_path):
    """100 masks on the original 3840x2160 image (retina) are crops, not 100 planes (100 x 8.3 MB as bool, 3.3 GB
    as float): under 400 MB above the loaded model until someone reads .data."""
    import cv2

    from yolo_openvino.utils.memory import PeakMemory

    tiles = [cv2.resize(cv2.imread(str(p)), (480, 360)) for p in sorted(SEG_IMAGES.glob("*.jpg"))[:48]]
    mosaic = np.vstack([np.hstack(tiles[r * 8:(r + 1) * 8]) for r in range(6)])  # 3840x2160, ~150 shapes
    model = YOLO(shared_model("yolov8n-seg-shapes"))
    model(mosaic[:64, :64], verbose=False)  # loaded and warmed before measuring
    with PeakMemory() as memory:
        result = model(mosaic, imgsz=1280, conf=0.05, max_det=100, retina_masks=True, verbose=False)[0]
    assert len(result) == 100 and result.masks.shape == (2160, 3840)
    held = sum(c.nbytes for c in result.masks.crops) / 1e6
    assert held < 100 and (memory.grown_mb is None or memory.grown_mb < 400), (held, memory.grown_mb)


@needs_shared
@pytest.mark.slow
def test_int8_keeps_mask_map_and_its_float_parts(exported):
    """INT8 mask mAP50-95 within 0.02 of FP32 on the shapes val set (both at f32: the quantization's cost alone),
    and nothing after the head's last learned convolutions quantized: the box decode and the mask coefficients'
    concatenation stay float."""
    import openvino as ov

    from yolo_openvino.export.quantize import decode_node_names

    fp32 = exported("yolov8n-seg-shapes", imgsz=256)
    int8 = exported("yolov8n-seg-shapes", imgsz=256, int8=True, data=str(SEG_DATA))
    graph = ov.Core().read_model(next(int8.glob("*.xml")))
    kinds = {op.get_friendly_name(): op.get_type_name() for op in graph.get_ops()}
    decode = [kinds[name] for name in decode_node_names(graph)]
    assert "FakeQuantize" not in decode and "Softmax" in decode and "Concat" in decode
    maps = [YOLO(ir, inference_precision="f32").val(data=str(SEG_DATA), verbose=False).seg.map for ir in (fp32, int8)]
    assert maps[0] - maps[1] <= 0.02, maps


def _seg_dataset(root):
    """Two images with one triangle each, as polygon labels (a tiny segmentation set)."""
    import yaml as _yaml

    for stem in ("a", "b"):
        write_image(root / "images" / "val" / f"{stem}.jpg", h=64, w=64)
        label = root / "labels" / "val" / f"{stem}.txt"
        label.parent.mkdir(parents=True, exist_ok=True)
        label.write_text("0 0.2 0.2 0.8 0.2 0.5 0.8\n")
    (root / "seg.yaml").write_text(_yaml.safe_dump({"path": ".", "val": "images/val", "names": ["a", "b"]}))
    return root / "seg.yaml"


@pytest.mark.slow
def test_benchmark_table_and_report_score_masks(seg_checkpoint, tiny_seg_ir, tmp_path):
    """The format table's metric column is the task's own (mask mAP), and the latency/throughput report runs."""
    data = _seg_dataset(tmp_path / "data")
    table = YOLO(seg_checkpoint).benchmark(data=str(data), imgsz=64, format="pytorch,openvino",
                                           project=str(tmp_path), verbose=False)
    assert table.metric == "mAP50-95(M)" and "mAP50-95(M)" in table.table()
    assert [r.status for r in table.rows] == ["passed", "passed"]
    assert (tmp_path / "benchmark" / "benchmarks.csv").exists()
    report = YOLO(tiny_seg_ir).benchmark(seconds=0.05, repeats=1, sweep=False, startup=False,
                                         project=str(tmp_path), verbose=False)
    assert {m.kind for m in report.measurements} == {"inference", "end_to_end"}


def test_ray_rows_and_service_answers_carry_the_polygons(tiny_seg_ir, tmp_path):
    """What a Ray actor and a Serve replica run (workers.py, in a plain process): each box's outline."""
    import cv2

    from yolo_openvino.scale.workers import ModelWorker, model_files, row_columns

    detector = ModelWorker(model_files(tiny_seg_ir), {"inference_precision": "f32"}, {"conf": 0.0, "max_det": 4})
    image = cv2.imencode(".jpg", np.random.default_rng(0).integers(0, 256, (48, 64, 3), dtype=np.uint8))[1].tobytes()
    rows = detector.rows(["a.jpg", "bad.jpg"], [image, b"not an image"])
    assert list(rows) == list(row_columns())
    assert len(rows["polygons"][0]) == len(rows["boxes"][0]) == 4 and rows["polygons"][1] == []
    assert all(len(point) == 2 for polygon in rows["polygons"][0] for point in polygon)
    answer = detector.results(["a.jpg"], [image])[0].to_dict()
    assert len(answer["detections"]) == 4 and all("polygon" in d for d in answer["detections"])


def test_cli_segment_predict_saves_masks_and_polygons(seg_checkpoint, tmp_path, capsys):
    """`yolo-ov segment predict ... save=True save_txt=True`: runs/segment/predict, polygon lines, filled masks."""
    from yolo_openvino.cli.app import main

    image = write_image(tmp_path / "a.jpg", h=48, w=64)
    project = tmp_path / "runs" / "segment"
    assert main(["segment", "predict", f"model={seg_checkpoint}", f"source={image}", "imgsz=64", "conf=0.0",
                 "max_det=3", "save=True", "save_txt=True", "save_conf=True", f"project={project}"]) == 0
    assert "image 1/1" in capsys.readouterr().out
    lines = (project / "predict" / "labels" / "a.txt").read_text().splitlines()
    assert len(lines) == 3 and all(len(line.split()) % 2 == 0 for line in lines)  # class, x y pairs, conf
    assert (project / "predict" / "a.jpg").is_file()
    assert main(["detect", "predict", f"model={seg_checkpoint}", f"source={image}"]) == 2
    assert "a segment model, not detect" in capsys.readouterr().err
