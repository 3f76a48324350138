"""Scale-out: the resource plan, the worker's rows, and real local Ray clusters (head + second node on 127.0.0.1)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest
import ray_cluster  # noqa: F401  (before anything imports ray: it sets the driver's RAY_AUTH_MODE)

from conftest import COCO128_IMAGES, needs_shared
from yolo_openvino.errors import UsageError
from yolo_openvino.scale.plan import READ_RESERVE_CPUS, plan_resources


# -- the resource plan (pure) -------------------------------------------------------------------------------------
@pytest.mark.parametrize("nodes,workers,cpus,reserve,expected", [
    ([2], None, None, READ_RESERVE_CPUS, (1, 1.5, 2)),  # one actor takes what reading leaves
    ([1, 1], None, None, READ_RESERVE_CPUS, (2, 0.75, 1)),  # one per node; never spans nodes
    ([2], 2, None, READ_RESERVE_CPUS, (2, 0.75, 1)),  # the trap, made to fit
    ([16, 16], None, None, READ_RESERVE_CPUS, (6, 4.0, 4)),  # 4-CPU actors, three per node
    ([2], 2, 0.5, READ_RESERVE_CPUS, (2, 0.5, 1)),
    ([2], 2, None, 0.0, (2, 1.0, 1)),  # Serve replicas: no read tasks to leave room for
    ([4, 1], 2, None, 0.0, (2, 2.0, 2)),  # both on the big node beats one per node at 1 CPU
])
def test_plan_fits_workers_on_nodes(nodes, workers, cpus, reserve, expected):
    plan = plan_resources(nodes, workers, cpus, reserve)
    assert (plan.workers, plan.cpus_per_worker, plan.threads) == expected
    free = [n - reserve / len(nodes) for n in nodes]
    assert plan.workers * plan.cpus_per_worker <= sum(free) + 1e-9


@pytest.mark.parametrize("nodes,workers,cpus,reserve,message", [
    ([2], 2, 1.0, READ_RESERVE_CPUS, "read tasks"),  # the hang the issue tried: now a one-line error
    ([1, 1], 1, 1.5, 0.0, "do not fit"),  # no node has 1.5 CPUs
    ([0], None, None, 0.0, "no CPUs"),
    ([2], 0, None, 0.0, "at least 1"),
    ([2], None, -1, 0.0, "positive"),
])
def test_plans_that_cannot_run_are_user_errors(nodes, workers, cpus, reserve, message):
    with pytest.raises(UsageError, match=message):
        plan_resources(nodes, workers, cpus, reserve)


# -- the worker, in this process ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def ir(exported):
    return exported("yolov8s-coco128", imgsz=320)


@needs_shared
def test_worker_gives_a_row_per_input_and_errors_in_place(ir):
    from yolo_openvino.scale.workers import ModelWorker, model_files, row_columns

    detector = ModelWorker(model_files(ir), {"inference_precision": "f32"}, {"conf": 0.001})
    names = ["a.jpg", "broken.jpg", "b.jpg", "empty.png"]
    good = (COCO128_IMAGES / "000000000009.jpg").read_bytes()
    rows = detector.rows(names, [good, b"\xff\xd8 not a jpeg", good, b""])
    assert set(rows) == set(row_columns()) and rows["path"] == names
    assert [e is None for e in rows["error"]] == [True, False, True, False]
    assert "broken.jpg" in rows["error"][1] and rows["boxes"][1] == [] and rows["width"][1] is None
    assert rows["boxes"][0] == rows["boxes"][2] and len(rows["boxes"][0]) > 0 and (rows["height"][0], rows["width"][0]) == (480, 640)


@needs_shared
def test_a_checkpoint_must_be_exported_first(tmp_path):
    from conftest import shared_model
    from yolo_openvino.scale.workers import model_files

    with pytest.raises(UsageError, match="export it first"):
        model_files(shared_model("yolov8n-init"))


def test_an_existing_output_that_is_not_ours_is_refused(tmp_path):
    from yolo_openvino.scale.batch import _Output

    (tmp_path / "preds.parquet").mkdir()
    (tmp_path / "preds.parquet" / "mine.txt").write_text("keep me")
    with pytest.raises(UsageError, match="never overwritten"):
        _Output(tmp_path / "preds.parquet")
    assert (tmp_path / "preds.parquet" / "mine.txt").read_text() == "keep me"


# -- a real cluster -----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cluster():
    pytest.importorskip("ray")
    started = ray_cluster.LocalCluster(nodes=2, cpus_per_node=1)
    yield started
    started.stop()


@pytest.fixture(scope="module")
def images(tmp_path_factory) -> Path:
    """COCO128 plus two broken files and one that is not an image at all (ignored: not an image suffix)."""
    folder = tmp_path_factory.mktemp("images")
    for f in sorted(COCO128_IMAGES.glob("*.jpg")):
        (folder / f.name).symlink_to(f)
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff garbage")
    (folder / "empty.png").write_bytes(b"")
    (folder / "notes.txt").write_text("not an image")
    return folder


def _table(path: str):
    import pyarrow.parquet as pq

    return pq.read_table(path).to_pydict()


@needs_shared
@pytest.mark.slow
@pytest.mark.timeout(600)
def test_batch_gives_every_input_a_row_equal_to_single_process(cluster, ir, images, tmp_path):
    from yolo_openvino import YOLO
    from yolo_openvino.scale import predict_dataset

    done = predict_dataset(ir, str(images), tmp_path / "preds.parquet", address=cluster.address,
                           runtime={"inference_precision": "f32"}, conf=0.1)
    rows = _table(done.output)
    assert sorted(rows["path"]) == sorted(str(p.resolve()) for p in images.iterdir() if p.suffix != ".txt")
    assert (done.rows, done.errors) == (130, 2) and done.plan.workers == 2
    by_path = {p: i for i, p in enumerate(rows["path"])}
    for name in ("broken.jpg", "empty.png"):
        assert name in rows["error"][by_path[str((images / name).resolve())]]
    single = YOLO(ir, inference_precision="f32")(sorted(str(p) for p in images.glob("*.jpg")), conf=0.1)
    assert len(single) == 128
    for result in single:
        i = by_path[str(Path(result.path).resolve())]
        assert rows["error"][i] is None and rows["classes"][i] == result.boxes.class_id.tolist()
        np.testing.assert_allclose(np.array(rows["boxes"][i]).reshape(-1, 4), result.boxes.xyxy, atol=1e-2)
        np.testing.assert_allclose(rows["scores"][i], result.boxes.confidence, atol=1e-4)


@needs_shared
@pytest.mark.slow
@pytest.mark.timeout(600)
def test_batch_survives_a_killed_actor(cluster, ir, images, tmp_path):
    import os
    import signal

    from yolo_openvino.scale import predict_dataset

    killed = []

    def kill_one_actor_mid_job():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not killed:
            workers = ray_cluster.processes_with("MapWorker(MapBatches(_Actor))")
            if len(workers) == 2:
                time.sleep(1)  # both running (a kill before their first batch is a restart too)
                os.kill(workers[0], signal.SIGKILL)  # a crash, as the OOM killer or a lost node would do
                killed.append(workers[0])
            time.sleep(0.2)

    killer = threading.Thread(target=kill_one_actor_mid_job, daemon=True)
    killer.start()
    done = predict_dataset(ir, str(images), tmp_path / "preds.parquet", address=cluster.address, batch_size=4)
    killer.join(5)
    rows = _table(done.output)
    assert killed, "no actor was killed: the job ended before both actors ran"
    assert len(rows["path"]) == len(set(rows["path"])) == 130 and done.errors == 2


# -- the HTTP service ---------------------------------------------------------------------------------------------
API_KEY = "k" * 40
MAX_BODY_MB = 1
BODY_TIMEOUT_S = 3


def _post(url: str, data: bytes, content_type: str = "application/octet-stream", timeout: float = 120):
    """(status, parsed JSON body) of one POST on loopback. The probe's exchange reads an answer the service gives
    before the body is sent whole (a 413 on Content-Length, the connection closed): urllib fails on its broken pipe
    whenever the service answers first."""
    from urllib.parse import urlsplit

    from service_probe import exchange

    where = urlsplit(url)
    path = where.path + (f"?{where.query}" if where.query else "")
    headers = {"Content-Type": content_type, "Authorization": f"Bearer {API_KEY}"}
    answer = exchange(url, "POST", path, data, headers, timeout_s=timeout)
    return answer.status, answer.json()


@pytest.fixture(scope="module")
def service(cluster, ir):
    from yolo_openvino.scale import serve

    running = serve(ir, replicas=2, host="127.0.0.1", port=0, address=cluster.address, blocking=False,
                    runtime={"inference_precision": "f32"}, max_body_mb=MAX_BODY_MB, body_timeout_s=BODY_TIMEOUT_S,
                    api_key=API_KEY)
    yield running
    running.shutdown()


@needs_shared
@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.parametrize("query,body,status,message", [
    ("", b"not an image", 400, "not a decodable image"),
    ("", b"", 400, "empty body"),
    ("?conf=2", None, 400, "conf=2"),
    ("?size=640", None, 400, "unknown query parameter"),
    ("", b"\xff" * (1024 * 1024 + 1), 413, "limit"),
])
def test_service_answers_bad_requests_with_4xx(service, query, body, status, message):
    image = (COCO128_IMAGES / "000000000049.jpg").read_bytes()
    code, answer = _post(f"{service.url}/predict{query}", image if body is None else body)
    assert code == status and message in answer["error"]


@needs_shared
@pytest.mark.slow
@pytest.mark.timeout(300)
def test_service_multipart_and_query_parameters(service, ir):
    from yolo_openvino import YOLO

    image = COCO128_IMAGES / "000000000049.jpg"
    from service_probe import multipart

    body, content_type = multipart(image.read_bytes(), "horse.jpg")
    code, answer = _post(f"{service.url}/predict?conf=0.5&max_det=2", body, content_type)
    expected = YOLO(ir, inference_precision="f32")(str(image), conf=0.5, max_det=2)[0]
    assert code == 200 and answer["path"] == "horse.jpg" and len(answer["detections"]) == len(expected) <= 2


@needs_shared
@pytest.mark.slow
@pytest.mark.timeout(600)
def test_service_burst_survives_a_killed_replica(service, ir, capsys):
    """200 concurrent requests on loopback; one replica is killed during the burst; every request answered."""
    import os
    import signal
    from concurrent.futures import ThreadPoolExecutor

    from yolo_openvino import YOLO

    files = sorted(COCO128_IMAGES.glob("*.jpg"))[:8]
    expected = {f.name: YOLO(ir, inference_precision="f32")(str(f), conf=0.25)[0] for f in files}
    blobs = {f.name: f.read_bytes() for f in files}
    latencies, killed = [], []

    def one(i: int):
        name = files[i % len(files)].name
        started = time.perf_counter()
        code, answer = _post(f"{service.url}/predict", blobs[name])
        latencies.append(time.perf_counter() - started)
        if i == 60:  # mid-burst: crash one replica's process
            replicas = ray_cluster.processes_with("ServeReplica:yolo-ov:detector")
            os.kill(replicas[0], signal.SIGKILL)
            killed.append(replicas[0])
        return name, code, answer

    started = time.perf_counter()
    with ThreadPoolExecutor(32) as pool:
        answers = list(pool.map(one, range(200)))
    seconds = time.perf_counter() - started
    assert killed
    failed = [(code, answer) for _, code, answer in answers if code != 200]
    assert not failed, failed[:3]
    for name, _, answer in answers:
        boxes = np.array([d["box"] for d in answer["detections"]]).reshape(-1, 4)
        np.testing.assert_allclose(boxes, expected[name].boxes.xyxy, atol=0.01)
    p50, p99 = np.percentile(np.array(latencies) * 1000, [50, 99])
    with capsys.disabled():
        print(f"\nserve burst: 200 requests, 32 clients, 2 replicas (one killed): {200 / seconds:.1f} req/s, "
              f"p50 {p50:.0f} ms, p99 {p99:.0f} ms")


def _private_memory_mb(pids) -> float:
    """Private resident memory (RssAnon: heap, not the object store's shared pages) of these processes, in MB."""
    total = 0
    for pid in pids:
        status = Path(f"/proc/{pid}/status").read_text()
        total += int(next(line.split()[1] for line in status.splitlines() if line.startswith("RssAnon:")))
    return round(total / 1024, 1)


@needs_shared
@pytest.mark.slow
@pytest.mark.timeout(300)
def test_service_under_hostile_traffic(service, capsys):
    """The probe's table (tests/service_probe.py) on the real service: each hostile case answered as it must be,
    in time, the connection closed where it must be, the service healthy after it, and its memory (this process,
    where the HTTP server and the decoding run, plus the replicas) back within 64 MB of where it was."""
    import os

    import service_probe

    def memory():
        return _private_memory_mb([os.getpid(), *ray_cluster.processes_with("ServeReplica:yolo-ov:detector")])

    image = (COCO128_IMAGES / "000000000049.jpg").read_bytes()
    # Both replicas up and serving first: the replica the burst test killed may still be coming back, and a replica
    # that starts mid-table would count as memory the table grew.
    deadline = time.monotonic() + 120
    while len(ray_cluster.processes_with("ServeReplica:yolo-ov:detector")) < 2 and time.monotonic() < deadline:
        time.sleep(0.5)
    for _ in range(4):  # each replica warmed up (compiled, first inference run)
        assert _post(f"{service.url}/predict", image)[0] == 200
    rows = service_probe.run(service.url, image, API_KEY, MAX_BODY_MB, BODY_TIMEOUT_S, measure=memory)
    with capsys.disabled():
        print("\n| case | status | s | closed | healthy after | memory before -> after (MB) |\n|---|---|---|---|---|---|")
        for r in rows:
            print(f"| {r['case']} | {r['status']} | {r['seconds']:.3f} | {r['closed']} | {r['healthy_after']} | "
                  f"{r['before']} -> {r['after']} |")
    assert len(rows) == len(service_probe.cases(MAX_BODY_MB, BODY_TIMEOUT_S))
    for r in rows:
        assert not r["problems"] and r["healthy_after"], r
        assert r["after"] - r["before"] < 64, r


@needs_shared
@pytest.mark.parametrize("command", ["serve", "predict"])
def test_a_checkpoint_is_refused_before_any_cluster_starts(command, capsys, tmp_path):
    from conftest import shared_model
    from yolo_openvino.cli.app import main

    argv = [command, f"model={shared_model('yolov8n-init')}"]
    argv += [f"source={COCO128_IMAGES}", "engine=ray", f"output={tmp_path / 'p.parquet'}"] if command == "predict" else []
    import sys

    def connected() -> bool:
        return "ray" in sys.modules and sys.modules["ray"].is_initialized()

    before = connected()  # a cluster fixture of this module may already be connected
    assert main(argv) == 2
    assert "export it first" in capsys.readouterr().err
    assert connected() == before  # no local cluster was started for a model that cannot run


def test_the_clusters_token_is_made_private(tmp_path, monkeypatch):
    """Ray writes its authentication token (what guards a local cluster's ports, which listen on every interface)
    readable by everyone; we make it the owner's alone, and leave a file that is already private as it is."""
    import stat

    from yolo_openvino.scale.cluster import _private_token

    token = tmp_path / "auth_token"
    token.write_text("t" * 64)
    token.chmod(0o644)
    monkeypatch.setenv("RAY_AUTH_TOKEN_PATH", str(token))
    _private_token()
    assert stat.S_IMODE(token.stat().st_mode) == 0o600 and token.read_text() == "t" * 64
    token.unlink()
    _private_token()  # no token (authentication off): nothing to do, no error
