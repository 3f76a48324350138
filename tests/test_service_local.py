"""The service on one machine (``engine=local``, the default): the model in the serving process, answering as a local
predict does; the hostile probe's table; liveness and readiness; /metrics; a graceful stop on SIGTERM with requests
in flight. The same service on Ray: test_scale.py (slow set)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

pytest.importorskip("starlette")
pytest.importorskip("prometheus_client")

import service_probe  # noqa: E402
from conftest import DATASETS, needs_shared, shared_model  # noqa: E402

API_KEY = "key"
AUTH = {"Authorization": f"Bearer {API_KEY}"}


def jpeg(seed: int = 0, h: int = 96, w: int = 128) -> bytes:
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 255, (h, w, 3), np.uint8)
    cv2.rectangle(image, (20, 20), (70, 80), (255, 255, 255), -1)
    return cv2.imencode(".jpg", image)[1].tobytes()


@pytest.fixture(scope="module")
def service(tiny_ir):
    from yolo_openvino.scale import serve

    running = serve(tiny_ir, port=0, blocking=False, api_key=API_KEY, max_body_mb=1, body_timeout_s=1,
                    runtime={"inference_precision": "f32"}, conf=0.0)
    yield running
    running.shutdown()


def test_the_default_engine_is_the_model_in_this_process(service):
    answer = service_probe.exchange(service.url, "GET", "/healthz")
    assert answer.status == 200 and answer.json()["engine"] == "local" and answer.json()["pid"] == os.getpid()
    assert service.engine == "local" and service.plan is None
    assert "ray" not in sys.modules or service.model is not None  # no Ray hop: the model object is ours


@pytest.mark.parametrize("seed", [0, 1])
def test_an_answer_is_what_a_local_predict_gives(service, tiny_ir, seed, tmp_path):
    from yolo_openvino import YOLO

    image = tmp_path / "a.jpg"
    image.write_bytes(jpeg(seed))
    answer = service_probe.exchange(service.url, "POST", "/predict?max_det=5", image.read_bytes(), AUTH)
    local = YOLO(tiny_ir, inference_precision="f32")(str(image), conf=0.0, max_det=5, verbose=False)[0].to_dict()
    assert answer.status == 200
    served = answer.json()["detections"]
    assert len(served) == len(local["detections"]) == 5
    np.testing.assert_allclose([d["box"] for d in served], [d["box"] for d in local["detections"]], atol=0.01)


@pytest.mark.slow  # the same cases run in the fast set against the ingress with fake replicas (test_service_requests)
@pytest.mark.parametrize("case", service_probe.cases(max_body_mb=1, body_timeout_s=1), ids=lambda case: case.name)
def test_the_hostile_probe_on_the_one_machine_service(service, case):
    answer = case.send(service.url, jpeg(), AUTH)
    assert not case.problems(answer), (case.name, answer.status, answer.body[:200])
    assert service_probe.exchange(service.url, "GET", "/healthz").status == 200


def test_liveness_and_readiness_are_separate_probes(service):
    assert service_probe.exchange(service.url, "GET", "/healthz/live").json() == {"status": "alive"}
    assert service_probe.exchange(service.url, "GET", "/healthz/ready").json()["status"] == "ok"
    service.ingress.draining = True
    try:
        assert service_probe.exchange(service.url, "GET", "/healthz/ready").status == 503
        assert service_probe.exchange(service.url, "GET", "/healthz").json() == {"status": "draining"}
        assert service_probe.exchange(service.url, "GET", "/healthz/live").status == 200
    finally:
        service.ingress.draining = False


def _metric(text: str, name: str, **labels) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = rf"^{re.escape(name)}" + (rf"\{{{re.escape(wanted)}\}}" if labels else "") + r" ([0-9.e+]+)$"
    found = re.search(pattern, text, re.M)
    return float(found[1]) if found else 0.0


def test_metrics_are_scraped_behind_the_key_and_move(service):
    assert service_probe.exchange(service.url, "GET", "/metrics").status == 401
    before = service_probe.exchange(service.url, "GET", "/metrics", headers=AUTH).body.decode()
    for _ in range(3):
        assert service_probe.exchange(service.url, "POST", "/predict", jpeg(), AUTH).status == 200
    service_probe.exchange(service.url, "POST", "/predict", b"not an image", AUTH)
    service_probe.exchange(service.url, "GET", "/no/such/path", headers=AUTH)
    after = service_probe.exchange(service.url, "GET", "/metrics", headers=AUTH)
    assert after.status == 200 and after.headers["content-type"].startswith("text/plain")
    text = after.body.decode()
    moved = [_metric(text, name, **labels) - _metric(before, name, **labels) for name, labels in (
        ("yolo_ov_requests_total", {"route": "/predict", "status": "200"}),
        ("yolo_ov_requests_total", {"route": "/predict", "status": "400"}),
        ("yolo_ov_requests_total", {"route": "other", "status": "404"}),
        ("yolo_ov_images_total", {"task": "detect"}),
        ("yolo_ov_stage_seconds_count", {"stage": "inference"}),
        ("yolo_ov_stage_seconds_count", {"stage": "decode"}),
        ("yolo_ov_request_seconds_count", {"route": "/predict"}))]
    assert [round(v) for v in moved] == [3, 1, 1, 3, 3, 3, 4], moved
    assert "yolo_ov_requests_in_flight" in text and "yolo_ov_replica_restarts_total 0.0" in text


@pytest.mark.parametrize("engine", ["local", pytest.param("ray", marks=pytest.mark.slow)])  # ray: a cluster, 20 s
def test_sigterm_lets_the_requests_in_flight_finish_and_exits_0(tiny_ir, engine):
    """Three requests whose bodies are still arriving when SIGTERM comes: each gets its 200, new connections are
    refused meanwhile, the process says so in one line and exits 0, with nothing of it left running (on Ray: no
    stack dump, and no process of its local cluster, found by the cluster's own temporary folder)."""
    import socket
    from urllib.parse import urlsplit

    import tempfile

    # The child's local cluster keeps its sockets and logs here, so its processes name it; short, as Unix socket
    # paths must be (tmp_path is too long for them).
    ray_dir = Path(tempfile.mkdtemp(prefix="ray", dir="/tmp"))
    environment = {**os.environ, "RAY_TMPDIR": str(ray_dir)}
    process = subprocess.Popen([sys.executable, "-m", "yolo_openvino.cli.app", "serve", f"model={tiny_ir}", "port=0",
                                "drain_s=20", f"engine={engine}"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=environment)
    try:
        line = process.stdout.readline()
        while engine == "ray" and line and "/predict" not in line:  # Ray says more before the service line
            line = process.stdout.readline()
        url = re.search(r"(http://\S+)/predict", line)[1]
        where = urlsplit(url)
        body = jpeg()
        half = len(body) // 2
        clients = []
        for _ in range(3):  # headers and half a body each: three requests in flight
            sock = socket.create_connection((where.hostname, where.port), timeout=30)
            sock.sendall(f"POST /predict HTTP/1.1\r\nHost: {where.netloc}\r\nContent-Length: {len(body)}\r\n\r\n"
                         .encode() + body[:half])
            clients.append(sock)
        time.sleep(0.5)
        process.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        with pytest.raises(OSError):  # no new connection is taken once the stop began
            socket.create_connection((where.hostname, where.port), timeout=2).sendall(b"GET /healthz HTTP/1.1\r\n\r\n")
        statuses = []
        for sock in clients:
            sock.sendall(body[half:])
            statuses.append(int(sock.recv(65536).split(b" ", 2)[1]))
            sock.close()
        out, err = process.communicate(timeout=30)
    finally:
        process.kill()
        shutil.rmtree(ray_dir, ignore_errors=True)
    assert statuses == [200, 200, 200]
    assert process.returncode == 0, err[-2000:]
    assert re.search(r"stopped on SIGTERM: 3 request\(s\) in flight finished in [0-9.]+ s", out), out
    assert "Traceback" not in err and "SIGTERM received" not in err
    if engine == "ray":
        time.sleep(2)  # the cluster's processes see their raylet go
        left = subprocess.run(["pgrep", "-f", str(ray_dir)], capture_output=True, text=True).stdout.split()
        assert not left, f"processes of the stopped service's cluster still run: {left}"


def test_the_clients_errors_are_one_line_and_an_unreadable_file_is_skipped(service, tmp_path, caplog):
    from yolo_openvino import Client
    from yolo_openvino.scale.client import ServiceError

    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not an image")
    good = tmp_path / "good.jpg"
    good.write_bytes(jpeg())
    with pytest.raises(ServiceError, match=r"/predict: 401 missing or wrong API key") as refused:
        Client(service.url, api_key="wrong").predict(str(good))
    assert refused.value.status == 401 and "\n" not in str(refused.value)
    results = Client(service.url, api_key=API_KEY).predict([str(bad), str(good)])
    assert [r.path for r in results] == [str(good)] and "skipping" in caplog.text
    with pytest.raises(ServiceError, match="cannot reach the service"):
        Client("http://127.0.0.1:9", timeout=2).predict(str(good))


@needs_shared
def test_the_client_brings_trained_masks_back(tmp_path):
    """A trained segmenter (the tiny ones find no masks): the client's masks, filled again from the service's
    outlines, cover the local masks' pixels."""
    from yolo_openvino import YOLO, Client
    from yolo_openvino.scale import serve

    ir = YOLO(shared_model("yolov8n-seg-shapes")).export(format="openvino", output=str(tmp_path / "seg"))
    image = str(sorted((DATASETS / "shapes-seg" / "images" / "val").glob("*.jpg"))[0])
    service = serve(ir, port=0, blocking=False, runtime={"inference_precision": "f32"})
    try:
        served = Client(service.url).predict(image)[0]
    finally:
        service.shutdown()
    local = YOLO(ir, inference_precision="f32")(image, verbose=False)[0]
    assert len(served) == len(local) > 0
    for a, b in zip(served.masks.at_image_size(), local.masks.at_image_size()):
        assert b.sum() > 0 and (a & b).sum() / (a | b).sum() > 0.9


def test_yolo_of_a_service_address_is_its_client(service, tmp_path):
    """YOLO("http://host:port") predicts through the service (the key as YOLO(..., api_key=)); names and task are
    the service's; what needs a local model is one line."""
    from yolo_openvino import YOLO
    from yolo_openvino.errors import UsageError
    from yolo_openvino.yolo import _is_service_url

    good = tmp_path / "good.jpg"
    good.write_bytes(jpeg())
    remote = YOLO(service.url, api_key=API_KEY)
    assert remote.task == "detect" and remote.names and remote.format == "service"
    results = remote(str(good), conf=0.0)
    assert [r.path for r in results] == [str(good)] and results[0].boxes is not None
    with pytest.raises(UsageError, match="is an HTTP service: predict runs there"):
        remote.val(data="coco8.yaml")
    assert not _is_service_url("https://host/yolov8n.pt")  # weights to fetch, not a service
