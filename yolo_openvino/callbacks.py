"""Callbacks, as the reference's: functions a user adds to a model for named events of predict (and track), val and
export, each called with the object it reads (``predictor.results``, ``predictor.batch``, ``validator.metrics``,
``exporter.file``). A callback may replace or drop ``predictor.results`` in ``on_predict_postprocess_end``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from .errors import UsageError, suggestion

EVENTS = ("on_predict_start", "on_predict_postprocess_end", "on_predict_batch_end", "on_predict_end",
          "on_val_start", "on_val_end", "on_export_start", "on_export_end")


class Callbacks:
    """Each event's functions, called in the order they were added."""

    def __init__(self):
        self.by_event: dict[str, list[Callable]] = {event: [] for event in EVENTS}

    def add(self, event: str, function: Callable) -> None:
        self._check(event)
        if not callable(function):
            raise UsageError(f"add_callback('{event}', ...): {function!r:.60} is not callable")
        self.by_event[event].append(function)

    def clear(self, event: str) -> None:
        self._check(event)
        self.by_event[event] = []

    def run(self, event: str, subject) -> None:
        for function in self.by_event[event]:
            function(subject)

    def __bool__(self) -> bool:
        return any(self.by_event.values())

    @staticmethod
    def _check(event: str) -> None:
        if event not in EVENTS:
            raise UsageError(f"unknown callback event '{event}'{suggestion(event, EVENTS)}; events: {', '.join(EVENTS)}")


@dataclass
class Predictor:
    """What predict's callbacks read, as the reference's predictor: ``model`` (the YOLO), ``args`` (the call's
    arguments), ``batch`` ((paths, images, infos) of the image at hand; an image is None where it was not kept),
    ``results`` (its Results), ``save_dir`` (where outputs go, when saving)."""

    model: Any
    args: dict
    batch: tuple = ((), (), ())
    results: list = field(default_factory=list)
    save_dir: Any = None


@dataclass
class Validator:
    """What val's callbacks read: ``model``, ``args``, and ``metrics`` once validation is done."""

    model: Any
    args: dict
    metrics: Any = None


@dataclass
class Exporter:
    """What export's callbacks read: ``model``, ``args``, and ``file`` (the written path) once exported."""

    model: Any
    args: dict
    file: Any = None


def called_back(results: Iterator, callbacks: Callbacks, predictor: Predictor) -> Iterator:
    """``results`` with predict's events fired around each: start, per result postprocess_end and batch_end (a
    callback's changes to ``predictor.results`` are what is yielded), end once all are through."""
    callbacks.run("on_predict_start", predictor)
    for result in results:
        predictor.batch = ([result.path], [result.image], [""])
        predictor.results = [result]
        callbacks.run("on_predict_postprocess_end", predictor)
        callbacks.run("on_predict_batch_end", predictor)
        yield from predictor.results
    callbacks.run("on_predict_end", predictor)
