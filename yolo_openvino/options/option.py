"""The machinery of an option: its declaration (name, kind, default, range, help) and the conversion of a Python
or command-line value to its type, with a one-line error naming the option, the value and what is allowed."""

from __future__ import annotations

import ast
import json
import math
import os
from dataclasses import dataclass, replace
from typing import Any

from ..errors import UsageError

_TRUE, _FALSE = ("true", "yes", "on"), ("false", "no", "off")


@dataclass(frozen=True)
class Option:
    """One option. ``kind``: bool, int, float, str, choice, choices (a list of them), imgsz, sizes (square sizes,
    largest first), classes, layers (indices, as classes), streams, json or any.

    ``low``/``high`` bound numbers (inclusive); ``choices`` lists a choice's values; ``none`` allows None.
    """

    name: str
    kind: str
    default: Any
    help: str
    low: float | None = None
    high: float | None = None
    choices: tuple = ()
    none: bool = True

    def but(self, **changes) -> "Option":
        """This option as another command declares it: the same name, type and range, another default or help."""
        return replace(self, **changes)

    def convert(self, value, where: str = ""):
        """``value`` (Python, or a CLI string) as this option's type, or a UsageError saying what is allowed."""
        if value is None:
            if self.none or self.default is None:
                return None
            raise self._error(value, where)
        try:
            converted = _CONVERTERS[self.kind](self, value)
        except (TypeError, ValueError, SyntaxError):
            raise self._error(value, where) from None
        if self.kind in ("int", "float") and not self._in_range(converted):
            raise self._error(value, where)
        return converted

    def _in_range(self, number) -> bool:
        if isinstance(number, float) and math.isnan(number):
            return False
        return (self.low is None or number >= self.low) and (self.high is None or number <= self.high)

    def allowed(self) -> str:
        """What this option accepts, in words (for errors and the README)."""
        if self.kind == "choice":
            return "one of " + ", ".join(str(c) for c in self.choices)
        if self.kind == "choices":
            return "some of " + ", ".join(str(c) for c in self.choices) + " (comma-separated)"
        if self.kind in ("int", "float"):
            word = "an integer" if self.kind == "int" else "a number"
            if self.low is not None and self.high is not None:
                return f"{word} in [{_fmt(self.low)}, {_fmt(self.high)}]"
            return f"{word} >= {_fmt(self.low)}" if self.low is not None else word
        return {"bool": "True or False", "imgsz": "a positive size: 640 or h,w such as 480,640",
                "classes": "class ids: 0 or 0,2", "layers": "layer indices: 21 or 15,18,21", "sizes": "square sizes: 640 or 640,512,384", "streams": "a stream count >= 1 or AUTO",
                "json": "a dict (JSON on the command line)"}.get(self.kind, "a value")

    def _error(self, value, where: str) -> UsageError:
        prefix = f"{where}: " if where else ""
        shown = value if isinstance(value, str) else repr(value)
        return UsageError(f"{prefix}{self.name}={shown} is not valid: expected {self.allowed()}")


def _fmt(number) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


def _bool(opt, value):
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
        return value.strip().lower() in _TRUE
    raise ValueError(value)


def _int(opt, value):
    if isinstance(value, bool):
        raise TypeError(value)
    if isinstance(value, str):
        value = ast.literal_eval(value.strip())
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) and type(value).__name__ not in ("int64", "int32"):
        raise TypeError(value)
    return int(value)


def _float(opt, value):
    if isinstance(value, bool):
        raise TypeError(value)
    return float(value) if not isinstance(value, str) else float(value.strip())


def _choice(opt, value):
    text = str(value).strip().lower()
    aliases = {"fp32": "f32", "fp16": "f16"} if opt.name == "inference_precision" else {}
    text = aliases.get(text, text)
    if text not in opt.choices:
        raise ValueError(value)
    return text


def _imgsz(opt, value):
    if isinstance(value, str):
        value = [part for part in value.replace(" ", "").split(",") if part]
    sizes = [_int(opt, v) for v in (value if isinstance(value, (list, tuple)) else [value])]
    if len(sizes) not in (1, 2) or not all(1 <= s <= 8192 for s in sizes):
        raise ValueError(value)
    return sizes[0] if len(sizes) == 1 else tuple(sizes)


def _classes(opt, value):
    if isinstance(value, str):
        value = [part for part in value.replace(" ", "").split(",") if part]
    ids = [_int(opt, v) for v in (value if isinstance(value, (list, tuple)) else [value])]
    if not ids or any(i < 0 for i in ids):
        raise ValueError(value)
    return ids


def _sizes(opt, value):
    if isinstance(value, str):
        value = [part for part in value.replace(" ", "").split(",") if part]
    sizes = [_int(opt, v) for v in (value if isinstance(value, (list, tuple)) else [value])]
    if not sizes or not all(32 <= s <= 8192 for s in sizes):
        raise ValueError(value)
    return sorted(set(sizes), reverse=True)


def _choices(opt, value):
    if isinstance(value, str):
        value = [part for part in value.replace(" ", "").split(",") if part]
    picked = [_choice(opt, v) for v in (value if isinstance(value, (list, tuple)) else [value])]
    if not picked:
        raise ValueError(value)
    return list(dict.fromkeys(picked))


def _streams(opt, value):
    if isinstance(value, str) and value.strip().upper() == "AUTO":
        return "AUTO"
    count = _int(opt, value)
    if count < 1:
        raise ValueError(value)
    return count


def _json(opt, value):
    if isinstance(value, str):
        value = json.loads(value)
    if not isinstance(value, dict):
        raise TypeError(value)
    return value


def _str(opt, value):
    if isinstance(value, os.PathLike):  # pathlib.Path wherever a path is taken (tracker=, project=, data=, ...)
        return os.fspath(value)
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise TypeError(value)
    return str(value)


_CONVERTERS = {"bool": _bool, "int": _int, "float": _float, "choice": _choice, "imgsz": _imgsz, "classes": _classes,
               "layers": _classes,
               "streams": _streams, "json": _json, "sizes": _sizes, "choices": _choices, "str": _str, "any": lambda opt, value: value}


def _opt(name, kind, default, help, **limits) -> Option:
    return Option(name, kind, default, help, **limits)


