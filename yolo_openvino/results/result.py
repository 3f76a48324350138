"""Detection results: a small validated ``Detections`` and a per-image ``Result`` that can save itself."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .boxes import Detections

if TYPE_CHECKING:  # the parts live in their tasks' folders, which build on this layer (never the other way)
    from ..tasks.classify.probs import Probs
    from ..tasks.obb.oriented import OrientedBoxes
    from ..tasks.pose.keypoints import Keypoints
    from ..tasks.segment.masks import Masks
    from .parts import BoxPart

Boxes = Detections  # the reference's name for the same thing


@dataclass
class Result:
    """Detections of one image (or video frame) with where it came from; the reference's ``Results`` API.

    ``names``: class id -> name. ``orig_img`` is the original BGR image: kept for arrays (the caller's own),
    else read again from the file (or the video frame) when first needed, so a list of results over a big
    folder does not hold every image.
    """

    path: str
    orig_shape: tuple[int, int]
    boxes: Detections
    names: dict[int, str] = field(default_factory=dict)
    image: np.ndarray | None = None  # the original BGR image (H, W, 3) when kept; see ``orig_img``
    frame: int | None = None
    speed: dict[str, float] = field(default_factory=dict)  # ms per image: preprocess, inference, postprocess
    latency_ms: float | None = None  # wall time from starting to read this input to its result (queueing included)
    # a task's own parts, one entry per box (parts.BoxPart: selected with the boxes, checked against their count,
    # drawn and written by their own methods); each declared in its task's folder (Task.part)
    # (the reference's names, its Results' attributes; a task of another kind puts its own in ``extra_parts``)
    masks: Masks | None = field(default=None, metadata={"per_box": True})  # segment: tasks/segment/masks.py
    keypoints: Keypoints | None = field(default=None, metadata={"per_box": True})  # pose: tasks/pose/keypoints.py
    obb: OrientedBoxes | None = field(default=None, metadata={"per_box": True})  # tasks/obb (boxes: enclosing)
    probs: Probs | None = None  # classify: the class probabilities (``boxes`` then empty)
    stream: int | None = None  # tracking several streams at once: the index of this frame's stream
    extra_parts: dict[str, BoxPart] = field(default_factory=dict)  # a registered task's own kind, by its FIELD
    save_dir: str | None = None  # the run folder predict saved this result into (the reference's attribute)

    def __getattr__(self, name: str):
        """A registered task's own part by its name (``result.<FIELD>``), as the reference's parts are read."""
        extra = self.__dict__.get("extra_parts") or {}
        if name in extra:
            return extra[name]
        raise AttributeError(f"'Result' object has no attribute '{name}'")

    def __post_init__(self):
        self.orig_shape = (int(self.orig_shape[0]), int(self.orig_shape[1]))
        if self.boxes.orig_shape is None:  # a copy that knows the size: the caller's Detections stay as they were
            self.boxes = replace(self.boxes, orig_shape=self.orig_shape)
        elif self.boxes.orig_shape != self.orig_shape:
            raise ValueError(f"Result: boxes of a {self.boxes.orig_shape} image for a {self.orig_shape} image")
        for part in self.parts():
            if len(part) != len(self.boxes):
                raise ValueError(f"Result: {len(part)} {part.FIELD or type(part).__name__} for {len(self.boxes)} boxes")

    def __len__(self) -> int:
        """Boxes found; a classifier's: its classes (the reference's ``len`` of a result with ``probs``)."""
        return len(self.probs.data) if self.probs is not None else len(self.boxes)

    def __getitem__(self, index) -> "Result":
        """The same image with only the boxes (and their masks, keypoints, oriented boxes) selected by ``index`` (as
        the reference's ``r[0]``)."""
        parts = {name: None if getattr(self, name) is None else getattr(self, name)[index]
                 for name in _PART_FIELDS}
        extra = {name: part[index] for name, part in self.extra_parts.items()}
        return replace(self, boxes=self.boxes[index], **parts, extra_parts=extra)

    def parts(self) -> list:
        """The per-box parts this Result has (parts.BoxPart: masks, keypoints, oriented boxes, a registered task's own),
        in field order."""
        declared = [getattr(self, name) for name in _PART_FIELDS if getattr(self, name) is not None]
        return declared + list(self.extra_parts.values())

    def label(self, class_id) -> str:
        """The name of ``class_id`` (its number as text where the model has no name for it)."""
        return self.names.get(int(class_id), str(int(class_id)))

    @property
    def labels(self) -> list[str]:
        """(N,) class names of the boxes, in box order."""
        return [self.label(c) for c in self.boxes.class_id]

    def cpu(self) -> "Result":
        return self

    def numpy(self) -> "Result":
        return self

    # -- the image -----------------------------------------------------------------------------------------------
    @property
    def orig_img(self) -> np.ndarray:
        """(H, W, 3) uint8 BGR original: kept, or read again from the file or video frame."""
        if self.image is None:
            from ..utils.files import read_again

            self.image = read_again(self.path, self.frame)
        return self.image

    def plot(self, image: np.ndarray | None = None, line_width: int | None = None, conf: bool = True,
             labels: bool = True, boxes: bool = True, pil: bool = False, save: bool = False,
             filename: str | Path | None = None, font_size: float | None = None, masks: bool = True,
             probs: bool = True, kpt_radius: int | None = None, kpt_line: bool = True, color_mode: str = "class",
             **unused):
        """Annotated BGR copy of the image: boxes (oriented ones turned) with class name and confidence, masks,
        keypoints, a classifier's top-5 (``annotate.draw_result``), styled as the reference's arguments say
        (``annotate.Style``: line width, font size in pixels, what is drawn, keypoint radius and skeleton, colours by
        ``class`` or ``instance``). ``pil`` returns a PIL image (RGB), ``save`` writes it (to ``filename``, default
        ``results_<name>``), ``show`` shows it; ``img`` is the reference's name for ``image``. Its ``font``,
        ``im_gpu`` and ``txt_color`` are accepted, not used."""
        from .annotate import Style, draw_result

        image = unused.get("img") if image is None else image
        style = Style(line_width, font_size, conf, labels, boxes, masks, probs, kpt_radius, kpt_line, color_mode)
        canvas = draw_result(self, (image if image is not None else self.orig_img).copy(), style)
        if unused.get("show"):
            from .annotate import show_image

            show_image(canvas, Path(self.path).name)
        if save:
            self._write_plot(canvas, filename)
        if pil:
            from PIL import Image

            return Image.fromarray(np.ascontiguousarray(canvas[:, :, ::-1]))
        return canvas

    def _write_plot(self, canvas: np.ndarray, filename: str | Path | None) -> Path:
        from ..utils.files import write_image

        name = Path(self.path).name if self.path != "array" else "image.jpg"
        filename = filename or f"results_{Path(name).stem}" + (f"_{self.frame}" if self.frame is not None else "") + \
            (Path(name).suffix or ".jpg")
        return write_image(filename, canvas)

    def show(self, wait_ms: int = 0) -> None:
        """Show the annotated image in a window; waits for a key (``wait_ms=0``) or that many milliseconds."""
        from .annotate import show_image

        title = Path(self.path).name + (f" frame {self.frame}" if self.frame is not None else "")
        show_image(self.plot(), title, wait_ms)

    def save(self, filename: str | Path | None = None, **plot_args) -> str:
        """Write the annotated image (default ``results_<name>``); returns the path."""
        return str(self._write_plot(self.plot(**plot_args), filename))

    def save_crop(self, save_dir: str | Path, file_name: str | Path = "im.jpg") -> list[str]:
        """Each box's crop of the original image as ``save_dir/<class name>/<file_name>.jpg`` (``im2.jpg``, ... when
        taken), as the reference's; an oriented box's enclosing box; none for a classifier. Returns the paths."""
        from ..utils.files import write_image

        if self.probs is not None:
            return []
        image, written = self.orig_img, []
        h, w = image.shape[:2]
        for box, class_id in zip(self.boxes.xyxy, self.boxes.class_id):
            x1, y1 = max(int(box[0]), 0), max(int(box[1]), 0)
            x2, y2 = min(int(np.ceil(box[2])), w), min(int(np.ceil(box[3])), h)
            if x2 <= x1 or y2 <= y1:
                continue
            folder = Path(save_dir) / self.label(class_id)
            target, n = folder / Path(file_name).with_suffix(".jpg").name, 2
            while target.exists():
                target, n = folder / f"{Path(file_name).stem}{n}.jpg", n + 1
            written.append(str(write_image(target, image[y1:y2, x1:x2])))
        return written

    # -- the reference's Results methods --------------------------------------------------------------------------
    def new(self) -> "Result":
        """The same image with no detections (its path, names and size kept)."""
        empty = Detections(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int64),
                           self.orig_shape)
        return replace(self, boxes=empty, masks=None, keypoints=None, obb=None, probs=None, extra_parts={},
                       speed=dict(self.speed))

    def update(self, boxes=None, **parts) -> None:
        """Replace parts as the reference's ``update``: ``boxes`` (N, 6) x1, y1, x2, y2, conf, cls in pixels, and by
        the part's name what its class reads (``from_reference``): ``obb`` (N, 7) cx, cy, w, h, angle, conf, cls,
        ``masks`` (N, H, W) planes over the whole image, ``probs`` (nc,). New boxes drop the old per-box parts."""
        no_parts = {**{name: None for name in _PART_FIELDS}, "extra_parts": {}}
        fields = {}
        if boxes is not None:
            rows = np.asarray(boxes, np.float32).reshape(-1, 6).copy()
            rows[:, [0, 2]] = rows[:, [0, 2]].clip(0, self.orig_shape[1])
            rows[:, [1, 3]] = rows[:, [1, 3]].clip(0, self.orig_shape[0])
            fields.update(no_parts, boxes=Detections.from_rows(rows, self.orig_shape))
        given = {name: value for name, value in parts.items() if value is not None}
        read, enclosing = _reference_parts(given, self.orig_shape, "Result.update")
        if enclosing is not None:  # new boxes: the old per-box parts go with the old ones
            fields.update(no_parts, boxes=enclosing)
        fields.update(read)
        updated = replace(self, **fields)
        self.__dict__.update(updated.__dict__)

    def to(self, *args, **kwargs) -> "Result":
        """Already numpy on the host: returns itself (the reference moves tensors to a device)."""
        return self

    # -- text and tables ----------------------------------------------------------------------------------------------
    def to_yolo_txt(self, save_conf: bool = False) -> str:
        """Lines ``class cx cy w h [conf]`` normalised to the original image size, in the reference's forms
        (``writing.yolo_txt``)."""
        from .writing import yolo_txt

        return yolo_txt(self, save_conf)

    def save_txt(self, txt_file: str | Path, save_conf: bool = False) -> str:
        """Write the YOLO txt labels of this image (atomically, replacing the file); returns the path."""
        from ..utils.files import write_text_atomic

        return str(write_text_atomic(txt_file, self.to_yolo_txt(save_conf)))

    def summary(self, normalize: bool = False, decimals: int = 5) -> list[dict]:
        """One dict per box, as the reference's (``writing.summary``); a classifier's: one per top-5 class."""
        from .writing import summary

        return summary(self, normalize, decimals)

    def verbose(self) -> str:
        """Counts per class in class-id order, pluralised: ``'2 persons, 1 bus, '``; ``'(no detections), '``; a
        classifier's top-5: ``'rectangle 0.97, ellipse 0.02, '``."""
        if self.probs is not None:
            from .writing import top5_lines

            return "".join(f"{line}, " for line in top5_lines(self))
        if not len(self):
            return "(no detections), "
        ids, counts = np.unique(self.boxes.class_id, return_counts=True)
        return "".join(f"{n} {self.label(c)}{'s' if n > 1 else ''}, " for c, n in zip(ids, counts))

    def to_df(self, normalize: bool = False, decimals: int = 5):
        """:meth:`summary` as a pandas DataFrame, one row per box (``pip install pandas``; ``writing.to_df``)."""
        from .writing import to_df

        return to_df(self, normalize, decimals)

    def to_supervision(self):
        """A ``supervision.Detections`` (``pip install 'yolo-openvino[supervision]'``) with class names in ``data``."""
        from .writing import to_supervision

        return to_supervision(self)

    def to_dict(self) -> dict:
        """Our JSON form: path, frame, size, speed and one dict per detection (``writing.to_dict``)."""
        from .writing import to_dict

        return to_dict(self)

    def to_json(self, normalize: bool = False, decimals: int = 5) -> str:
        """:meth:`summary` as JSON, as the reference's ``to_json`` (our fuller form, the service's answer, is
        :meth:`to_dict`)."""
        return json.dumps(self.summary(normalize, decimals))

    def to_csv(self, normalize: bool = False, decimals: int = 5) -> str:
        """:meth:`to_df` as CSV text, one row per box (pandas is optional: ``pip install pandas``)."""
        return self.to_df(normalize, decimals).to_csv(index=False)


# The names of Result's per-box part fields, read once: every Result checks and selects them (the path of every image).
_PART_FIELDS = tuple(f.name for f in fields(Result) if f.metadata.get("per_box"))



def Results(orig_img, path, names, boxes=None, masks=None, probs=None, keypoints=None, obb=None,  # noqa: N802
            speed=None) -> Result:
    """A ``Result`` built as the reference's ``Results(orig_img, path, names, boxes=, masks=, probs=, keypoints=,
    obb=)`` constructor is called, from arrays or tensors of its layouts: ``boxes`` (N, 6) x1, y1, x2, y2, conf, cls,
    or (N, 7) with the track id before conf; and each part as its class reads it (``from_reference``): ``obb``
    (N, 7) cx, cy, w, h, angle, conf, cls (or (N, 8) with the id), ``masks`` (N, H, W) planes over the whole image,
    ``keypoints`` (N, K, 2 or 3) in pixels, ``probs`` (nc,). ``orig_img`` (H, W, 3) BGR."""
    image = np.asarray(orig_img)
    shape = image.shape[:2]
    names = dict(enumerate(names)) if isinstance(names, (list, tuple)) else dict(names)
    detections = Detections(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int64), shape)
    if boxes is not None:
        rows = _array(boxes).astype(np.float32)
        rows = rows.reshape(-1, rows.shape[-1] if rows.size else 6)
        if rows.shape[1] not in (6, 7):
            raise ValueError(f"Results: boxes of {rows.shape[1]} values per row, expected 6 or 7")
        track = rows[:, 4].round().astype(np.int64) if rows.shape[1] == 7 else None
        detections = Detections(rows[:, :4], rows[:, -2], rows[:, -1].round().astype(np.int64), shape, track)
    given = {name: value for name, value in dict(masks=masks, probs=probs, keypoints=keypoints, obb=obb).items()
             if value is not None}
    fields, enclosing = _reference_parts(given, shape, "Results")
    return Result(str(path), shape, enclosing if enclosing is not None else detections, names=names, image=image,
                  speed=dict(speed or {}), **fields)


def _reference_parts(given: dict, shape: tuple[int, int], where: str) -> tuple[dict, Detections | None]:
    """Each part of ``given`` (its name -> the reference's layout, an array or tensor) read by its own class
    (``from_reference``), and the boxes enclosing a part with its own geometry (oriented boxes), else None."""
    from ..tasks import part_classes

    classes = {part.FIELD: part for part in part_classes()}
    fields, enclosing = {}, None
    for name, value in given.items():
        if not hasattr(classes.get(name), "from_reference"):
            raise TypeError(f"{where}() got an unexpected keyword argument '{name}'")
        part = fields[name] = classes[name].from_reference(_array(value), shape)
        if hasattr(part, "xyxy"):
            enclosing = Detections(part.xyxy, part.conf, part.class_id, shape, part.track_id)
    return fields, enclosing


def _array(value) -> np.ndarray:
    """A numpy array of an array or a tensor (on any device)."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return np.asarray(value)
