"""``yolo-ov``: the command line. Accepts ``key=value`` (as in ``yolo predict model=... source=...``) and ``--key value``.

    yolo-ov predict model=yolov8n.pt source=images/ save=True      (also: yolo-ov detect predict ...)
    yolo-ov export --model yolov8n.pt --format openvino --int8 True --data coco128.yaml
    yolo-ov val model=yolov8n_openvino_model/ data=coco128.yaml
    yolo-ov benchmark model=yolov8n.pt data=coco128.yaml imgsz=640
    yolo-ov benchmark model=yolov8n_openvino_model/ modes=True
    yolo-ov demo
    yolo-ov help [COMMAND]   |   yolo-ov --version

A user error (bad file, argument or dataset) is one line and exit code 2; ``--debug`` shows its traceback.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from ..errors import UsageError, suggestion
from ..options import COMMANDS, HELP
from ..utils.interrupts import Interrupted


# Imported names whose distribution is named otherwise (the rest are their distribution's own name).
_DISTRIBUTION_OF = {"multipart": "python-multipart", "python_multipart": "python-multipart", "cv2": "opencv-python"}


def extra_installing(module: str) -> str | None:
    """The extra that installs the top-level package ``module``; None if none does (then it is not an optional
    one)."""
    from ..utils.extras import declared_extras

    wanted = _DISTRIBUTION_OF.get(module, module).lower().replace("_", "-")
    return next((extra for extra, names in declared_extras().items()
                 if wanted in (n.lower().replace("_", "-") for n in names)), None)


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Show each argument's default, except where there is none (the help text says what happens then)."""

    def _get_help_string(self, action):
        if action.default is None or action.default is argparse.SUPPRESS or not action.option_strings:
            return action.help
        return f"{action.help} (default: {action.default})"


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="yolo-ov", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--verbose", action="store_true", help="debug logging")
    parser.add_argument("--debug", action="store_true", help="show the traceback of user errors too")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command, options in COMMANDS.items():
        p = sub.add_parser(command, help=HELP[command], description=HELP[command], formatter_class=_HelpFormatter)
        for o in options:
            p.add_argument(f"--{o.name}", default=o.default, help=o.help.replace("`", "").replace("%", "%%"),
                           metavar="VALUE")
    return parser


def _normalize_argv(argv: list[str]) -> list[str]:
    """``key=value`` -> ``--key value``; ``--max-det`` -> ``--max_det``; so both styles use one parser."""
    out = []
    for token in argv:
        if "=" in token and not token.startswith("-"):
            key, value = token.split("=", 1)
            out += [f"--{key}", value]
        elif token.startswith("--") and "=" in token:
            key, value = token.split("=", 1)
            out += [key, value]
        else:
            out.append(token)
    return ["--" + a[2:].replace("-", "_") if a.startswith("--") else a for a in out]


_FLAGS = {"--verbose", "--debug", "--version", "--help"}  # the command line's own switches: they take no value


def _reference_verbose(argv: list[str]) -> tuple[list[str], bool]:
    """The reference's ``verbose`` argument (``verbose=False`` quiets predict, track and val; ``verbose`` or
    ``verbose=True`` is their default), taken out of ``argv``; ``--verbose`` stays our debug-logging switch."""
    words = [a for a in argv if a == "verbose" or a.lower().startswith("verbose=")]
    quiet = any(a.split("=", 1)[1].lower() in ("false", "0", "no", "off") for a in words if "=" in a)
    return [a for a in argv if a not in words], quiet


def _check_unknown(argv: list[str]) -> None:
    """Fail early with a suggestion for a mistyped command or argument name."""
    words = [a for a in argv if a not in _FLAGS]
    if not words or words[0].startswith("-"):
        return
    command = words[0]
    if command not in COMMANDS:
        raise UsageError(f"unknown command '{command}'{suggestion(command, COMMANDS)}. Commands: {', '.join(COMMANDS)}")
    valid = {o.name for o in COMMANDS[command]} | {"help", "verbose", "debug"}
    for token in words[1:]:
        if token.startswith("--"):
            key = token[2:]
            if key not in valid:
                raise UsageError(f"{command}: unknown argument '{key}'{suggestion(key, valid)}. "
                                 f"See `yolo-ov {command} --help`.")


def _converted(command: str, raw: dict) -> dict:
    """CLI strings to checked values; 'none' / 'null' mean None (the default of most options)."""
    values = {}
    for o in COMMANDS[command]:
        value = raw[o.name]
        if isinstance(value, str) and value.strip().lower() in ("none", "null", ""):
            value = None
        values[o.name] = value if value is o.default else o.convert(value)
    return values


def _task_words() -> tuple[str, ...]:
    """The task words a command line may start with (``yolo-ov segment predict ...``): the registry's names."""
    from ..tasks import tasks

    return tuple(tasks())


def _habits(argv: list[str]) -> list[str]:
    """What Ultralytics users type: a task word before or after the mode (``yolo segment predict ...``, ``yolo val
    detect ...``; passed on as ``task=`` and checked against the model), ``help`` as a command, a bare boolean
    argument meaning ``=True`` (``yolo predict ... save show``)."""
    if len(argv) > 1 and argv[0] in COMMANDS and argv[1] in _task_words():
        argv = [argv[1], argv[0], *argv[2:]]
    words = [i for i, a in enumerate(argv) if not a.startswith("-")]
    if words and argv[words[0]] in _task_words():
        from ..tasks import task_named

        task = task_named(argv[words[0]], where="yolo-ov").name  # one line for a task we do not serve
        argv = argv[:words[0]] + argv[words[0] + 1:]
        command = next((a for a in argv if not a.startswith("-")), None)
        if command in COMMANDS and "task" in {o.name for o in COMMANDS[command]}:
            argv = [*argv, "--task", task]
        words = [i for i, a in enumerate(argv) if not a.startswith("-")]
    if words and argv[words[0]] == "help":
        rest = argv[words[0] + 1:]
        argv = (rest[:1] + ["--help"]) if rest and rest[0] in COMMANDS else ["--help"]
    return _bare_flags(argv)


def _bare_flags(argv: list[str]) -> list[str]:
    """``save`` -> ``--save True`` for each of the command's boolean arguments written bare (not a value)."""
    command = next((a for a in argv if not a.startswith("-")), None)
    if command not in COMMANDS:
        return argv
    switches = {o.name for o in COMMANDS[command] if o.kind == "bool"}
    out, value_next, seen_command = [], False, False
    for token in argv:
        if value_next:
            out.append(token)
            value_next = False
        elif token.startswith("--"):
            out.append(token)
            value_next = token not in _FLAGS
        elif token == command and not seen_command:
            out.append(token)
            seen_command = True
        elif token in switches:
            out += [f"--{token}", "True"]
        else:
            out.append(token)
    return out


def main(argv: list[str] | None = None) -> int:
    raw, quiet = _reference_verbose(list(sys.argv[1:] if argv is None else argv))
    argv = _normalize_argv(raw)
    debug = "--debug" in argv or bool(os.environ.get("YOLO_OV_DEBUG"))
    command = next((a for a in argv if not a.startswith("-")), None)
    if "--version" in argv or command == "version":  # `yolo-ov version`, as `yolo version`
        from ..version import __version__

        print(f"yolo-ov {__version__}")
        return 0
    try:
        if command == "settings" and not {"-h", "--help"} & set(raw):  # free-form words (reset, key=value)
            from .commands import settings

            return settings(raw[raw.index("settings") + 1:])
        argv = _habits(argv)
        command = next((a for a in argv if not a.startswith("-")), None)
        _check_unknown(argv)
        args = _build_parser().parse_args(argv)
        logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(message)s")
        if not args.command:
            _build_parser().print_help()
            return 0
        raw = {k: v for k, v in vars(args).items() if k not in ("command", "verbose", "debug", "version")}
        options = _converted(args.command, raw)
        if quiet and args.command in ("predict", "track", "val"):
            options["verbose"] = False
        return _run(args.command, options)
    except UsageError as e:
        if debug:
            raise
        print(f"yolo-ov{' ' + command if command in COMMANDS else ''}: error: {e}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as e:
        extra = extra_installing((e.name or "").split(".")[0])
        if extra is None or debug:
            raise  # not one of our optional packages: a bug, with its traceback
        print(f"yolo-ov{' ' + command if command in COMMANDS else ''}: error: this needs '{e.name}': "
              f"pip install \"yolo-openvino[{extra}]\"", file=sys.stderr)
        return 2
    except Interrupted as e:
        print(f"yolo-ov: interrupted ({e}); nothing was left half-written", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("yolo-ov: interrupted", file=sys.stderr)
        return 130


def _run(command: str, options: dict) -> int:
    from .commands import run

    return run(command, options)


if __name__ == "__main__":
    sys.exit(main())
