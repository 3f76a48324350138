"""Every user-facing option, declared once (``catalogue``) with its machinery (``option``).

The Python API checks its keyword arguments with :func:`check`, the CLI builds its parser from
:data:`COMMANDS`, and the reference's argument tables (docs/cli.md) are :func:`markdown_table` (a test keeps them
equal; ``python -m yolo_openvino.options`` prints them). A bad value is a
:class:`~yolo_openvino.errors.UsageError` naming the option, the value and what is allowed.
"""

from __future__ import annotations

from typing import Any

from ..errors import UnknownArgumentError, suggestion
from .catalogue import (BATCH, COMMANDS, DEFAULT_MAX_DET, DETECTION, HELP, NETWORK, OUTPUT, PER_REQUEST, RUNTIME,
                        SCALE, TRACKING)
from .option import Option

def names(group: tuple[Option, ...]) -> tuple[str, ...]:
    """The names of a group of options, in order: ``names(OUTPUT)`` -> ('save', 'save_txt', ...)."""
    return tuple(o.name for o in group)


RUNTIME_NAMES = names(RUNTIME)


def options_of(group: str) -> dict[str, Option]:
    """The options of a command (``predict``, ``export``, ...) or of ``runtime``, by name."""
    chosen = RUNTIME if group == "runtime" else COMMANDS[group]
    return {o.name: o for o in chosen}


def defaults(group: str) -> dict[str, Any]:
    return {name: o.default for name, o in options_of(group).items()}


def check(group: str, values: dict, where: str | None = None, extra: tuple[str, ...] = ()) -> dict:
    """Convert and check ``values`` against ``group``'s declarations; unknown names get a suggestion.

    ``extra`` names are accepted and passed through unchecked (internal arguments of the Python API).
    """
    declared = options_of(group)
    unknown = sorted(set(values) - set(declared) - set(extra))
    if unknown:
        hints = "; ".join(f"'{u}'{suggestion(u, declared)}" for u in unknown)
        raise UnknownArgumentError(f"unknown {where or group} argument(s): {hints}")
    where = where or group
    return {k: declared[k].convert(v, where) if k in declared else v for k, v in values.items()}


def split_runtime(values: dict) -> tuple[dict, dict]:
    """(runtime options that were given, the rest). A runtime option set to None is dropped."""
    runtime = {k: v for k, v in values.items() if k in RUNTIME_NAMES and v is not None}
    return runtime, {k: v for k, v in values.items() if k not in RUNTIME_NAMES}


def documented_groups() -> list[str]:
    """The commands whose argument tables docs/cli.md holds (every one with arguments but the demo), and ``runtime``."""
    return [c for c, options in COMMANDS.items() if c != "demo" and any(o.name != "model" for o in options)] + ["runtime"]


def table_skip(group: str) -> tuple[str, ...]:
    """What a group's table leaves out: the model, and the runtime options where it takes them (their own table)."""
    takes_runtime = group != "runtime" and set(RUNTIME_NAMES) <= set(options_of(group))
    return ("model",) + (tuple(RUNTIME_NAMES) if takes_runtime else ())


def markdown_table(group: str, skip: tuple[str, ...] = ("model",)) -> str:
    """The README table of a command's (or ``runtime``'s) options: | arg | default | meaning |."""
    lines = ["| arg | default | meaning |", "|---|---|---|"]
    for o in options_of(group).values():
        if o.name in skip:
            continue
        default = "–" if o.default is None else f"`{list(o.default) if isinstance(o.default, tuple) else o.default}`"
        lines.append(f"| {o.name} | {default} | {o.help} |")
    return "\n".join(lines)


__all__ = ["BATCH", "COMMANDS", "DEFAULT_MAX_DET", "DETECTION", "HELP", "NETWORK", "OUTPUT", "Option", "PER_REQUEST",
           "RUNTIME", "RUNTIME_NAMES", "SCALE", "TRACKING", "check", "defaults", "documented_groups",
           "markdown_table", "names", "options_of", "split_runtime", "table_skip"]
