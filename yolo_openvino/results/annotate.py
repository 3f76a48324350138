"""Drawing results on images, and showing them: plain arrays in, an annotated BGR image out (no Result here).

Boxes are drawn least confident first and labels placed surest first, so where boxes overlap the surest
box's label stays readable. Oriented boxes are drawn as their outlines; masks and keypoints beside the boxes.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass

import numpy as np

Rect = tuple[int, int, int, int]  # x0, y0, x1, y1 in pixels
TEXT_HEIGHT = 22  # pixels of OpenCV's simplex font at scale 1: a font size in pixels divided by it is the scale


@dataclass(frozen=True)
class Style:
    """How a Result is drawn: the reference's ``plot`` arguments. ``None`` sizes: from the image (``line_width``:
    0.3% of its mean side, at least 2 px; text and keypoints follow the line width). ``color_mode``: ``class``
    (each class its colour) or ``instance`` (each object its own: its track id when tracked, else its index)."""

    line_width: int | None = None
    font_size: float | None = None
    conf: bool = True
    labels: bool = True
    boxes: bool = True
    masks: bool = True
    probs: bool = True
    kpt_radius: int | None = None
    kpt_line: bool = True
    color_mode: str = "class"

    def __post_init__(self):
        if self.color_mode not in ("class", "instance"):
            raise ValueError(f"color_mode={self.color_mode!r}: expected 'class' or 'instance'")

    def width(self, shape: tuple) -> int:
        return self.line_width or line_width_for(shape)

    def text_scale(self, width: int) -> float:
        return self.font_size / TEXT_HEIGHT if self.font_size else width / 3

    def colors(self, boxes) -> list[tuple[int, int, int]]:
        """A BGR colour per box, as ``color_mode`` says."""
        if self.color_mode == "class":
            return [color(int(c)) for c in boxes.class_id]
        ids = boxes.track_id if boxes.track_id is not None else range(len(boxes.class_id))
        return [color(int(i)) for i in ids]


def color(class_id: int) -> tuple[int, int, int]:
    """A stable, distinct BGR colour per class (golden-ratio hue walk)."""
    r, g, b = colorsys.hsv_to_rgb((class_id * 0.618034) % 1.0, 0.75, 0.95)
    return int(b * 255), int(g * 255), int(r * 255)


def line_width_for(shape: tuple) -> int:
    """The default line width: 0.3% of the image's mean side, at least 2 px."""
    return max(round(sum(shape[:2]) / 2 * 0.003), 2)


def draw_boxes(canvas: np.ndarray, xyxy: np.ndarray, confidence: np.ndarray, colors: list, box_labels: list[str],
               style: Style = Style(), outlines: np.ndarray | None = None) -> np.ndarray:
    """Draw boxes with their label (class name and/or confidence) on ``canvas`` (H, W, 3) BGR uint8, in place.

    xyxy (N, 4) pixels, confidence (N,), colors: N BGR triples, box_labels: N texts (class names, with ids when
    tracked); ``style.labels`` and ``style.conf`` say whether each box's text and confidence are written;
    ``outlines`` (N, 4, 2) pixels, when given, are drawn instead of the rectangles (oriented boxes; ``xyxy`` then
    places the labels). Returns ``canvas``.
    """
    import cv2

    width, scale = style.width(canvas.shape), style.text_scale(style.width(canvas.shape))
    placed: list[tuple[int, str, Rect]] = []  # (box, text, label rectangle)
    for i in np.argsort(-np.asarray(confidence), kind="stable"):  # the surest box gets the best free spot
        x1, y1, x2, y2 = (int(v) for v in xyxy[i])
        if outlines is None:
            cv2.rectangle(canvas, (x1, y1), (x2, y2), colors[i], width, cv2.LINE_AA)
        else:
            points = np.round(outlines[i]).astype(np.int32).reshape(-1, 1, 2)
            cv2.polylines(canvas, [points], True, colors[i], width, cv2.LINE_AA)
        text = " ".join(([box_labels[i]] if style.labels else []) + ([f"{confidence[i]:.2f}"] if style.conf else []))
        if text:
            spot = label_spot(canvas.shape, _text_size(text, scale), (x1, y1, x2, y2), [r for *_, r in placed])
            placed.append((i, text, spot))
    for i, text, rect in reversed(placed):  # where labels still overlap, the surest is drawn last, on top
        _label(canvas, text, rect, colors[i], scale)
    return canvas


def draw_trails(canvas: np.ndarray, centres: dict, class_id: np.ndarray, line_width: int | None = None) -> np.ndarray:
    """Draw each track's recent centres (``centres``: id -> sequence of (x, y) pixels, oldest first) as a line in
    its class's colour (``class_id`` (N,), in the order of ``centres``) on ``canvas``, in place."""
    import cv2

    width = line_width or line_width_for(canvas.shape)
    for points, cid in zip(centres.values(), class_id):
        if len(points) > 1:
            path = np.round(np.array(points, np.float32)).astype(np.int32).reshape(-1, 1, 2)
            cv2.polylines(canvas, [path], False, color(int(cid)), width, cv2.LINE_AA)
    return canvas


def draw_text_lines(canvas: np.ndarray, lines: list[str], style: Style = Style()) -> np.ndarray:
    """Write ``lines`` top-left on ``canvas`` in place, each on its own dark label (a classifier's top-5)."""
    scale = style.text_scale(style.width(canvas.shape))
    y = 0
    for line in lines:
        tw, th = _text_size(line, scale)
        _label(canvas, line, (0, y, tw, y + th), (64, 64, 64), scale)
        y += th
    return canvas


def _thickness(scale: float) -> int:
    return max(round(scale * 3) - 1, 1)  # the stroke that went with a line width of 3 x scale


def _text_size(text: str, scale: float) -> tuple[int, int]:
    import cv2

    (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, _thickness(scale))
    return tw, th + 3


def label_spot(shape: tuple, size: tuple[int, int], box: Rect, taken: list[Rect]) -> Rect:
    """(x0, y0, x1, y1) of a box's label: above its top-left corner, else just inside the top, else below it;
    the first of those inside the image that overlaps no label already placed. Shifted left to stay in the image."""
    (tw, th), (h, w) = size, shape[:2]
    x1, y1, _, y2 = box
    x = max(min(x1, w - tw), 0)
    spots = [(x, top, x + tw, top + th) for top in (y1 - th, y1, y2) if 0 <= top and top + th <= h] or [(x, 0, x + tw, th)]
    free = [s for s in spots if not any(s[0] < t[2] and t[0] < s[2] and s[1] < t[3] and t[1] < s[3] for t in taken)]
    return (free or spots)[0]


def _label(canvas: np.ndarray, text: str, rect: Rect, fill, scale: float) -> None:
    import cv2

    x0, y0, x1, y1 = rect
    cv2.rectangle(canvas, (x0, y0), (x1, y1), fill, -1, cv2.LINE_AA)
    cv2.putText(canvas, text, (x0, y1 - 2), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), _thickness(scale),
                cv2.LINE_AA)


def check_display() -> None:
    """A UsageError where no window can open: Linux without DISPLAY/WAYLAND_DISPLAY (servers, CI, containers)."""
    import os
    import sys

    from ..errors import UsageError

    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise UsageError("show=True: no display here (DISPLAY is not set). Use save=True and open the saved images.")


def show_image(image: np.ndarray, title: str, wait_ms: int = 0) -> None:
    """A window where a display exists; one clear line where none does."""
    import cv2

    from ..errors import UsageError

    check_display()
    try:
        cv2.imshow(title, image)
        cv2.waitKey(wait_ms)
    except cv2.error as e:
        raise UsageError(f"show: OpenCV cannot open a window ({str(e).strip().splitlines()[-1][:120]}). "
                         "opencv-python-headless has no GUI: use save=True instead.") from None


def draw_result(result, canvas: np.ndarray, style: Style = Style()) -> np.ndarray:
    """Draw a Result on ``canvas`` (H, W, 3) BGR uint8, in place, as ``style`` says: its parts drawn under the boxes
    (filled masks), the boxes with their labels (turned, where a part outlines them), the parts drawn over them
    (keypoints), a classifier's top-5."""
    from .writing import top5_lines

    b, parts = result.boxes, result.parts()
    colors = style.colors(b)
    for part in parts:
        if part.LAYER == "under":
            part.draw(canvas, b, style, colors)
    if style.boxes:
        outlines = next((o for o in (part.box_outlines() for part in parts) if o is not None), None)
        box_labels = result.labels if b.track_id is None else [f"id:{i} {n}" for i, n in zip(b.track_id, result.labels)]
        draw_boxes(canvas, b.xyxy, b.confidence, colors, box_labels, style, outlines)
    for part in parts:
        if part.LAYER == "over":
            part.draw(canvas, b, style, colors)
    if result.probs is not None and style.labels and style.probs:
        draw_text_lines(canvas, top5_lines(result), style)
    return canvas
