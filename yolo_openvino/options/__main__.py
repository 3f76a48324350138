"""``python -m yolo_openvino.options``: the argument tables of docs/cli.md."""

from . import RUNTIME_NAMES, markdown_table

for command in ("export", "predict", "track", "runtime", "val", "benchmark", "serve"):
    skip = RUNTIME_NAMES if command in ("predict", "track", "val", "serve") else ()
    print(f"### {command}\n\n{markdown_table(command, skip=('model',) + skip)}\n")
