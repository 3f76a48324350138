"""Tracker settings: the reference's yaml files (``bytetrack.yaml``, ``botsort.yaml``) and keys, checked.

``tracker="bytetrack.yaml"`` names a built-in file (``track/cfg/``); any other value is a path to a user's
own yaml. A key we do not know (a typo) or a value out of range is one line naming it, never a silent default.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

from ..errors import MissingFileError, UnsupportedError, UsageError, suggestion

BUILT_IN = Path(__file__).parent / "cfg"


@dataclass(frozen=True)
class TrackerConfig:
    """One tracker's settings (defaults: the reference's ``bytetrack.yaml`` and ``botsort.yaml``)."""

    tracker_type: str = "bytetrack"  # bytetrack | botsort
    track_high_thresh: float = 0.25  # first association: detections scoring at least this
    track_low_thresh: float = 0.1  # second association: detections scoring above this, below the high one
    new_track_thresh: float = 0.25  # an unmatched detection starts a track when it scores at least this
    track_buffer: int = 30  # frames (at 30 fps) a lost track is kept before it is removed
    match_thresh: float = 0.8  # largest cost (1 - IoU, score-weighted with fuse_score) of a first-stage match
    fuse_score: bool = True  # weight the IoU by the detection's score before matching
    gmc_method: str = "sparseOptFlow"  # botsort's camera-motion compensation: sparseOptFlow | none
    proximity_thresh: float = 0.5  # re-identification's keys: accepted, unused (with_reid must be False)
    appearance_thresh: float = 0.8
    with_reid: bool = False
    model: str = "auto"

    @property
    def motion_compensation(self) -> bool:
        return self.tracker_type == "botsort" and self.gmc_method.lower() != "none"


_CHOICES = {"tracker_type": ("bytetrack", "botsort"), "gmc_method": ("sparseOptFlow", "none")}


def tracker_file(tracker) -> Path:
    """The yaml ``tracker`` names: a built-in (``bytetrack.yaml``, ``botsort.yaml``, with or without ``.yaml``) or a
    user's file."""
    text = str(tracker)
    built_in = BUILT_IN / (text if text.endswith((".yaml", ".yml")) else f"{text}.yaml")
    if Path(text).is_file():
        return Path(text)
    if "/" not in text and "\\" not in text and built_in.is_file():
        return built_in
    choices = ", ".join(sorted(p.name for p in BUILT_IN.glob("*.yaml")))
    raise MissingFileError(f"tracker={text}: no such file; pass {choices} or the path of your own tracker yaml")


def load_tracker_config(tracker="bytetrack.yaml") -> TrackerConfig:
    """The checked settings of ``tracker`` (a name, a path, or a dict of keys)."""
    import yaml

    if isinstance(tracker, TrackerConfig):
        return tracker
    if isinstance(tracker, dict):
        return tracker_config(tracker, "tracker")
    path = tracker_file(tracker)
    try:
        values = yaml.safe_load(path.read_text()) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as e:
        raise UsageError(f"{path}: not a readable tracker yaml ({type(e).__name__}); fix it or pass bytetrack.yaml") from None
    if not isinstance(values, dict):
        raise UsageError(f"{path}: a tracker yaml is a mapping of keys (tracker_type: bytetrack, ...)")
    return tracker_config(values, str(path))


def tracker_config(values: dict, where: str) -> TrackerConfig:
    """``values`` (a yaml's keys) checked into a TrackerConfig; one line naming the first bad key or value."""
    known = {f.name: f for f in fields(TrackerConfig)}
    for key in values:
        if key not in known:
            raise UsageError(f"{where}: unknown tracker key '{key}'{suggestion(key, known)}")
    kind = values.get("tracker_type")
    if kind is None:
        raise UsageError(f"{where}: tracker_type is missing: add tracker_type: bytetrack (or botsort)")
    checked = {key: _checked(key, value, known[key].type, where) for key, value in values.items()}
    if checked.get("with_reid"):
        raise UnsupportedError(f"{where}: with_reid: True is not supported (re-identification needs an appearance "
                               "model): set with_reid: False")
    config = TrackerConfig(**checked)
    if config.track_low_thresh > config.track_high_thresh:
        raise UsageError(f"{where}: track_low_thresh {config.track_low_thresh} is above track_high_thresh "
                         f"{config.track_high_thresh}: the low threshold must not exceed the high one")
    return config


def _checked(key: str, value, kind: str, where: str):
    """One value as its field's type, in range, or a UsageError naming the key and what it accepts."""
    def bad(expected: str) -> UsageError:
        return UsageError(f"{where}: {key}: {value!r} is not valid: expected {expected}")

    if key in _CHOICES:
        match = next((c for c in _CHOICES[key] if str(value).lower() == c.lower()), None)
        if match is None:
            raise bad("one of " + ", ".join(_CHOICES[key]))
        return match
    if kind == "bool":
        if not isinstance(value, bool):
            raise bad("True or False")
        return value
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise bad("an integer >= 1")
        return value
    if kind == "float":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
            raise bad("a number in [0, 1]")
        return float(value)
    if not isinstance(value, str):
        raise bad("a string")
    return value
