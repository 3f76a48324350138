"""Model metadata: what the runtime needs to know about an exported model, read explicitly, never guessed."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import UsageError
from ..options import DEFAULT_MAX_DET
from ..tasks import DEFAULT_TASK, tasks


def metadata_text(data: dict) -> str:
    """The text of an IR's ``metadata.yaml``: JSON, which is YAML too, so Ultralytics and any YAML reader load it,
    while our runtime reads it with ``json`` (PyYAML costs a fresh process 10 to 30 ms to import, 3 to 8% of
    its time to a first result). Block YAML wherever the two parsers would read the JSON differently."""
    import json

    import yaml

    names = data.get("names")
    if isinstance(names, dict) and sorted(names) == list(range(len(names))):
        data = {**data, "names": [names[i] for i in range(len(names))]}  # JSON keys are strings; a list keeps ids
    text = json.dumps(data, indent=1, ensure_ascii=False) + "\n"
    if yaml.safe_load(text) != json.loads(text):  # e.g. 1e-05, a float to JSON but a string to YAML 1.1
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    return text


def parse_metadata_text(text: str) -> dict | None:
    """A ``metadata.yaml``'s mapping: ours (JSON) without importing PyYAML, any other YAML with it.
    Raises ValueError for text that is neither."""
    import json

    try:
        return json.loads(text)
    except ValueError:
        pass
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ValueError(" ".join(str(e).split())) from None


def names_dict(names, where) -> dict[int, str]:
    """Class names as {id: name} from a list or a dict (the two forms datasets and models use)."""
    if isinstance(names, (list, tuple)):
        return {i: str(n) for i, n in enumerate(names)}
    if isinstance(names, dict):
        try:
            return {int(k): str(v) for k, v in names.items()}
        except (TypeError, ValueError):
            pass
    raise UsageError(f"{where}: 'names' must be a list of class names or a dict id -> name, not {names!r:.60}")




@dataclass
class ModelMetadata:
    """Facts about a model that pre/post-processing depend on.

    imgsz: (h, w) input size the model was exported at (for dynamic models: the default size).
    The output is raw, (B, 4 + nc, A) that NMS follows on the host, unless one of these makes it final rows
    (B, max_det, 6) x1, y1, x2, y2, score, class (``outputs_rows``):
    - nms_in_graph: the exporter appended NMS to the graph (the reference records it as ``args.nms``, we as
      ``nms``);
    - one2one: the graph holds the NMS-free one-to-one head of a YOLO26 model and its top-k (``end2end`` in
      the reference's metadata and ours).
    max_det: how many rows such an output has (its top-k or NMS keeps at most this many).
    task_keys: what its task's exports add to the metadata (``Task.metadata_keys``: a pose model's ``kpt_shape``, on
    which its output's layout depends), as the file has them; the task's own code reads and checks them.
    precision: fp32 | fp16 | int8 (weights). What the runtime computes in is the device's choice unless the
    user asks (``inference_precision=``), so nothing about it is read from here.
    """

    names: dict[int, str]
    stride: int = 32
    imgsz: tuple[int, int] = (640, 640)
    batch: int = 1
    dynamic: bool = False
    nms_in_graph: bool = False
    one2one: bool = False
    max_det: int = DEFAULT_MAX_DET
    task: str = DEFAULT_TASK
    task_keys: dict = field(default_factory=dict)  # the task's own keys (pose: kpt_shape)
    format: str = "pytorch"
    precision: str = "fp32"
    description: str = ""
    args: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict, fmt: str, where: str = "metadata") -> "ModelMetadata":
        """From a metadata.yaml / embedded metadata dict; unknown keys kept in ``extra``. Raises UsageError
        naming ``where`` for metadata that is not a model's."""
        if not isinstance(data, dict) or "names" not in data:
            raise UsageError(f"{where}: no 'names': not a model exported by yolo-openvino or Ultralytics")
        try:
            return cls._from_dict(data, fmt, where)
        except (TypeError, ValueError, IndexError, AttributeError) as e:
            raise UsageError(f"{where}: malformed model metadata ({e}); re-export the model") from None

    @classmethod
    def _from_dict(cls, data: dict, fmt: str, where: str) -> "ModelMetadata":
        own = getattr(tasks().get(data.get("task") or DEFAULT_TASK), "metadata_keys", ())  # unknown: refused later
        file_keys = {"names", "imgsz", "format", "stride", "nms", "end2end", *own}  # read below
        known = {f for f in cls.__dataclass_fields__ if f not in ("nms_in_graph", "one2one", "max_det", "task_keys")}
        args = data.get("args") or {}
        imgsz = data.get("imgsz", 640)
        imgsz = (int(imgsz), int(imgsz)) if isinstance(imgsz, (int, float)) else (int(imgsz[0]), int(imgsz[1]))
        stride = data.get("stride", 32)
        values = {k: v for k, v in data.items() if k in known and k not in file_keys}
        values.setdefault("dynamic", bool(args.get("dynamic", False)))
        one2one = bool(data.get("end2end"))
        return cls(names=names_dict(data["names"], where), imgsz=imgsz, format=fmt,
                   stride=int(max(stride) if isinstance(stride, (list, tuple)) else stride),
                   one2one=one2one, nms_in_graph=bool(data.get("nms", args.get("nms")) or False) and not one2one,
                   max_det=int(args.get("max_det") or DEFAULT_MAX_DET), task_keys={k: data[k] for k in own if k in data},
                   extra={k: v for k, v in data.items() if k not in known | file_keys}, **values)

    @property
    def outputs_rows(self) -> bool:
        """True when the output is final rows (B, max_det, 6) (in-graph NMS or the NMS-free head), False for the
        raw (B, 4 + nc, A) output that NMS follows."""
        return self.nms_in_graph or self.one2one
