"""Shared fixtures. Tests that need ../shared (models, datasets, golden outputs) skip when it is absent."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("YOLO_OPENVINO_SHARED", ROOT.parent / "shared"))
MODELS = SHARED / "models"
GOLDEN = SHARED / "golden"
DATASETS = SHARED / "datasets"
COCO8 = DATASETS / "coco8.yaml"
COCO128 = DATASETS / "coco128.yaml"
COCO128_IMAGES = DATASETS / "coco128" / "images" / "train2017"

needs_shared = pytest.mark.skipif(not (MODELS.exists() and GOLDEN.exists()),
                                  reason=f"fixtures not found at {SHARED} (set YOLO_OPENVINO_SHARED)")


def write_image(path: Path, h: int = 48, w: int = 64) -> Path:
    """A random (h, w) JPEG or PNG (by suffix) at ``path``, its folders made."""
    import cv2
    import numpy as np

    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.random.default_rng(0).integers(0, 255, (h, w, 3), dtype=np.uint8))
    return path


def write_dataset(root: Path, labels: dict, split: str = "val") -> Path:
    """A YOLO dataset of two classes under ``root``: one image per ``labels`` entry (stem -> label text, or None
    for a label file that is not UTF-8) in ``split``; returns its yaml."""
    import yaml

    for stem, text in labels.items():
        write_image(root / "images" / split / f"{stem}.jpg")
        label = root / "labels" / split / f"{stem}.txt"
        label.parent.mkdir(parents=True, exist_ok=True)
        label.write_bytes(b"0 0.5 0.5 0.2 \xff\xfe\n" if text is None else text.encode())
    (root / "ds.yaml").write_text(yaml.safe_dump({"path": ".", split: f"images/{split}", "names": ["a", "b"]}))
    return root / "ds.yaml"


def predict_as_listed(model, files: list, nms=None, **settings) -> list:
    """Predictions as the reference made the detection goldens (yolov8s-coco128, yolo26n-coco128, the -init ones):
    from a list of images of mixed shapes, which it letterboxes square. One image per call it pads a ``.pt``'s
    input minimally (the task goldens), as we do by default."""
    from yolo_openvino.predictor import PredictSettings, Predictor

    backend = model._head(model.backend(), nms, settings.get("max_det"))
    return list(Predictor(backend, PredictSettings(pad="square", **settings)).stream([str(f) for f in files]))


def shared_model(name: str) -> Path:
    path = MODELS / f"{name}.pt"
    if not path.exists():
        pytest.skip(f"{path} not found (shared fixtures absent)")
    return path


# Variables our code reads. A user who followed the README may have exported any of them (YOLO_OFFLINE=1 made
# the download test fail), so every test starts without them and sets what it relies on itself.
# (YOLO_OPENVINO_SHARED is the tests' own, read above.)
OUR_ENVIRONMENT = ("YOLO_OFFLINE", "YOLO_OPENVINO_HOME", "YOLO_OPENVINO_ASSETS_URL", "YOLO_OV_DEBUG", "YOLO_OV_API_KEY")


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch, tmp_path_factory):
    for name in OUR_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    # Downloads and datasets fetched by name go to a cache of the session's own, never the user's home.
    monkeypatch.setenv("YOLO_OPENVINO_HOME", str(tmp_path_factory.getbasetemp() / "yolo_openvino_home"))


@pytest.fixture(autouse=True)
def _quiet_logs(caplog):
    caplog.set_level(logging.INFO, logger="yolo_openvino")


@pytest.fixture(scope="session")
def checkpoint(tmp_path_factory) -> Path:
    """An untrained checkpoint in the official layout, small enough to export in a second (no ../shared)."""
    import ultralytics_fakes

    path = tmp_path_factory.mktemp("ckpt") / "tiny.pt"
    ultralytics_fakes.save_checkpoint(path)
    return path


@pytest.fixture(scope="session")
def yolo26_checkpoint(tmp_path_factory) -> Path:
    """An untrained YOLO26 detector (dual head, reg_max 1) in the official layout, tiny: the family's graph."""
    import ultralytics_fakes

    path = tmp_path_factory.mktemp("y26") / "tiny26.pt"
    ultralytics_fakes.save_checkpoint(path, arch=ultralytics_fakes.tiny_arch(family="yolo26"))
    return path


@pytest.fixture(scope="session")
def seg_checkpoint(tmp_path_factory) -> Path:
    """An untrained segmentation checkpoint in the official layout (SegmentationModel, a Segment head), tiny."""
    import ultralytics_fakes

    path = tmp_path_factory.mktemp("seg") / "tiny-seg.pt"
    ultralytics_fakes.save_checkpoint(path, arch=ultralytics_fakes.tiny_arch(task="segment"))
    return path


@pytest.fixture(scope="session")
def tiny_ir(checkpoint) -> str:
    """``checkpoint`` exported to OpenVINO at 64 px."""
    from yolo_openvino import YOLO

    return YOLO(checkpoint).export(format="openvino", imgsz=64, output=str(checkpoint.parent / "tiny_openvino_model"))


@pytest.fixture(scope="session")
def export_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("exports")


_EXPORTS: dict = {}


@pytest.fixture(scope="session")
def exported(export_dir):
    """exported(model_name, **export_args) -> path; each distinct export is done once per session.

    imgsz defaults to 640, the size of the golden outputs (a .pt's own default is its training size)."""

    def make(name: str, **kwargs) -> Path:
        from yolo_openvino import YOLO

        kwargs = ir_changing(kwargs)
        key = (name, tuple(sorted((k, repr(v)) for k, v in kwargs.items())))
        if key not in _EXPORTS:
            from yolo_openvino.exporters import default_output

            tag = "_".join(f"{k}{v}" for k, v in sorted(kwargs.items()) if k not in ("format", "data"))
            output = default_output(export_dir / tag / f"{name}.pt", kwargs.get("format", "openvino"))
            _EXPORTS[key] = Path(YOLO(shared_model(name)).export(output=str(output), **kwargs))
        return _EXPORTS[key]

    return make


def ir_changing(kwargs: dict) -> dict:
    """The export arguments that change what is written (imgsz 640 unless given): defaults dropped, and the
    INT8 dataset without int8, the baked-in thresholds without in-graph NMS, max_det without a rows output."""
    from yolo_openvino.options import defaults

    kwargs = {"imgsz": 640, **kwargs}
    unused = set()
    if not kwargs.get("int8"):
        unused |= {"data", "fraction", "subset_size", "max_drop", "int8_check", "val_images"}
    if kwargs.get("nms") is not True:
        unused |= {"conf", "iou", "agnostic_nms"}
    if kwargs.get("nms") is None:
        unused.add("max_det")
    default = defaults("export")
    return {k: v for k, v in kwargs.items() if k not in unused and (k == "imgsz" or v != default.get(k))}


# The fast set (`pytest -q`) must stay under 6 minutes on an AVX2-only CPU, where OpenVINO runs f32 and every 640 px
# export and COCO128 pass costs about twice what it does with AVX512_BF16 (9:53 measured there before this list; 5:41 to 6:15 between runs with most of it).
# These cases go to the slow set (`-m slow`, which CI also runs): the 640 px parity rows of the bigger models, the
# exports made only for them, and runs whose fast twin stays (a tiny-model or yolo11n case of the same check).
HEAVY_CASES = (
    "test_export.py::test_parity_matrix[yolov8s-coco128-",
    "test_export.py::test_parity_matrix[yolo11n-init-torchscript",
    "test_export.py::test_openvino_in_graph_preprocessing_matches[yolov8s-coco128]",
    "test_export.py::test_nms_in_model_matches_host_nms",
    "test_export.py::test_export_is_atomic",
    "test_export.py::test_dynamic_export_runs_at_several_shapes",
    "test_export.py::test_openvino_model_api_interop",
    "test_export.py::test_dynamic_model_letterboxes_minimally",
    "test_export.py::test_default_output_names",
    "test_yolo26.py::test_predictions_match_the_reference[openvino",
    "test_yolo26.py::test_dynamic_nms_free_export_runs_below_max_det_anchors",
    "test_yolo26.py::test_val_matches_the_reference_and_runs_the_head_asked",
    "test_rows_outputs.py::test_an_export_gives_the_rows_it_was_made_with_and_refuses_more[yolo26",
    "test_segment.py::test_benchmark_table_and_report_score_masks",
    "test_segment.py::test_val_box_and_mask_map_match_the_reference",
    "test_segment.py::test_predictions_and_masks_match_the_reference[openvino_dynamic]",
    "test_runtime.py::test_batched_model_pads_the_last_partial_batch",
    "test_runtime.py::test_async_results_in_input_order_and_equal_to_sync[1]",
    "test_export_safety.py::test_interrupted_export_keeps_the_previous_one[2-",
    "test_benchmark.py::test_cli_report",
    "test_pose_and_obb.py::test_fp32_ir_matches_the_reference_at_f32",
    "test_pose_and_obb.py::test_a_static_ir_with_the_references_metadata_runs",
    "test_pose_and_obb.py::test_val_map_matches_the_reference",
    "test_int8_check.py::test_the_int8_check_says_records_and_escalates[None-",
    "test_model.py::test_golden_predictions[yolov8s-coco128]",
    "test_int8_check.py::test_the_int8_check_says_records_and_escalates[0.02-",
    "test_int8_check.py::test_int8_check_false_skips_the_gate",
    "test_segment.py::test_fp32_ir_matches_the_reference_at_f32",
    "test_export_safety.py::test_export_replaces_an_earlier_export_of_the_same_kind",
    "test_static_shapes.py::test_a_dynamic_int8_ir_on_an_amx_cpu_runs_static_at_its_export_size",
    "agrees_with_pytorch_on_a_tiny_model[pose-torchscript]",
    "agrees_with_pytorch_on_a_tiny_model[obb-torchscript]",
    "test_rows_outputs.py::test_model_api_info_for_raw_outputs",
    "test_benchmark.py::test_failed_export_and_failed_run_are_rows_and_the_run_goes_on",
    "test_runtime.py::test_async_results_in_input_order_and_equal_to_sync[8]",
    "test_tracking.py::test_pose_and_oriented_models_track_with_their_parts[pose]",
    "test_yolo26.py::test_export_holds_the_head_nms_asks_for[None-shape0-False]",
    "test_export.py::test_static_model_rejects_wrong_shape_with_a_clear_message[torchscript]",
)


def pytest_collection_modifyitems(items):
    for item in items:
        if any(case in item.nodeid for case in HEAVY_CASES):
            item.add_marker(pytest.mark.slow)
