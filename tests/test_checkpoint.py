"""Safe checkpoint loading: the restricted unpickler, checkpoint variants, downloads."""

from __future__ import annotations

import http.server
import os
import threading
import zipfile
from functools import partial

import pytest
import torch

import ultralytics_fakes
from conftest import needs_shared, shared_model
from yolo_openvino.checkpoint import UnsafeCheckpointError, load_model, read_checkpoint
from yolo_openvino.nn.architectures import architecture_from_name
from yolo_openvino.nn.model import DetectionModel


class _Exploit:
    """Unpickling this would run a shell command that creates a marker file."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("payload_at", ["top", "model"])
def test_malicious_pickle_is_refused_without_running(tmp_path, payload_at):
    marker = tmp_path / "pwned"
    payload = _Exploit(marker)
    ckpt = {"model": payload} if payload_at == "model" else payload
    path = tmp_path / "evil.pt"
    torch.save(ckpt, path)
    with pytest.raises(UnsafeCheckpointError, match="refusing to load global 'posix.system'|refusing to load global 'os.system'"):
        read_checkpoint(path)
    assert not marker.exists(), "the payload ran"


def test_legacy_non_zip_pickle_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "legacy.pt"
    torch.save({"model": _Exploit(marker)}, path, _use_new_zipfile_serialization=False)
    with pytest.raises(UnsafeCheckpointError):
        read_checkpoint(path)
    assert not marker.exists()


def _fake_checkpoint(path, model_class="DetectionModel", **extra):
    model = DetectionModel(architecture_from_name("yolov8n.yaml"), names={i: f"c{i}" for i in range(80)})
    with torch.no_grad():
        for p in model.parameters():
            p.uniform_(-0.1, 0.1)
    reference = {k: v.clone() for k, v in model.state_dict().items()}
    try:
        ultralytics_fakes.as_ultralytics(model, model_class)
        torch.save({"model": model, **extra}, path)
    finally:
        ultralytics_fakes.cleanup()
    return reference


def test_training_checkpoint_prefers_ema_in_fp32(tmp_path):
    """Training checkpoints carry ema (used for inference) and an optimizer; stripped ones only fp16 model."""
    model = DetectionModel(architecture_from_name("yolov8n.yaml"))
    ema = DetectionModel(architecture_from_name("yolov8n.yaml"))
    with torch.no_grad():
        for p in ema.parameters():
            p.fill_(0.01)
    expected = {k: v.clone() for k, v in ema.state_dict().items()}
    try:
        ultralytics_fakes.as_ultralytics(model)
        ultralytics_fakes.as_ultralytics(ema)
        optimizer = {"state": {0: {"momentum_buffer": torch.zeros(3)}}, "param_groups": [{"lr": 0.01}]}
        torch.save({"model": model.half(), "ema": ema, "optimizer": optimizer, "epoch": 3}, tmp_path / "last.pt")
    finally:
        ultralytics_fakes.cleanup()
    loaded = load_model(tmp_path / "last.pt", fuse=False)
    for key, value in loaded.state_dict().items():
        torch.testing.assert_close(value, expected[key].to(value.dtype))


def test_stripped_fp16_checkpoint_loads_strictly(tmp_path):
    reference = _fake_checkpoint(tmp_path / "m.pt")
    loaded = load_model(tmp_path / "m.pt", fuse=False)
    assert loaded.names[3] == "c3"
    for key, value in loaded.state_dict().items():
        torch.testing.assert_close(value, reference[key])


@pytest.mark.parametrize("model_class,task", [("SegmentationModel", "segment"), ("PoseModel", "pose"),
                                              ("ClassificationModel", "classify"), ("OBBModel", "obb")])
def test_non_detection_checkpoint_is_not_supported_yet(tmp_path, model_class, task):
    _fake_checkpoint(tmp_path / "other.pt", model_class=model_class)
    with pytest.raises(NotImplementedError, match=f"'{task}' model.*not supported yet|'{task}'.*only detection"):
        read_checkpoint(tmp_path / "other.pt")


def test_truncated_file_gives_a_clear_error(tmp_path):
    path = tmp_path / "broken.pt"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ValueError, match="broken.pt: cannot read"):
        read_checkpoint(path)


@needs_shared
@pytest.mark.parametrize("name", ["yolov8s-coco128", "yolov8n-init", "yolo11n-init"])
def test_shared_checkpoints_read_metadata(name):
    ckpt = read_checkpoint(shared_model(name))
    assert ckpt.task == "detect" and ckpt.stride == [8.0, 16.0, 32.0]
    assert len(ckpt.names) == 80
    assert ckpt.version == "8.4.190"


# -- downloads ----------------------------------------------------------------------------------------------
@pytest.fixture
def asset_server(tmp_path):
    """Serve tmp_path/assets on 127.0.0.1; yields the base URL."""
    assets = tmp_path / "assets"
    assets.mkdir()
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(assets))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield assets, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_download_by_name_with_cache(tmp_path, monkeypatch, asset_server):
    from yolo_openvino.downloads import resolve_weights

    assets, url = asset_server
    _fake_checkpoint(assets / "yolov8n.pt")
    monkeypatch.setenv("YOLO_OPENVINO_ASSETS_URL", url)
    monkeypatch.setenv("YOLO_OPENVINO_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    path = resolve_weights("yolov8n.pt")
    assert path == tmp_path / "home" / "weights" / "yolov8n.pt"
    assert path.read_bytes() == (assets / "yolov8n.pt").read_bytes()
    (assets / "yolov8n.pt").unlink()  # the second call must come from the cache
    assert resolve_weights("yolov8n.pt") == path
    assert zipfile.is_zipfile(path)


def test_download_offline_says_where_to_put_the_file(tmp_path, monkeypatch):
    from yolo_openvino.downloads import resolve_weights

    monkeypatch.setenv("YOLO_OPENVINO_ASSETS_URL", "http://127.0.0.1:9")  # nothing listens on port 9
    monkeypatch.setenv("YOLO_OPENVINO_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError, match="put it at .*weights/yolo11n.pt"):
        resolve_weights("yolo11n.pt")
    assert not (tmp_path / "home" / "weights" / "yolo11n.pt").exists()


def test_unknown_missing_file_is_not_downloaded(tmp_path, monkeypatch):
    from yolo_openvino.downloads import resolve_weights

    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError, match="no such file"):
        resolve_weights("my_model.pt")
