"""Detection results: a small validated ``Detections`` and a per-image ``Result`` that can save itself."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


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
    """Boxes of one image, with the attributes of Ultralytics' ``Results.boxes``.

    xyxy: (N, 4) float32 corners in original-image pixels; confidence: (N,) float32; class_id: (N,) int64;
    names: class id -> name; orig_shape: (h, w) of the image, for the normalised forms.
    Iterating yields one-box ``Detections``; ``len()`` counts boxes.
    """

    xyxy: np.ndarray
    confidence: np.ndarray
    class_id: np.ndarray
    names: dict[int, str] = field(default_factory=dict)
    orig_shape: tuple[int, int] | None = None

    def __post_init__(self):
        self.xyxy = _values(np.asarray(self.xyxy, dtype=np.float32).reshape(-1, 4))
        self.confidence = _values(np.asarray(self.confidence, dtype=np.float32).reshape(-1))
        self.class_id = _values(np.asarray(self.class_id, dtype=np.int64).reshape(-1))
        n = len(self.xyxy)
        if len(self.confidence) != n or len(self.class_id) != n:
            raise ValueError(f"Detections: {n} boxes but {len(self.confidence)} confidences and {len(self.class_id)} class ids")

    @classmethod
    def from_rows(cls, rows: np.ndarray, names: dict[int, str], orig_shape: tuple[int, int] | None = None) -> "Detections":
        """From (N, 6) rows of x1, y1, x2, y2, score, class."""
        rows = np.asarray(rows, dtype=np.float32).reshape(-1, 6)
        return cls(rows[:, :4], rows[:, 4], rows[:, 5].round().astype(np.int64), names, orig_shape)

    def __len__(self) -> int:
        return len(self.xyxy)

    def __getitem__(self, index) -> "Detections":
        index = np.atleast_1d(np.arange(len(self))[index])
        return Detections(self.xyxy[index], self.confidence[index], self.class_id[index], self.names, self.orig_shape)

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

    @property
    def labels(self) -> list[str]:
        return [self.names.get(int(c), str(int(c))) for c in self.class_id]

    def to_list(self) -> list[dict]:
        return [
            {"box": [round(float(v), 2) for v in box], "confidence": round(float(score), 5),
             "class_id": int(cid), "name": self.names.get(int(cid), str(int(cid)))}
            for box, score, cid in zip(self.xyxy, self.confidence, self.class_id)
        ]


Boxes = Detections  # the reference's name for the same thing


def _color(class_id: int) -> tuple[int, int, int]:
    """A stable, distinct BGR colour per class (golden-ratio hue walk)."""
    import colorsys

    r, g, b = colorsys.hsv_to_rgb((class_id * 0.618034) % 1.0, 0.75, 0.95)
    return int(b * 255), int(g * 255), int(r * 255)


@dataclass
class Result:
    """Detections of one image (or video frame) with where it came from; the reference's ``Results`` API.

    ``orig_img`` is the original BGR image: kept for arrays (the caller's own), else read again from the file
    (or the video frame) when first needed, so a list of results over a big folder does not hold every image.
    """

    path: str
    orig_shape: tuple[int, int]
    boxes: Detections
    image: np.ndarray | None = None  # the original BGR image (H, W, 3) when kept; see ``orig_img``
    frame: int | None = None
    speed: dict[str, float] = field(default_factory=dict)  # ms per image: preprocess, inference, postprocess
    latency_ms: float | None = None  # wall time from starting to read this input to its result (queueing included)

    def __post_init__(self):
        if self.boxes.orig_shape is None:
            self.boxes.orig_shape = tuple(self.orig_shape)

    def __len__(self) -> int:
        return len(self.boxes)

    def __getitem__(self, index) -> "Result":
        """The same image with only the boxes selected by ``index`` (as the reference's ``r[0]``)."""
        return Result(self.path, self.orig_shape, self.boxes[index], self.image, self.frame, self.speed, self.latency_ms)

    @property
    def detections(self) -> Detections:
        return self.boxes

    @property
    def names(self) -> dict[int, str]:
        return self.boxes.names

    def cpu(self) -> "Result":
        return self

    def numpy(self) -> "Result":
        return self

    # -- the image -----------------------------------------------------------------------------------------------
    @property
    def orig_img(self) -> np.ndarray:
        """(H, W, 3) uint8 BGR original: kept, or read again from the file or video frame."""
        if self.image is None:
            self.image = _reread(self.path, self.frame)
        return self.image

    def plot(self, image: np.ndarray | None = None, line_width: int | None = None, conf: bool = True,
             labels: bool = True, boxes: bool = True) -> np.ndarray:
        """Annotated BGR copy of the image: boxes with class name and confidence."""
        import cv2

        canvas = (image if image is not None else self.orig_img).copy()
        width = line_width or max(round(sum(canvas.shape[:2]) / 2 * 0.003), 2)
        b = self.boxes
        surest_first = np.argsort(-b.confidence, kind="stable") if boxes else []
        labels_at: list[tuple[int, str, tuple[int, int, int, int]]] = []  # (box, text, label rectangle)
        for i in surest_first:  # the surest box gets the best free spot for its label
            color = _color(int(b.class_id[i]))
            x1, y1, x2, y2 = (int(v) for v in b.xyxy[i])
            cv2.rectangle(canvas, (x1, y1), (x2, y2), color, width, cv2.LINE_AA)
            text = " ".join(([b.labels[i]] if labels else []) + ([f"{b.confidence[i]:.2f}"] if conf else []))
            if text:
                size = _text_size(text, width)
                labels_at.append((i, text, _label_spot(canvas.shape, size, (x1, y1, x2, y2), [r for *_, r in labels_at])))
        for i, text, rect in reversed(labels_at):  # where labels still overlap, the surest is drawn last, on top
            _label(canvas, text, rect, _color(int(b.class_id[i])), width)
        return canvas

    def show(self, wait_ms: int = 0) -> None:
        """Show the annotated image in a window; waits for a key (``wait_ms=0``) or that many milliseconds."""
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
        """Lines ``class cx cy w h [conf]`` normalised to the original image size."""
        lines = []
        for (cx, cy, w, h), score, cid in zip(self.boxes.xywhn, self.boxes.confidence, self.boxes.class_id):
            line = f"{int(cid)} {cx:.6f} {cy:.6f} {w:.6f} {h:.6f}"
            lines.append(line + (f" {score:.5f}" if save_conf else ""))
        return "\n".join(lines) + ("\n" if lines else "")

    def save_txt(self, txt_file: str | Path, save_conf: bool = False) -> str:
        """Write the YOLO txt labels of this image (atomically, replacing the file); returns the path."""
        from .io_utils import write_text_atomic

        return str(write_text_atomic(txt_file, self.to_yolo_txt(save_conf)))

    def summary(self, normalize: bool = False, decimals: int = 5) -> list[dict]:
        """One dict per box: name, class, confidence, box (x1, y1, x2, y2; divided by the size if ``normalize``)."""
        xyxy = self.boxes.xyxyn if normalize else self.boxes.xyxy
        return [{"name": self.names.get(int(c), str(int(c))), "class": int(c), "confidence": round(float(s), decimals),
                 "box": dict(zip(("x1", "y1", "x2", "y2"), (round(float(v), decimals) for v in box)))}
                for box, s, c in zip(xyxy, self.boxes.confidence, self.boxes.class_id)]

    def verbose(self) -> str:
        """Counts per class in class-id order, pluralised: ``'2 persons, 1 bus, '``; ``'(no detections), '``."""
        if not len(self):
            return "(no detections), "
        ids, counts = np.unique(self.boxes.class_id, return_counts=True)
        return "".join(f"{n} {self.names.get(int(c), str(int(c)))}{'s' if n > 1 else ''}, " for c, n in zip(ids, counts))

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
                             data={"class_name": np.array(self.boxes.labels, dtype=str)})

    def to_dict(self) -> dict:
        return {"path": self.path, "frame": self.frame, "orig_shape": list(self.orig_shape),
                "detections": self.boxes.to_list(), "speed": self.speed}

    def to_json(self) -> str:
        return json.dumps(self.to_dict())


def _text_size(text: str, width: int) -> tuple[int, int]:
    import cv2

    (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, width / 3, max(width - 1, 1))
    return tw, th + 3


def _label_spot(shape: tuple, size: tuple[int, int], box: tuple[int, int, int, int],
                taken: list[tuple[int, int, int, int]]) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) of a box's label: above its top-left corner, else just inside the top, else below it;
    the first of those inside the image that overlaps no label already placed. Shifted left to stay in the image."""
    (tw, th), (h, w) = size, shape[:2]
    x1, y1, _, y2 = box
    x = max(min(x1, w - tw), 0)
    spots = [(x, top, x + tw, top + th) for top in (y1 - th, y1, y2) if 0 <= top and top + th <= h] or [(x, 0, x + tw, th)]
    free = [s for s in spots if not any(s[0] < t[2] and t[0] < s[2] and s[1] < t[3] and t[1] < s[3] for t in taken)]
    return (free or spots)[0]


def _label(canvas: np.ndarray, text: str, rect: tuple[int, int, int, int], color, width: int) -> None:
    import cv2

    x0, y0, x1, y1 = rect
    cv2.rectangle(canvas, (x0, y0), (x1, y1), color, -1, cv2.LINE_AA)
    cv2.putText(canvas, text, (x0, y1 - 2), cv2.FONT_HERSHEY_SIMPLEX, width / 3, (255, 255, 255), max(width - 1, 1),
                cv2.LINE_AA)


def _reread(path: str, frame: int | None) -> np.ndarray:
    """The original image of a result whose image was not kept: the file again, or its video frame."""
    import cv2

    from .io_utils import read_image

    if path == "array":
        raise ValueError("this result's array was not kept; pass the image: plot(image)")
    if frame is None:
        return read_image(path)
    capture = cv2.VideoCapture(path)
    try:
        capture.set(cv2.CAP_PROP_POS_FRAMES, frame)
        ok, image = capture.read()
    finally:
        capture.release()
    if not ok:
        raise ValueError(f"{path}: cannot read frame {frame} again; predict with save=True to keep frames")
    return image


def check_display() -> None:
    """A UsageError where no window can open: Linux without DISPLAY/WAYLAND_DISPLAY (servers, CI, containers)."""
    import os
    import sys

    from .errors import UsageError

    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise UsageError("show=True: no display here (DISPLAY is not set). Use save=True and open the saved images.")


def show_image(image: np.ndarray, title: str, wait_ms: int = 0) -> None:
    """A window where a display exists; one clear line where none does."""
    import cv2

    from .errors import UsageError

    check_display()
    try:
        cv2.imshow(title, image)
        cv2.waitKey(wait_ms)
    except cv2.error as e:
        raise UsageError(f"show: OpenCV cannot open a window ({str(e).strip().splitlines()[-1][:120]}). "
                         "opencv-python-headless has no GUI: use save=True instead.") from None
