"""YOLO-format datasets (Ultralytics layout): the yaml, its image lists and the labels beside them."""

from __future__ import annotations

import logging
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

from .sources import IMAGE_SUFFIXES

LOGGER = logging.getLogger("yolo_openvino")
# Small official datasets fetched by name when not found locally (users have internet; CI uses ../shared).
KNOWN_DATASETS = {
    "coco8.yaml": "https://github.com/ultralytics/assets/releases/download/v0.0.0/coco8.zip",
    "coco128.yaml": "https://github.com/ultralytics/assets/releases/download/v0.0.0/coco128.zip",
}


@dataclass
class LabelIssues:
    """What was odd about the labels, reported rather than silently dropped."""

    missing: list[str] = field(default_factory=list)  # images without a label file (treated as background)
    empty: list[str] = field(default_factory=list)  # empty label files (background)
    corrupt: list[str] = field(default_factory=list)  # unparsable lines / wrong column count
    out_of_range: list[str] = field(default_factory=list)  # class id >= nc or < 0: boxes dropped

    def summary(self) -> str:
        parts = [f"{len(v)} {k.replace('_', ' ')}" for k, v in vars(self).items() if v]
        return ", ".join(parts) if parts else "no label issues"


@dataclass
class Dataset:
    """Resolved dataset: names and the image files of each split."""

    yaml_path: Path
    root: Path
    names: dict[int, str]
    splits: dict[str, list[Path]]

    def images(self, split: str = "val") -> list[Path]:
        if split not in self.splits or not self.splits[split]:
            fallback = next((s for s in ("val", "test", "train") if self.splits.get(s)), None)
            if fallback is None:
                raise FileNotFoundError(f"{self.yaml_path}: split '{split}' has no images")
            LOGGER.warning("%s: split '%s' missing or empty, using '%s'", self.yaml_path, split, fallback)
            split = fallback
        return self.splits[split]


def label_path(image: Path) -> Path:
    """``.../images/x/a.jpg`` -> ``.../labels/x/a.txt`` (the last ``images`` folder in the path is swapped)."""
    parts = list(image.parts)
    for i in range(len(parts) - 1, -1, -1):
        if parts[i] == "images":
            parts[i] = "labels"
            break
    return Path(*parts).with_suffix(".txt")


def read_labels(image: Path, nc: int, issues: LabelIssues) -> np.ndarray:
    """(N, 5) float32 rows ``class cx cy w h`` (normalised) for ``image``; problems recorded in ``issues``."""
    path = label_path(image)
    if not path.exists():
        issues.missing.append(image.name)
        return np.zeros((0, 5), np.float32)
    text = path.read_text().strip()
    if not text:
        issues.empty.append(image.name)
        return np.zeros((0, 5), np.float32)
    try:
        rows = np.array([line.split()[:5] for line in text.splitlines() if line.strip()], dtype=np.float32)
        if rows.ndim != 2 or rows.shape[1] != 5:
            raise ValueError("expected 5 columns")
    except ValueError:
        issues.corrupt.append(image.name)
        return np.zeros((0, 5), np.float32)
    bad_class = (rows[:, 0] < 0) | (rows[:, 0] >= nc) | (rows[:, 0] != np.round(rows[:, 0]))
    if bad_class.any():
        issues.out_of_range.append(image.name)
        rows = rows[~bad_class]
    return rows


def _resolve_root(yaml_path: Path, data: dict) -> Path:
    root = Path(data.get("path") or ".")
    if root.is_absolute():
        return root
    for base in (yaml_path.parent, Path.cwd()):  # the yaml's folder first: datasets are portable that way
        if (base / root).exists():
            return (base / root).resolve()
    return (yaml_path.parent / root).resolve()


def _list_split(root: Path, entry) -> list[Path]:
    if entry is None:
        return []
    images = []
    for item in entry if isinstance(entry, list) else [entry]:
        p = Path(item) if Path(item).is_absolute() else root / item
        if p.is_dir():
            images += sorted(f for f in p.rglob("*") if f.suffix.lower() in IMAGE_SUFFIXES)
        elif p.suffix == ".txt" and p.exists():
            for line in p.read_text().splitlines():
                line = line.strip()
                if line:
                    f = Path(line)
                    images.append(f if f.is_absolute() else (p.parent / f).resolve())
        else:
            raise FileNotFoundError(f"dataset split '{item}' not found at {p}")
    return images


def find_yaml(data: str | Path) -> Path:
    """A local dataset yaml, or a known one (coco8.yaml, coco128.yaml) fetched into the cache."""
    path = Path(data)
    if path.exists():
        return path
    cache = Path(os.environ.get("YOLO_OPENVINO_HOME") or Path.home() / ".cache" / "yolo_openvino") / "datasets"
    if (cache / path.name).exists():
        return cache / path.name
    if path.name in KNOWN_DATASETS and path.parent == Path("."):
        return _download_dataset(path.name, cache)
    raise FileNotFoundError(f"dataset '{data}' not found. Pass data=path/to/dataset.yaml (Ultralytics layout).")


def _download_dataset(name: str, cache: Path) -> Path:
    from .downloads import download

    archive = download(KNOWN_DATASETS[name], cache / Path(KNOWN_DATASETS[name]).name)
    with zipfile.ZipFile(archive) as z:
        z.extractall(cache)
    stem = Path(name).stem
    yaml_path = cache / name
    data = {"path": stem, "train": "images/train" if stem == "coco8" else "images/train2017",
            "val": "images/val" if stem == "coco8" else "images/train2017",
            "names": {i: str(i) for i in range(80)}}
    yaml_path.write_text(yaml.safe_dump(data))
    return yaml_path


def load_dataset(data: str | Path) -> Dataset:
    yaml_path = find_yaml(data)
    with open(yaml_path, encoding="utf-8") as f:
        spec = yaml.safe_load(f) or {}
    if "names" not in spec:
        raise ValueError(f"{yaml_path}: no 'names' in the dataset yaml")
    names = spec["names"]
    names = dict(enumerate(names)) if isinstance(names, list) else {int(k): str(v) for k, v in names.items()}
    root = _resolve_root(yaml_path, spec)
    splits = {s: _list_split(root, spec.get(s)) for s in ("train", "val", "test") if spec.get(s)}
    return Dataset(yaml_path, root, names, splits)
