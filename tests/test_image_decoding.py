"""Reduced JPEG decoding: never below what the letterbox needs, and the original size always known."""

from __future__ import annotations

import struct

import cv2
import numpy as np
import pytest


@pytest.mark.parametrize("size,fit,k", [((640, 480), (640, 640), 1), ((1920, 1080), (640, 640), 2),
                                        ((3840, 2160), (640, 640), 4), ((7680, 4320), (640, 640), 8),
                                        ((1280, 720), (640, 640), 2), ((1279, 720), (640, 640), 1),
                                        ((3840, 2160), (1280, 1280), 2), ((1920, 1080), None, 1)])
def test_reduction_never_decodes_below_what_the_letterbox_needs(size, fit, k):
    from yolo_openvino.utils.files import reduction

    assert reduction(*size, fit) == k


@pytest.mark.parametrize("orientation", [1, 6])
def test_reduced_decode_reports_the_full_size_even_when_rotated(tmp_path, orientation):
    from yolo_openvino.utils.files import read_image_to_fit

    rng = np.random.default_rng(0)
    image = cv2.resize(rng.integers(0, 255, (27, 48, 3), dtype=np.uint8), (1920, 1080))
    path = tmp_path / "big.jpg"
    cv2.imwrite(str(path), image)
    if orientation != 1:  # an EXIF APP1 segment with Orientation=6 (rotate 90 degrees clockwise)
        tiff = b"MM\x00*\x00\x00\x00\x08\x00\x01\x01\x12\x00\x03\x00\x00\x00\x01\x00\x06\x00\x00\x00\x00\x00\x00"
        app1 = b"\xff\xe1" + struct.pack(">H", len(tiff) + 8) + b"Exif\x00\x00" + tiff
        data = path.read_bytes()
        path.write_bytes(data[:2] + app1 + data[2:])
    reduced, full = read_image_to_fit(path, (640, 640))
    full_image = cv2.imread(str(path))
    assert full == full_image.shape[:2] == ((1080, 1920) if orientation == 1 else (1920, 1080))
    assert reduced.shape[:2] == (full[0] // 2, full[1] // 2)
    small = cv2.resize(full_image, reduced.shape[1::-1], interpolation=cv2.INTER_AREA)
    assert np.abs(small.astype(int) - reduced).mean() < 3  # the same picture, decoded smaller
