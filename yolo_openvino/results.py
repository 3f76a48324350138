"""Detection results: a small validated ``Detections`` and a per-image ``Result`` that can save itself."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from .masks import Masks


class Values(np.ndarray):
    """A numpy array that, holding one element, converts to ``int`` and ``float`` as a torch tensor does.

    Ultralytics code iterates boxes and writes ``int(box.cls)``, ``float(box.conf)`` or ``box.cls[0]``; numpy
    2 refuses ``int()`` of a (1,) array, so one-box views return these. Everything else is plain numpy.
    """

    def _scalar(self):
        if self.size != 1:
            raise TypeError(f"only one-element arrays convert to a Python number, this one has shape {self.shape}")
        return self.reshape(-1)[0].item()

    def __int__(self) -> int:
        return int(self._scalar())

    def __float__(self) -> float:
        return float(self._scalar())


def _values(array: np.ndarray) -> Values:
    return np.asarray(array).view(Values)


@dataclass
class Detections:
    """Boxes of one image, validated, with the attributes of Ultralytics' ``Results.boxes``.

    xyxy: (N, 4) float32 corners in original-image pixels; confidence: (N,) float32; class_id: (N,) int64;
    orig_shape: (h, w) of the image, for the normalised forms. Arrays of any other shape are refused (never
    reshaped: 2 boxes with 3 scores is an error, not 3 boxes). Class names are the Result's.
    Iterating yields one-box ``Detections``; ``len()`` counts boxes; a boolean mask or indices select boxes.
    """

    xyxy: np.ndarray
    confidence: np.ndarray
    class_id: np.ndarray
    orig_shape: tuple[int, int] | None = None

    def __post_init__(self):
        self.xyxy = _values(_checked(self.xyxy, np.float32, (None, 4), "xyxy"))
        n = len(self.xyxy)
        self.confidence = _values(_checked(self.confidence, np.float32, (n,), "confidence"))
        self.class_id = _values(_checked(self.class_id, np.int64, (n,), "class_id"))
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
        return Detections(self.xyxy[index], self.confidence[index], self.class_id[index], self.orig_shape)

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
    def id(self) -> None:
        """Track ids: none, there is no tracker."""
        return None

    is_track = False

    @property
    def data(self) -> Values:
        """(N, 6) rows of x1, y1, x2, y2, conf, cls."""
        return _values(np.concatenate((self.xyxy, self.confidence[:, None], self.cls[:, None]), 1))

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self), 6)

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


def _checked(array, dtype, shape: tuple, name: str) -> np.ndarray:
    """``array`` as ``dtype`` if its shape is ``shape`` (None: any length), else a ValueError naming it."""
    array = np.asarray(array, dtype=dtype)
    if array.ndim != len(shape) or any(want is not None and got != want for got, want in zip(array.shape, shape)):
        expected = "(" + ", ".join("N" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"
        raise ValueError(f"Detections: {name} has shape {array.shape}, expected {expected}")
    return array


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
    masks: Masks | None = None  # segment: one per box (masks.py), else None

    def __post_init__(self):
        self.orig_shape = (int(self.orig_shape[0]), int(self.orig_shape[1]))
        if self.boxes.orig_shape is None:  # a copy that knows the size: the caller's Detections stay as they were
            self.boxes = replace(self.boxes, orig_shape=self.orig_shape)
        elif self.boxes.orig_shape != self.orig_shape:
            raise ValueError(f"Result: boxes of a {self.boxes.orig_shape} image for a {self.orig_shape} image")
        if self.masks is not None and len(self.masks) != len(self.boxes):
            raise ValueError(f"Result: {len(self.masks)} masks for {len(self.boxes)} boxes")

    def __len__(self) -> int:
        return len(self.boxes)

    def __getitem__(self, index) -> "Result":
        """The same image with only the boxes (and their masks) selected by ``index`` (as the reference's ``r[0]``)."""
        return replace(self, boxes=self.boxes[index], masks=None if self.masks is None else self.masks[index])

    @property
    def detections(self) -> Detections:
        return self.boxes

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
            from .io_utils import read_again

            self.image = read_again(self.path, self.frame)
        return self.image

    def plot(self, image: np.ndarray | None = None, line_width: int | None = None, conf: bool = True,
             labels: bool = True, boxes: bool = True) -> np.ndarray:
        """Annotated BGR copy of the image: boxes with class name and confidence (see annotate.py)."""
        from .annotate import draw_boxes

        from .annotate import draw_masks

        canvas = (image if image is not None else self.orig_img).copy()
        b = self.boxes
        if self.masks is not None:  # least confident first: the surest mask ends on top, as the boxes do
            order = np.argsort(b.confidence, kind="stable")
            draw_masks(canvas, self.masks.at_image_size()[order], b.class_id[order])
        if not boxes:
            return canvas
        return draw_boxes(canvas, b.xyxy, b.confidence, b.class_id, self.labels, line_width, conf, labels)

    def show(self, wait_ms: int = 0) -> None:
        """Show the annotated image in a window; waits for a key (``wait_ms=0``) or that many milliseconds."""
        from .annotate import show_image

        title = Path(self.path).name + (f" frame {self.frame}" if self.frame is not None else "")
        show_image(self.plot(), title, wait_ms)

    def save(self, filename: str | Path | None = None) -> str:
        """Write the annotated image (default ``results_<name>``); returns the path."""
        from .io_utils import write_image

        name = Path(self.path).name if self.path != "array" else "image.jpg"
        filename = filename or f"results_{Path(name).stem}" + (f"_{self.frame}" if self.frame is not None else "") + \
            (Path(name).suffix or ".jpg")
        return str(write_image(filename, self.plot()))

    # -- text and tables ----------------------------------------------------------------------------------------------
    def to_yolo_txt(self, save_conf: bool = False) -> str:
        """Lines ``class cx cy w h [conf]`` normalised to the original image size; with masks, as the reference,
        ``class x1 y1 x2 y2 ... [conf]`` (each mask's outline, normalised)."""
        lines = []
        shapes = self.masks.xyn if self.masks is not None else [np.asarray(b)[None] for b in self.boxes.xywhn]
        for points, score, cid in zip(shapes, self.boxes.confidence, self.boxes.class_id):
            line = f"{int(cid)} " + " ".join(f"{v:.6f}" for v in np.asarray(points).reshape(-1))
            lines.append(line + (f" {score:.5f}" if save_conf else ""))
        return "\n".join(lines) + ("\n" if lines else "")

    def save_txt(self, txt_file: str | Path, save_conf: bool = False) -> str:
        """Write the YOLO txt labels of this image (atomically, replacing the file); returns the path."""
        from .io_utils import write_text_atomic

        return str(write_text_atomic(txt_file, self.to_yolo_txt(save_conf)))

    def summary(self, normalize: bool = False, decimals: int = 5) -> list[dict]:
        """One dict per box: name, class, confidence, box (x1, y1, x2, y2; divided by the size if ``normalize``)."""
        xyxy = self.boxes.xyxyn if normalize else self.boxes.xyxy
        rows = [{"name": name, "class": int(c), "confidence": round(float(s), decimals),
                 "box": dict(zip(("x1", "y1", "x2", "y2"), (round(float(v), decimals) for v in box)))}
                for box, s, c, name in zip(xyxy, self.boxes.confidence, self.boxes.class_id, self.labels)]
        if self.masks is not None:  # the reference's form: {"segments": {"x": [...], "y": [...]}}
            for row, points in zip(rows, self.masks.xyn if normalize else self.masks.xy):
                row["segments"] = {"x": np.round(points[:, 0], decimals).tolist(),
                                   "y": np.round(points[:, 1], decimals).tolist()}
        return rows

    def verbose(self) -> str:
        """Counts per class in class-id order, pluralised: ``'2 persons, 1 bus, '``; ``'(no detections), '``."""
        if not len(self):
            return "(no detections), "
        ids, counts = np.unique(self.boxes.class_id, return_counts=True)
        return "".join(f"{n} {self.label(c)}{'s' if n > 1 else ''}, " for c, n in zip(ids, counts))

    def to_df(self, normalize: bool = False, decimals: int = 5):
        """The boxes as a pandas DataFrame (pandas is optional: ``pip install pandas``)."""
        import pandas
        rows = [{"name": d["name"], "class": d["class"], "confidence": d["confidence"], **d["box"]}
                for d in self.summary(normalize, decimals)]
        return pandas.DataFrame(rows, columns=["name", "class", "confidence", "x1", "y1", "x2", "y2"])

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
        if self.masks is not None:  # each mask's outline in original pixels: [[x, y], ...]
            for detection, points in zip(detections, self.masks.xy):
                detection["polygon"] = np.round(points, 1).tolist()
        return {"path": self.path, "frame": self.frame, "orig_shape": list(self.orig_shape),
                "detections": detections, "speed": self.speed}

    def to_json(self) -> str:
        return json.dumps(self.to_dict())
