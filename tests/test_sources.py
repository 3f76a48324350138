"""Every kind of source gives the detections its image gives read from a file: numpy arrays (BGR, gray, (H, W, 1),
BGRA, a batch), PIL images in each mode, torch tensors, ``pathlib.Path``, a ``.txt`` file listing sources, a folder
and a glob. Tiny model, no ../shared."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from yolo_openvino import YOLO
from yolo_openvino.errors import UsageError


@pytest.fixture(scope="module")
def picture(tmp_path_factory) -> tuple[np.ndarray, Path]:
    """A (48, 64, 3) BGR picture with structure, and its lossless PNG."""
    import cv2

    rng = np.random.default_rng(3)
    image = cv2.GaussianBlur(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8), (5, 5), 0)
    image[10:30, 20:40] = (250, 40, 40)
    path = tmp_path_factory.mktemp("sources") / "picture.png"
    cv2.imwrite(str(path), image)
    return image, path


def _boxes(model, source) -> list[np.ndarray]:
    return [r.boxes.data for r in model(source, imgsz=64, conf=0.0, max_det=5, verbose=False)]


def _as(kind: str, image: np.ndarray, path: Path, tmp_path: Path):
    """(the source in that kind, the BGR image the reference reads it as)."""
    import cv2
    from PIL import Image

    rgb = Image.fromarray(np.ascontiguousarray(image[:, :, ::-1]))
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    gray_bgr = cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)
    if kind == "bgr array":
        return image, image
    if kind == "gray array":
        return gray, gray_bgr
    if kind == "(H, W, 1) array":
        return gray[:, :, None], gray_bgr
    if kind == "BGRA array":
        return np.dstack([image, np.full(image.shape[:2], 7, np.uint8)]), image
    if kind == "PIL RGB":
        return rgb, image
    if kind == "PIL L":
        return rgb.convert("L"), gray_bgr
    if kind == "PIL RGBA":
        return rgb.convert("RGBA"), image
    if kind == "PIL P":
        palette = rgb.convert("P")
        return palette, np.asarray(palette.convert("RGB"))[:, :, ::-1]
    if kind == "torch tensor":
        import torch

        return torch.from_numpy(image[:, :, ::-1].transpose(2, 0, 1).copy()).float()[None] / 255, image
    if kind == "pathlib.Path":
        return path, image
    if kind == ".txt list":
        listing = tmp_path / "list.txt"
        listing.write_text(f"{path.name}\n\n")  # relative to the list's folder, as the reference reads it
        (tmp_path / path.name).write_bytes(path.read_bytes())
        return listing, image
    raise AssertionError(kind)


KINDS = ["bgr array", "gray array", "(H, W, 1) array", "BGRA array", "PIL RGB", "PIL L", "PIL RGBA", "PIL P",
         "torch tensor", "pathlib.Path", ".txt list"]


@pytest.mark.parametrize("kind", KINDS)
def test_a_source_kind_gives_what_its_image_gives(tiny_ir, picture, tmp_path, kind):
    image, path = picture
    source, seen_as = _as(kind, image, path, tmp_path)
    model = YOLO(tiny_ir)
    ours = _boxes(model, source)
    assert len(ours) == 1 and len(ours[0])
    np.testing.assert_array_equal(ours[0], _boxes(model, seen_as)[0])


def test_a_batch_array_and_a_list_give_one_result_per_image(tiny_ir, picture):
    image, path = picture
    model = YOLO(tiny_ir)
    batch = _boxes(model, np.stack([image, image[::-1].copy()]))
    listed = _boxes(model, [str(path), image[::-1].copy()])
    assert len(batch) == len(listed) == 2
    for a, b in zip(batch, listed):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("make,message", [
    (lambda torch: torch.zeros(1, 1, 32, 32), r"expected \(B, 3, H, W\)"),
    (lambda torch: torch.full((1, 3, 32, 32), 255.0), r"expected RGB in \[0, 1\] \(divide by 255\)"),
])
def test_a_torch_tensor_of_another_layout_is_one_line(tiny_ir, make, message):
    import torch

    with pytest.raises(UsageError, match=message):
        YOLO(tiny_ir)(make(torch), verbose=False)


def test_a_txt_list_with_a_missing_entry_names_it(tiny_ir, picture, tmp_path):
    listing = tmp_path / "list.txt"
    listing.write_text(f"{picture[1]}\nmissing.jpg\n")
    with pytest.raises(UsageError, match="'missing.jpg': no such file"):
        YOLO(tiny_ir)(listing, verbose=False)


def test_path_options_take_pathlib_paths(tiny_ir, picture, tmp_path):
    results = YOLO(Path(tiny_ir))(Path(picture[1]), save=True, project=tmp_path / "runs", name="p", verbose=False)
    assert len(results) == 1 and (tmp_path / "runs" / "p" / picture[1].name).exists()
