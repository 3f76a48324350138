"""The service's Prometheus metrics (``GET /metrics``, the text format of ``prometheus_client``), one registry per
service: requests by route and status, the whole request's latency and its stages' (decode, queue, inference),
requests in flight, images by task, and model replicas that died (their requests sent again)."""

from __future__ import annotations

# Seconds: from a 2 ms inference of a tiny model to a slow 10 s body; the same buckets for every histogram.
BUCKETS = (0.002, 0.005, 0.01, 0.02, 0.035, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
STAGES = ("decode", "queue", "inference")


class ServiceMetrics:
    """The counters the ingress moves. ``route`` labels are the service's own routes (any other path is ``other``:
    a client cannot grow the label set)."""

    def __init__(self, routes):
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        self.routes = set(routes)
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter("yolo_ov_requests", "HTTP requests answered, by route and status code",
                                ["route", "status"], registry=r)
        self.latency = Histogram("yolo_ov_request_seconds", "whole request, from its arrival to its answer",
                                 ["route"], buckets=BUCKETS, registry=r)
        self.stages = Histogram("yolo_ov_stage_seconds", "a prediction's stages: decode (in the ingress), queue "
                                "(waiting for the model), inference", ["stage"], buckets=BUCKETS, registry=r)
        self.in_flight = Gauge("yolo_ov_requests_in_flight", "requests being answered now", registry=r)
        self.images = Counter("yolo_ov_images", "images predicted, by task", ["task"], registry=r)
        self.restarts = Counter("yolo_ov_replica_restarts", "model replicas that died during a request (the request "
                                "was sent again)", registry=r)

    def route(self, path: str) -> str:
        return path if path in self.routes else "other"

    def answered(self, path: str, status: int, seconds: float) -> None:
        route = self.route(path)
        self.requests.labels(route, str(status)).inc()
        self.latency.labels(route).observe(seconds)

    def stage(self, name: str, seconds: float | None) -> None:
        if seconds is not None:
            self.stages.labels(name).observe(seconds)

    def text(self) -> tuple[bytes, str]:
        """(the exposition, its content type)."""
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return generate_latest(self.registry), CONTENT_TYPE_LATEST
