"""YOLO-format datasets (Ultralytics layout): the yaml, its image lists and the labels beside them."""

from __future__ import annotations

import logging
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..utils.settings import settings
from ..errors import MissingFileError, OfflineError, UsageError, offline
from ..runtime.sources import IMAGE_SUFFIXES

LOGGER = logging.getLogger("yolo_openvino")
# Small official datasets fetched by name when not found locally (users have internet; CI uses ../shared).
KNOWN_DATASETS = {
    "coco8.yaml": "https://github.com/ultralytics/assets/releases/download/v0.0.0/coco8.zip",
    "coco128.yaml": "https://github.com/ultralytics/assets/releases/download/v0.0.0/coco128.zip",
}


@dataclass
class Dataset:
    """Resolved dataset: names and the image files of each split."""

    yaml_path: Path
    root: Path
    names: dict[int, str]
    splits: dict[str, list[Path]]
    split_paths: dict[str, str] = field(default_factory=dict)  # as written in the yaml, for messages
    kpt_shape: tuple[int, int] | None = None  # pose sets: keypoints per object and values per keypoint (2 or 3)

    def images(self, split: str = "val") -> list[Path]:
        """The split's image files; a missing or empty split is an error (never silently another split)."""
        if split not in self.splits:
            given = ", ".join(self.splits) or "none"
            raise UsageError(f"{self.yaml_path}: no '{split}' split (splits in the yaml: {given}); add '{split}:' "
                             f"to the yaml or pass split=<one of them>")
        if not self.splits[split]:
            raise UsageError(f"{self.yaml_path}: split '{split}' has no images ({self.split_paths.get(split)})")
        return self.splits[split]


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
            raise MissingFileError(f"dataset split '{item}' not found at {p}")
    return images


def find_yaml(data: str | Path) -> Path:
    """A local dataset yaml, or a known one (coco8.yaml, coco128.yaml) fetched into the cache."""
    path = Path(data)
    if path.exists():
        return path
    cache = Path(settings["datasets_dir"])
    if (cache / path.name).exists():
        return cache / path.name
    if path.name in KNOWN_DATASETS and path.parent == Path("."):
        if offline():
            raise OfflineError(f"dataset '{data}' is not at {path.resolve()} nor in {cache}, and YOLO_OFFLINE is set: "
                               f"pass data=path/to/{path.name} (Ultralytics layout) or put it in {cache}")
        return _download_dataset(path.name, cache)
    raise MissingFileError(f"dataset '{data}' not found. Pass data=path/to/dataset.yaml (Ultralytics layout).")


# COCO's 80 class names, in class-id order: the names a downloaded COCO8 / COCO128 yaml is written with.
COCO_NAMES = ("person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat", "traffic light",
              "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog", "horse", "sheep", "cow",
              "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella", "handbag", "tie", "suitcase",
              "frisbee", "skis", "snowboard", "sports ball", "kite", "baseball bat", "baseball glove", "skateboard",
              "surfboard", "tennis racket", "bottle", "wine glass", "cup", "fork", "knife", "spoon", "bowl",
              "banana", "apple", "sandwich", "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake",
              "chair", "couch", "potted plant", "bed", "dining table", "toilet", "tv", "laptop", "mouse", "remote",
              "keyboard", "cell phone", "microwave", "oven", "toaster", "sink", "refrigerator", "book", "clock",
              "vase", "scissors", "teddy bear", "hair drier", "toothbrush")


def _download_dataset(name: str, cache: Path) -> Path:
    from ..utils.downloads import download

    archive = download(KNOWN_DATASETS[name], cache / Path(KNOWN_DATASETS[name]).name)
    with zipfile.ZipFile(archive) as z:
        z.extractall(cache)
    stem = Path(name).stem
    yaml_path = cache / name
    data = {"path": stem, "train": "images/train" if stem == "coco8" else "images/train2017",
            "val": "images/val" if stem == "coco8" else "images/train2017",
            "names": dict(enumerate(COCO_NAMES))}
    yaml_path.write_text(yaml.safe_dump(data))
    return yaml_path


def load_dataset(data: str | Path) -> Dataset:
    from ..runtime.metadata import names_dict

    yaml_path = find_yaml(data)
    try:
        with open(yaml_path, encoding="utf-8") as f:
            spec = yaml.safe_load(f) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise UsageError(f"{yaml_path}: not a readable dataset yaml ({' '.join(str(e).split())[:160]})") from None
    if not isinstance(spec, dict) or "names" not in spec:
        raise UsageError(f"{yaml_path}: no 'names' in the dataset yaml")
    names = names_dict(spec["names"], yaml_path)
    root = _resolve_root(yaml_path, spec)
    splits = {s: _list_split(root, spec.get(s)) for s in ("train", "val", "test") if spec.get(s)}
    kpt_shape = spec.get("kpt_shape")
    if kpt_shape is not None and not (isinstance(kpt_shape, (list, tuple)) and len(kpt_shape) == 2
                                      and all(isinstance(v, int) for v in kpt_shape) and kpt_shape[1] in (2, 3)
                                      and kpt_shape[0] >= 1):
        raise UsageError(f"{yaml_path}: kpt_shape {kpt_shape!r:.40} must be [keypoints, 2 or 3], e.g. [17, 3]")
    return Dataset(yaml_path, root, names, splits, {s: str(spec.get(s)) for s in splits},
                   tuple(kpt_shape) if kpt_shape else None)


@dataclass
class ImageFolder:
    """A classification dataset: ``<root>/<split>/<class>/*.jpg`` (ImageNet's layout, the reference's). Class ids
    are the class folders' sorted names, as the reference numbers them; ``empty`` names the class folders of a
    split that hold no image (said, never silently scored)."""

    root: Path
    names: dict[int, str]
    splits: dict[str, list[tuple[Path, int]]]
    empty: dict[str, list[str]] = field(default_factory=dict)
    kpt_shape = None

    @property
    def yaml_path(self) -> Path:  # what messages name, as for a YOLO dataset
        return self.root

    def samples(self, split: str = "val") -> list[tuple[Path, int]]:
        """(image, class id) of the split; the reference's fallback: ``test`` where there is no ``val``."""
        if split == "val" and "val" not in self.splits and "test" in self.splits:
            split = "test"
        if not self.splits.get(split):
            raise UsageError(f"{self.root}: no images in a '{split}' split (splits: {', '.join(self.splits) or 'none'});"
                             f" expected {self.root}/{split}/<class>/<image>")
        return self.splits[split]

    def images(self, split: str = "val") -> list[Path]:
        return [image for image, _ in self.samples(split)]


def load_image_folder(data: str | Path) -> ImageFolder:
    """The ImageFolder dataset at ``data``: a folder with train/, val/ and/or test/ of class folders, or a yaml
    whose ``path`` is such a folder (relative to the yaml); one line naming the fix for anything else."""
    root = Path(data).expanduser()
    if root.suffix in (".yaml", ".yml") and root.is_file():
        spec = yaml.safe_load(root.read_text(encoding="utf-8")) or {}
        folder = Path(str(spec.get("path", "."))) if isinstance(spec, dict) else Path(".")
        root = folder if folder.is_absolute() else root.parent / folder
    if not root.is_dir():
        raise MissingFileError(f"data={data}: a classifier validates on an ImageFolder dataset, a folder with "
                               "train/ and val/ (or test/) holding one folder of images per class; not found")
    split_dirs = {s: root / s for s in ("train", "val", "test") if (root / s).is_dir()}
    if not split_dirs:
        raise UsageError(f"data={data}: no train/, val/ or test/ folder in it; a classification dataset holds "
                         "<split>/<class>/<image>")
    classes = sorted({d.name for folder in split_dirs.values() for d in folder.iterdir() if d.is_dir()})
    if not classes:
        raise UsageError(f"data={data}: its splits hold no class folders (<split>/<class>/<image>)")
    splits, empty = {}, {}
    for split, folder in split_dirs.items():
        splits[split] = [(f, i) for i, name in enumerate(classes) if (folder / name).is_dir()
                         for f in sorted((folder / name).rglob("*")) if f.suffix.lower() in IMAGE_SUFFIXES]
        counted = {i for _, i in splits[split]}
        empty[split] = [name for i, name in enumerate(classes) if i not in counted]
    return ImageFolder(root, dict(enumerate(classes)), splits, empty)
