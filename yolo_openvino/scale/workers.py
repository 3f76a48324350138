"""What runs inside a Ray worker (a Ray Data actor or a Serve replica): the model, shipped as bytes, and
the rows it gives for a batch of encoded images. No Ray import here: the same code runs, and is tested, in
a plain process.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ..errors import UsageError
from ..tasks import task_named

SHIPPED_FORMATS = ("openvino", "onnx")  # torch-free formats: what a worker runs


def worker_options(predict: dict, runtime: dict | None, where: str) -> tuple[dict, dict]:
    """(OpenVINO runtime options, PredictSettings fields) for the workers, from the user's predict options."""
    from ..options import BATCH, DETECTION, check, names, split_runtime

    applied = names(DETECTION) + (BATCH.name,)  # what a worker applies; saving, showing and the rest are local
    given, rest = split_runtime(check("predict", predict, where=where))
    return {**(runtime or {}), **given}, {k: v for k, v in rest.items() if v is not None and k in applied}


def model_files(model: str | Path) -> dict[str, bytes]:
    """The files of an exported model by name: an OpenVINO IR folder's .xml, .bin and metadata.yaml, or one
    .onnx file. Shipped to every worker, so a cluster needs no shared file system for the model."""
    from ..runtime.backends import model_format

    path = Path(model)
    fmt = model_format(path)
    if fmt not in SHIPPED_FORMATS:
        raise UsageError(f"{path}: a {fmt} model; Ray workers run exported models ({', '.join(SHIPPED_FORMATS)}): "
                         f"export it first, e.g. `yolo-ov export model={path} format=openvino`")
    if path.is_dir():
        files = [f for f in sorted(path.iterdir()) if f.suffix in (".xml", ".bin", ".yaml", ".json")]
    else:
        files = [path, *[f for f in (path.with_name("metadata.yaml"),) if f.exists()]]
        if path.suffix == ".xml":
            files.append(path.with_suffix(".bin"))
    return {f.name: f.read_bytes() for f in files}


def shipped_metadata(files: dict[str, bytes]) -> dict:
    """The shipped model's ``metadata.yaml`` as a dict ({} where there is none, or it is not a mapping)."""
    from ..runtime.metadata import parse_metadata_text

    text = files.get("metadata.yaml")
    return (parse_metadata_text(text.decode("utf-8", "replace")) or {}) if text else {}


def decode_fit(files: dict[str, bytes], imgsz=None):
    """What an image must still cover when decoded reduced for this model (``files.reduction``): the letterbox
    size (h, w), or for a classifier a ``Cover`` of its crop; from ``imgsz`` (the service's option) or the model's
    metadata. None where unknown (decoded at full size)."""
    from ..utils.files import Cover

    data = shipped_metadata(files)
    size = imgsz or data.get("imgsz")
    if not size:
        return None
    h, w = (size, size) if isinstance(size, int) else (int(size[0]), int(size[-1]))
    return Cover(h, w) if task_named(data.get("task")).crops else (h, w)


def materialize(files: dict[str, bytes]) -> Path:
    """Write shipped model files into a fresh private folder; returns the path to load (folder or .onnx)."""
    folder = Path(tempfile.mkdtemp(prefix="yolo-ov-model-"))
    for name, data in files.items():
        (folder / name).write_bytes(data)
    onnx = [n for n in files if n.endswith(".onnx")]
    return folder / onnx[0] if onnx else folder


class ModelWorker:
    """One loaded model of any task and the predict settings, in a Ray worker (a batch actor or a service replica);
    ``rows(names, blobs)`` -> one row per input, in order."""

    def __init__(self, files: dict[str, bytes], runtime: dict, settings: dict):
        from ..runtime.backends import load_backend, model_format
        from ..runtime.predictor import PredictSettings

        path = materialize(files)
        self.backend = load_backend(path, model_format(path), **runtime)
        self.settings = PredictSettings(**settings)
        self.pid = os.getpid()

    @classmethod
    def of(cls, backend, settings: dict) -> "ModelWorker":
        """A worker around a backend loaded here (the one-machine service: the model in this process)."""
        from ..runtime.predictor import PredictSettings

        worker = cls.__new__(cls)
        worker.backend, worker.settings, worker.pid = backend, PredictSettings(**settings), os.getpid()
        return worker

    def results(self, names: list[str], blobs: list, **overrides) -> list:
        """A Result, or the read error (str), for each input in order: ``blobs`` are encoded bytes or
        ``sources.DecodedImage`` (decoded by the service's ingress); ``overrides``: conf, iou, max_det."""
        from dataclasses import replace

        from ..runtime.predictor import Predictor
        from ..runtime.sources import DecodedImage, EncodedImage

        keys = [f"{i}:{n}" for i, n in enumerate(names)]  # unique even where names repeat (HTTP uploads)
        entries = [replace(b, name=k) if isinstance(b, (DecodedImage, EncodedImage)) else EncodedImage(k, bytes(b))
                   for k, b in zip(keys, blobs)]
        predictor = Predictor(self.backend, replace(self.settings, **overrides))
        done = iter(list(predictor.stream(entries, asynchronous=len(entries) > 1)))  # all read: errors known
        errors = predictor.stats.errors
        out = []
        for key, name in zip(keys, names):  # in input order; an unreadable input gets its error in its place
            if key in errors:
                out.append(errors[key].replace(key, str(name)))
                continue
            result = next(done)
            result.path = str(name)
            out.append(result)
        return out

    def rows(self, names: list[str], blobs: list[bytes]) -> dict[str, list]:
        """Columns of ``row_schema`` for a batch: an unreadable input gets a row with its error, never dropped."""
        columns: dict[str, list] = {name: [] for name in row_columns()}
        part_names = part_columns()
        for name, result in zip(names, self.results(names, blobs)):
            error = result if isinstance(result, str) else None
            columns["path"].append(str(name))
            columns["error"].append(error)
            if error:
                for key in ("width", "height"):
                    columns[key].append(None)
                for key in ("boxes", "scores", "classes", "names", *part_names):
                    columns[key].append([])
                continue
            boxes = result.boxes
            columns["height"].append(int(result.orig_shape[0]))
            columns["width"].append(int(result.orig_shape[1]))
            columns["boxes"].append(boxes.xyxy.astype("float32").tolist())
            if result.probs is not None:  # a classifier: its top-5, most probable first, and no boxes
                top5 = result.probs.top5
                columns["scores"].append([float(result.probs.data[c]) for c in top5])
                columns["classes"].append(top5)
                columns["names"].append([result.label(c) for c in top5])
            else:
                columns["scores"].append(boxes.confidence.astype("float32").tolist())
                columns["classes"].append(boxes.class_id.astype("int32").tolist())
                columns["names"].append(result.labels)
            # each part's column, per box in original pixels (parts.BoxPart.row_value); empty for a task without it
            present = {part.ROW_COLUMN: part.row_value() for part in result.parts()}
            for column in part_names:
                columns[column].append(present.get(column, []))
        return columns


def _row_parts() -> tuple:
    """The per-box part classes of the served tasks (registry order): a column each."""
    from ..results.parts import BoxPart
    from ..tasks import part_classes

    return tuple(part for part in part_classes() if issubclass(part, BoxPart))


def part_columns() -> tuple[str, ...]:
    """A column per kind of per-box part (masks' polygons, keypoints, oriented boxes' corners, a registered task's)."""
    return tuple(part.ROW_COLUMN for part in _row_parts())


def row_columns() -> tuple[str, ...]:
    """The batch output's columns, in order (``row_schema``)."""
    return ("path", "width", "height", "boxes", "scores", "classes", "names", *part_columns(), "error")


def row_schema():
    """The Parquet schema of the batch output: one row per input; boxes are x1, y1, x2, y2 in pixels (an oriented
    box's enclosing box); one list per box, empty where the task has none: polygons (segmentation) each mask's
    outline as [x, y] points, keypoints (pose) [x, y, visibility] (or [x, y]) per keypoint, corners (obb) the
    four [x, y] corners of the oriented box, all in pixels. A classifier's row has no boxes: its scores, classes
    and names are its top-5, most probable first."""
    import pyarrow as pa

    return pa.schema([("path", pa.string()), ("width", pa.int32()), ("height", pa.int32()),
                      ("boxes", pa.list_(pa.list_(pa.float32(), 4))), ("scores", pa.list_(pa.float32())),
                      ("classes", pa.list_(pa.int32())), ("names", pa.list_(pa.string())),
                      *((part.ROW_COLUMN, part.row_type()) for part in _row_parts()), ("error", pa.string())])
