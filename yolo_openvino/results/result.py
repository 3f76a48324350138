"""Detection results: a small validated ``Detections`` and a per-image ``Result`` that can save itself."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

import numpy as np

from ..utils.arrays import Values, checked as _checked, values as _values
from .keypoints import Keypoints
from .masks import Masks
from .oriented import OrientedBoxes
from .probs import Probs


@dataclass
class Detections:
    """Boxes of one image, validated, with the attributes of Ultralytics' ``Results.boxes``.

    xyxy: (N, 4) float32 corners in original-image pixels; confidence: (N,) float32; class_id: (N,) int64;
    orig_shape: (h, w) of the image, for the normalised forms; track_id: (N,) int64 when tracking, else None.
    Arrays of any other shape are refused (never reshaped: 2 boxes with 3 scores is an error, not 3 boxes).
    Class names are the Result's.
    Iterating yields one-box ``Detections``; ``len()`` counts boxes; a boolean mask or indices select boxes.
    """

    xyxy: np.ndarray
    confidence: np.ndarray
    class_id: np.ndarray
    orig_shape: tuple[int, int] | None = None
    track_id: np.ndarray | None = None

    def __post_init__(self):
        self.xyxy = _values(_checked(self.xyxy, np.float32, (None, 4), "xyxy"))
        n = len(self.xyxy)
        self.confidence = _values(_checked(self.confidence, np.float32, (n,), "confidence"))
        self.class_id = _values(_checked(self.class_id, np.int64, (n,), "class_id"))
        if self.track_id is not None:
            self.track_id = _values(_checked(self.track_id, np.int64, (n,), "track_id"))
        if self.orig_shape is not None:
            self.orig_shape = (int(self.orig_shape[0]), int(self.orig_shape[1]))

    @classmethod
    def from_rows(cls, rows: np.ndarray, orig_shape: tuple[int, int] | None = None) -> "Detections":
        """From (N, 6) rows of x1, y1, x2, y2, score, class."""
        rows = _checked(rows, np.float32, (None, 6), "rows")
        return cls(rows[:, :4], rows[:, 4], rows[:, 5].round().astype(np.int64), orig_shape)

    def __len__(self) -> int:
        return len(self.xyxy)

    def __getitem__(self, index) -> "Detections":
        index = np.atleast_1d(np.arange(len(self))[index])
        return Detections(self.xyxy[index], self.confidence[index], self.class_id[index], self.orig_shape,
                          None if self.track_id is None else self.track_id[index])

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    # -- the attributes of Ultralytics' Boxes ------------------------------------------------------------------
    @property
    def conf(self) -> Values:
        """(N,) scores."""
        return self.confidence

    @property
    def cls(self) -> Values:
        """(N,) class ids as float32, as the reference gives them (``int(box.cls)`` works on one box)."""
        return _values(self.class_id.astype(np.float32))

    @property
    def id(self) -> Values | None:
        """(N,) int64 track ids when tracking (``model.track``), else None."""
        return self.track_id

    @property
    def is_track(self) -> bool:
        return self.track_id is not None

    @property
    def data(self) -> Values:
        """(N, 6) rows of x1, y1, x2, y2, conf, cls; when tracking (N, 7): x1, y1, x2, y2, id, conf, cls."""
        ids = [] if self.track_id is None else [self.track_id[:, None].astype(np.float32)]
        return _values(np.concatenate((self.xyxy, *ids, self.confidence[:, None], self.cls[:, None]), 1))

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self), 6 if self.track_id is None else 7)

    @property
    def xywh(self) -> Values:
        """(N, 4) centre x, centre y, width, height in pixels."""
        xy = (self.xyxy[:, :2] + self.xyxy[:, 2:]) / 2
        return _values(np.concatenate((xy, self.xyxy[:, 2:] - self.xyxy[:, :2]), 1))

    @property
    def xyxyn(self) -> Values:
        """(N, 4) corners divided by the image width and height."""
        return _values(self.xyxy / self._size())

    @property
    def xywhn(self) -> Values:
        """(N, 4) centre and size divided by the image width and height."""
        return _values(self.xywh / self._size())

    def _size(self) -> np.ndarray:
        if self.orig_shape is None:
            raise ValueError("normalised boxes need the image size: these Detections have no orig_shape")
        h, w = self.orig_shape
        return np.array([w, h, w, h], dtype=np.float32)

    def cpu(self) -> "Detections":
        """Already on the host (numpy): returns itself, so ``boxes.cpu().numpy()`` code runs unchanged."""
        return self

    def numpy(self) -> "Detections":
        return self


Boxes = Detections  # the reference's name for the same thing


PER_BOX = {"per_box": True}  # field metadata of the Result parts that hold one entry per box


def _per_box_fields() -> tuple[str, ...]:
    """The names of Result's per-box parts (masks, keypoints, oriented boxes), in declaration order."""
    return tuple(f.name for f in fields(Result) if f.metadata.get("per_box"))


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
    # a task's own parts, one per box (``PER_BOX``: selected with the boxes, checked against their count)
    masks: Masks | None = field(default=None, metadata=PER_BOX)  # segment (masks.py)
    keypoints: Keypoints | None = field(default=None, metadata=PER_BOX)  # pose: one set per box (keypoints.py)
    obb: OrientedBoxes | None = field(default=None, metadata=PER_BOX)  # oriented boxes (``boxes``: their enclosing)
    probs: Probs | None = None  # classify: the class probabilities (``boxes`` then empty)
    stream: int | None = None  # tracking several streams at once: the index of this frame's stream

    def __post_init__(self):
        self.orig_shape = (int(self.orig_shape[0]), int(self.orig_shape[1]))
        if self.boxes.orig_shape is None:  # a copy that knows the size: the caller's Detections stay as they were
            self.boxes = replace(self.boxes, orig_shape=self.orig_shape)
        elif self.boxes.orig_shape != self.orig_shape:
            raise ValueError(f"Result: boxes of a {self.boxes.orig_shape} image for a {self.orig_shape} image")
        for name in _per_box_fields():
            part = getattr(self, name)
            if part is not None and len(part) != len(self.boxes):
                raise ValueError(f"Result: {len(part)} {name} for {len(self.boxes)} boxes")

    def __len__(self) -> int:
        return len(self.boxes)

    def __getitem__(self, index) -> "Result":
        """The same image with only the boxes (and their masks, keypoints, oriented boxes) selected by ``index`` (as
        the reference's ``r[0]``)."""
        parts = {name: None if getattr(self, name) is None else getattr(self, name)[index]
                 for name in _per_box_fields()}
        return replace(self, boxes=self.boxes[index], **parts)

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
             labels: bool = True, boxes: bool = True) -> np.ndarray:
        """Annotated BGR copy of the image: boxes (oriented ones turned) with class name and confidence, masks,
        keypoints (see annotate.py)."""
        from .annotate import draw_boxes, draw_keypoints, draw_masks

        canvas = (image if image is not None else self.orig_img).copy()
        b = self.boxes
        if self.masks is not None:  # least confident first: the surest mask ends on top, as the boxes do
            order = np.argsort(b.confidence, kind="stable")
            draw_masks(canvas, self.masks.at_image_size()[order], b.class_id[order])
        if boxes:
            outlines = None if self.obb is None else self.obb.xyxyxyxy
            box_labels = self.labels if b.track_id is None else [f"id:{i} {n}" for i, n in zip(b.track_id, self.labels)]
            draw_boxes(canvas, b.xyxy, b.confidence, b.class_id, box_labels, line_width, conf, labels, outlines)
        if self.keypoints is not None:
            draw_keypoints(canvas, self.keypoints.data, line_width)
        if self.probs is not None and labels:
            from .annotate import draw_text_lines

            draw_text_lines(canvas, self._top5_lines(), line_width)
        return canvas

    def _top5_lines(self) -> list[str]:
        """``'rectangle 0.97'`` per class of the top-5, most probable first."""
        return [f"{self.label(c)} {self.probs.data[c]:.2f}" for c in self.probs.top5]

    def show(self, wait_ms: int = 0) -> None:
        """Show the annotated image in a window; waits for a key (``wait_ms=0``) or that many milliseconds."""
        from .annotate import show_image

        title = Path(self.path).name + (f" frame {self.frame}" if self.frame is not None else "")
        show_image(self.plot(), title, wait_ms)

    def save(self, filename: str | Path | None = None) -> str:
        """Write the annotated image (default ``results_<name>``); returns the path."""
        from ..utils.files import write_image

        name = Path(self.path).name if self.path != "array" else "image.jpg"
        filename = filename or f"results_{Path(name).stem}" + (f"_{self.frame}" if self.frame is not None else "") + \
            (Path(name).suffix or ".jpg")
        return str(write_image(filename, self.plot()))

    # -- text and tables ----------------------------------------------------------------------------------------------
    def to_yolo_txt(self, save_conf: bool = False) -> str:
        """Lines ``class cx cy w h [conf]`` normalised to the original image size, in the reference's forms: with
        masks ``class x1 y1 x2 y2 ... [conf]`` (each mask's outline), oriented boxes ``class x1 y1 ... x4 y4 [conf]``
        (the corners, DOTA's order), keypoints appended to the box as ``x y [visibility]`` per keypoint; when tracking,
        the track id last."""
        if self.probs is not None:  # the reference's classification lines: ``0.97 rectangle`` for the top-5
            return "".join(f"{self.probs.data[c]:.2f} {self.label(c)}\n" for c in self.probs.top5)
        lines = []
        if self.masks is not None:
            shapes = self.masks.xyn
        elif self.obb is not None:
            shapes = self.obb.xyxyxyxyn
        else:
            shapes = self.boxes.xywhn
        for i, (points, score, cid) in enumerate(zip(shapes, self.boxes.confidence, self.boxes.class_id)):
            numbers = [np.asarray(points).reshape(-1)]
            if self.keypoints is not None:
                k = self.keypoints
                numbers.append(np.concatenate((k.xyn[i], k.conf[i][:, None]), 1).reshape(-1) if k.has_visible
                               else k.xyn[i].reshape(-1))
            line = f"{int(cid)} " + " ".join(f"{v:.6f}" for v in np.concatenate(numbers))
            line += (f" {score:.5f}" if save_conf else "") + ("" if self.boxes.track_id is None else f" {self.boxes.track_id[i]}")
            lines.append(line)
        return "\n".join(lines) + ("\n" if lines else "")

    def save_txt(self, txt_file: str | Path, save_conf: bool = False) -> str:
        """Write the YOLO txt labels of this image (atomically, replacing the file); returns the path."""
        from ..utils.files import write_text_atomic

        return str(write_text_atomic(txt_file, self.to_yolo_txt(save_conf)))

    def summary(self, normalize: bool = False, decimals: int = 5) -> list[dict]:
        """One dict per box: name, class, confidence, box (x1, y1, x2, y2; divided by the size if ``normalize``), and
        track_id when tracking; for a classifier one per top-5 class: name, class, confidence."""
        if self.probs is not None:
            return [{"name": self.label(c), "class": c, "confidence": round(float(self.probs.data[c]), decimals)}
                    for c in self.probs.top5]
        xyxy = self.boxes.xyxyn if normalize else self.boxes.xyxy
        rows = [{"name": name, "class": int(c), "confidence": round(float(s), decimals),
                 "box": dict(zip(("x1", "y1", "x2", "y2"), (round(float(v), decimals) for v in box)))}
                for box, s, c, name in zip(xyxy, self.boxes.confidence, self.boxes.class_id, self.labels)]
        if self.boxes.track_id is not None:
            for row, track_id in zip(rows, self.boxes.track_id):
                row["track_id"] = int(track_id)
        if self.masks is not None:  # the reference's form: {"segments": {"x": [...], "y": [...]}}
            for row, points in zip(rows, self.masks.xyn if normalize else self.masks.xy):
                row["segments"] = {"x": np.round(points[:, 0], decimals).tolist(),
                                   "y": np.round(points[:, 1], decimals).tolist()}
        if self.obb is not None:  # the reference's form: the four corners x1, y1 ... x4, y4
            for row, points in zip(rows, self.obb.xyxyxyxyn if normalize else self.obb.xyxyxyxy):
                row["box"] = {f"{axis}{k}": round(float(points[k - 1, j]), decimals)
                              for k in range(1, 5) for j, axis in enumerate("xy")}
        if self.keypoints is not None:  # the reference's form: {"keypoints": {"x": [...], "y": [...], "visible": [...]}}
            k = self.keypoints
            for i, (row, points) in enumerate(zip(rows, k.xyn if normalize else k.xy)):
                row["keypoints"] = {"x": np.round(points[:, 0], decimals).tolist(),
                                    "y": np.round(points[:, 1], decimals).tolist()}
                if k.has_visible:
                    row["keypoints"]["visible"] = np.round(k.conf[i], decimals).tolist()
        return rows

    def verbose(self) -> str:
        """Counts per class in class-id order, pluralised: ``'2 persons, 1 bus, '``; ``'(no detections), '``; a
        classifier's top-5: ``'rectangle 0.97, ellipse 0.02, '``."""
        if self.probs is not None:
            return "".join(f"{line}, " for line in self._top5_lines())
        if not len(self):
            return "(no detections), "
        ids, counts = np.unique(self.boxes.class_id, return_counts=True)
        return "".join(f"{n} {self.label(c)}{'s' if n > 1 else ''}, " for c, n in zip(ids, counts))

    def to_df(self, normalize: bool = False, decimals: int = 5):
        """:meth:`summary` as a pandas DataFrame, one row per box (pandas is optional: ``pip install pandas``): the box
        as columns (x1 .. y4 for oriented boxes), outlines and keypoints as list-valued ``segments`` / ``keypoints``."""
        import pandas
        if self.probs is not None:
            return pandas.DataFrame(self.summary(normalize, decimals), columns=["name", "class", "confidence"])
        rows = [{"name": d["name"], "class": d["class"], "confidence": d["confidence"], **d["box"],
                 **{key: d[key] for key in ("track_id", "segments", "keypoints") if key in d}}
                for d in self.summary(normalize, decimals)]
        corners = [f"{axis}{k}" for k in range(1, 5) for axis in "xy"] if self.obb is not None else ["x1", "y1", "x2", "y2"]
        extra = [key for key in ("track_id", "segments", "keypoints") if key in rows[0]] if rows else (
            ["track_id"] if self.boxes.track_id is not None else [])
        return pandas.DataFrame(rows, columns=["name", "class", "confidence", *corners, *extra])

    def to_supervision(self):
        """A ``supervision.Detections`` (``pip install 'yolo-openvino[supervision]'``) with class names in ``data``."""
        import supervision as sv
        return sv.Detections(xyxy=np.asarray(self.boxes.xyxy), confidence=np.asarray(self.boxes.confidence),
                             class_id=np.asarray(self.boxes.class_id),
                             mask=None if self.masks is None else self.masks.at_image_size(),
                             data={"class_name": np.array(self.labels, dtype=str)})

    def to_dict(self) -> dict:
        detections = [{"box": [round(float(v), 2) for v in box], "confidence": round(float(score), 5),
                       "class_id": int(cid), "name": name}
                      for box, score, cid, name in zip(self.boxes.xyxy, self.boxes.confidence, self.boxes.class_id,
                                                       self.labels)]
        if self.boxes.track_id is not None:
            for detection, track_id in zip(detections, self.boxes.track_id):
                detection["track_id"] = int(track_id)
        if self.masks is not None:  # each mask's outline in original pixels: [[x, y], ...]
            for detection, points in zip(detections, self.masks.xy):
                detection["polygon"] = np.round(points, 1).tolist()
        if self.obb is not None:  # the oriented box: its corners [[x, y] x 4] and cx, cy, w, h, angle (radians)
            for detection, points, xywhr in zip(detections, self.obb.xyxyxyxy, self.obb.xywhr):
                detection["corners"] = np.round(points, 2).tolist()
                detection["xywhr"] = [round(float(v), 2) for v in xywhr[:4]] + [round(float(xywhr[4]), 5)]
        if self.keypoints is not None:  # [[x, y(, visibility)], ...] per box, original pixels
            for detection, points in zip(detections, self.keypoints.data):
                detection["keypoints"] = np.round(points, 3).tolist()
        out = {"path": self.path, "frame": self.frame, "orig_shape": list(self.orig_shape), "detections": detections,
               "speed": self.speed}
        if self.stream is not None:
            out["stream"] = self.stream
        if self.probs is not None:  # the top-5 with names, most probable first
            out["probs"] = [{"class_id": c, "name": self.label(c), "confidence": round(float(self.probs.data[c]), 5)}
                            for c in self.probs.top5]
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict())
