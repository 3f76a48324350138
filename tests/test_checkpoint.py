"""Safe checkpoint loading: the restricted unpickler, checkpoint variants, downloads."""

from __future__ import annotations

import copy
import http.server
import io
import os
import pickle
import tarfile
import threading
import time
import zipfile
from functools import partial

import pytest
import torch

import ultralytics_fakes
from conftest import needs_shared, shared_model
from yolo_openvino.model.checkpoint import UnsafeCheckpointError, build_model, load_model, read_checkpoint
from yolo_openvino.errors import CheckpointError
from yolo_openvino.utils.memory import PeakMemory
from yolo_openvino.model.architectures import architecture_from_name
from yolo_openvino.model.network import YOLOModel


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


_LEGACY_MAGIC, _LEGACY_PROTOCOL = 0x1950A86A20F9469CFC6C, 1001


@pytest.mark.parametrize("position", ["magic", "protocol", "sys_info", "main object", "storage keys"])
def test_legacy_payload_at_every_position_is_refused_before_it_runs(tmp_path, position):
    """torch's legacy reader unpickles five objects in a row; a payload in any of them must never run."""
    marker = tmp_path / "pwned"
    parts = {"magic": _LEGACY_MAGIC, "protocol": _LEGACY_PROTOCOL,
             "sys_info": {"protocol_version": _LEGACY_PROTOCOL, "little_endian": True, "type_sizes": {}},
             "main object": {"model": None}, "storage keys": []}
    parts[position] = _Exploit(marker)
    path = tmp_path / "legacy.pt"
    path.write_bytes(b"".join(pickle.dumps(p, protocol=2) for p in parts.values()))
    with pytest.raises(UnsafeCheckpointError, match="legacy.pt: refusing to load global"):
        read_checkpoint(path)
    assert not marker.exists(), "the payload ran"


def test_payload_in_a_persistent_id_is_refused(tmp_path):
    """Tensor storages are referenced by persistent ids, unpickled too: a payload there must not run."""
    marker = tmp_path / "pwned"

    class Pickler(pickle.Pickler):
        def persistent_id(self, obj):
            return ("storage", _Exploit(marker), "0", "cpu", 1) if isinstance(obj, bytearray) else None

    buffer = io.BytesIO()
    Pickler(buffer, protocol=2).dump({"model": bytearray(b"x")})
    path = tmp_path / "pid.pt"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/data.pkl", buffer.getvalue())
        z.writestr("archive/version", "3\n")
    with pytest.raises(UnsafeCheckpointError, match="pid.pt: refusing"):
        read_checkpoint(path)
    assert not marker.exists()


def test_legacy_tar_format_is_refused(tmp_path):
    path = tmp_path / "old.pt"
    with tarfile.open(path, "w") as tar:
        info = tarfile.TarInfo("storages")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"abc"))
    with pytest.raises(CheckpointError, match="old.pt: legacy torch tar format"):
        read_checkpoint(path)


@pytest.mark.parametrize("legacy", [False, True])
def test_storage_claiming_more_than_the_file_holds_is_refused(tmp_path, legacy):
    """A mutated element count would make torch allocate it before reading: 10**12 floats is 4 TB."""
    path = tmp_path / "bomb.pt"
    torch.save({"model": torch.zeros(1000)}, path, _use_new_zipfile_serialization=not legacy)
    data = path.read_bytes()
    # The element count 1000 is pickled as BININT2 (M + 2 bytes): swap in a LONG1 of 10**12.
    count = b"M" + (1000).to_bytes(2, "little")
    huge = b"\x8a\x06" + (10**12).to_bytes(6, "little")
    assert data.count(count) >= 1  # the storage's element count (and the tensor's size)
    if legacy:
        path.write_bytes(data.replace(count, huge))
    else:  # rewrite data.pkl inside the zip so the CRC still holds: only our size guard can stop it
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            members = {n: z.read(n) for n in z.namelist()}
        with zipfile.ZipFile(path, "w") as z:
            for name, content in members.items():
                z.writestr(name, content.replace(count, huge) if name.endswith("data.pkl") else content)
    with PeakMemory() as memory, pytest.raises(CheckpointError, match="bomb.pt: .*claims 1000000000000 elements"):
        read_checkpoint(path)
    assert memory.peak_mb is None or memory.peak_mb < 5000


@pytest.mark.parametrize("field,value,limit", [
    ("repeats", 10_000_000, "repeats=10000000: expected 1 to 64 \\(limit 'repeats'\\)"),
    ("nc", 50_000_000, "nc=50000000: expected an int in \\[1, 10000\\] \\(limit 'nc'\\)"),
    ("channels", 10**9, "output channels: expected 1 to 8192 after scaling \\(limit 'channels'\\)"),
    ("layers", 10_000, "10023 layers: expected 1 to 256 \\(limit 'layers'\\)"),
    ("width", 1e6, "width multiple 1000000.0: expected \\(0, 4.0\\]"),
])
def test_architecture_memory_bombs_are_refused_before_building(tmp_path, field, value, limit):
    arch = copy.deepcopy(ultralytics_fakes.tiny_arch())
    if field == "repeats":
        arch["backbone"][2][1] = value
    elif field == "nc":
        arch["nc"] = value
    elif field == "channels":  # max_channels caps a layer's channels, so both are raised
        arch["backbone"][0][3][0] = value
        arch["scales"]["t"] = [0.33, 1.0, value]
    elif field == "layers":
        arch["backbone"] += [[-1, 1, "Conv", [16, 3, 1]]] * value
    else:
        arch["scales"]["t"][1] = value
    path = tmp_path / "bomb.pt"
    ultralytics_fakes.save_checkpoint(path, yaml=arch)
    started = time.perf_counter()
    with PeakMemory() as memory, pytest.raises(CheckpointError, match=f"bomb.pt: .*{limit}"):
        load_model(path)
    assert time.perf_counter() - started < 10
    assert memory.peak_mb is None or memory.peak_mb < 3000


def test_architecture_larger_than_its_weights_is_refused_without_allocating(tmp_path):
    """Within every limit, but 2x wider than the weights in the file: refused by the meta-device build."""
    arch = copy.deepcopy(ultralytics_fakes.tiny_arch())
    arch["scales"]["t"][1] = 4.0
    path = tmp_path / "wide.pt"
    ultralytics_fakes.save_checkpoint(path, yaml=arch)
    with pytest.raises(CheckpointError, match="wide.pt: the architecture needs .* MB of float32 weights"):
        load_model(path)


def test_tiny_checkpoint_round_trips(tmp_path):
    state = ultralytics_fakes.save_checkpoint(tmp_path / "t.pt")
    loaded = build_model(tmp_path / "t.pt").float()
    for key, value in loaded.state_dict().items():
        expected = state[key].half().float() if state[key].is_floating_point() else state[key]
        torch.testing.assert_close(value, expected)


def _fake_checkpoint(path, model_class="DetectionModel", **extra):
    model = YOLOModel(architecture_from_name("yolov8n.yaml"), names={i: f"c{i}" for i in range(80)})
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
    model = YOLOModel(architecture_from_name("yolov8n.yaml"))
    ema = YOLOModel(architecture_from_name("yolov8n.yaml"))
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
    loaded = build_model(tmp_path / "last.pt").float()
    for key, value in loaded.state_dict().items():
        torch.testing.assert_close(value, expected[key].to(value.dtype))


def test_stripped_fp16_checkpoint_loads_strictly(tmp_path):
    reference = _fake_checkpoint(tmp_path / "m.pt")
    loaded = build_model(tmp_path / "m.pt").float()
    assert loaded.names[3] == "c3"
    for key, value in loaded.state_dict().items():
        torch.testing.assert_close(value, reference[key])


@pytest.mark.parametrize("model_class,task", [("YOLOESegModel", "yoloe"), ("WorldModel", "world"),
                                              ("RTDETRDetectionModel", "rtdetr"), ("Mystery", "Mystery")])
def test_checkpoints_of_tasks_we_do_not_serve_are_refused_in_one_line(tmp_path, model_class, task):
    _fake_checkpoint(tmp_path / "other.pt", model_class=model_class)
    with pytest.raises(NotImplementedError, match=f"other.pt: (a '{task}' model, which is not supported yet|unknown "
                                                  f"task '{task}') \\(supported: detect, segment, pose, obb, classify\\)"):
        read_checkpoint(tmp_path / "other.pt")


def test_a_class_and_head_of_different_tasks_are_refused(tmp_path):
    """A detection network pickled as a SegmentationModel: neither story is trusted."""
    _fake_checkpoint(tmp_path / "odd.pt", model_class="SegmentationModel")
    assert read_checkpoint(tmp_path / "odd.pt").task == "segment"
    with pytest.raises(CheckpointError, match="odd.pt: a segment model by its class, but its head is a detect head"):
        load_model(tmp_path / "odd.pt")


def test_truncated_file_gives_a_clear_error(tmp_path):
    path = tmp_path / "broken.pt"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(CheckpointError, match="broken.pt: damaged zip archive"):
        read_checkpoint(path)


@needs_shared
@pytest.mark.parametrize("name", ["yolov8s-coco128", "yolov8n-init", "yolo11n-init"])
def test_shared_checkpoints_read_metadata(name):
    ckpt = read_checkpoint(shared_model(name))
    assert ckpt.task == "detect" and len(ckpt.names) == 80
    assert ckpt.train_args["imgsz"] in (320, 512, 640)


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
    from yolo_openvino.utils.downloads import resolve_weights

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
    from yolo_openvino.utils.downloads import resolve_weights

    monkeypatch.setenv("YOLO_OPENVINO_ASSETS_URL", "http://127.0.0.1:9")  # nothing listens on port 9
    monkeypatch.setenv("YOLO_OPENVINO_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError, match="put it at .*weights/yolo11n.pt"):
        resolve_weights("yolo11n.pt")
    assert not (tmp_path / "home" / "weights" / "yolo11n.pt").exists()


def test_unknown_missing_file_is_not_downloaded(tmp_path, monkeypatch):
    from yolo_openvino.utils.downloads import resolve_weights

    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError, match="no such file"):
        resolve_weights("my_model.pt")


def test_a_known_dataset_is_downloaded_with_cocos_class_names(tmp_path, monkeypatch, asset_server):
    """coco8.yaml by name: fetched into the cache once, its yaml written with COCO's names (not '0'..'79')."""
    from yolo_openvino.evaluation import datasets

    assets, url = asset_server
    with zipfile.ZipFile(assets / "coco8.zip", "w") as z:
        z.writestr("coco8/images/train/a.jpg", b"")
        z.writestr("coco8/images/val/a.jpg", b"")
        z.writestr("coco8/labels/val/a.txt", "0 0.5 0.5 0.2 0.2\n")
    monkeypatch.setitem(datasets.KNOWN_DATASETS, "coco8.yaml", f"{url}/coco8.zip")
    monkeypatch.chdir(tmp_path)
    dataset = datasets.load_dataset("coco8.yaml")
    assert dataset.names[0] == "person" and dataset.names[79] == "toothbrush" and len(dataset.names) == 80
    (assets / "coco8.zip").unlink()  # the second load reads the cache
    assert datasets.load_dataset("coco8.yaml").names == dataset.names
