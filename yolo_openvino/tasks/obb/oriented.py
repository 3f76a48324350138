"""``Result.obb``: oriented boxes of one image, as the reference's ``OBB`` results."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...utils.arrays import Values, values
from ...results.parts import BoxPart
from ...results.boxes import PerBox


@dataclass
class OrientedBoxes(PerBox, BoxPart):
    """xywhr: (N, 5) float32 centre x, centre y, width, height in original-image pixels and the angle in radians
    in [-pi/4, 3pi/4), width the longer side (the reference's convention; see ``rotated.regularize``);
    confidence (N,); class_id (N,) int64; orig_shape (h, w); track_id (N,) int64 when tracking, else None (the
    rest as ``results.boxes.PerBox``). ``data`` is (N, 7) cx, cy, w, h, angle, conf, cls, or (N, 8) with the id before
    conf. Boxes are not clipped: a turned box may reach past the image's edge."""

    GEOMETRY = ("xywhr", 5)

    xywhr: np.ndarray
    confidence: np.ndarray
    class_id: np.ndarray
    orig_shape: tuple[int, int]
    track_id: np.ndarray | None = None

    @classmethod
    def from_reference(cls, rows, orig_shape: tuple[int, int]) -> "OrientedBoxes":
        """From the reference's rows (``Results(obb=)``, ``Results.update(obb=)``): (N, 7) cx, cy, w, h, angle, conf,
        cls in pixels, or (N, 8) with the track id before conf."""
        rows = np.asarray(rows, np.float32)
        rows = rows.reshape(-1, rows.shape[-1] if rows.size else 7)
        if rows.shape[1] not in (7, 8):
            raise ValueError(f"OrientedBoxes: rows of {rows.shape[1]} values, expected 7 or 8")
        track = rows[:, 5].round().astype(np.int64) if rows.shape[1] == 8 else None
        return cls(rows[:, :5], rows[:, -2], rows[:, -1].round().astype(np.int64), orig_shape, track)

    def __post_init__(self):
        self._check()

    @property
    def xyxyxyxy(self) -> Values:
        """(N, 4, 2) corners in pixels, in the reference's order."""
        from ...runtime.rotated import corners

        return values(corners(self.xywhr))

    @property
    def xyxyxyxyn(self) -> Values:
        """(N, 4, 2) corners divided by the image width and height."""
        h, w = self.orig_shape
        return values(self.xyxyxyxy / np.array([w, h], np.float32))

    @property
    def xyxy(self) -> Values:
        """(N, 4) the axis-aligned box enclosing each oriented box (not clipped)."""
        points = self.xyxyxyxy
        return values(np.concatenate((points.min(1), points.max(1)), 1))

    # -- drawn and written (results.parts.BoxPart) -------------------------------------------------------------
    FIELD = "obb"
    ROW_COLUMN = "corners"

    def box_outlines(self) -> np.ndarray:
        return self.xyxyxyxy  # drawn turned, instead of the enclosing rectangles

    def txt_shapes(self) -> list:
        return list(self.xyxyxyxyn)  # the reference's OBB lines: class x1 y1 ... x4 y4 (DOTA's order)

    def summary_into(self, rows: list[dict], normalize: bool, decimals: int) -> None:
        for row, points in zip(rows, self.xyxyxyxyn if normalize else self.xyxyxyxy):  # the corners x1, y1 ... y4
            row["box"] = {f"{axis}{k}": round(float(points[k - 1, j]), decimals)
                          for k in range(1, 5) for j, axis in enumerate("xy")}

    def dict_into(self, detections: list[dict]) -> None:
        for detection, points, xywhr in zip(detections, self.xyxyxyxy, self.xywhr):  # corners; cx cy w h angle
            detection["corners"] = np.round(points, 2).tolist()
            detection["xywhr"] = [round(float(v), 2) for v in xywhr[:4]] + [round(float(xywhr[4]), 5)]

    def supervision_into(self, fields: dict) -> None:
        fields["data"]["xyxyxyxy"] = np.asarray(self.xyxyxyxy, np.float32)  # supervision's oriented-box corners

    @classmethod
    def from_answer(cls, answer: dict, orig_shape: tuple[int, int]) -> "OrientedBoxes | None":
        found = answer["detections"]
        if not found or not all("xywhr" in d for d in found):
            return None
        track = [d["track_id"] for d in found] if all("track_id" in d for d in found) else None
        return cls(np.asarray([d["xywhr"] for d in found], np.float32), [d["confidence"] for d in found],
                   [d["class_id"] for d in found], orig_shape, track)

    def row_value(self) -> list:
        return self.xyxyxyxy.tolist()

    @staticmethod
    def row_type():
        import pyarrow as pa

        return pa.list_(pa.list_(pa.list_(pa.float32(), 2), 4))
