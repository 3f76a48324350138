"""What a task adds to a Result beside its boxes, one entry per box (a segment model's masks, a pose model's
keypoints, an obb model's oriented boxes), and the one protocol the shared code uses on it: drawing it, writing it
(YOLO txt, the summary, our JSON, the Ray rows). A task declares its part in its own folder (``tasks/<name>/``); the
shared code never asks which task a Result is."""

from __future__ import annotations

import numpy as np


class BoxPart:
    """The protocol (defaults: nothing drawn or written). ``FIELD``: the Result attribute it is read by
    (``result.masks``); ``LAYER``: drawn ``under`` the boxes (filled masks) or ``over`` them (keypoints);
    ``ROW_COLUMN``: its column in the Ray rows (a list per box, original pixels)."""

    FIELD: str = ""
    LAYER = "over"
    ROW_COLUMN: str = ""

    def draw(self, canvas: np.ndarray, boxes, style, colors: list) -> None:
        """Draw on ``canvas`` (H, W, 3) BGR in place; ``boxes`` the Result's Detections, ``style`` how
        (results.annotate.Style), ``colors`` a BGR colour per box."""

    def box_outlines(self) -> np.ndarray | None:
        """(N, P, 2) outlines to draw instead of the boxes' rectangles (oriented boxes), else None."""
        return None

    def txt_shapes(self) -> list | None:
        """Per box, the normalised numbers that replace ``cx cy w h`` in a YOLO txt line, else None."""
        return None

    def txt_extra(self, i: int) -> np.ndarray | None:
        """Box ``i``'s normalised numbers appended to its YOLO txt line, else None."""
        return None

    def summary_into(self, rows: list[dict], normalize: bool, decimals: int) -> None:
        """Add to (or replace in) the summary's row of each box what the reference's summary has for this part."""

    def dict_into(self, detections: list[dict]) -> None:
        """Add to our JSON form's dict of each box this part, in original pixels."""

    def supervision_into(self, fields: dict) -> None:
        """Put this part where ``supervision.Detections`` keeps it (``fields``: its constructor's arguments)."""

    @classmethod
    def from_answer(cls, answer: dict, orig_shape: tuple[int, int]):
        """This part back from our JSON form (``to_dict``, the service's answer: what ``dict_into`` wrote), or None
        where the answer has none (the service's ``Client`` rebuilds Results with it)."""
        return None

    def row_value(self) -> list:
        """The Ray rows' value of ``ROW_COLUMN`` for this image: one list per box."""
        return []

    @staticmethod
    def row_type():
        """The pyarrow type of ``ROW_COLUMN`` (a list per box)."""
        raise NotImplementedError
