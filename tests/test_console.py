"""What predict prints (issue #12): the lines an Ultralytics user reads, each image's own time, the load said once."""

from __future__ import annotations

import re

import cv2
import numpy as np
import pytest

from yolo_openvino import YOLO
from yolo_openvino.runtime.backends.base import Backend
from yolo_openvino.runtime.metadata import ModelMetadata
from yolo_openvino.runtime.predictor import PredictSettings, Predictor

LINE = re.compile(r"^image (\d+)/(\d+) (\S+): (\d+)x(\d+) .*, (\d+\.\d)ms$")


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("images")
    rng = np.random.default_rng(0)
    for i, (h, w) in enumerate([(48, 64), (64, 48), (40, 40), (48, 64), (64, 64), (32, 64)]):
        cv2.imwrite(str(folder / f"{i}.jpg"), rng.integers(0, 255, (h, w, 3), dtype=np.uint8))
    return folder


def test_python_predict_prints_like_the_cli(tiny_ir, folder, capsys):
    model = YOLO(tiny_ir)
    model(str(folder))
    first = capsys.readouterr().out.splitlines()
    model(str(folder))
    second = capsys.readouterr().out.splitlines()
    assert first[0].startswith(f"Loaded {tiny_ir}") and not any(s.startswith("Loaded") for s in second)
    lines = [LINE.match(s) for s in second[:6]]
    assert all(lines), second
    assert [(int(m[1]), int(m[2])) for m in lines] == [(k, 6) for k in range(1, 7)]
    assert [m[3] for m in lines] == [str(folder / f"{i}.jpg") for i in range(6)]  # absolute, in input order
    assert (lines[1][4], lines[1][5]) == ("64", "48")  # the original size, h x w
    assert second[6].startswith("Speed: ") and second[6].endswith("per image at shape (1, 3, 64, 64)")
    assert re.match(r"^6 images processed in \d+\.\d\ds \(\d+\.\d images/s\)$", second[7])
    model(str(folder), verbose=False)
    assert capsys.readouterr().out == ""


def test_video_lines_count_frames(tiny_ir, tmp_path, capsys):
    video = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 5, (64, 48))
    for i in range(3):
        writer.write(np.full((48, 64, 3), 40 * i, np.uint8))
    writer.release()
    YOLO(tiny_ir)(str(video))
    lines = capsys.readouterr().out.splitlines()
    assert [s.split(f" {video}:")[0] for s in lines[1:4]] == [f"video 1/1 (frame {i}/3)" for i in (1, 2, 3)]
    assert lines[-1].startswith("3 images processed in ")


class _FixedTimeBackend(Backend):
    """Answers at once but says every batch took 7 ms, as OpenVINO's request latency would."""

    def __init__(self):
        self.metadata = ModelMetadata(imgsz=(32, 32), names={0: "a"}, stride=32, batch=1, format="openvino")

    def infer(self, batch):
        return [np.zeros((len(batch), 5, 21), np.float32)]

    def infer_many(self, batches):
        for batch, context in batches:
            yield self.infer(batch), context, 7.0


def test_per_image_time_is_the_inference_of_that_image(folder):
    """Not the gap between outputs: in a pipeline those swung from 1 to 300 ms for images of one size."""
    results = list(Predictor(_FixedTimeBackend(), PredictSettings()).stream(sorted(map(str, folder.glob("*.jpg")))))
    assert [r.speed["inference"] for r in results] == [7.0] * 6


def test_openvino_times_are_its_request_latencies(tiny_ir, folder):
    results = YOLO(tiny_ir, mode="throughput")(str(folder), verbose=False)
    times = [r.speed["inference"] for r in results]
    # gaps between outputs of a pipeline fall near 0 where requests finish together; latencies do not
    assert min(times) > 0.2 * float(np.median(times)), times


def test_a_path_listed_many_times_is_numbered_by_each_listing():
    from yolo_openvino.predict.console import ProgressLines
    from yolo_openvino.results.boxes import Detections
    from yolo_openvino.results.result import Result

    empty = Detections(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int64))
    lines = ProgressLines(["a.jpg"] * 3 + ["b.jpg"])
    numbers = [lines.line(Result(p, (4, 4), empty), n).split()[1] for n, p in enumerate(["a.jpg"] * 3 + ["b.jpg"], 1)]
    assert numbers == ["1/4", "2/4", "3/4", "4/4"]
