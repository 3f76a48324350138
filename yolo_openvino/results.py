"""Detection results: a small validated ``Detections`` and a per-image ``Result`` that can save itself."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass
class Detections:
    """Boxes of one image.

    xyxy: (N, 4) float32 corners in original-image pixels; confidence: (N,) float32;
    class_id: (N,) int64; names: class id -> name.
    """

    xyxy: np.ndarray
    confidence: np.ndarray
    class_id: np.ndarray
    names: dict[int, str] = field(default_factory=dict)

    def __post_init__(self):
        self.xyxy = np.asarray(self.xyxy, dtype=np.float32).reshape(-1, 4)
        self.confidence = np.asarray(self.confidence, dtype=np.float32).reshape(-1)
        self.class_id = np.asarray(self.class_id, dtype=np.int64).reshape(-1)
        n = len(self.xyxy)
        if len(self.confidence) != n or len(self.class_id) != n:
            raise ValueError(f"Detections: {n} boxes but {len(self.confidence)} confidences and {len(self.class_id)} class ids")

    @classmethod
    def from_rows(cls, rows: np.ndarray, names: dict[int, str]) -> "Detections":
        """From (N, 6) rows of x1, y1, x2, y2, score, class."""
        rows = np.asarray(rows, dtype=np.float32).reshape(-1, 6)
        return cls(rows[:, :4], rows[:, 4], rows[:, 5].round().astype(np.int64), names)

    def __len__(self) -> int:
        return len(self.xyxy)

    def __getitem__(self, index) -> "Detections":
        index = np.atleast_1d(np.arange(len(self))[index])
        return Detections(self.xyxy[index], self.confidence[index], self.class_id[index], self.names)

    # Ultralytics-style aliases, so ``result.boxes.xyxy / .conf / .cls`` reads as users expect.
    @property
    def conf(self) -> np.ndarray:
        return self.confidence

    @property
    def cls(self) -> np.ndarray:
        return self.class_id

    @property
    def labels(self) -> list[str]:
        return [self.names.get(int(c), str(int(c))) for c in self.class_id]

    def to_list(self) -> list[dict]:
        return [
            {"box": [round(float(v), 2) for v in box], "confidence": round(float(score), 5),
             "class_id": int(cid), "name": self.names.get(int(cid), str(int(cid)))}
            for box, score, cid in zip(self.xyxy, self.confidence, self.class_id)
        ]


def _color(class_id: int) -> tuple[int, int, int]:
    """A stable, distinct BGR colour per class (golden-ratio hue walk)."""
    import colorsys

    r, g, b = colorsys.hsv_to_rgb((class_id * 0.618034) % 1.0, 0.75, 0.95)
    return int(b * 255), int(g * 255), int(r * 255)


@dataclass
class Result:
    """Detections of one image (or video frame) with where it came from."""

    path: str
    orig_shape: tuple[int, int]
    boxes: Detections
    image: np.ndarray | None = None  # the original BGR image, kept only when needed for saving/plotting
    frame: int | None = None
    speed: dict[str, float] = field(default_factory=dict)  # ms per image: preprocess, inference, postprocess
    latency_ms: float | None = None  # wall time from starting to read this input to its result (queueing included)

    def __len__(self) -> int:
        return len(self.boxes)

    @property
    def detections(self) -> Detections:
        return self.boxes

    @property
    def names(self) -> dict[int, str]:
        return self.boxes.names

    def plot(self, image: np.ndarray | None = None, line_width: int | None = None) -> np.ndarray:
        """Annotated BGR copy of the image: boxes with class name and confidence."""
        import cv2

        canvas = (image if image is not None else self.image)
        if canvas is None:
            raise ValueError(f"{self.path}: no image kept with this result; pass the image to plot().")
        canvas = canvas.copy()
        width = line_width or max(round(sum(canvas.shape[:2]) / 2 * 0.003), 2)
        for (x1, y1, x2, y2), score, label, cid in zip(self.boxes.xyxy, self.boxes.confidence, self.boxes.labels,
                                                       self.boxes.class_id):
            color = _color(int(cid))
            p1, p2 = (int(x1), int(y1)), (int(x2), int(y2))
            cv2.rectangle(canvas, p1, p2, color, width, cv2.LINE_AA)
            text = f"{label} {score:.2f}"
            font_scale = width / 3
            (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, font_scale, max(width - 1, 1))
            top = p1[1] - th - 3 if p1[1] - th - 3 >= 0 else p1[1] + th + 3
            cv2.rectangle(canvas, (p1[0], top), (p1[0] + tw, p1[1]), color, -1, cv2.LINE_AA)
            cv2.putText(canvas, text, (p1[0], top + th if top > p1[1] else p1[1] - 2), cv2.FONT_HERSHEY_SIMPLEX,
                        font_scale, (255, 255, 255), max(width - 1, 1), cv2.LINE_AA)
        return canvas

    def save(self, filename: str | Path) -> Path:
        """Write the annotated image."""
        from .io_utils import write_image

        return write_image(filename, self.plot())

    def to_yolo_txt(self, save_conf: bool = False) -> str:
        """Lines ``class cx cy w h [conf]`` normalised to the original image size."""
        h, w = self.orig_shape
        lines = []
        for (x1, y1, x2, y2), score, cid in zip(self.boxes.xyxy, self.boxes.confidence, self.boxes.class_id):
            values = [(x1 + x2) / 2 / w, (y1 + y2) / 2 / h, (x2 - x1) / w, (y2 - y1) / h]
            line = f"{int(cid)} " + " ".join(f"{v:.6f}" for v in values)
            lines.append(line + (f" {score:.5f}" if save_conf else ""))
        return "\n".join(lines) + ("\n" if lines else "")

    def to_dict(self) -> dict:
        return {"path": self.path, "frame": self.frame, "orig_shape": list(self.orig_shape),
                "detections": self.boxes.to_list(), "speed": self.speed}

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    def summary(self) -> str:
        if not len(self):
            return "no detections"
        labels, counts = np.unique(np.asarray(self.boxes.labels), return_counts=True)
        return ", ".join(f"{c} {label}" for label, c in zip(labels, counts))
