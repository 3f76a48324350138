"""Every Python and CLI example of the README and the docs site runs.

Each page's blocks run in order in one folder of its own, holding the files the examples name: `yolov8n.pt` and
`yolo26n.pt` are tiny untrained detectors of the official layout (80 classes, trained size 320: an example shows
the API, parity is proven elsewhere), the task names are the trained shapes models of ../shared, `bus.jpg` and
`images/` COCO photos, `clip.mp4` the first frames of the shapes video, the dataset yamls the shared ones.

The README's examples run in the fast set, the site's (docs/) in the slow set. A block preceded by
``<!-- not run: why -->`` is not run (it needs PyPI, a cluster of machines or minutes of benchmarking), and the
reason is in the page. In a ``bash``
block every ``yolo-ov`` line runs (through ``cli.main``, exit code 0 asserted); other lines are shell set-up.
"""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import DATASETS, HAVE_SHARED, MODELS, ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"(?:<!-- (?P<note>not run: [^>]*) -->\n)?```(?P<lang>\w*)\n(?P<code>.*?)```", re.S)


@dataclass
class Example:
    page: Path
    index: int
    lang: str
    code: str
    note: str | None

    @property
    def id(self) -> str:
        return f"{self.page.name}:{self.index}"


def examples() -> list[Example]:
    """The python and bash blocks of every page, in page order."""
    found = []
    for page in PAGES:
        for i, m in enumerate(FENCE.finditer(page.read_text(encoding="utf-8"))):
            if m["lang"] in ("python", "bash"):
                found.append(Example(page, i, m["lang"], m["code"], m["note"]))
    return found


def _param(example: Example):
    marks = [] if example.page.name == "README.md" else [pytest.mark.slow]
    if example.note:
        marks.append(pytest.mark.skip(reason=example.note))
    return pytest.param(example, id=example.id, marks=marks)


# -- the files the examples name --------------------------------------------------------------------------------------
SHARED_MODELS = {"yolov8n-seg.pt": "yolov8n-seg-shapes.pt", "yolo11n-pose.pt": "yolo11n-pose-shapes.pt",
                 "yolo11n-obb.pt": "yolov8n-obb-shapes.pt", "yolo11n-cls.pt": "yolo11n-cls-shapes.pt"}
SHARED_DATA = {"coco8.yaml": "coco8.yaml", "coco8": "coco8", "coco128.yaml": "coco128.yaml", "coco128": "coco128",
               "coco128-seg.yaml": "shapes-seg.yaml", "shapes-seg": "shapes-seg",
               "coco8-pose.yaml": "shapes-pose.yaml", "shapes-pose": "shapes-pose",
               "path/to/imagenet10": "shapes-cls"}
PHOTOS = DATASETS / "coco128" / "images" / "train2017"


@pytest.fixture(scope="session")
def workspace_files(tmp_path_factory) -> Path:
    """A folder with every file the examples name (made once; each page gets links to it)."""
    import cv2
    import ultralytics_fakes

    if not HAVE_SHARED:
        pytest.skip("the examples read ../shared's models, photos and datasets")
    root = tmp_path_factory.mktemp("docs_files")
    for name, family in (("yolov8n.pt", "yolov8"), ("yolo26n.pt", "yolo26")):
        arch = ultralytics_fakes.tiny_arch(nc=80, family=family)
        ultralytics_fakes.save_checkpoint(root / name, arch=arch, class_bias=0.0)  # it finds 'objects'
    for ours, theirs in SHARED_MODELS.items():
        (root / ours).symlink_to(MODELS / theirs)
    for ours, theirs in SHARED_DATA.items():
        (root / ours).parent.mkdir(parents=True, exist_ok=True)
        (root / ours).symlink_to(DATASETS / theirs)
    photos = sorted(PHOTOS.glob("*.jpg"))
    (root / "bus.jpg").symlink_to(photos[0])
    (root / "boats.jpg").symlink_to(DATASETS / "shapes-obb" / "images" / "val" / sorted(
        os.listdir(DATASETS / "shapes-obb" / "images" / "val"))[0])
    (root / "images").mkdir()
    for photo in photos[:3]:
        (root / "images" / photo.name).symlink_to(photo)
    for name in ("clip.mp4", "cam1.mp4", "cam2.mp4"):
        _first_frames(DATASETS / "shapes-track.mp4", root / name, 12, cv2)
    (root / "cams.streams").write_text("cam1.mp4\ncam2.mp4\n")
    return root


def _first_frames(video: Path, out: Path, count: int, cv2) -> None:
    capture = cv2.VideoCapture(str(video))
    frames = [capture.read()[1] for _ in range(count)]
    capture.release()
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), 30, (w, h))
    for frame in frames:
        writer.write(frame)
    writer.release()


_WORKSPACES: dict[Path, Path] = {}


@pytest.fixture
def workspace(workspace_files, tmp_path_factory, monkeypatch) -> Path:
    """The page's own folder (shared by its blocks, which run in order), as the working directory."""

    def make(page: Path) -> Path:
        if page not in _WORKSPACES:
            folder = _WORKSPACES[page] = tmp_path_factory.mktemp(f"docs_{page.stem}")
            for entry in workspace_files.iterdir():
                (folder / entry.name).symlink_to(entry)
        monkeypatch.chdir(_WORKSPACES[page])
        return _WORKSPACES[page]

    return make


@pytest.mark.parametrize("example", [_param(e) for e in examples()])
def test_the_example_runs(example, workspace, monkeypatch):
    monkeypatch.setenv("YOLO_OFFLINE", "1")  # an example that would download is a broken example
    workspace(example.page)
    if example.lang == "python":
        exec(compile(example.code, example.id, "exec"), {"__name__": "__docs__"})
        return
    from yolo_openvino.cli import main

    for line in example.code.splitlines():
        words = shlex.split(line, comments=True)
        if words[:1] == ["yolo-ov"]:
            try:
                code = main(words[1:])
            except SystemExit as e:  # --help and --version end as argparse ends them
                code = e.code
            assert code in (0, None), f"{example.id}: `{line.strip()}` exited {code}"


def test_every_example_that_is_not_run_says_why():
    for example in examples():
        if example.note:
            assert len(example.note) > len("not run: ") + 10, example.id


def test_the_readme_is_a_front_door():
    readme = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(readme) <= 250
    assert any(line.startswith("bash scripts/setup.sh") for line in readme[:60])  # the two commands near the top
    assert any(line.startswith(".venv/bin/python -m pytest -q") for line in readme[:60])
