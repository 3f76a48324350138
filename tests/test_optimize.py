"""optimize: the search's decisions on made-up figures (dominance, halving, the pick and its constraints, the budget,
resuming, refusals), the whole job driven by fake measurements, and one real search of a tiny 64-px model."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest

from conftest import DATASETS, needs_shared, shared_model, write_dataset
from yolo_openvino.errors import UsageError
from yolo_openvino.optimize.search import (Budget, Candidate, Setting, Variant, default_settings, default_sizes,
                                           dominates, halve, pareto, pick)

LATENCY, THROUGHPUT = Setting.of("latency", mode="latency"), Setting.of("throughput", mode="throughput")


def cand(key: str, metric: float | None, fps: float, p50: float = 10.0, setting: Setting = THROUGHPUT) -> Candidate:
    return Candidate(Variant.from_key(key), setting, metric=metric, rounds=[(fps, p50, p50 * 1.5)])


@pytest.mark.parametrize("trained, sizes", [(640, [640, 512, 384]), (256, [256, 192, 160]), (64, [64]),
                                            (320, [320, 256, 192])])
def test_default_sizes_are_the_training_size_and_smaller_multiples_of_32(trained, sizes):
    assert default_sizes(trained) == sizes


def test_throughput_searches_one_more_setting_than_latency():
    assert [s.name for s in default_settings("latency")] == ["latency", "throughput"]
    assert len(default_settings("throughput")) == 3 and default_settings("throughput")[2].runtime["streams"] == 1


@pytest.mark.parametrize("a, b, goal, expected", [
    ((0.5, 100, 10), (0.4, 90, 12), "throughput", True),
    ((0.5, 100, 10), (0.5, 100, 10), "throughput", False),   # equal: neither dominates
    ((0.5, 90, 10), (0.4, 100, 12), "throughput", False),    # more accurate but slower
    ((0.4, 50, 5), (0.4, 100, 8), "latency", True),          # latency: a lower p50 is better, whatever the FPS
])
def test_dominance(a, b, goal, expected):
    assert dominates(cand("fp32-64", a[0], a[1], a[2]), cand("fp32-64", b[0], b[1], b[2]), goal) is expected


def test_the_pareto_front_keeps_only_undominated_candidates_fastest_first():
    points = [cand("fp32-256", 0.50, 100), cand("int8-256", 0.49, 180), cand("int8-192", 0.40, 260),
              cand("fp16-256", 0.48, 90), cand("int8-160", 0.30, 250)]
    assert [c.variant.key for c in pareto(points, "throughput")] == ["int8-192", "int8-256", "fp32-256"]


def test_halving_drops_those_over_the_constraints_and_keeps_the_fastest_half():
    points = [cand("int8-256", 0.49, 180), cand("fp32-256", 0.50, 100), cand("fp16-256", 0.50, 95),
              cand("int8-160", 0.30, 400), cand("fp32-192", 0.495, 150), cand("fp16-192", 0.495, 140)]
    kept = halve(points, "throughput", reference=0.5, max_drop=0.02, max_latency_ms=None, round_no=1)
    assert [c.variant.key for c in kept] == ["int8-256", "fp32-192", "fp16-192"]
    status = {c.variant.key: c.status for c in points}
    assert status["int8-160"] == "over max_drop" and status["fp16-256"] == "cut after round 1"


def test_pick_is_the_fastest_within_the_drop_and_else_names_the_closest():
    points = [cand("fp32-256", 0.50, 100), cand("int8-256", 0.485, 180), cand("int8-192", 0.40, 260)]
    best, _ = pick(points, "throughput", reference=0.5, max_drop=0.02)
    assert best.variant.key == "int8-256"
    best, closest = pick(points, "throughput", reference=0.5, max_drop=0.001)
    assert best.variant.key == "fp32-256"  # the reference's own precision drops nothing
    best, closest = pick(points, "throughput", reference=0.6, max_drop=0.01)
    assert best is None and closest.variant.key == "fp32-256"


def test_latency_goal_and_its_ceiling():
    points = [cand("fp32-256", 0.50, 100, p50=9.0, setting=LATENCY), cand("fp32-256", 0.50, 180, p50=30.0),
              cand("int8-256", 0.495, 120, p50=6.0, setting=LATENCY)]
    best, _ = pick(points, "latency", reference=0.5, max_drop=0.01)
    assert best.setting.name == "latency" and best.variant.key == "int8-256"
    best, _ = pick(points, "throughput", reference=0.5, max_drop=0.01, max_latency_ms=10)
    assert best.p50_ms <= 10 and best.variant.key == "int8-256"
    best, closest = pick(points, "latency", reference=0.5, max_drop=0.01, max_latency_ms=5)
    assert best is None and closest.p50_ms == 6.0  # fastest of the accurate: the closest to the ceiling


def test_the_budget_counts_from_its_start():
    now = [100.0]
    budget = Budget(2, clock=lambda: now[0])
    assert budget.left == 120 and budget.allows(120) and not budget.allows(121)
    now[0] += 90
    assert budget.spent == 90 and budget.left == 30 and not budget.allows(31)
    now[0] += 100
    assert budget.left == 0


# -- the whole job, on fake measurements ------------------------------------------------------------------------------
METRICS = {"fp32-256": 0.50, "fp16-256": 0.50, "int8-256": 0.49, "fp32-192": 0.45, "fp16-192": 0.45,
           "int8-192": 0.44, "fp32-160": 0.40, "fp16-160": 0.40, "int8-160": 0.39, "int8_ac-256": 0.499,
           "fp32+nms-256": 0.50, "int8+nms-256": 0.49}
SPEED = {"fp32": 100.0, "fp16": 95.0, "int8": 180.0, "int8_ac": 150.0}
SETTING_GAIN = {"latency": 0.8, "throughput": 1.3, "1 stream x 2 requests": 1.1}


class FakeMachine:
    """Exports as empty folders, figures from the tables above; counts every call."""

    def __init__(self, monkeypatch, tmp_path, metrics=METRICS, reference=0.5, interrupt_after=None):
        import yolo_openvino.optimize.job as job
        import yolo_openvino.optimize.measure as measure
        import yolo_openvino.runtime.backends as backends

        self.calls = {"export": 0, "score": 0, "time": 0}
        self.metrics, self.interrupt_after = metrics, interrupt_after
        monkeypatch.setattr(job._Search, "_export_variant", lambda search, variant: self.export(search, variant))
        monkeypatch.setattr(measure, "score_ir", self.score_ir)
        monkeypatch.setattr(measure, "score", lambda backend, dataset, items: reference)
        monkeypatch.setattr(measure, "time_round", self.time_round)
        monkeypatch.setattr(backends, "load_backend", lambda *a, **k: None)
        self.network = SimpleNamespace(task="detect", stride=[8, 16, 32], args={"imgsz": 256})
        self.pt = tmp_path / "model.pt"
        self.pt.write_bytes(b"weights")
        self.data = write_dataset(tmp_path / "ds", {f"im{i}": "0 0.5 0.5 0.2 0.2\n" for i in range(4)})

    def export(self, search, variant):
        self.calls["export"] += 1
        folder = search.folder / "exports" / variant.key
        folder.mkdir(parents=True, exist_ok=True)  # as a real export replaces an earlier one of the same kind
        for name in ("model.xml", "model.bin", "metadata.yaml"):
            (folder / name).write_text(variant.key)
        return folder

    def score_ir(self, path, dataset, items, device, decode="reduced", **runtime):
        self.calls["score"] += 1
        key = path.name if hasattr(path, "name") else str(path).rsplit("/", 1)[-1]
        return self.metrics[key + ("/full" if decode == "full" else "")]

    def time_round(self, path, runtime, images, seconds, device, pipeline=None):
        self.calls["time"] += 1
        if self.interrupt_after is not None and self.calls["time"] > self.interrupt_after:
            raise KeyboardInterrupt
        variant = Variant.from_key(str(path).rsplit("/", 1)[-1])
        name = next(s.name for s in default_settings("throughput") if s.runtime == runtime)
        fps = SPEED[variant.precision] * SETTING_GAIN[name] * (256 / variant.imgsz) ** 2 * (0.98 if variant.nms else 1)
        fps *= 0.7 if (pipeline or {}).get("reduced_decode") is False else 1  # the full decode of large JPEGs
        fps *= 2.0 if device == "GPU" else 1.0  # a made-up accelerator
        assert "device" not in runtime  # the device is passed on its own
        return {"round": (fps, 1000 / fps * (1 if name == "latency" else 3), 1500 / fps), "grown_mb": 20.0,
                "peak_mb": 400.0,
                "precision": "int8" if "int8" in variant.precision else "f32"}

    def run(self, tmp_path, **options):
        from yolo_openvino.optimize.job import optimize
        from yolo_openvino.options import defaults

        values = {**defaults("optimize"), "data": str(self.data), "project": str(tmp_path / "runs"), **options}
        values = {k: v for k, v in values.items() if k not in ("model", "task")}
        return optimize(self.network, self.pt, "pytorch", values, verbose=False)


def test_a_search_picks_the_fastest_within_the_drop_and_writes_its_outputs(monkeypatch, tmp_path):
    import yaml

    fake = FakeMachine(monkeypatch, tmp_path)
    result = fake.run(tmp_path, max_drop=0.02)
    assert result.pick.key == "int8-256/throughput" and result.refusal is None
    assert result.confirmed["ratio"] == pytest.approx(180 * 1.3 / 80, abs=0.01)  # against FP32 at 256, latency
    assert fake.calls["export"] == 11 and fake.calls["score"] == 11  # accuracy once per variant
    folder = result.folder
    assert folder.name == "optimize" and (folder / "pareto.png").stat().st_size > 0
    table = (folder / "candidates.csv").read_text().splitlines()
    assert len(table) == 1 + 11 * 3 and "PICK" in "".join(table)
    assert {row.split(",")[0] for row in table[1:]} >= {"int8+nms", "fp32+nms"}  # a detector: NMS in the graph too
    assert "added_mb,peak_rss_mb,size_mb" in table[0] and result.pick.peak_rss_mb == 400.0
    deploy = yaml.safe_load((folder / "deploy" / "deploy.yaml").read_text())
    assert deploy["runtime"] == {"mode": "throughput"} and deploy["imgsz"] == 256 and deploy["precision"] == "int8"
    assert deploy["predict"] == {"reduced_decode": True}  # predict's default decode, said: val scores it so too
    assert deploy["metric"]["drop"] == pytest.approx(0.01) and deploy["machine"]["cpu_kind"]
    assert sorted(p.name for p in (folder / "deploy").iterdir()) == ["deploy.yaml", "metadata.yaml", "model.bin",
                                                                    "model.xml"]
    assert json.loads((folder / "optimize.json").read_text())["pick"] == "int8-256/throughput"


def test_plain_int8_missing_the_drop_brings_in_accuracy_control(monkeypatch, tmp_path):
    fake = FakeMachine(monkeypatch, tmp_path, metrics={**METRICS, "int8-256": 0.47, "int8+nms-256": 0.47})
    result = fake.run(tmp_path, max_drop=0.01, imgsz=[256])
    assert result.pick.variant.key == "int8_ac-256"  # 0.499 keeps 0.01; plain INT8 (0.47) does not


def test_a_run_interrupted_and_resumed_reuses_what_it_measured_and_picks_the_same(monkeypatch, tmp_path, caplog):
    fake = FakeMachine(monkeypatch, tmp_path, interrupt_after=10)
    with pytest.raises(KeyboardInterrupt):
        fake.run(tmp_path, max_drop=0.02)
    first = dict(fake.calls)
    fake.interrupt_after = None
    result = fake.run(tmp_path, max_drop=0.02, resume=True)
    assert result.folder.name == "optimize" and result.pick.key == "int8-256/throughput"
    assert fake.calls["export"] == 11 and fake.calls["score"] == 11  # nothing exported or scored twice
    assert len(result.reused) >= first["export"] + 10 - 1
    again = fake.run(tmp_path, max_drop=0.02, resume=True)  # everything reused: only the confirmation is timed
    assert again.pick.key == result.pick.key and fake.calls["export"] == 11 and fake.calls["score"] == 11


def test_a_ledger_of_another_dataset_is_set_aside(monkeypatch, tmp_path, caplog):
    fake = FakeMachine(monkeypatch, tmp_path)
    fake.run(tmp_path, imgsz=[256], precisions=["fp32"])
    fake.data = write_dataset(tmp_path / "other", {"a": "0 0.5 0.5 0.2 0.2\n"})
    fake.run(tmp_path, imgsz=[256], precisions=["fp32"], resume=True)
    assert "measured for another data; measuring again" in caplog.text and fake.calls["score"] == 4  # fp32 and fp32+nms, twice


def test_no_candidate_within_the_drop_is_one_line_naming_the_closest_and_the_table_stays(monkeypatch, tmp_path):
    fake = FakeMachine(monkeypatch, tmp_path, reference=0.6)
    result = fake.run(tmp_path, max_drop=0.01, imgsz=[256, 192])
    assert result.pick is None and result.deploy is None
    assert result.refusal.startswith("optimize: no candidate meets max_drop=0.01; the closest is fp32-256/")
    assert "\n" not in result.refusal and (result.folder / "candidates.csv").exists()


def test_max_latency_ms_is_respected(monkeypatch, tmp_path):
    fake = FakeMachine(monkeypatch, tmp_path)
    result = fake.run(tmp_path, max_drop=0.02, max_latency_ms=8.0, imgsz=[256])
    assert result.pick.p50_ms <= 8.0 and result.pick.setting.name == "latency"


def test_a_budget_too_small_for_one_candidate_is_refused(monkeypatch, tmp_path):
    import yolo_openvino.optimize.job as job

    monkeypatch.setattr(job, "FIRST_GUESS_S", {k: 1e6 for k in job.FIRST_GUESS_S})
    fake = FakeMachine(monkeypatch, tmp_path)
    result = fake.run(tmp_path, time=0.5)
    assert result.pick is None and "give it more minutes" in result.refusal
    assert {c.status for c in result.candidates if c.variant.key != "fp32-256"} == {"not run: time budget"}


def test_the_full_decode_is_searched_where_the_reduced_one_costs_accuracy(monkeypatch, tmp_path):
    """Large JPEGs: each setting also with the full decode, each decode scored; plain INT8 keeps the accuracy only
    decoded in full, and that is what the deploy folder says predict must do."""
    import yaml

    import yolo_openvino.optimize.job as job

    monkeypatch.setattr(job, "_reduced_decode_matters", lambda items, sizes, task: True)
    metrics = {**METRICS, **{f"{k}/full": v for k, v in METRICS.items()}, "int8-256": 0.47, "int8+nms-256": 0.47,
               "int8_ac-256": 0.47, "int8_ac-256/full": 0.47}
    fake = FakeMachine(monkeypatch, tmp_path, metrics=metrics)
    result = fake.run(tmp_path, max_drop=0.02, imgsz=[256], precisions=["fp32", "int8"])
    assert result.pick.key == "int8-256/throughput, full decode"
    assert {c.setting.name for c in result.candidates} >= {"latency", "latency, full decode"}
    assert fake.calls["score"] == 2 * fake.calls["export"]  # every variant through each decode, once
    deploy = yaml.safe_load((result.folder / "deploy" / "deploy.yaml").read_text())
    assert deploy["predict"] == {"reduced_decode": False} and deploy["runtime"] == {"mode": "throughput"}


def test_several_devices_are_searched_each_with_its_own_accuracy(monkeypatch, tmp_path):
    import yaml

    import yolo_openvino.optimize.job as job

    monkeypatch.setattr(job, "searched_devices", lambda device: ["CPU", "GPU"])
    fake = FakeMachine(monkeypatch, tmp_path)
    result = fake.run(tmp_path, max_drop=0.02, imgsz=[256], precisions=["fp32", "int8"], device="cpu,gpu")
    assert result.pick.key == "int8-256/throughput on GPU"
    assert {c.setting.name for c in result.candidates} >= {"latency on CPU", "latency on GPU"}
    assert fake.calls["score"] == 2 * fake.calls["export"]  # the accuracy of each variant on each device
    assert result.confirmed["ratio"] == pytest.approx(180 * 1.3 * 2 / 80, abs=0.01)  # against the CPU baseline
    deploy = yaml.safe_load((result.folder / "deploy" / "deploy.yaml").read_text())
    assert deploy["runtime"] == {"device": "GPU", "mode": "throughput"}


def test_the_searched_devices_are_those_here(caplog):
    from yolo_openvino.optimize.job import searched_devices

    assert searched_devices(None) == ["CPU"] and searched_devices("auto:gpu,cpu") == ["AUTO:GPU,CPU"]
    assert searched_devices("cpu,npu9") == ["CPU"] and "devices ['NPU9'] are not on this machine" in caplog.text


def test_the_reduced_decode_matters_only_where_it_reads_an_image_smaller(tmp_path):
    import cv2

    from yolo_openvino.optimize.job import _reduced_decode_matters
    from yolo_openvino.tasks import task_named

    small, large = tmp_path / "small.jpg", tmp_path / "large.jpg"
    cv2.imwrite(str(small), np.zeros((240, 320, 3), np.uint8))
    cv2.imwrite(str(large), np.zeros((960, 1280, 3), np.uint8))
    detect = task_named("detect")
    assert not _reduced_decode_matters([small], [256], detect) and _reduced_decode_matters([small, large], [256], detect)
    assert not _reduced_decode_matters([large], [1280], detect)  # at the model's size: decoded whole anyway


def test_a_deploy_folder_sets_predicts_decode_and_batch(tiny_ir, tmp_path):
    import shutil

    import yaml

    from yolo_openvino import YOLO

    folder = shutil.copytree(tiny_ir, tmp_path / "deploy")
    (folder / "deploy.yaml").write_text(yaml.safe_dump({"runtime": {}, "predict": {"reduced_decode": False}}))
    model = YOLO(folder)
    assert model.predict_defaults == {"reduced_decode": False}
    assert len(model(np.zeros((64, 64, 3), np.uint8), verbose=False)) == 1
    (folder / "deploy.yaml").write_text(yaml.safe_dump({"predict": {"conf": 0.5}}))
    with pytest.raises(UsageError, match="'predict' may set reduced_decode, batch, not conf"):
        YOLO(folder)


@pytest.mark.parametrize("argv, message", [
    (["optimize", "model=x.pt"], "optimize needs data="),
    (["optimize", "goal=fast", "data=d.yaml"], "goal"),
    (["optimize", "precisions=int4", "data=d.yaml"], "precisions"),
])
def test_cli_refusals_are_one_line(argv, message, capsys, tmp_path, checkpoint):
    from yolo_openvino.cli.app import main

    argv = [a.replace("x.pt", str(checkpoint)) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


# -- one real search ---------------------------------------------------------------------------------------------------
@pytest.fixture
def short_rounds(monkeypatch):
    """Timed rounds of a fraction of a second: the search's logic is what these tests check, not its figures."""
    import yolo_openvino.optimize.job as job

    monkeypatch.setattr(job, "FIRST_ROUND_S", 0.2)
    monkeypatch.setattr(job, "CONFIRM_S", 0.2)
    monkeypatch.setattr(job, "CONFIRM_ROUNDS", 2)


def test_a_real_search_of_a_tiny_model_deploys_what_it_picked(checkpoint, tmp_path, short_rounds):
    """The tiny 64-px checkpoint (a detector: FP32 with NMS on the host and in the graph), the latency goal:
    exported, scored, timed (in short rounds), picked, confirmed; the deploy folder loads with the picked settings and
    validates to the recorded figure."""
    from yolo_openvino import YOLO

    data = write_dataset(tmp_path / "ds", {f"im{i}": "0 0.5 0.5 0.2 0.2\n" for i in range(4)})
    result = YOLO(checkpoint).optimize(data=str(data), goal="latency", imgsz=64, precisions="fp32", time=3,
                                       project=str(tmp_path / "runs"), verbose=False)
    assert result.pick is not None and result.confirmed["baseline"]["fps"] > 0
    model = YOLO(result.deploy)
    assert model.runtime == result.pick.setting.runtime
    assert model.runtime_info()["PERFORMANCE_HINT"] == result.pick.setting.runtime["mode"].upper()
    assert model.val(data=str(data), verbose=False).figure("B") == pytest.approx(result.pick.metric, abs=0.002)


def test_an_ir_gets_its_runtime_settings_searched(tiny_ir, tmp_path, short_rounds):
    from yolo_openvino import YOLO
    data = write_dataset(tmp_path / "ds", {f"im{i}": "0 0.5 0.5 0.2 0.2\n" for i in range(3)})
    result = YOLO(tiny_ir).optimize(data=str(data), time=2, project=str(tmp_path / "runs"), verbose=False)
    assert {c.variant.key for c in result.candidates} == {"given-64"}
    assert {c.setting.name for c in result.candidates} == {s.name for s in default_settings("throughput")}
    assert result.pick is not None and result.deploy.is_dir()


def test_a_deploy_folder_from_another_cpu_kind_is_used_with_a_note(tiny_ir, tmp_path, caplog):
    import shutil

    import yaml

    from yolo_openvino import YOLO

    folder = shutil.copytree(tiny_ir, tmp_path / "deploy")
    (folder / "deploy.yaml").write_text(yaml.safe_dump({"runtime": {"mode": "throughput", "streams": 1},
                                                        "machine": {"cpu_kind": "a CPU of elsewhere"}}))
    model = YOLO(folder, requests=3)
    assert model.runtime == {"mode": "throughput", "streams": 1, "requests": 3}  # the caller's options kept too
    assert "picked on CPU kind a CPU of elsewhere, this one is" in caplog.text
    (folder / "deploy.yaml").write_text("runtime: {mode: fastest}\n")
    with pytest.raises(UsageError, match="deploy.yaml: mode"):
        YOLO(folder)


@needs_shared
@pytest.mark.slow
@pytest.mark.timeout(900)
def test_a_shapes_search_keeps_the_accuracy_and_its_deploy_folder_round_trips(tmp_path):
    """yolov8n-seg-shapes, INT8 and FP32 at its training size: the pick keeps max_drop against the .pt on the same
    images, is faster than the baseline, and the deploy folder runs as picked: its runtime settings are the ones
    chosen and val reproduces the recorded figure within 0.002."""
    import yaml

    from yolo_openvino import YOLO

    data = str(DATASETS / "shapes-seg.yaml")
    result = YOLO(shared_model("yolov8n-seg-shapes")).optimize(data=data, imgsz=256, precisions="fp32,int8", time=5,
                                                                project=str(tmp_path), verbose=False)
    assert result.pick is not None and result.pick.drop(result.reference) <= 0.01
    assert result.confirmed["ratio"] > 1.0
    recorded = yaml.safe_load((result.deploy / "deploy.yaml").read_text())
    model = YOLO(result.deploy)
    info = model.runtime_info()
    assert info["PERFORMANCE_HINT"] == recorded["runtime"]["mode"].upper()
    assert model.val(data=data, verbose=False).figure("M") == pytest.approx(recorded["metric"]["value"], abs=0.002)


@pytest.mark.parametrize("key, variant", [("int8-256", Variant("int8", 256)), ("int8+nms-256", Variant("int8", 256, True)),
                                          ("int8_ac-224", Variant("int8_ac", 224)), ("given-64", Variant("given", 64))])
def test_a_variant_and_its_key(key, variant):
    assert Variant.from_key(key) == variant and variant.key == key
