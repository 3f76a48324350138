"""Instance masks from a segmentation head, kept cut to their boxes (numpy + OpenCV, no torch).

A mask is the sign of ``coefficients @ prototypes`` (32 of each), bilinearly upsampled from the prototypes'
1/4 resolution and cut to its box, as the reference computes it. We evaluate the upsampling only over each
box's window (separable interpolation matrices, the sampling of ``F.interpolate(..., align_corners=False)``),
so the cost grows with the boxes' area, not with N x H x W, and keep each mask as a bool crop plus its
offset: 100 instances on a 4K image hold a few MB, not 100 full planes. ``Masks.data`` builds the (N, H, W)
planes only when read.

Two canvases, as in the reference: the model input (``retina_masks=False``: the prototypes cut to the box in
their own grid, upsampled to the input, ``.data`` at the inference shape) or the original image
(``retina=True``: the letterbox padding removed from the prototypes, upsampled to the image, cut to the box).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ...results.parts import BoxPart


@dataclass
class Masks(BoxPart):
    """N instance masks on a canvas of ``shape`` (h, w): ``crops[i]`` (h_i, w_i) bool placed at ``offsets[i]``
    (y, x). ``to_image``: (sx, sy, px, py) mapping canvas pixels to original-image pixels,
    ``image_xy = (canvas_xy - (px, py)) / (sx, sy)``; ``orig_shape`` (h, w) of the original image.
    Ultralytics' ``Results.masks`` API: ``data`` (N, H, W), ``xy`` / ``xyn`` polygons in original pixels."""

    crops: list[np.ndarray]
    offsets: np.ndarray  # (N, 2) int: y, x of each crop's top-left corner on the canvas
    shape: tuple[int, int]
    orig_shape: tuple[int, int]
    to_image: tuple[float, float, float, float] = (1.0, 1.0, 0.0, 0.0)

    def __post_init__(self):
        self.offsets = np.asarray(self.offsets, dtype=np.int64).reshape(-1, 2)
        if len(self.crops) != len(self.offsets):
            raise ValueError(f"Masks: {len(self.crops)} crops but {len(self.offsets)} offsets")

    def __len__(self) -> int:
        return len(self.crops)

    def __getitem__(self, index) -> "Masks":
        keep = np.atleast_1d(np.arange(len(self))[index])
        return Masks([self.crops[i] for i in keep], self.offsets[keep], self.shape, self.orig_shape, self.to_image)

    @property
    def data(self) -> np.ndarray:
        """(N, H, W) bool planes on the canvas, built now (nothing full-size is kept)."""
        planes = np.zeros((len(self), *self.shape), dtype=bool)
        for plane, crop, (y, x) in zip(planes, self.crops, self.offsets):
            plane[y:y + crop.shape[0], x:x + crop.shape[1]] = crop
        return planes

    @property
    def xy(self) -> list[np.ndarray]:
        """Per mask, its largest outline (K, 2) float32 in original-image pixels ((0, 2) for an empty mask)."""
        sx, sy, px, py = self.to_image
        h, w = self.orig_shape
        out = []
        for crop, (y, x) in zip(self.crops, self.offsets):
            points = largest_contour(crop) + np.array([x, y], np.float32)
            points = (points - np.array([px, py], np.float32)) / np.array([sx, sy], np.float32)
            out.append(np.clip(points, 0, [w, h]).astype(np.float32))
        return out

    @property
    def xyn(self) -> list[np.ndarray]:
        """``xy`` divided by the image width and height."""
        h, w = self.orig_shape
        return [p / np.array([w, h], np.float32) for p in self.xy]

    def at_image_size(self) -> np.ndarray:
        """(N, h, w) bool planes on the original image (the canvas's crops mapped through the letterbox)."""
        import cv2

        if tuple(self.shape) == tuple(self.orig_shape) and self.to_image == (1.0, 1.0, 0.0, 0.0):
            return self.data
        sx, sy, px, py = self.to_image
        h, w = self.orig_shape
        planes = np.zeros((len(self), h, w), dtype=bool)
        for plane, crop, (y, x) in zip(planes, self.crops, self.offsets):
            x0, x1 = round((x - px) / sx), round((x + crop.shape[1] - px) / sx)
            y0, y1 = round((y - py) / sy), round((y + crop.shape[0] - py) / sy)
            if x1 <= x0 or y1 <= y0 or not crop.size:
                continue
            resized = cv2.resize(crop.astype(np.uint8), (x1 - x0, y1 - y0), interpolation=cv2.INTER_NEAREST)
            cx0, cy0 = max(-x0, 0), max(-y0, 0)  # parts in the padding are cut off
            region = resized[cy0:cy0 + h - max(y0, 0), cx0:cx0 + w - max(x0, 0)].astype(bool)
            plane[max(y0, 0):max(y0, 0) + region.shape[0], max(x0, 0):max(x0, 0) + region.shape[1]] = region
        return planes

    def rle(self) -> list[dict]:
        """Each mask as COCO RLE on the canvas ({'size': [h, w], 'counts': str}), one plane at a time: never N."""
        from faster_coco_eval.core import mask as mask_utils

        out = []
        for crop, (y, x) in zip(self.crops, self.offsets):
            plane = np.zeros(self.shape, np.uint8, order="F")
            plane[y:y + crop.shape[0], x:x + crop.shape[1]] = crop
            out.append({"size": list(self.shape), "counts": mask_utils.encode(plane)["counts"].decode("ascii")})
        return out

    # -- drawn and written (results.parts.BoxPart) -------------------------------------------------------------
    LAYER = "under"  # filled, under the boxes and their labels
    FIELD = "masks"
    ROW_COLUMN = "polygons"

    def draw(self, canvas: np.ndarray, boxes, style, colors: list) -> None:
        """Each mask filled with its box's colour, least confident first (the surest ends on top, as the boxes)."""
        if style.masks:
            order = np.argsort(boxes.confidence, kind="stable")
            draw_masks(canvas, self.at_image_size()[order], [colors[i] for i in order])

    def txt_shapes(self) -> list:
        return self.xyn  # the reference's polygon lines: class x1 y1 x2 y2 ...

    def summary_into(self, rows: list[dict], normalize: bool, decimals: int) -> None:
        for row, points in zip(rows, self.xyn if normalize else self.xy):  # {"segments": {"x": [...], "y": [...]}}
            row["segments"] = {"x": np.round(points[:, 0], decimals).tolist(),
                               "y": np.round(points[:, 1], decimals).tolist()}

    def dict_into(self, detections: list[dict]) -> None:
        for detection, points in zip(detections, self.xy):  # each outline in original pixels: [[x, y], ...]
            detection["polygon"] = np.round(points, 1).tolist()

    @classmethod
    def from_reference(cls, planes, orig_shape: tuple[int, int]) -> "Masks":
        """From the reference's ``Results(masks=)``: (N, H, W) planes over the whole image, at any size (each plane
        kept whole on a canvas of (H, W), mapped to the image by scaling)."""
        planes = np.asarray(planes).astype(bool).reshape(-1, *np.asarray(planes).shape[-2:])
        h, w = planes.shape[1:]
        return cls(list(planes), np.zeros((len(planes), 2)), (h, w), tuple(orig_shape),
                   (w / orig_shape[1], h / orig_shape[0], 0.0, 0.0))

    @classmethod
    def from_answer(cls, answer: dict, orig_shape: tuple[int, int]) -> "Masks | None":
        """Each outline filled again on the original image (the answer carries outlines, not planes: a mask with
        holes or several parts comes back as its largest outline filled)."""
        import cv2

        found = answer["detections"]
        if not found or not all("polygon" in d for d in found):
            return None
        h, w = orig_shape
        crops, offsets = [], []
        for d in found:
            points = np.asarray(d["polygon"], np.float32).reshape(-1, 2)
            if not len(points):
                crops.append(np.zeros((0, 0), bool))
                offsets.append((0, 0))
                continue
            x0, y0 = np.clip(np.floor(points.min(0)).astype(int), 0, [w - 1, h - 1])
            x1, y1 = np.clip(np.ceil(points.max(0)).astype(int) + 1, 1, [w, h])
            crop = np.zeros((y1 - y0, x1 - x0), np.uint8)
            cv2.fillPoly(crop, [np.round(points - [x0, y0]).astype(np.int32)], 1)
            crops.append(crop.astype(bool))
            offsets.append((y0, x0))
        return cls(crops, np.asarray(offsets), (h, w), (h, w))

    def supervision_into(self, fields: dict) -> None:
        fields["mask"] = self.at_image_size()  # (N, h, w) bool on the original image

    def row_value(self) -> list:
        return [p.tolist() for p in self.xy]

    @staticmethod
    def row_type():
        import pyarrow as pa

        return pa.list_(pa.list_(pa.list_(pa.float32(), 2)))

    def cpu(self) -> "Masks":
        return self

    def numpy(self) -> "Masks":
        return self


def largest_contour(mask: np.ndarray) -> np.ndarray:
    """(K, 2) float32 x, y of the outer contour with the most points (the reference's 'largest' strategy)."""
    import cv2

    contours = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)[0]
    if not contours:
        return np.zeros((0, 2), np.float32)
    return contours[int(np.argmax([len(c) for c in contours]))].reshape(-1, 2).astype(np.float32)


def _weights(out_start: int, out_stop: int, scale: float, src_start: float, src_size: int) -> tuple[np.ndarray, int]:
    """Bilinear weights (out_stop - out_start, n) from source samples [lo, lo + n) to output pixels, and lo.

    Output pixel o samples source coordinate ``(o + 0.5) * scale - 0.5 + src_start`` (half-pixel centres, as
    ``F.interpolate(align_corners=False)`` and OpenCV), clamped to the source's [0, src_size - 1].
    """
    centres = (np.arange(out_start, out_stop, dtype=np.float64) + 0.5) * scale - 0.5 + src_start
    centres = np.clip(centres, 0, src_size - 1)
    first = np.floor(centres).astype(np.int64)
    second = np.minimum(first + 1, src_size - 1)
    frac = centres - first
    lo = int(first.min()) if len(first) else 0
    n = int(second.max()) - lo + 1 if len(first) else 0
    weights = np.zeros((len(centres), max(n, 1)))
    rows = np.arange(len(centres))
    np.add.at(weights, (rows, first - lo), 1 - frac)
    np.add.at(weights, (rows, second - lo), frac)
    return weights, lo


@lru_cache(maxsize=1)
def _blas():
    """threadpoolctl's view of the BLAS numpy uses (found once: scanning the loaded libraries costs milliseconds)."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


@contextlib.contextmanager
def single_threaded_blas():
    """Within: numpy's BLAS on one thread. Its worker threads spin after every multi-threaded product, and the
    masks' many small products left them spinning while OpenVINO ran the next image: a yolov8n-seg image took
    80 ms instead of 36 (2-core AVX512_BF16 CPU; ``OPENBLAS_NUM_THREADS=1`` gave the same 36). Restored after,
    so a user's own numpy keeps its threads."""
    with _blas().limit(limits=1, user_api="blas"):
        yield


def mask_crops(protos: np.ndarray, coefficients: np.ndarray, boxes: np.ndarray, shape: tuple[int, int],
               source: tuple[float, float, float, float] | None = None, cut_first: bool = True
               ) -> tuple[list[np.ndarray], np.ndarray]:
    """(crops, offsets) of N masks on a canvas of ``shape`` (h, w).

    protos (C, mh, mw) float; coefficients (N, C); boxes (N, 4) x1, y1, x2, y2 in canvas pixels.
    ``source`` (y0, x0, h, w): the region of the prototypes that maps onto the whole canvas (default: all of it;
    retina masks use the region inside the letterbox padding). ``cut_first``: zero the prototypes' logits outside
    the box (in the prototypes' grid) before upsampling, as the reference does at the inference shape; else
    upsample, then cut to the box on the canvas (its retina masks).
    """
    with single_threaded_blas():
        return _mask_crops(protos, coefficients, boxes, shape, source, cut_first)


def _mask_crops(protos, coefficients, boxes, shape, source, cut_first):
    c, mh, mw = protos.shape
    h, w = shape
    y0, x0, sh, sw = source or (0.0, 0.0, float(mh), float(mw))
    scale_y, scale_x = sh / h, sw / w  # source pixels per canvas pixel
    crops, offsets = [], []
    for box, coeff in zip(np.asarray(boxes, np.float64), np.asarray(coefficients, np.float32)):
        if cut_first:  # the upsampled mask reaches one prototype pixel beyond the cut: the window is that much wider
            wy1, wx1 = max(int(np.floor(box[1] - 2 / scale_y)), 0), max(int(np.floor(box[0] - 2 / scale_x)), 0)
            wy2, wx2 = min(int(np.ceil(box[3] + 2 / scale_y)), h), min(int(np.ceil(box[2] + 2 / scale_x)), w)
        else:  # cut on the canvas after upsampling: pixel columns x1 <= x < x2 (the reference's crop)
            wy1, wx1 = min(max(int(np.ceil(box[1])), 0), h), min(max(int(np.ceil(box[0])), 0), w)
            wy2, wx2 = min(max(int(np.ceil(box[3])), wy1), h), min(max(int(np.ceil(box[2])), wx1), w)
        if wy2 <= wy1 or wx2 <= wx1:
            crops.append(np.zeros((0, 0), bool))
            offsets.append((wy1, wx1))
            continue
        wy, ly = _weights(wy1, wy2, scale_y, y0, mh)  # the prototype rows and columns this window reads
        wx, lx = _weights(wx1, wx2, scale_x, x0, mw)
        rows, cols = np.arange(ly, ly + wy.shape[1]), np.arange(lx, lx + wx.shape[1])
        logits = (coeff @ protos[:, rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1].reshape(c, -1)).reshape(len(rows),
                                                                                                    len(cols))
        if cut_first:  # prototype pixels outside the box (in their grid, index-wise as the reference) are zeroed
            inside = ((rows >= box[1] * scale_y) & (rows < box[3] * scale_y))[:, None] & \
                     ((cols >= box[0] * scale_x) & (cols < box[2] * scale_x))[None, :]
            logits = np.where(inside, logits, 0)
        crops.append((wy @ logits @ wx.T) > 0)
        offsets.append((wy1, wx1))
    return crops, np.asarray(offsets, np.int64).reshape(-1, 2)


def draw_masks(canvas: np.ndarray, masks: np.ndarray, colors: list, alpha: float = 0.5) -> np.ndarray:
    """Fill each of ``masks`` (N, H, W) bool on ``canvas`` (H, W, 3) with its BGR colour at ``alpha``, in place,
    in the order given (the last drawn is on top)."""
    for mask, fill in zip(masks, colors):
        if mask.any():
            region = canvas[mask]
            canvas[mask] = (region * (1 - alpha) + np.array(fill, np.float32) * alpha).astype(np.uint8)
    return canvas
