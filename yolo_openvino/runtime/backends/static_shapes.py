"""When a dynamic IR must be compiled with static shapes, and reshaping it to its export size.

NPUs compile static shapes only. On CPUs with AMX, INT8 with a dynamic input dimension crashes (openvino #37577).
Both then get the IR reshaped to its export size (``imgsz`` and ``batch`` of its metadata) with a one-line note,
and the runtime letterboxes every image to that size, as for a static export; an IR that cannot be reshaped is
refused in one line.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

from ...errors import UsageError

LOGGER = logging.getLogger("yolo_openvino")


def cpu_has_amx(cpuinfo: str | Path = "/proc/cpuinfo") -> bool:
    """True on a CPU with Advanced Matrix Extensions (its ``amx_int8`` / ``amx_tile`` flags; Linux), else False."""
    try:
        text = Path(cpuinfo).read_text(errors="ignore")
    except OSError:
        return False
    flags = next((line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("flags")), [])
    return "amx_int8" in flags or "amx_tile" in flags


def static_reason(device: str, metadata, amx: bool | None = None) -> str | None:
    """Why ``device`` needs the dynamic IR described by ``metadata`` static, or None (it is static already, or the
    device compiles it as it is). ``device``: OpenVINO's name (NPU, CPU, AUTO:NPU,CPU, ...)."""
    if not metadata.dynamic:
        return None
    if "NPU" in device:
        return "NPUs compile static shapes only"
    cpu = device == "CPU" or "CPU" in device and device.startswith(("AUTO", "MULTI", "HETERO"))
    if cpu and metadata.precision == "int8" and (cpu_has_amx() if amx is None else amx):
        return "INT8 with a dynamic input fails on AMX CPUs (openvino #37577)"
    return None


def reshape_to_export_size(model, metadata, where: Path, reason: str):
    """(model reshaped to (batch, 3, h, w) of its export, metadata saying static) or a one-line UsageError."""
    h, w = metadata.imgsz
    shape = [max(metadata.batch, 1), 3, h, w]
    try:
        model.reshape({model.inputs[0]: shape})
    except RuntimeError as e:
        raise UsageError(f"{where}: a dynamic IR, and {reason}, but it cannot be reshaped to {shape} "
                         f"({' '.join(str(e).split())[:160]}); re-export it with dynamic=False") from None
    LOGGER.warning("%s: a dynamic IR, and %s: compiled static at its export size %s, every image letterboxed to it",
                   where.name, reason, "x".join(map(str, shape)))
    return model, replace(metadata, dynamic=False)
