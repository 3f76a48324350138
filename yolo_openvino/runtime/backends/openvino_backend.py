"""OpenVINO Runtime backend: performance hints, streams, async queue, devices, caching, in-graph preprocessing.

The strategies of OpenVINO's latency/throughput guide, done for the user:
- ``mode`` maps to a performance hint (LATENCY / THROUGHPUT / CUMULATIVE_THROUGHPUT); explicit knobs
  (streams, threads, pinning, inference precision, any property) override the hint's choices.
- ``infer_many`` keeps the device's optimal number of infer requests in flight (``start_async``) and yields
  outputs in input order with bounded memory. It waits on the oldest request instead of registering Python
  callbacks: a callback runs on OpenVINO's threads and needs the GIL, and we reproduced a deadlock where a
  compiled model was freed (GIL held, joining its threads) while such a callback waited for the GIL.
- At compile time a PrePostProcessor can make the device accept uint8 NHWC BGR and do layout, colour, dtype
  and /255 itself, so the host only decodes and letterboxes (``preprocess="device"``). By default it does so
  except where a model cache is used for latency (see ``default_preprocess``).
- ``cache_dir`` enables OpenVINO's model cache and ``mmap`` controls memory-mapped weight reading, the two
  levers on first-inference latency.
- Inference precision is the device's own choice (bf16 on CPUs with AVX512_BF16 or AMX, about twice as fast
  as f32 there; f32 on AVX2-only CPUs) unless the user asks: ``inference_precision="f32"`` gives bit-level
  parity with PyTorch. ``info()`` reads back what the compiled model actually runs at.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import time
from collections import deque
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np

from ..metadata import ModelMetadata
from .base import FLOAT_NCHW_RGB, UINT8_NHWC_BGR, Backend
from .openvino_config import (REPORTED_PROPERTIES, _attach_preprocessing, _plain_property, compile_config,
                              compile_ir, compiled_precision, default_preprocess)
from .openvino_devices import normalize_device, resolve_device
from .openvino_files import find_ir, read_ir_metadata
from .static_shapes import reshape_to_export_size, static_reason

LOGGER = logging.getLogger("yolo_openvino")


class OpenVINOBackend(Backend):
    """A compiled OpenVINO model with its metadata: :meth:`from_ir` reads and compiles an IR for a device and
    performance settings; NNCF's accuracy-control loop hands us one compiled already."""

    def __init__(self, compiled, metadata: ModelMetadata, *, xml: Path | None = None, device: str = "?",
                 properties: dict | None = None, preprocess: str = "host", requests: int | None = None,
                 load_time_s: float = 0.0):
        self.compiled = compiled
        self.metadata = metadata
        self.xml, self.device, self.properties = xml, device, properties or {}
        self.preprocess = preprocess
        self.input_kind = UINT8_NHWC_BGR if preprocess == "device" else FLOAT_NCHW_RGB
        self.requested_jobs = requests
        self.load_time_s = load_time_s
        self._requests: queue.SimpleQueue = queue.SimpleQueue()  # idle sync requests, one per concurrent caller
        partial = compiled.input(0).get_partial_shape()
        self.static_shape = tuple(d.get_length() for d in partial) if partial.is_static else None
        self.output_count = len(compiled.outputs)
        self.first_inference_ms: float | None = None
        self._precision: str | None = None

    @classmethod
    def from_ir(cls, path: str | Path, device: str | None = None, mode: str | None = None, streams=None,
                requests: int | None = None, threads: int | None = None, pinning: bool | None = None,
                inference_precision: str | None = None, config: dict | None = None, cache_dir: str | None = None,
                mmap: bool | None = None, preprocess: str | None = None) -> "OpenVINOBackend":
        """Read the IR at ``path`` (a folder or its .xml) and compile it; the options as options.RUNTIME checks them."""
        from ...utils.telemetry import import_openvino

        ov = import_openvino()
        started = time.perf_counter()
        xml = find_ir(path)
        metadata = read_ir_metadata(xml)
        core = ov.Core()
        name = normalize_device(device)
        # CPU and plain AUTO always exist; listing devices probes every plugin (20 ms here, more with a GPU).
        device = name if name in ("CPU", "AUTO") else resolve_device(name, core.available_devices)
        properties = compile_config(device, mode, streams, threads, pinning, inference_precision, config)
        if cache_dir:
            Path(cache_dir).mkdir(parents=True, exist_ok=True)
            core.set_property({"CACHE_DIR": str(cache_dir)})
        if mmap is not None:
            core.set_property({"ENABLE_MMAP": bool(mmap)})
        preprocess = preprocess or default_preprocess(mode, cache_dir)
        reason = static_reason(device, metadata)  # NPUs, and dynamic INT8 on AMX CPUs, need static shapes
        model = str(xml)  # compiling from the path lets a cache hit skip reading the IR entirely
        if preprocess == "device" or reason:
            with contextlib.suppress(RuntimeError):  # a damaged file: compile_ir reports it
                read = core.read_model(xml)
                if reason:
                    read, metadata = reshape_to_export_size(read, metadata, xml, reason)
                model = _attach_preprocessing(read) if preprocess == "device" else read
        compiled = compile_ir(core, model, device, properties, xml)
        load_time_s = time.perf_counter() - started
        LOGGER.debug("compiled %s on %s in %.2fs", xml.name, device, load_time_s)
        return cls(compiled, metadata, xml=xml, device=device, properties=properties, preprocess=preprocess,
                   requests=requests, load_time_s=load_time_s)

    # -- synchronous ---------------------------------------------------------------------------------------
    def infer(self, batch: np.ndarray) -> list[np.ndarray]:
        self.check_input(batch, self.static_shape)
        request = self._idle_request()
        try:
            started = time.perf_counter()
            request.infer({0: batch}, share_inputs=True)  # read in place: the caller holds ``batch`` meanwhile
            if self.first_inference_ms is None:
                self.first_inference_ms = (time.perf_counter() - started) * 1000
            return self.checked([request.get_output_tensor(i).data.copy() for i in range(self.output_count)])
        finally:
            self._requests.put(request)

    def _idle_request(self):
        """An idle infer request of the pool (one per concurrent caller or ring slot), made when none is free."""
        try:
            return self._requests.get_nowait()
        except queue.Empty:
            return self.compiled.create_infer_request()

    def output_shapes(self) -> list[tuple]:
        return [tuple(d.get_length() if d.is_static else -1 for d in out.get_partial_shape())
                for out in self.compiled.outputs]

    # -- asynchronous, in order ---------------------------------------------------------------------------------
    @property
    def optimal_requests(self) -> int:
        return int(self.compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS"))

    @property
    def ring_size(self) -> int:
        """Requests ``infer_many`` keeps in flight: ``requests`` if given, else the device's optimal number plus,
        on the CPU, one more per stream.

        With one request per stream, a stream idles from the end of its inference until Python has read the
        result and started the next one; a second request waiting in each stream's queue starts at once.
        Measured on a 2-core AVX512_BF16 CPU (2 streams: 2 -> 4 requests, COCO128 end to end, fresh processes,
        interleaved pairs): yolov8n INT8 +1.4, +3.2 and +6.1%, FP32 +0.9 and +2.9%, its 1080p set +0.8 and
        +1.0%, YOLO26n INT8 +0 and +2.9%, yolov8s INT8 -0.1 and +0.6%. Other devices size their optimal
        number for queueing already.
        """
        if self.requested_jobs:
            return max(int(self.requested_jobs), 1)
        extra = 0
        if self.device == "CPU":
            with contextlib.suppress(RuntimeError, TypeError, ValueError):
                extra = int(self.compiled.get_property("NUM_STREAMS"))
        return max(self.optimal_requests + extra, 1)

    def infer_many(self, batches: Iterable[tuple[np.ndarray, Any]]) -> Iterator[tuple[list[np.ndarray], Any, float]]:
        """Keep ``ring_size`` inferences in flight; yield in input order.

        The time yielded is OpenVINO's own latency of that request (``InferRequest.latency``, ms). Each output
        is a list of views of its request's tensors, valid until the next item is requested (then the request is
        reused): post-process them in the loop body or copy them. Not copying saves a (B, 84, 8400) float copy per
        batch.
        """
        def checked():
            for batch, context in batches:
                self.check_input(batch, self.static_shape)
                yield batch, context

        count = self.output_count
        requests = [self._idle_request() for _ in range(self.ring_size)]  # reused across calls, as the sync ones are
        ring = in_flight(requests, checked())
        try:
            for request, context in ring:
                yield self.checked([request.get_output_tensor(i).data for i in range(count)]), context, request.latency
        finally:
            ring.close()  # waits for any still running, so the pool gets idle requests only
            for request in requests:
                self._requests.put(request)

    # -- introspection -----------------------------------------------------------------------------------------
    @property
    def inference_precision(self) -> str | None:
        """What the compiled model really runs in (bf16 where the CPU has AVX512_BF16 or AMX and nobody asked
        otherwise; int8 for a quantized IR), read back once from the runtime model."""
        if self._precision is None:
            self._precision = compiled_precision(self.compiled) or "?"
        return self._precision

    def info(self) -> dict:
        report = {"format": "openvino", "xml": str(self.xml), "device": self.device, "precision": self.metadata.precision,
                  "inference_precision": self.inference_precision, "preprocess": self.preprocess,
                  "load_time_s": round(self.load_time_s, 3), "first_inference_ms": self.first_inference_ms,
                  "requests_in_flight": self.ring_size}
        for key in REPORTED_PROPERTIES:
            try:
                value = self.compiled.get_property(key)
            except RuntimeError:
                continue  # not every device reports every property
            report[key] = _plain_property(value)
        return report


def in_flight(requests: list, batches: Iterable[tuple[np.ndarray, Any]]) -> Iterator[tuple[Any, Any]]:
    """The one ring of infer requests: all of ``requests`` kept busy, each finished one yielded in input order.

    ``batches`` yields (input, context). The yielded request is valid until the next iteration, when it is reused: read its output
    tensor or ``latency`` before. When all requests are busy we wait (GIL released) for the oldest, so order
    holds by construction and memory is bounded by ``len(requests)``. No Python callback runs on OpenVINO's threads.
    Inputs are shared with the request, not copied: each stays referenced here until its request is done.
    A consumer that stops early still leaves every request idle (waited for), so they can be reused.
    """
    idle = deque(requests)
    busy: deque = deque()  # (request, context, input kept alive while the request reads it)
    try:
        for batch, context in batches:
            if not idle:
                request, done, _ = busy.popleft()
                request.wait()
                yield request, done
                idle.append(request)
            request = idle.popleft()
            request.start_async({0: batch}, share_inputs=True)
            busy.append((request, context, batch))
        while busy:
            request, done, _ = busy[0]
            request.wait()
            busy.popleft()
            yield request, done
    finally:
        for request, _, _ in busy:
            request.wait()
