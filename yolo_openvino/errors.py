"""User errors: a bad file, argument or dataset. The CLI prints them as one line and exits with code 2.

Each also derives from the built-in exception a Python caller would expect (``ValueError``,
``TypeError``, ``FileNotFoundError``, ``NotImplementedError``), so ``except ValueError`` keeps working.
Anything else that escapes is a bug in yolo-openvino and keeps its traceback.
"""

from __future__ import annotations

import os


class UsageError(ValueError):
    """Something the user can fix; the message names the thing and the fix."""


class UnknownArgumentError(UsageError, TypeError):
    """An argument name that no command or function takes."""


class MissingFileError(UsageError, FileNotFoundError):
    """A file, folder or dataset that does not exist (or cannot be fetched)."""


class UnsupportedError(UsageError, NotImplementedError):
    """A model or option this version does not support yet."""


class CheckpointError(UsageError):
    """A checkpoint we refuse or cannot read; the message starts with the file's path."""


class OfflineError(MissingFileError):
    """A download was needed while YOLO_OFFLINE is set."""


def offline() -> bool:
    """True when the user asked for no network access (``YOLO_OFFLINE=1``, as Ultralytics users set it)."""
    return os.environ.get("YOLO_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def _edit_distance(a: str, b: str) -> int:
    """Optimal string alignment distance: a swap of two neighbours counts as one typo."""
    d = [[max(i, j) if min(i, j) == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[-1][-1]


def suggestion(name: str, valid) -> str:
    """' (did you mean 'x'?)' for the closest valid name, or '' when nothing is close."""
    import difflib  # here: only an error needs it

    close = difflib.get_close_matches(str(name), [str(v) for v in valid], n=5, cutoff=0.5)
    if not close:
        return ""
    best = min(close, key=lambda v: (_edit_distance(str(name), v), abs(len(v) - len(str(name))), close.index(v)))
    return f" (did you mean '{best}'?)"
