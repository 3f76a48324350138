"""What a search has measured so far, in its run folder (``ledger.json``, written atomically after every step): an
interrupted or repeated run in the same folder reuses its exports, accuracies and timed rounds instead of redoing
them. A ledger of another model, dataset, fraction, device or machine kind is set aside, never mixed in."""

from __future__ import annotations

import json
import logging
from pathlib import Path

LOGGER = logging.getLogger("yolo_openvino")
LEDGER_FILE = "ledger.json"
VERSION = 1


class Ledger:
    """``identity``: what the figures are of (model file, data, fraction, device, CPU kind); ``variants``: key ->
    {path, metric, size_mb, export_s, score_s}; ``timings``: candidate key -> {rounds, grown_mb, precision};
    ``reference``: the metric every drop is measured from."""

    def __init__(self, folder: Path, identity: dict):
        self.path = Path(folder) / LEDGER_FILE
        self.identity = identity
        self.reference: float | None = None
        self.variants: dict[str, dict] = {}
        self.timings: dict[str, dict] = {}
        self.reused: list[str] = []  # what this run took from an earlier one (said in its log)

    @classmethod
    def open(cls, folder: Path, identity: dict) -> "Ledger":
        """The folder's ledger when it is of the same identity, else a fresh one (the old one said and replaced)."""
        ledger = cls(folder, identity)
        if not ledger.path.is_file():
            return ledger
        try:
            data = json.loads(ledger.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            LOGGER.warning("%s: unreadable (%s); measuring again", ledger.path, type(e).__name__)
            return ledger
        if data.get("version") != VERSION or data.get("identity") != identity:
            changed = sorted(k for k in {**identity, **(data.get("identity") or {})}
                             if identity.get(k) != (data.get("identity") or {}).get(k))
            LOGGER.warning("%s: measured for another %s; measuring again", ledger.path, ", ".join(changed) or "version")
            return ledger
        ledger.reference = data.get("reference")
        ledger.variants = {k: v for k, v in (data.get("variants") or {}).items()
                           if Path(v.get("path", "")).exists()}  # an export deleted since is made again
        ledger.timings = data.get("timings") or {}
        return ledger

    def save(self) -> None:
        from ..utils.files import write_text_atomic

        write_text_atomic(self.path, json.dumps({"version": VERSION, "identity": self.identity,
                                                 "reference": self.reference, "variants": self.variants,
                                                 "timings": self.timings}, indent=1))

    def note_reuse(self, what: str) -> None:
        self.reused.append(what)
