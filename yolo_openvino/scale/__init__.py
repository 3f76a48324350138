"""Scale-out with Ray (``pip install 'yolo-openvino[ray]'``): batch jobs on Ray Data, an HTTP service on Ray Serve.

    from yolo_openvino.scale import predict_dataset, serve
    predict_dataset("yolov8n_openvino_model", "s3://bucket/frames/", "preds.parquet", address="auto")
    serve("yolov8n_openvino_model", replicas=2, port=8000)

Importing this package is light: Ray is imported by the functions that use it.
"""

from __future__ import annotations


def predict_dataset(*args, **kwargs):
    """See :func:`yolo_openvino.scale.batch.predict_dataset`."""
    from .batch import predict_dataset as run

    return run(*args, **kwargs)


def serve(*args, **kwargs):
    """See :func:`yolo_openvino.scale.service.serve`."""
    from .service import serve as run

    return run(*args, **kwargs)


__all__ = ["predict_dataset", "serve"]
