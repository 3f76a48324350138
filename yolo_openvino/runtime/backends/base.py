"""The interface every runtime implements: raw arrays in, raw arrays out."""

from __future__ import annotations

import time
from typing import Any, Iterable, Iterator

import numpy as np

from ...errors import UsageError
from ..metadata import ModelMetadata

# Input conventions a backend can ask for. Pre-processing above the backends produces either.
FLOAT_NCHW_RGB = "float32 NCHW RGB /255"
UINT8_NHWC_BGR = "uint8 NHWC BGR"


class Backend:
    """A loaded model.

    ``infer`` takes one batch in the backend's ``input_kind`` convention, (B, 3, H, W) float32 or
    (B, H, W, 3) uint8, and returns every output of the model, in order (``output0``, ``output1``, ...; the task's
    layout, tasks/): detect's (B, 4 + nc, A) or, where ``metadata.outputs_rows``, (B, metadata.max_det, 6);
    segment adds 32 mask coefficients per anchor (row) and the prototypes (B, 32, H/4, W/4).
    """

    metadata: ModelMetadata
    input_kind: str = FLOAT_NCHW_RGB
    load_time_s: float = 0.0  # loading (and compiling) the model, once: never part of a per-image time
    # (outputs) -> None or one line: the layout check of outputs the file declares dynamic, run on the first batch
    first_outputs_check = None

    def checked(self, outputs: list[np.ndarray]) -> list[np.ndarray]:
        """``outputs``, after the first batch's have passed ``first_outputs_check`` (once)."""
        if self.first_outputs_check is not None:
            check, self.first_outputs_check = self.first_outputs_check, None
            check(outputs)
        return outputs

    def infer(self, batch: np.ndarray) -> list[np.ndarray]:
        raise NotImplementedError

    def output_shapes(self) -> list[tuple]:
        """Each output's shape as the model declares it, -1 for a dynamic dimension (checked against the task)."""
        raise NotImplementedError

    def infer_many(self, batches: Iterable[tuple[np.ndarray, Any]]) -> Iterator[tuple[list[np.ndarray], Any, float]]:
        """Run a stream of (batch, context) pairs and yield (outputs, context, infer_ms) in input order.

        ``infer_ms`` is that batch's own inference time, not the gap between outputs: in a pipeline the
        gaps mix queueing and overlap, which made per-image times swing from 1 to 300 ms. The default runs
        batches one by one; asynchronous runtimes override this to keep a device busy. An output may be
        valid only until the next item is requested: use it in the loop body or copy it.
        """
        for batch, context in batches:
            started = time.perf_counter()
            outputs = self.infer(batch)
            yield outputs, context, (time.perf_counter() - started) * 1000

    @property
    def inference_precision(self) -> str | None:
        """The precision the runtime actually computes in (f32 for PyTorch, TorchScript and ONNX Runtime on CPU)."""
        return "f32"

    def info(self) -> dict:
        return {"format": self.metadata.format, "precision": self.metadata.precision,
                "inference_precision": self.inference_precision, "load_time_s": round(self.load_time_s, 3)}

    def loaded_line(self, name: str, before_s: float = 0.0) -> str:
        """``Loaded yolov8n_openvino_model (openvino on CPU, bf16) in 0.31s``: the one-off cost, said once.

        ``before_s``: loading done before the backend existed (a checkpoint's unpickling and fusing)."""
        where = f" on {self.device}" if getattr(self, "device", None) else ""
        return (f"Loaded {name} ({self.metadata.format}{where}, {self.inference_precision}) in "
                f"{before_s + self.load_time_s:.2f}s (once; not in the per-image times)")

    def check_input(self, batch: np.ndarray, expected: tuple[int, ...] | None) -> None:
        """Reject a batch of the wrong shape for a static model, saying which shape it needs."""
        if expected is None or self.metadata.dynamic:
            return
        if tuple(batch.shape) != tuple(expected):
            raise UsageError(
                f"{self.metadata.format} model was exported with a static input of shape {tuple(expected)} "
                f"({self.input_kind}) but got {tuple(batch.shape)}. Use imgsz={list(self.metadata.imgsz)} and batch="
                f"{self.metadata.batch}, or re-export with dynamic=True."
            )
