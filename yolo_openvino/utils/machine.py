"""What machine a figure was measured on: the CPU's name, its kind (which instructions OpenVINO can use) and cores.

A figure is only true of the kind it was measured on: INT8 is about 2x FP32 with VNNI, OpenVINO runs FP32 IRs in
bf16 on AVX512_BF16 and AMX CPUs (f32 elsewhere), so a saved deployment records this and says so when moved.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path


def _cpuinfo() -> tuple[str, set[str]]:
    """(model name, flags) from /proc/cpuinfo; the platform's processor string and no flags elsewhere."""
    try:
        text = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return platform.processor() or "unknown CPU", set()
    name, flags = platform.processor() or "unknown CPU", set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "model name":
            name = value.strip()
        elif key.strip() == "flags":
            flags = set(value.split())
            break
    return name, flags


def cpu_kind_of(flags: set[str]) -> str:
    """AMX, AVX512_BF16, AVX-512 VNNI, AVX-512, AVX2 or older: the best of what OpenVINO's CPU plugin uses."""
    if "amx_bf16" in flags:
        return "AMX"
    if "avx512_bf16" in flags:
        return "AVX512_BF16"
    if "avx512_vnni" in flags:
        return "AVX-512 VNNI"
    if "avx512f" in flags:
        return "AVX-512"
    return "AVX2" if "avx2" in flags else "older than AVX2"


def cpu_flags() -> set[str]:
    """The CPU's flags (lscpu's names; empty where /proc/cpuinfo is missing)."""
    return _cpuinfo()[1]


def machine() -> dict:
    """{cpu, cpu_kind, cores} of this machine."""
    name, flags = _cpuinfo()
    return {"cpu": name, "cpu_kind": cpu_kind_of(flags), "cores": os.cpu_count() or 1}


def machine_line(info: dict | None = None) -> str:
    """'AMD EPYC, 2 cores, AVX512_BF16'."""
    info = info or machine()
    return f"{info['cpu']}, {info['cores']} cores, {info['cpu_kind']}"
