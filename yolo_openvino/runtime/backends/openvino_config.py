"""How an IR is compiled: the properties a hint, streams, threads and precision become, where preprocessing runs,
the compile itself, and the precision read back from a compiled model."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from ...errors import UsageError
from .openvino_devices import _COMPOSITE

LOGGER = logging.getLogger("yolo_openvino")

HINTS = {"latency": "LATENCY", "throughput": "THROUGHPUT", "cumulative_throughput": "CUMULATIVE_THROUGHPUT"}
REPORTED_PROPERTIES = ("PERFORMANCE_HINT", "NUM_STREAMS", "OPTIMAL_NUMBER_OF_INFER_REQUESTS", "EXECUTION_DEVICES",
                       "INFERENCE_PRECISION_HINT", "INFERENCE_NUM_THREADS", "ENABLE_CPU_PINNING")


def compile_ir(core, model, device: str, properties: dict, xml: Path):
    """``core.compile_model`` with OpenVINO's error for a damaged IR turned into one line naming the file."""
    try:
        return core.compile_model(model, device, properties)
    except RuntimeError as e:
        first = next((line.strip() for line in str(e).splitlines() if line.strip()), type(e).__name__)
        raise UsageError(f"{xml}: OpenVINO cannot load this IR ({first[:200]}). Is it complete? Re-export it, or "
                         "copy the .xml and .bin again.") from None


def compile_config(device: str, mode: str | None, streams=None, threads=None, pinning=None,
                   inference_precision=None, config: dict | None = None) -> dict:
    """OpenVINO properties for ``compile_model``: the hint first, explicit knobs override, ``config`` last.

    The values arrive checked (options.RUNTIME: ``mode`` one of HINTS' keys, ``inference_precision`` f32, bf16
    or f16)."""
    props: dict[str, Any] = {}
    if mode:
        props["PERFORMANCE_HINT"] = HINTS[mode]
    if streams is not None:
        props["NUM_STREAMS"] = str(streams).upper() if isinstance(streams, str) else int(streams)
    if threads is not None:
        props["INFERENCE_NUM_THREADS"] = int(threads)
    if pinning is not None:
        props["ENABLE_CPU_PINNING"] = bool(pinning)
    if inference_precision is not None:
        props["INFERENCE_PRECISION_HINT"] = inference_precision
    props.update(config or {})
    if device.split(":")[0] in _COMPOSITE:
        # Device-level knobs go to the devices behind AUTO/MULTI, not to the virtual device itself.
        device_level = {k: props.pop(k) for k in ("NUM_STREAMS", "INFERENCE_NUM_THREADS", "ENABLE_CPU_PINNING",
                                                   "INFERENCE_PRECISION_HINT") if k in props}
        if device_level:
            targets = device.partition(":")[2].split(",") if ":" in device else ["CPU"]
            props["DEVICE_PROPERTIES"] = {t: dict(device_level) for t in targets if t}
    return props


def default_preprocess(mode: str | None, cache_dir: str | None = None) -> str:
    """In the graph, except for one image at a time with a model cache: there, on the host.

    Measured on a 2-core AVX512_BF16 CPU, best of 3 interleaved runs against benchmark_app: for a stream of
    images, converting in the graph raised end-to-end throughput over COCO128 from 0.92x to 0.99x of benchmark_app for
    yolov8n INT8 (the host's float conversion competes with inference for the cores); for one image at a
    time it cut the p50 by 0.3 ms (yolov8n 28.0 -> 27.7 ms, YOLO26n 21.8 -> 21.5 ms) for 3.5 ms more at
    start-up (348 -> 352 ms). With a warm model cache it cost 10 ms of a 303 ms start (the cache key then
    hashes the built model; compiled from its path, a cache hit skips reading the IR), and a cache is asked
    for to start fast, so latency with a cache keeps the conversion on the host.
    """
    if mode in ("throughput", "cumulative_throughput") or not cache_dir:
        return "device"
    return "host"


def _attach_preprocessing(model):
    """PrePostProcessor: uint8 NHWC BGR tensor -> the model's f32 NCHW RGB /255 input, done on the device."""
    import openvino as ov
    from openvino.preprocess import ColorFormat, PrePostProcessor

    ppp = PrePostProcessor(model)
    tensor = ppp.input().tensor()
    tensor.set_element_type(ov.Type.u8).set_layout(ov.Layout("NHWC")).set_color_format(ColorFormat.BGR)
    ppp.input().model().set_layout(ov.Layout("NCHW"))
    ppp.input().preprocess().convert_element_type(ov.Type.f32).convert_color(ColorFormat.RGB).scale(255.0)
    return ppp.build()


def _plain_property(value):
    """OpenVINO property values (enums, ov.Type) as plain strings: 'LATENCY', 'f32'."""
    if isinstance(value, (int, float, str, bool, list)):
        return value
    if hasattr(value, "get_type_name"):
        return value.get_type_name()
    return getattr(value, "name", None) or str(value)


def compiled_precision(compiled) -> str | None:
    """What a compiled model's convolutions run in: 'bf16', 'f32', 'f16' or 'int8'; None where it cannot tell.

    Read from the runtime model (each executed layer's ``runtimePrecision``), which works behind AUTO too,
    and falls back to INFERENCE_PRECISION_HINT where a device exposes no runtime model.
    """
    from collections import Counter

    try:
        infos = [op.get_rt_info() for op in compiled.get_runtime_model().get_ops()]
        counts = Counter(info["runtimePrecision"].astype(str) for info in infos
                         if "layerType" in info and info["layerType"].astype(str) == "Convolution")
        if counts:
            precision = counts.most_common(1)[0][0]
            return "int8" if precision in ("u8", "i8") else precision
    except (RuntimeError, KeyError, AttributeError):
        pass
    try:
        return str(_plain_property(compiled.get_property("INFERENCE_PRECISION_HINT"))) or None
    except RuntimeError:
        return None
