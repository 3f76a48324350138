"""What a prediction returns: ``Result`` and its per-task fields (boxes, masks, keypoints, oriented boxes,
probabilities), and drawing them (``annotate``)."""

from .result import Detections, Result

__all__ = ["Detections", "Result"]
