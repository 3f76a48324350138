"""The pipeline: sources read in order, pre-processing, a backend per runtime (``backends``), post-processing
(letterbox, NMS, rotated geometry), the model's metadata. Raw arrays in, ``Result`` fields out."""
