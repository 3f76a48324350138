"""``Result.keypoints``: the keypoints of each detected object, as the reference's ``Keypoints``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...results.annotate import color, line_width_for
from ...results.parts import BoxPart
from ...utils.arrays import Values, values

# Keypoints whose visibility is below this are reported at (0, 0), as the reference reports them: a point it
# believes hidden or outside the image has no position worth drawing.
VISIBLE = 0.5


@dataclass
class Keypoints(BoxPart):
    """data: (N, K, D) float32 in original-image pixels, D = 3 (x, y, visibility in [0, 1]) or 2 (x, y).

    As the reference, x and y of a keypoint whose visibility is below 0.5 are 0. ``orig_shape`` (h, w) gives
    the normalised forms. One-object views (``kpts[0]``) and boolean or index selections work as for boxes.
    """

    data: np.ndarray
    orig_shape: tuple[int, int]

    def __post_init__(self):
        data = np.array(self.data, np.float32)  # a copy: the hidden points are zeroed below
        if data.ndim != 3 or data.shape[2] not in (2, 3):
            raise ValueError(f"Keypoints: data has shape {data.shape}, expected (N, K, 2) or (N, K, 3)")
        if data.shape[2] == 3:
            data[..., :2][data[..., 2] < VISIBLE] = 0
        self.data = values(data)
        self.orig_shape = (int(self.orig_shape[0]), int(self.orig_shape[1]))

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index) -> "Keypoints":
        index = np.atleast_1d(np.arange(len(self))[index])
        return Keypoints(self.data[index], self.orig_shape)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def has_visible(self) -> bool:
        """True when the model gives a visibility per keypoint (kpt_shape [K, 3])."""
        return self.data.shape[2] == 3

    @property
    def xy(self) -> Values:
        """(N, K, 2) x, y in pixels."""
        return values(self.data[..., :2])

    @property
    def xyn(self) -> Values:
        """(N, K, 2) x, y divided by the image width and height."""
        h, w = self.orig_shape
        return values(self.data[..., :2] / np.array([w, h], np.float32))

    @property
    def conf(self) -> Values | None:
        """(N, K) visibilities in [0, 1], or None for a model without them."""
        return values(self.data[..., 2]) if self.has_visible else None

    # -- drawn and written (results.parts.BoxPart) -------------------------------------------------------------
    FIELD = "keypoints"
    ROW_COLUMN = "keypoints"

    def draw(self, canvas: np.ndarray, boxes, style, colors: list) -> None:
        draw_keypoints(canvas, self.data, style.width(canvas.shape), style.kpt_radius, style.kpt_line)

    def txt_extra(self, i: int) -> np.ndarray:
        """``x y [visibility]`` per keypoint, appended to the box, as the reference's pose lines."""
        return (np.concatenate((self.xyn[i], self.conf[i][:, None]), 1) if self.has_visible else self.xyn[i]).reshape(-1)

    def summary_into(self, rows: list[dict], normalize: bool, decimals: int) -> None:
        for i, (row, points) in enumerate(zip(rows, self.xyn if normalize else self.xy)):  # {"x", "y", "visible"}
            row["keypoints"] = {"x": np.round(points[:, 0], decimals).tolist(),
                                "y": np.round(points[:, 1], decimals).tolist()}
            if self.has_visible:
                row["keypoints"]["visible"] = np.round(self.conf[i], decimals).tolist()

    def dict_into(self, detections: list[dict]) -> None:
        for detection, points in zip(detections, self.data):  # [[x, y(, visibility)], ...] per box, original pixels
            detection["keypoints"] = np.round(points, 3).tolist()

    @classmethod
    def from_reference(cls, data, orig_shape: tuple[int, int]) -> "Keypoints":
        """From the reference's ``Results(keypoints=)``: (N, K, 2 or 3) in pixels."""
        return cls(np.asarray(data, np.float32), orig_shape)

    @classmethod
    def from_answer(cls, answer: dict, orig_shape: tuple[int, int]) -> "Keypoints | None":
        points = [d["keypoints"] for d in answer["detections"] if "keypoints" in d]
        if len(points) != len(answer["detections"]) or not points:
            return None
        return cls(np.asarray(points, np.float32), orig_shape)

    def row_value(self) -> list:
        return self.data.tolist()

    @staticmethod
    def row_type():
        import pyarrow as pa

        return pa.list_(pa.list_(pa.list_(pa.float32())))

    def cpu(self) -> "Keypoints":
        return self

    def numpy(self) -> "Keypoints":
        return self


# COCO's 17 person keypoints joined into a skeleton (pairs of keypoint indices), drawn for 17-keypoint models.
COCO_SKELETON = ((15, 13), (13, 11), (16, 14), (14, 12), (11, 12), (5, 11), (6, 12), (5, 6), (5, 7), (6, 8), (7, 9),
                 (8, 10), (1, 2), (0, 1), (0, 2), (1, 3), (2, 4), (3, 5), (4, 6))


def draw_keypoints(canvas: np.ndarray, keypoints: np.ndarray, line_width: int | None = None,
                   radius: int | None = None, skeleton: bool = True, visible: float = VISIBLE) -> np.ndarray:
    """Draw ``keypoints`` (N, K, 2 or 3) pixels on ``canvas`` in place: a dot of ``radius`` (default: from the line
    width) per keypoint (coloured by its index) whose visibility is at least ``visible``, and with ``skeleton``
    COCO's skeleton between such points when K is 17."""
    import cv2

    width = line_width or line_width_for(canvas.shape)
    radius = radius or max(width + 1, 3)
    h, w = canvas.shape[:2]
    for person in keypoints:
        seen = person[:, 2] >= visible if person.shape[1] == 3 else np.ones(len(person), bool)
        seen &= (person[:, 0] > 0) & (person[:, 1] > 0) & (person[:, 0] < w) & (person[:, 1] < h)
        points = np.round(person[:, :2]).astype(int)
        if skeleton and len(person) == 17:
            for a, b in COCO_SKELETON:
                if seen[a] and seen[b]:
                    cv2.line(canvas, tuple(points[a]), tuple(points[b]), color(a + 3), max(width // 2, 1), cv2.LINE_AA)
        for k in np.nonzero(seen)[0]:
            cv2.circle(canvas, tuple(points[k]), radius, color(int(k)), -1, cv2.LINE_AA)
    return canvas
