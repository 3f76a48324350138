"""The predict job: a request's options checked once, the local run (saving, showing, the console lines) or a Ray
job. Below it the pipeline (``runtime``) does the work; above it the facade (``yolo.YOLO``) calls it."""
