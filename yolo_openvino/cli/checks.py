"""``yolo-ov checks``: what this machine has, in the lines a bug report needs (and what a figure depends on)."""

from __future__ import annotations

import platform

# The CPU flags OpenVINO's CPU plugin chooses its kernels by (lscpu names).
FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "avx512_fp16", "amx_tile", "amx_bf16", "amx_int8")


def report() -> str:
    from ..utils.machine import cpu_flags, machine_line
    from ..version import __version__

    flags = cpu_flags()
    lines = [f"yolo-ov {__version__}, Python {platform.python_version()}, {platform.system()} {platform.machine()}",
             f"CPU: {machine_line()}; flags: {' '.join(f for f in FLAGS if f in flags) or 'none of ' + ', '.join(FLAGS)}",
             *_openvino_lines(), "extras:", *_extras_lines()]
    return "\n".join(lines)


def _openvino_lines() -> list[str]:
    try:
        import openvino as ov
    except ImportError as e:  # the base install has it: a broken environment, said rather than raised
        return [f"OpenVINO: not importable ({e})"]
    core = ov.Core()
    lines = [f"OpenVINO {ov.__version__}"]
    for device in core.available_devices:
        name = core.get_property(device, "FULL_DEVICE_NAME")
        capabilities = ", ".join(core.get_property(device, "OPTIMIZATION_CAPABILITIES"))
        try:
            precision = str(core.get_property(device, "INFERENCE_PRECISION_HINT")).rsplit("'", 2)[-2]
        except (RuntimeError, IndexError):
            precision = "?"
        lines.append(f"  {device}: {name}; {capabilities}; inference precision by default: {precision}")
    return lines


def _extras_lines() -> list[str]:
    """Each extra's packages, with the installed version or 'missing'."""
    from importlib.metadata import PackageNotFoundError, version

    from ..utils.extras import declared_extras

    def installed(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "missing"

    extras = declared_extras()
    if not extras:
        return ["  (yolo-openvino is not installed: run from a checkout)"]
    return [f"  {extra}: {', '.join(f'{n} {installed(n)}' for n in names)}" for extra, names in extras.items()]
