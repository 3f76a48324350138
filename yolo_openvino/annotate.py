"""Drawing results on images, and showing them: plain arrays in, an annotated BGR image out (no Result here).

Boxes are drawn least confident first and labels placed surest first, so where boxes overlap the surest
box's label stays readable. The task work adds masks, keypoints and rotated boxes beside ``draw_boxes``.
"""

from __future__ import annotations

import colorsys

import numpy as np

Rect = tuple[int, int, int, int]  # x0, y0, x1, y1 in pixels


def color(class_id: int) -> tuple[int, int, int]:
    """A stable, distinct BGR colour per class (golden-ratio hue walk)."""
    r, g, b = colorsys.hsv_to_rgb((class_id * 0.618034) % 1.0, 0.75, 0.95)
    return int(b * 255), int(g * 255), int(r * 255)


def line_width_for(shape: tuple) -> int:
    """The default line width: 0.3% of the image's mean side, at least 2 px."""
    return max(round(sum(shape[:2]) / 2 * 0.003), 2)


def draw_boxes(canvas: np.ndarray, xyxy: np.ndarray, confidence: np.ndarray, class_id: np.ndarray,
               labels: list[str], line_width: int | None = None, conf: bool = True, names: bool = True) -> np.ndarray:
    """Draw boxes with their label (class name and/or confidence) on ``canvas`` (H, W, 3) BGR uint8, in place.

    xyxy (N, 4) pixels, confidence (N,), class_id (N,), labels: N class names. Returns ``canvas``.
    """
    import cv2

    width = line_width or line_width_for(canvas.shape)
    placed: list[tuple[int, str, Rect]] = []  # (box, text, label rectangle)
    for i in np.argsort(-np.asarray(confidence), kind="stable"):  # the surest box gets the best free spot
        x1, y1, x2, y2 = (int(v) for v in xyxy[i])
        cv2.rectangle(canvas, (x1, y1), (x2, y2), color(int(class_id[i])), width, cv2.LINE_AA)
        text = " ".join(([labels[i]] if names else []) + ([f"{confidence[i]:.2f}"] if conf else []))
        if text:
            spot = label_spot(canvas.shape, _text_size(text, width), (x1, y1, x2, y2), [r for *_, r in placed])
            placed.append((i, text, spot))
    for i, text, rect in reversed(placed):  # where labels still overlap, the surest is drawn last, on top
        _label(canvas, text, rect, color(int(class_id[i])), width)
    return canvas


def draw_masks(canvas: np.ndarray, masks: np.ndarray, class_id: np.ndarray, alpha: float = 0.5) -> np.ndarray:
    """Fill each of ``masks`` (N, H, W) bool on ``canvas`` (H, W, 3) with its class colour at ``alpha``, in place,
    in the order given (the last drawn is on top)."""
    for mask, cid in zip(masks, class_id):
        if mask.any():
            region = canvas[mask]
            canvas[mask] = (region * (1 - alpha) + np.array(color(int(cid)), np.float32) * alpha).astype(np.uint8)
    return canvas


def _text_size(text: str, width: int) -> tuple[int, int]:
    import cv2

    (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, width / 3, max(width - 1, 1))
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


def _label(canvas: np.ndarray, text: str, rect: Rect, fill, width: int) -> None:
    import cv2

    x0, y0, x1, y1 = rect
    cv2.rectangle(canvas, (x0, y0), (x1, y1), fill, -1, cv2.LINE_AA)
    cv2.putText(canvas, text, (x0, y1 - 2), cv2.FONT_HERSHEY_SIMPLEX, width / 3, (255, 255, 255), max(width - 1, 1),
                cv2.LINE_AA)


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
