"""Settings: where runs, weights and datasets go, persisted; the CLI's show / key=value / reset; refusals."""

from __future__ import annotations

import json

import pytest

from yolo_openvino.cli.app import main
from yolo_openvino.errors import UsageError


def test_settings_persist_and_steer_the_jobs(tmp_path, monkeypatch):
    from yolo_openvino import settings
    from yolo_openvino.tasks import task_named
    from yolo_openvino.utils.downloads import cache_dir
    from yolo_openvino.utils.settings import settings_file

    assert settings["runs_dir"] == "runs" and task_named("segment").project == "runs/segment"
    settings.update(runs_dir=str(tmp_path / "r"), weights_dir=str(tmp_path / "w"))
    assert json.loads(settings_file().read_text())["runs_dir"] == str(tmp_path / "r")
    assert task_named("segment").project == str(tmp_path / "r" / "segment") and cache_dir() == tmp_path / "w"
    settings.reset()
    assert settings["runs_dir"] == "runs" and json.loads(settings_file().read_text()) == {"settings_version": 1}


@pytest.mark.parametrize("words, code, said", [
    ([], 0, "runs_dir: runs"),
    (["runs_dir=/data/runs"], 0, "runs_dir: /data/runs"),
    (["reset"], 0, "runs_dir: runs"),
    (["wandb=False"], 2, "unknown setting 'wandb': the settings are runs_dir, weights_dir, datasets_dir"),
    (["runs_dir"], 2, "'runs_dir' is not key=value or reset"),
])
def test_the_settings_command(words, code, said, capsys):
    assert main(["settings", *words]) == code
    out = capsys.readouterr()
    assert said in (out.out if code == 0 else out.err)


def test_an_unreadable_settings_file_is_one_line(tmp_path, monkeypatch):
    from yolo_openvino import settings
    from yolo_openvino.utils.settings import settings_file

    settings_file().parent.mkdir(parents=True, exist_ok=True)
    settings_file().write_text("{not json")
    with pytest.raises(UsageError, match="unreadable settings .*yolo-ov settings reset"):
        settings["runs_dir"]
    settings.reset()
