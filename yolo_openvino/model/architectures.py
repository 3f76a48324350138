"""Architecture definitions of the detectors we build from a name (``yolov8n.yaml``, ``yolo11s.yaml``, ``yolo26n.yaml``).

Each definition uses the layout that checkpoints store in ``model.yaml``: a list of layers
``[from, repeats, module, args]`` plus per-scale ``[depth, width, max_channels]`` multipliers, so the
same builder handles a checkpoint's own definition and these.
"""

from __future__ import annotations

import copy
import re

_UPSAMPLE = [-1, 1, "nn.Upsample", ["None", 2, "nearest"]]

YOLOV8 = {
    "nc": 80,
    "scales": {
        "n": [0.33, 0.25, 1024],
        "s": [0.33, 0.50, 1024],
        "m": [0.67, 0.75, 768],
        "l": [1.00, 1.00, 512],
        "x": [1.00, 1.25, 512],
    },
    "backbone": [
        [-1, 1, "Conv", [64, 3, 2]],  # 0 P1/2
        [-1, 1, "Conv", [128, 3, 2]],  # 1 P2/4
        [-1, 3, "C2f", [128, True]],
        [-1, 1, "Conv", [256, 3, 2]],  # 3 P3/8
        [-1, 6, "C2f", [256, True]],
        [-1, 1, "Conv", [512, 3, 2]],  # 5 P4/16
        [-1, 6, "C2f", [512, True]],
        [-1, 1, "Conv", [1024, 3, 2]],  # 7 P5/32
        [-1, 3, "C2f", [1024, True]],
        [-1, 1, "SPPF", [1024, 5]],  # 9
    ],
    "head": [
        _UPSAMPLE,
        [[-1, 6], 1, "Concat", [1]],
        [-1, 3, "C2f", [512]],  # 12
        _UPSAMPLE,
        [[-1, 4], 1, "Concat", [1]],
        [-1, 3, "C2f", [256]],  # 15 P3 out
        [-1, 1, "Conv", [256, 3, 2]],
        [[-1, 12], 1, "Concat", [1]],
        [-1, 3, "C2f", [512]],  # 18 P4 out
        [-1, 1, "Conv", [512, 3, 2]],
        [[-1, 9], 1, "Concat", [1]],
        [-1, 3, "C2f", [1024]],  # 21 P5 out
        [[15, 18, 21], 1, "Detect", ["nc"]],
    ],
}

YOLO11 = {
    "nc": 80,
    "scales": {
        "n": [0.50, 0.25, 1024],
        "s": [0.50, 0.50, 1024],
        "m": [0.50, 1.00, 512],
        "l": [1.00, 1.00, 512],
        "x": [1.00, 1.50, 512],
    },
    "backbone": [
        [-1, 1, "Conv", [64, 3, 2]],
        [-1, 1, "Conv", [128, 3, 2]],
        [-1, 2, "C3k2", [256, False, 0.25]],
        [-1, 1, "Conv", [256, 3, 2]],
        [-1, 2, "C3k2", [512, False, 0.25]],
        [-1, 1, "Conv", [512, 3, 2]],
        [-1, 2, "C3k2", [512, True]],
        [-1, 1, "Conv", [1024, 3, 2]],
        [-1, 2, "C3k2", [1024, True]],
        [-1, 1, "SPPF", [1024, 5]],
        [-1, 2, "C2PSA", [1024]],  # 10
    ],
    "head": [
        _UPSAMPLE,
        [[-1, 6], 1, "Concat", [1]],
        [-1, 2, "C3k2", [512, False]],  # 13
        _UPSAMPLE,
        [[-1, 4], 1, "Concat", [1]],
        [-1, 2, "C3k2", [256, False]],  # 16 P3 out
        [-1, 1, "Conv", [256, 3, 2]],
        [[-1, 13], 1, "Concat", [1]],
        [-1, 2, "C3k2", [512, False]],  # 19 P4 out
        [-1, 1, "Conv", [512, 3, 2]],
        [[-1, 10], 1, "Concat", [1]],
        [-1, 2, "C3k2", [1024, True]],  # 22 P5 out
        [[16, 19, 22], 1, "Detect", ["nc"]],
    ],
}

# YOLO26: YOLO11's backbone with a residual SPPF (k 5, 3 pools, shortcut), attention inside the last C3k2,
# and an end-to-end head: no DFL (reg_max 1) and a second, one-to-one branch that needs no NMS.
YOLO26 = {
    "nc": 80,
    "end2end": True,
    "reg_max": 1,
    "scales": YOLO11["scales"],
    "backbone": [
        *YOLO11["backbone"][:9],  # layers 0-8 as in YOLO11
        [-1, 1, "SPPF", [1024, 5, 3, True]],
        [-1, 2, "C2PSA", [1024]],  # 10
    ],
    "head": [
        _UPSAMPLE,
        [[-1, 6], 1, "Concat", [1]],
        [-1, 2, "C3k2", [512, True]],  # 13
        _UPSAMPLE,
        [[-1, 4], 1, "Concat", [1]],
        [-1, 2, "C3k2", [256, True]],  # 16 P3 out
        [-1, 1, "Conv", [256, 3, 2]],
        [[-1, 13], 1, "Concat", [1]],
        [-1, 2, "C3k2", [512, True]],  # 19 P4 out
        [-1, 1, "Conv", [512, 3, 2]],
        [[-1, 10], 1, "Concat", [1]],
        [-1, 1, "C3k2", [1024, True, 0.5, True]],  # 22 P5 out (attention)
        [[16, 19, 22], 1, "Detect", ["nc"]],
    ],
}

FAMILIES = {"yolov8": YOLOV8, "yolo11": YOLO11, "yolo26": YOLO26}
# A task's name suffix and the head block that replaces Detect, per family (the rest of the network is the same).
TASK_HEADS = {"": {},
              "-seg": {"yolov8": ["Segment", ["nc", 32, 256]], "yolo11": ["Segment", ["nc", 32, 256]],
                       "yolo26": ["Segment26", ["nc", 32, 256]]},
              "-pose": {"yolov8": ["Pose", ["nc", "kpt_shape"]], "yolo11": ["Pose", ["nc", "kpt_shape"]],
                        "yolo26": ["Pose26", ["nc", "kpt_shape"]]},
              "-obb": {"yolov8": ["OBB", ["nc", 1]], "yolo11": ["OBB", ["nc", 1]], "yolo26": ["OBB26", ["nc", 1]]}}
# What a task's architecture sets beside its head, per family: COCO's 17 person keypoints; YOLOv8-pose is for
# people alone (one class), the later families keep COCO's 80.
TASK_KEYS = {"-pose": {"yolov8": {"nc": 1, "kpt_shape": [17, 3]}, "yolo11": {"kpt_shape": [17, 3]},
                       "yolo26": {"kpt_shape": [17, 3]}}}
CLASSIFY = "-cls"
_NAME = re.compile(r"^(yolov8|yolo11|yolo26)([nslmx])(" + "|".join([*(t for t in TASK_HEADS if t), CLASSIFY])
                   + r")?(\.yaml)?$")


def _classifier(family: str) -> dict:
    """A family's classifier: its backbone up to the last C2f / C3k2 (no SPPF, no neck), YOLO11 and YOLO26 with their
    attention block after it, then the Classify head on 1000 (ImageNet) classes; no end-to-end head."""
    base = FAMILIES[family]
    backbone = copy.deepcopy(base["backbone"][:9]) + ([[-1, 2, "C2PSA", [1024]]] if family != "yolov8" else [])
    scales = copy.deepcopy(base["scales"])
    if family == "yolov8":  # its classifiers cap no scale below 1024 channels
        scales = {scale: [depth, width, 1024] for scale, (depth, width, _) in scales.items()}
    return {"nc": 1000, "scales": scales, "backbone": backbone, "head": [[-1, 1, "Classify", ["nc"]]]}


def architecture_from_name(name: str) -> dict:
    """Definition for ``yolov8n.yaml`` / ``yolo11s`` / ``yolo26n-seg.yaml`` / ``yolo11n-pose`` / ``yolov8n-obb`` /
    ``yolo11n-cls`` style names, with ``scale`` filled in."""
    match = _NAME.match(name.lower())
    if not match:
        known = ", ".join(f"{f}{s}{t}.yaml" for t in [*TASK_HEADS, CLASSIFY] for f in FAMILIES for s in "nsmlx")
        raise ValueError(f"Unknown model name '{name}'. Known architectures: {known}.")
    name, scale, task = match.group(1), match.group(2), match.group(3) or ""
    arch = _classifier(name) if task == CLASSIFY else copy.deepcopy(FAMILIES[name])
    if task in TASK_HEADS and task:
        sources = arch["head"][-1][0]
        arch["head"][-1] = [sources, 1, *TASK_HEADS[task][name]]
        arch.update(copy.deepcopy(TASK_KEYS.get(task, {}).get(name, {})))
    arch.update(scale=scale, yaml_file=f"{name}{scale}{task}.yaml")
    return arch


def is_architecture_name(name: str) -> bool:
    return bool(_NAME.match(str(name).lower()))


def _has_c3k2(arch: dict) -> bool:
    return any(spec[2] == "C3k2" for spec in arch["backbone"] + arch["head"])


def family(arch: dict) -> str:
    """'yolo26' (an end-to-end head: a one-to-one branch beside the one-to-many one), 'yolo11' (C3k2 blocks)
    or 'yolov8'."""
    if arch.get("end2end"):
        return "yolo26"
    return "yolo11" if _has_c3k2(arch) else "yolov8"


def depthwise_class_branch(arch: dict) -> bool:
    """Whether the head's classification branch is depth-wise (YOLO11 and YOLO26, whose C3k2 blocks came with
    it) rather than YOLOv8's plain 3x3 convolutions."""
    return _has_c3k2(arch)
