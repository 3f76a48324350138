"""The tasks we serve, one declared entry each (timm's registry, torchvision's Weights enums): the checkpoint
class and head blocks that mean it, its outputs and their layout, how raw outputs become a Result's fields, and
the metric it is scored by. The loader, the metadata reader, the backends, the predictor, the exporters and
validation ask this table; no module outside ``tasks/`` tests a task's name.

Adding a task is one new folder here (its entry, label reader and Result part) and one line in ``_entries``, plus its
head blocks in ``model/blocks.py`` when the network is new; CONTRIBUTING.md has the recipe.
"""

from __future__ import annotations

from ..errors import UnsupportedError
from .task import DEFAULT_TASK, SCORE_KINDS, SCORE_LABELS, Task

# Tasks of the reference that a file may name and we do not run (yet); anything else is unknown. Both refused.
NOT_SUPPORTED = ("world", "yoloe", "rtdetr", "semantic", "depth")
MODEL_CLASSES_NOT_SUPPORTED = {"WorldModel": "world", "YOLOEModel": "yoloe", "YOLOESegModel": "yoloe",
                               "RTDETRDetectionModel": "rtdetr"}


# Entries registered at run time (``register``): a plug-in's task, or a test's throwaway one.
_REGISTERED: list[Task] = []


def _entries() -> tuple[Task, ...]:
    from .classify import CLASSIFY
    from .detect import DETECT
    from .obb import OBB
    from .pose import POSE
    from .segment import SEGMENT

    return (DETECT, SEGMENT, POSE, OBB, CLASSIFY, *_REGISTERED)


def register(task: Task) -> Task:
    """Serve ``task`` too: every job asks the registry, so predict, export, val, track and the Ray rows run it.
    A name or model class already served is refused (a typo would otherwise shadow a task)."""
    taken = {t.name for t in _entries()} | {t.model_class for t in _entries()}
    if task.name in taken or task.model_class in taken:
        raise ValueError(f"register: a task named '{task.name}' or of model class '{task.model_class}' is served")
    _REGISTERED.append(task)
    return task


def unregister(name: str) -> None:
    """Stop serving a task added by ``register``."""
    _REGISTERED[:] = [t for t in _REGISTERED if t.name != name]


def tasks() -> dict[str, Task]:
    """Every task we serve, by name."""
    return {task.name: task for task in _entries()}


def task_named(name: str | None, where: str = "model") -> Task:
    """The task called ``name`` (None: detect, as files of older exports say nothing); one line for any other."""
    table = tasks()
    name = name or DEFAULT_TASK
    if name in table:
        return table[name]
    known = f"supported: {', '.join(table)}"
    if name in NOT_SUPPORTED:
        raise UnsupportedError(f"{where}: a '{name}' model, which is not supported yet ({known})")
    raise UnsupportedError(f"{where}: unknown task '{name!s:.40}' ({known})")


def task_of_model_class(class_name: str, where: str = "model") -> Task:
    """The task of a checkpoint's model class (YOLOModel, SegmentationModel, ...); one line for any other."""
    for task in _entries():
        if task.model_class == class_name:
            return task
    return task_named(MODEL_CLASSES_NOT_SUPPORTED.get(class_name, class_name), where)


def part_classes() -> tuple[type, ...]:
    """The classes of what the served tasks add to a Result (masks, keypoints, oriented boxes, probs, a registered
    task's own), first served first; the Ray rows have a column for each per-box one."""
    return tuple(dict.fromkeys(task.part() for task in _entries() if task.part is not None))


def part_class(field: str) -> type:
    """The part class read as ``result.<field>`` (``obb`` -> OrientedBoxes)."""
    return next(part for part in part_classes() if part.FIELD == field)


def task_of_head(block: str) -> Task:
    """The task whose head block ``block`` is (Detect, Segment, Segment26, Pose, OBB26, ...)."""
    return next(task for task in _entries() if block in task.heads)


__all__ = ["DEFAULT_TASK", "SCORE_KINDS", "SCORE_LABELS", "Task", "part_class", "part_classes", "register", "tasks", "task_named",
           "task_of_model_class", "task_of_head", "unregister"]
