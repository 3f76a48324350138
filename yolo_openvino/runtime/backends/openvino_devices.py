"""OpenVINO device names: what a user writes (cpu, gpu.1, auto:gpu,cpu, intel:npu) as OpenVINO names them, the
default device, and the fallback when the asked one is not on this machine."""

from __future__ import annotations

import logging

LOGGER = logging.getLogger("yolo_openvino")

_COMPOSITE = ("AUTO", "MULTI", "HETERO", "BATCH")


# The device when none is asked for (every command, the report, the Ray workers): its one home. The CPU, as the
# reference's default: AUTO would start on the CPU and move to a GPU after compiling, so the first results and
# every timing would come from two devices.
DEFAULT_DEVICE = "CPU"


def normalize_device(device: str | None) -> str:
    """User device names to OpenVINO's: cpu -> CPU, gpu.1 -> GPU.1, auto:gpu,cpu -> AUTO:GPU,CPU, intel:npu -> NPU;
    None: ``DEFAULT_DEVICE``."""
    if device in (None, ""):
        return DEFAULT_DEVICE
    name = str(device).strip()
    if name.lower().startswith("intel:"):
        name = name.split(":", 1)[1]
    return name.upper()


def resolve_device(device: str | None, available: list[str]) -> str:
    """Keep the requested device if it exists; otherwise fall back, warning with what exists."""
    name = normalize_device(device)

    def exists(dev: str) -> bool:
        return any(a == dev or a.startswith(dev + ".") for a in available)

    kind, _, targets = name.partition(":")
    if kind in _COMPOSITE:
        if not targets:
            return name
        wanted = [t for t in targets.split(",") if t]
        present = [t for t in wanted if exists(t.split("(")[0])]
        if present == wanted:
            return name
        if present:
            LOGGER.warning("devices %s are not available (available: %s); using %s:%s",
                           sorted(set(wanted) - set(present)), available, kind, ",".join(present))
            return f"{kind}:{','.join(present)}"
    elif exists(name):
        return name
    fallback = "CPU" if exists("CPU") else available[0]
    LOGGER.warning("device '%s' is not available (available: %s); falling back to %s", device, available, fallback)
    return fallback
