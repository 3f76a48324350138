"""Options and the CLI, without models: one declaration per option, strict checks, one-line errors, layering."""

from __future__ import annotations

import re

import pytest

from conftest import ROOT, write_dataset, write_image
from yolo_openvino import YOLO
from yolo_openvino.cli.app import main
from yolo_openvino.errors import UsageError
from yolo_openvino.options import COMMANDS, RUNTIME_NAMES, check, documented_groups, markdown_table, options_of, table_skip

# (command, option, given, expected); strings are what the CLI passes, the rest what Python callers pass.
VALID = [
    ("predict", "conf", "0.5", 0.5), ("predict", "conf", 0, 0.0), ("predict", "conf", 1, 1.0),
    ("predict", "iou", "0.45", 0.45), ("predict", "max_det", "1", 1), ("predict", "max_det", 5.0, 5),
    ("predict", "classes", "0,2", [0, 2]), ("predict", "classes", 3, [3]), ("predict", "classes", [1, 2], [1, 2]),
    ("predict", "imgsz", "640", 640), ("predict", "imgsz", "480,640", (480, 640)), ("predict", "imgsz", [320, 256], (320, 256)),
    ("predict", "save", "True", True), ("predict", "save", "false", False), ("predict", "save", True, True),
    ("predict", "mode", "THROUGHPUT", "throughput"), ("predict", "streams", "auto", "AUTO"), ("predict", "streams", "2", 2),
    ("predict", "inference_precision", "fp32", "f32"), ("predict", "config", '{"NUM_STREAMS": 2}', {"NUM_STREAMS": 2}),
    ("predict", "device", "auto:gpu,cpu", "auto:gpu,cpu"), ("export", "format", "ONNX", "onnx"),
    ("export", "fraction", "0.5", 0.5), ("val", "split", "train", "train"), ("predict", "classes", None, None),
]
INVALID = [
    ("predict", "classes", "abc"), ("predict", "classes", "-1"), ("predict", "max_det", 0), ("predict", "max_det", -1),
    ("predict", "max_det", "1.5"), ("predict", "conf", -1), ("predict", "conf", 2), ("predict", "conf", "abc"),
    ("predict", "conf", float("nan")), ("predict", "iou", "nan"), ("predict", "imgsz", "abc"), ("predict", "imgsz", 0),
    ("predict", "imgsz", -32), ("predict", "imgsz", "1,2,3"), ("predict", "save", "maybe"), ("predict", "save", 1),
    ("predict", "mode", "fast"), ("predict", "streams", 0), ("predict", "requests", 0), ("predict", "batch", 0),
    ("predict", "config", "[1, 2]"), ("predict", "conf", None), ("export", "imgsz", 0), ("export", "imgsz", -32),
    ("export", "format", "tflite"), ("export", "fraction", 0), ("export", "int8", "yes please"), ("val", "split", "dev"),
]


@pytest.mark.parametrize("command,name,given,expected", VALID)
def test_valid_values_are_converted(command, name, given, expected):
    assert check(command, {name: given})[name] == expected


@pytest.mark.parametrize("command,name,given", INVALID)
def test_invalid_values_name_the_option_and_what_is_allowed(command, name, given):
    with pytest.raises(UsageError, match=f"{name}=.* is not valid: expected "):
        check(command, {name: given})


def test_every_option_default_passes_its_own_check():
    for command, options in COMMANDS.items():
        for o in options:
            assert o.convert(o.default) == o.default or o.default is None, (command, o.name)


@pytest.mark.parametrize("argv,message", [
    (["predcit"], "unknown command 'predcit' (did you mean 'predict'?)"),
    (["predict", "modle=x.pt"], "unknown argument 'modle' (did you mean 'model'?)"),
    (["predict", "--sorce", "a.jpg"], "unknown argument 'sorce' (did you mean 'source'?)"),
    (["export", "fromat=onnx"], "unknown argument 'fromat' (did you mean 'format'?)"),
    (["val", "--dataa", "x.yaml"], "unknown argument 'dataa' (did you mean 'data'?)"),
    (["predict", "source=x.jpg", "conf=2"], "conf=2 is not valid: expected a number in [0, 1]"),
    (["predict", "source=x.jpg", "classes=abc"], "classes=abc is not valid: expected class ids"),
    (["export", "imgsz=-32"], "imgsz=-32 is not valid: expected a positive size"),
    (["predict", "source=x.jpg", "save=maybe"], "save=maybe is not valid: expected True or False"),
    (["predict", "source=x.jpg", "engine=ray"], "engine=ray writes Parquet: give output="),
    (["predict", "source=x.jpg", "engine=spark"], "engine=spark is not valid: expected one of local, ray"),
    (["serve", "replicas=0"], "replicas=0 is not valid: expected an integer in [1, 100000]"),
    (["serve", "port=70000"], "port=70000 is not valid"),
    (["serve", "autoscaling=[1]"], "autoscaling=[1] is not valid: expected a dict"),
])
def test_cli_user_errors_are_one_line_with_exit_code_2(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_cli_debug_shows_the_traceback():
    with pytest.raises(UsageError):
        main(["--debug", "export", "imgsz=-32"])


@pytest.mark.parametrize("command", list(COMMANDS))
def test_cli_help_lists_every_declared_argument_with_its_default(command, capsys):
    with pytest.raises(SystemExit):
        main([command, "--help"])
    text = " ".join(capsys.readouterr().out.split())  # undo line wrapping
    for o in COMMANDS[command]:
        assert f"--{o.name} VALUE" in text
        if o.default is not None:
            after = text.rsplit(f"--{o.name} VALUE", 1)[1].split(" --", 1)[0]
            assert f"(default: {o.default})" in after, o.name


def test_python_api_and_cli_share_the_runtime_options():
    assert {o for o in options_of("predict")} >= set(RUNTIME_NAMES)
    assert {o for o in options_of("val")} >= set(RUNTIME_NAMES)
    from yolo_openvino.runtime.backends import _OPENVINO_OPTIONS
    import inspect
    from yolo_openvino.runtime.backends.openvino_backend import OpenVINOBackend

    assert set(_OPENVINO_OPTIONS) | {"device"} == set(RUNTIME_NAMES)
    assert set(RUNTIME_NAMES) <= set(inspect.signature(OpenVINOBackend.from_ir).parameters)


@pytest.mark.parametrize("group", documented_groups())
def test_readme_argument_tables_are_the_declarations(group):
    """The reference's tables are generated (python -m yolo_openvino.options); edit options/catalogue.py, then regenerate."""
    reference = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert markdown_table(group, skip=table_skip(group)) in reference, f"docs/cli.md's table of '{group}' differs from options/catalogue.py"


@pytest.mark.parametrize("module,extra", [
    ("torch", "export"), ("onnx", "export"), ("onnxruntime", "export"), ("nncf", "export"), ("matplotlib", "report"),
    ("pandas", "pandas"), ("supervision", "supervision"), ("ray", "ray"), ("pyarrow", "ray"), ("starlette", "serve"),
    ("multipart", "serve"), ("python_multipart", "serve"), ("prometheus_client", "serve"), ("motmetrics", "mot"), ("numpy", None), ("nothing_of_ours", None)])
def test_the_extra_that_installs_a_package_is_read_from_the_package_metadata(module, extra):
    from yolo_openvino.cli.app import extra_installing

    assert extra_installing(module) == extra


def test_a_missing_optional_package_names_the_extra(monkeypatch, capsys):
    import yolo_openvino.cli.commands as commands

    def needs_torch(**_):
        raise ModuleNotFoundError("No module named 'torch'", name="torch")

    monkeypatch.setattr(commands, "export", needs_torch)
    assert main(["export", "model=x.pt"]) == 2
    assert "this needs 'torch': pip install \"yolo-openvino[export]\"" in capsys.readouterr().err


# -- Ultralytics habits: run folders, help, show ------------------------------------------------------------------
def test_outputs_go_to_runs_detect_command_numbered(tiny_ir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    image = write_image(tmp_path / "a.jpg")
    for _ in range(2):
        YOLO(tiny_ir)(str(image), save=True)
    assert sorted(p.name for p in (tmp_path / "runs" / "detect").iterdir()) == ["predict", "predict2"]
    assert (tmp_path / "runs" / "detect" / "predict" / "a.jpg").is_file()


@pytest.mark.parametrize("argv,out", [(["--version"], "yolo-ov 0."), (["help"], "COMMAND"),
                                      (["help", "export"], "--int8"), (["detect", "help"], "COMMAND")])
def test_cli_habits(argv, out, capsys):
    try:
        code = main(argv)
    except SystemExit as e:  # argparse's --help exits
        code = e.code
    assert code == 0 and out in capsys.readouterr().out


def test_show_without_display_fails_before_any_work(tiny_ir, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert main(["predict", f"model={tiny_ir}", f"source={write_image(tmp_path / 'a.jpg')}", "show=True"]) == 2
    assert "no display" in capsys.readouterr().err


# -- the command line as Ultralytics users type it -----------------------------------------------------------------
@pytest.mark.parametrize("argv,expected", [
    (["predict", "--model", "m", "--save"], None),  # argparse's own form: left alone
    (["predict", "--model", "m", "save", "show", "agnostic_nms"],
     ["predict", "--model", "m", "--save", "True", "--show", "True", "--agnostic_nms", "True"]),
    (["val", "detect", "--model", "m"], ["val", "--model", "m", "--task", "detect"]),
    (["detect", "val", "--model", "m"], ["val", "--model", "m", "--task", "detect"]),
    (["segment", "predict", "--model", "m", "save"], ["predict", "--model", "m", "--save", "True", "--task", "segment"]),
    (["predict", "--source", "save"], None),  # a value named like a switch stays a value
    (["export", "--model", "m", "dynamic", "half"], ["export", "--model", "m", "--dynamic", "True", "--half", "True"]),
])
def test_ultralytics_command_line_habits(argv, expected):
    from yolo_openvino.cli.app import _habits

    assert _habits(argv) == (expected or argv)


@pytest.mark.parametrize("argv", [["version"], ["--version"]])
def test_the_version_is_a_command_too(argv, capsys):
    from yolo_openvino import __version__

    assert main(argv) == 0 and capsys.readouterr().out.strip() == f"yolo-ov {__version__}"


def _task_checkpoint(task: str, folder) -> Path:
    import ultralytics_fakes

    arch = ultralytics_fakes.tiny_arch(task=task)
    if task == "pose":
        arch["kpt_shape"] = [4, 3]  # the keypoints write_task_dataset labels
    ultralytics_fakes.save_checkpoint(folder / f"{task}.pt", arch=arch)
    return folder / f"{task}.pt"


TASKS = ["detect", "segment", "pose", "obb", "classify"]
# (task, mode, task word first?): predict both ways for every task; the other modes one way each, alternating
FORMS = [(t, "predict", first) for t in TASKS for first in (True, False)] + \
        [(t, mode, (k + m) % 2 == 0) for k, t in enumerate(TASKS) for m, mode in enumerate(("val", "export", "track"))]


@pytest.mark.parametrize("task, mode, task_first", FORMS)
def test_every_task_word_before_or_after_every_mode(task, mode, task_first, tmp_path, capsys):
    """A tiny model of each task through ``yolo-ov <task> <mode> ...`` or ``yolo-ov <mode> <task> ...``, with bare
    switches: predict saving its outputs, val on a dataset of the task's kind, export, track (a classifier's
    one-line refusal)."""
    from conftest import write_task_dataset, write_video

    model = _task_checkpoint(task, tmp_path)
    words = [task, mode] if task_first else [mode, task]
    runs = tmp_path / "runs"
    argv = {"predict": [f"source={write_image(tmp_path / 'a.jpg')}", f"project={runs}", "save", "save_txt"],
            "val": [f"data={write_task_dataset(task, tmp_path / 'ds')}", f"project={runs}", "plots"],
            "export": ["format=onnx", f"output={tmp_path / 'm.onnx'}", "dynamic"],
            "track": [f"source={write_video(tmp_path / 'v.avi', frames=3)}", "verbose=False"]}[mode]
    code = main([*words, f"model={model}", "imgsz=64", *argv])
    out = capsys.readouterr()
    if mode == "track" and task == "classify":
        assert code == 2 and "has no boxes to track" in out.err
        return
    assert code == 0, out.err
    made = {"predict": runs / "predict" / "a.jpg", "val": runs / "val" / "confusion_matrix.png",
            "export": tmp_path / "m.onnx", "track": None}[mode]
    assert made is None or made.exists()
    assert mode != "track" or "video 1/1" not in out.out  # verbose=False: no line per frame


def test_checks_names_the_cpu_kind_openvinos_devices_and_the_extras(capsys):
    assert main(["checks"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^CPU: .+ cores, (AMX|AVX512_BF16|AVX-512 VNNI|AVX-512|AVX2|older than AVX2); flags: ", out, re.M)
    assert re.search(r"^  CPU: .+; inference precision by default: \w+", out, re.M)
    assert re.search(r"^  export: torch \S+, onnx ", out, re.M) and "serve: uvicorn" in out


def test_cfg_prints_every_commands_defaults_as_yaml(capsys):
    import yaml

    from yolo_openvino.options import defaults

    assert main(["cfg"]) == 0
    table = yaml.safe_load(capsys.readouterr().out)
    assert table["predict"]["conf"] == defaults("predict")["conf"] == 0.25 and table["val"]["conf"] == 0.001
    assert table["optimize"]["max_drop"] == 0.01 and table["runtime"]["mode"] is None


def test_end2end_is_the_deprecated_spelling_of_nms(caplog):
    from yolo_openvino.export import parse_export_args

    args = parse_export_args(32, has_one2one=True, imgsz=64, end2end=False)
    assert args.one2one and not hasattr(args, "end2end") and "end2end=False is deprecated" in caplog.text
    assert not parse_export_args(32, has_one2one=True, imgsz=64, end2end=False, nms=True).one2one  # nms wins


def test_val_takes_predicts_nms_options(tiny_ir, tmp_path):
    data = write_dataset(tmp_path / "ds", {"a": "0 0.5 0.5 0.2 0.2\n"})
    metrics = YOLO(tiny_ir).val(data=str(data), agnostic_nms=True, classes=[0], verbose=False)
    assert 0.0 <= metrics.map50_95 <= 1.0
