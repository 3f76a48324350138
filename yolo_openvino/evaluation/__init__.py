"""Scoring models: datasets (YOLO yaml, ImageFolder), COCO mAP by faster-coco-eval (``validation``), the rotated-IoU
AP of oriented boxes (``rotated_ap``), MOT metrics of tracks (``mot_metrics``)."""
