"""``python -m yolo_openvino.options``: the argument tables of docs/cli.md."""

from . import documented_groups, markdown_table, table_skip

for command in documented_groups():
    print(f"### {command}\n\n{markdown_table(command, skip=table_skip(command))}\n")
