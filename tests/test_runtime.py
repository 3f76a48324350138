"""OpenVINO runtime: devices, hints and knobs, async pipeline order, batching, threads, caching, no torch."""

from __future__ import annotations

import subprocess
import sys
import threading

import numpy as np
import pytest

from conftest import COCO128_IMAGES, needs_shared, write_image
from yolo_openvino import YOLO
from yolo_openvino.runtime.backends.openvino_backend import OpenVINOBackend
from yolo_openvino.runtime.backends.openvino_config import compile_config
from yolo_openvino.runtime.backends.openvino_devices import normalize_device, resolve_device

FILES = sorted(str(p) for p in COCO128_IMAGES.glob("*.jpg"))[:12] if COCO128_IMAGES.exists() else []


@pytest.mark.parametrize("given,expected", [("cpu", "CPU"), ("gpu", "GPU"), ("gpu.1", "GPU.1"), ("npu", "NPU"),
                                            ("auto", "AUTO"), ("auto:gpu,cpu", "AUTO:GPU,CPU"),
                                            ("intel:gpu", "GPU"), ("intel:npu", "NPU"), (None, "CPU"),
                                            ("MULTI:GPU,CPU", "MULTI:GPU,CPU"), ("HETERO:GPU,CPU", "HETERO:GPU,CPU")])
def test_normalize_device(given, expected):
    assert normalize_device(given) == expected


@pytest.mark.parametrize("device,available,expected", [
    ("gpu", ["CPU", "GPU.0", "GPU.1"], "GPU"),
    ("gpu.1", ["CPU", "GPU.0", "GPU.1"], "GPU.1"),
    ("gpu.2", ["CPU", "GPU.0", "GPU.1"], "CPU"),
    ("npu", ["CPU"], "CPU"),
    ("auto:gpu,cpu", ["CPU"], "AUTO:CPU"),
    ("auto:gpu,npu", ["CPU"], "CPU"),
    ("multi:gpu,cpu", ["CPU", "GPU"], "MULTI:GPU,CPU"),
    ("auto", ["CPU"], "AUTO"),
])
def test_resolve_device_falls_back_with_warning(device, available, expected, caplog):
    assert resolve_device(device, available) == expected
    if expected != normalize_device(device):
        assert "not available" in caplog.text and str(available) in caplog.text


def test_compile_config_hint_knobs_and_passthrough():
    props = compile_config("CPU", "throughput", streams=3, threads=2, pinning=False, inference_precision="bf16",
                           config={"PERFORMANCE_HINT_NUM_REQUESTS": 4})
    assert props == {"PERFORMANCE_HINT": "THROUGHPUT", "NUM_STREAMS": 3, "INFERENCE_NUM_THREADS": 2,
                     "ENABLE_CPU_PINNING": False, "INFERENCE_PRECISION_HINT": "bf16", "PERFORMANCE_HINT_NUM_REQUESTS": 4}
    auto = compile_config("AUTO:GPU,CPU", "cumulative_throughput", streams=2)
    assert auto == {"PERFORMANCE_HINT": "CUMULATIVE_THROUGHPUT",
                    "DEVICE_PROPERTIES": {"GPU": {"NUM_STREAMS": 2}, "CPU": {"NUM_STREAMS": 2}}}
    # Values are checked once, where they enter (options.RUNTIME), with the fix in the message; not again here.
    from yolo_openvino.errors import UsageError
    from yolo_openvino.options import check

    with pytest.raises(UsageError, match="mode=fast is not valid: expected one of latency, throughput"):
        check("runtime", {"mode": "fast"})
    with pytest.raises(UsageError, match="inference_precision=int4 is not valid: expected one of f32, bf16, f16"):
        check("runtime", {"inference_precision": "int4"})


@pytest.fixture(scope="module")
def ir(tmp_path_factory):
    from conftest import shared_model

    out = tmp_path_factory.mktemp("rt") / "n_openvino_model"
    return YOLO(shared_model("yolov8s-coco128")).export(format="openvino", imgsz=320, output=str(out))


@needs_shared
@pytest.mark.parametrize("device,mode,hint", [("cpu", "latency", "LATENCY"), ("cpu", "throughput", "THROUGHPUT"),
                                              ("auto", "latency", "LATENCY"),
                                              ("auto", "cumulative_throughput", "CUMULATIVE_THROUGHPUT"),
                                              ("multi:cpu", "throughput", "THROUGHPUT")])
def test_devices_and_modes_compile_and_agree(ir, device, mode, hint):
    import openvino as ov

    # f32: modes differ in where the input is converted (host for latency, in the graph for throughput), which
    # rounds differently at the device's bf16; the comparison is about modes and devices, not precision.
    reference = YOLO(ir, device="cpu", mode="latency", inference_precision="f32")(FILES[:4])
    model = YOLO(ir, device=device, mode=mode, inference_precision="f32")
    info = model.runtime_info()
    assert info["PERFORMANCE_HINT"] == hint
    # AUTO/MULTI may pick any device the machine has (a GPU where there is one); plain cpu must be the CPU.
    assert set(info["EXECUTION_DEVICES"]) <= set(ov.Core().available_devices) | {"CPU"}
    if device == "cpu" or "GPU" not in str(ov.Core().available_devices):
        assert info["EXECUTION_DEVICES"] == ["CPU"]
    for a, b in zip(model(FILES[:4]), reference):
        np.testing.assert_allclose(a.boxes.xyxy, b.boxes.xyxy, atol=1e-3)


@needs_shared
def test_explicit_knobs_reach_the_compiled_model(ir):
    info = YOLO(ir, mode="throughput", streams=1, threads=1, pinning=False, inference_precision="f32").runtime_info()
    assert info["NUM_STREAMS"] == 1 and info["INFERENCE_NUM_THREADS"] == 1 and info["ENABLE_CPU_PINNING"] is False
    assert info["INFERENCE_PRECISION_HINT"] == "f32"


@needs_shared
def test_default_mode_per_use(ir):
    model = YOLO(ir)
    model(FILES[0])
    model(FILES[:3])
    hints = sorted(b.info()["PERFORMANCE_HINT"] for b in model._backends.values())
    assert hints == ["LATENCY", "THROUGHPUT"]


@needs_shared
@pytest.mark.parametrize("requests", [pytest.param(1, marks=pytest.mark.slow), 3, pytest.param(8, marks=pytest.mark.slow)])
def test_async_results_in_input_order_and_equal_to_sync(ir, requests):
    model = YOLO(ir, mode="throughput", requests=requests, inference_precision="f32")
    files = FILES + FILES[::-1]
    results = model(files)
    assert [r.path for r in results] == files
    sync = YOLO(ir, mode="latency", inference_precision="f32")
    for r in results[:4]:
        np.testing.assert_allclose(r.boxes.xyxy, sync(r.path)[0].boxes.xyxy, atol=1e-3)


@needs_shared
@pytest.mark.slow
def test_batched_model_pads_the_last_partial_batch(tmp_path):
    from conftest import shared_model

    ir4 = YOLO(shared_model("yolov8s-coco128")).export(format="openvino", imgsz=320, batch=4,
                                                        output=str(tmp_path / "b4_openvino_model"))
    results = YOLO(ir4)(FILES[:6])  # one full batch of 4 and one of 2 padded to 4
    assert [r.path for r in results] == FILES[:6]
    single = YOLO(ir4)(FILES[5])[0]
    np.testing.assert_allclose(results[5].boxes.xyxy, single.boxes.xyxy, atol=1e-3)


@needs_shared
def test_one_model_from_several_threads(ir):
    model = YOLO(ir, mode="throughput")
    expected = {f: model(f)[0].boxes.xyxy for f in FILES[:4]}
    errors = []

    def work(offset):
        try:
            for i in range(8):
                f = FILES[(i + offset) % 4]
                np.testing.assert_allclose(model(f)[0].boxes.xyxy, expected[f], atol=1e-3)
        except Exception as e:  # noqa: BLE001 - collected for the main thread
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


@needs_shared
@pytest.mark.slow  # 7 s of inferences; the segmentation stream's flat memory (test_segment.py) stays in the fast set
def test_no_memory_growth_over_many_inferences(ir):
    import resource

    backend = YOLO(ir, mode="throughput", preprocess="device").backend(mode="throughput")
    batch = np.full((1, 320, 320, 3), 114, np.uint8)

    def run(n):
        for _ in backend.infer_many((batch, i) for i in range(n)):
            pass

    run(50)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    run(300)  # a leaked output copy (0.7 MB each) would grow by ~200 MB
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 50, f"peak RSS grew by {grown_mb:.0f} MB over 300 inferences"


@needs_shared
def test_cache_dir_and_mmap(ir, tmp_path):
    cache = tmp_path / "cache"
    cold = OpenVINOBackend.from_ir(ir, mode="latency", cache_dir=str(cache), mmap=False, preprocess="host")
    assert any(cache.iterdir()), "OpenVINO wrote no cache blob"
    warm = OpenVINOBackend.from_ir(ir, mode="latency", cache_dir=str(cache), preprocess="host")
    x = np.full((1, 3, 320, 320), 0.5, np.float32)
    np.testing.assert_allclose(cold.infer(x)[0], warm.infer(x)[0], atol=1e-4)
    assert warm.info()["first_inference_ms"] is not None and warm.info()["load_time_s"] > 0


def test_import_and_ir_loading_do_not_import_torch(tmp_path):
    from conftest import MODELS

    code = "import sys, yolo_openvino; assert 'torch' not in sys.modules and 'openvino' not in sys.modules\n"
    ir_dir = None
    if (MODELS / "yolov8n-init.pt").exists():
        ir_dir = YOLO(MODELS / "yolov8n-init.pt").export(format="openvino", imgsz=320,
                                                          output=str(tmp_path / "m_openvino_model"))
        code += (f"import numpy as np; m = yolo_openvino.YOLO({ir_dir!r}); "
                 "m(np.zeros((320, 320, 3), np.uint8)); assert 'torch' not in sys.modules, 'torch imported'\n")
    subprocess.run([sys.executable, "-c", code], check=True)


# -- the precision that ran, and the ring of infer requests (tiny model) -------------------------------------------
def test_the_precision_that_ran_is_reported(tiny_ir):
    import openvino as ov

    device_default = ov.Core().get_property("CPU", "INFERENCE_PRECISION_HINT").get_type_name()
    assert YOLO(tiny_ir).runtime_info()["inference_precision"] == device_default  # bf16 on AVX512_BF16/AMX, else f32
    assert YOLO(tiny_ir, inference_precision="f32").runtime_info()["inference_precision"] == "f32"


@pytest.mark.parametrize("settings,ring", [
    ({"mode": "throughput", "streams": 2}, 2 + 2),  # the optimal number (one per stream) plus one queued per stream
    ({"mode": "latency", "streams": 1}, 1 + 1),  # streams pinned: a latency hint may use one per socket
    ({"mode": "throughput", "streams": 2, "requests": 3}, 3),  # asked for: exactly that
])
def test_cpu_ring_keeps_one_request_queued_per_stream(tiny_ir, settings, ring):
    backend = YOLO(tiny_ir, **settings).backend()
    assert backend.ring_size == ring and backend.info()["requests_in_flight"] == ring
    dtype = np.float32 if backend.preprocess == "host" else np.uint8
    list(backend.infer_many((np.zeros(backend.static_shape, dtype), i) for i in range(5)))
    assert backend._requests.qsize() == ring  # every ring slot made once, handed back idle


def test_a_stream_stopped_early_leaves_the_requests_reusable(tiny_ir, tmp_path):
    """The ring's requests go back to the backend's pool idle, even when the consumer stops mid-stream."""
    for i in range(6):
        write_image(tmp_path / "imgs" / f"{i}.jpg")
    model = YOLO(tiny_ir, mode="throughput")
    stream = model(str(tmp_path / "imgs"), stream=True, verbose=False)
    next(stream)
    stream.close()  # requests may still be running here: they are waited for, not handed back busy
    backend = model.backend()
    pooled = backend._requests.qsize()
    assert pooled == backend.ring_size
    assert len(model(str(tmp_path / "imgs"), verbose=False)) == 6 and backend._requests.qsize() == pooled
    backend.infer(np.full((1, 3, 64, 64), 0.5, np.float32) if backend.preprocess == "host"
                  else np.full((1, 64, 64, 3), 114, np.uint8))
