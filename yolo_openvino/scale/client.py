"""A client of the service that returns what a local model returns: ``Client(url).predict(source)`` takes every
source ``YOLO()`` takes (files, folders, globs, URLs, arrays, PIL images, tensors, videos), sends the images
concurrently (a bounded number at a time, in order), and gives back ``Result`` objects with the task's parts
(boxes, masks, keypoints, oriented boxes, probabilities); ``plot()``, ``save()``, ``to_json()`` work on them.

    from yolo_openvino import Client
    results = Client("http://127.0.0.1:8000", api_key=None).predict("images/", conf=0.4)

Files are sent as they are (the service decodes them as a local predict would); decoded images (arrays, PIL,
video frames) as lossless PNG. A service error is one line (:class:`ServiceError`); an image the service cannot
decode is skipped with a warning, as a local predict skips it.
"""

from __future__ import annotations

import json
import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterator

import numpy as np

from ..errors import UsageError

LOGGER = logging.getLogger("yolo_openvino")


class ServiceError(UsageError):
    """The service refused a request (its status and one-line error) or could not be reached."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


class Client:
    """The service at ``url``; ``api_key`` as it was started with (or ``YOLO_OV_API_KEY``); ``timeout`` seconds per
    request; ``workers`` requests in flight at once."""

    def __init__(self, url: str, api_key: str | None = None, timeout: float = 60.0, workers: int = 4):
        import os

        self.url = url.rstrip("/")
        self.api_key = api_key or os.environ.get("YOLO_OV_API_KEY") or None
        self.timeout, self.workers = timeout, max(1, int(workers))
        self._model: dict | None = None

    # -- what the service runs ------------------------------------------------------------------------------------
    @property
    def model(self) -> dict:
        """The service's ``/healthz`` answer: task, names, engine, precision (asked once)."""
        if self._model is None:
            status, body = self._exchange("GET", "/healthz")
            self._model = json.loads(body)
        return self._model

    @property
    def task(self) -> str:
        from ..tasks import DEFAULT_TASK

        return self.model.get("task") or DEFAULT_TASK

    @property
    def names(self) -> dict[int, str]:
        return {int(k): v for k, v in (self.model.get("names") or {}).items()}

    # -- predict ------------------------------------------------------------------------------------------------
    def predict(self, source=None, stream: bool = False, conf: float | None = None, iou: float | None = None,
                max_det: int | None = None, **unused) -> list | Iterator:
        """A ``Result`` per readable image of ``source``, in order (a generator with ``stream``); ``conf``, ``iou``,
        ``max_det`` as a local predict's (the service's own when not given). Other predict options are local ones
        (saving, showing): said once and not sent."""
        from ..options import check

        if unused:
            LOGGER.warning("Client.predict: not sent to the service (local options): %s", sorted(unused))
        query = check("predict", {k: v for k, v in (("conf", conf), ("iou", iou), ("max_det", max_det))
                                  if v is not None}, where="Client.predict")
        results = self._results(source, query)
        return results if stream else list(results)

    __call__ = predict

    def _results(self, source, query: dict) -> Iterator:
        from urllib.parse import urlencode

        path = "/predict" + (f"?{urlencode(query)}" if query else "")
        self.model  # the task and names first: one line if the service is not there
        with ThreadPoolExecutor(self.workers, thread_name_prefix="yolo-client") as pool:
            pending = []
            for upload in _uploads(source):
                pending.append(pool.submit(self._one, path, upload))
                if len(pending) >= 2 * self.workers:  # bounded: never every image of a folder in memory at once
                    yield from filter(None, [pending.pop(0).result()])
            for future in pending:
                yield from filter(None, [future.result()])

    def _one(self, path: str, upload: "_Upload"):
        if upload.error:
            LOGGER.warning("skipping %s", upload.error)
            return None
        try:
            status, body = self._exchange("POST", path, upload.data)
        except ServiceError as e:
            if e.status == 400 and "not a decodable image" in str(e):
                LOGGER.warning("skipping %s: %s", upload.name, e)
                return None
            raise
        return self._result(json.loads(body), upload)

    def _result(self, answer: dict, upload: "_Upload"):
        from ..results.boxes import Detections
        from ..results.result import Result
        from ..tasks import task_named

        shape = tuple(answer["orig_shape"])
        found = answer["detections"]
        boxes = Detections(np.asarray([d["box"] for d in found], np.float32).reshape(-1, 4),
                           [d["confidence"] for d in found], [d["class_id"] for d in found], shape,
                           [d["track_id"] for d in found] if found and all("track_id" in d for d in found) else None)
        part_class = task_named(self.task).part
        part = part_class().from_answer(answer, shape) if part_class else None
        fields = {part.FIELD: part} if part is not None else {}
        return Result(upload.name, shape, boxes, names=self.names, image=upload.image, frame=upload.frame,
                      speed=answer.get("speed") or {}, **fields)

    # -- HTTP -----------------------------------------------------------------------------------------------------
    def _exchange(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        import urllib.error
        import urllib.request

        headers = {"Content-Type": "application/octet-stream"} if body is not None else {}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        request = urllib.request.Request(self.url + path, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                message = json.loads(raw)["error"]
            except (ValueError, KeyError, TypeError):
                message = raw.decode("utf-8", "replace")[:200]
            raise ServiceError(e.code, f"{self.url}{path.split('?')[0]}: {e.code} {message}") from None
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            raise ServiceError(0, f"{self.url}: cannot reach the service ({reason}); is `yolo-ov serve` running "
                                  "there?") from None


class _Upload:
    """One image to send: its name, bytes, and (for a decoded image) the image itself, kept on its Result."""

    def __init__(self, name: str, data: bytes = b"", image=None, frame=None, error: str | None = None):
        self.name, self.data, self.image, self.frame, self.error = name, data, image, frame, error


def _uploads(source) -> Iterator[_Upload]:
    """Each image of ``source`` as a local predict reads it: files as their bytes, anything decoded as PNG."""
    from ..runtime.sources import _fetch_url, _is_url, _read_entry, expand_sources, is_video, iter_entries

    for entry in expand_sources(source):
        if isinstance(entry, (str, Path)) and not is_video(entry):
            name = str(entry)
            try:
                yield _Upload(name, _fetch_url(name) if _is_url(name) else Path(name).read_bytes())
            except OSError as e:
                yield _Upload(name, error=f"{name}: cannot read ({e})")
            continue
        items = iter_entries([entry]) if is_video(entry) else [lambda e=entry: _read_entry(e)]
        for item in items:
            item = item() if callable(item) else item
            if item.error:
                yield _Upload(item.name, error=item.error)
            else:
                yield _Upload(item.name, _png(item.image), image=item.image, frame=item.frame)


def _png(image: np.ndarray) -> bytes:
    import cv2

    return cv2.imencode(".png", image)[1].tobytes()
