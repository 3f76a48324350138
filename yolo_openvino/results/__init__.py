"""What a prediction returns: ``Result`` and ``Detections`` (``result``), what boxes and oriented boxes share
(``boxes``, with ``Detections``), the protocol of a task's per-box part (``parts``; the parts live in their task's folder), and drawing
(``annotate``) and writing (``writing``) them."""

__all__ = ["Detections", "Result", "Results"]


def __getattr__(name):  # lazy: a task's part imports results.annotate without loading Result (which imports it)
    if name in __all__:
        from . import result

        return getattr(result, name)
    raise AttributeError(f"module 'yolo_openvino.results' has no attribute '{name}'")
