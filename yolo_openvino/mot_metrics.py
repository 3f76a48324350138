"""The documented import path of the MOT metrics (``pip install "yolo-openvino[mot]"``); they live in
``evaluation/mot_metrics.py``."""

from .evaluation.mot_metrics import METRICS, mot_metrics, mot_rows, read_mot

__all__ = ["METRICS", "mot_metrics", "mot_rows", "read_mot"]
