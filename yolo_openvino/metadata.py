"""Model metadata: what the runtime needs to know about an exported model, read explicitly, never guessed."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class ModelMetadata:
    """Facts about a model that pre/post-processing depend on.

    imgsz: (h, w) input size the model was exported at (for dynamic models: the default size).
    nms: True when the model runs NMS itself and outputs (B, max_det, 6) rows x1, y1, x2, y2, score, class.
    precision: fp32 | fp16 | int8 (weights); inference_precision: what the runtime should compute in
    (None = the device's default).
    """

    names: dict[int, str]
    stride: int = 32
    imgsz: tuple[int, int] = (640, 640)
    batch: int = 1
    dynamic: bool = False
    nms: bool = False
    task: str = "detect"
    format: str = "pytorch"
    precision: str = "fp32"
    inference_precision: str | None = None
    description: str = ""
    args: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict, fmt: str) -> "ModelMetadata":
        """From a metadata.yaml / embedded metadata dict; unknown keys kept in ``extra``."""
        if not isinstance(data, dict) or "names" not in data:
            raise ValueError("metadata has no 'names': not a model exported by yolo-openvino or Ultralytics")
        known = {f for f in cls.__dataclass_fields__}
        names = data["names"]
        names = dict(enumerate(names)) if isinstance(names, list) else {int(k): str(v) for k, v in names.items()}
        imgsz = data.get("imgsz", 640)
        imgsz = (int(imgsz), int(imgsz)) if isinstance(imgsz, (int, float)) else (int(imgsz[0]), int(imgsz[1]))
        args = data.get("args") or {}
        values = {k: v for k, v in data.items() if k in known and k not in ("names", "imgsz", "format")}
        # Ultralytics exports record in-model NMS as args.nms / end2end; honour them explicitly.
        values.setdefault("nms", bool(data.get("end2end", False) or args.get("nms", False)))
        values.setdefault("dynamic", bool(args.get("dynamic", False)))
        stride = values.get("stride", 32)
        values["stride"] = int(max(stride) if isinstance(stride, (list, tuple)) else stride)
        extra = {k: v for k, v in data.items() if k not in known}
        return cls(names=names, imgsz=imgsz, format=fmt, extra=extra, **values)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["imgsz"] = list(self.imgsz)
        data.update(data.pop("extra"))
        return data
