"""The command line, ``yolo-ov``: parsing and one-line errors (``app``), each subcommand (``commands``), the demo."""

from .app import main

__all__ = ["main"]
