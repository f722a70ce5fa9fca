"""The demo's training job: its pace setting, its metric lines and its trackio log."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from ml_intern_tui.demo import scenario as demo
from ml_intern_tui.demo.steps import Step

DATA = Path(demo.__file__).parent / "data" / "reviews.csv"


def training_step(monkeypatch: pytest.MonkeyPatch, pace: str | None) -> Step:
    """The step that starts the job, as the scripted model serves it with ``pace`` set."""
    if pace is None:
        monkeypatch.delenv(demo.PACE_ENV, raising=False)
    else:
        monkeypatch.setenv(demo.PACE_ENV, pace)
    steps = demo.demo_scenario().steps
    for source in steps:
        step = source([]) if callable(source) else source
        if any(args.get("background") for _, args in step.tool_calls if isinstance(args, dict)):
            return step
    raise AssertionError("the demo starts no background job")


def job_command(step: Step) -> str:
    return next(
        str(args["command"])
        for name, args in step.tool_calls
        if name == "bash" and isinstance(args, dict)
    )


def test_the_default_demo_trains_as_before(monkeypatch: pytest.MonkeyPatch) -> None:
    step = training_step(monkeypatch, None)
    assert job_command(step) == "python3 train.py --epochs 12"
    assert demo.PACE_ENV not in step.text


def test_a_pace_slows_the_job_the_user_approves(monkeypatch: pytest.MonkeyPatch) -> None:
    step = training_step(monkeypatch, " 7.5 ")
    assert job_command(step) == "python3 train.py --epochs 12 --steps-per-s 7.5"
    assert demo.PACE_ENV not in step.text


@pytest.mark.parametrize("raw", ["fast", "0", "-3", "nan", "inf", "1e9", "5; rm -rf ~"])
def test_a_bad_pace_says_so_in_one_line_and_trains_at_the_default(
    monkeypatch: pytest.MonkeyPatch, raw: str
) -> None:
    step = training_step(monkeypatch, raw)
    # Nothing from the variable reaches the command line the user approves.
    assert job_command(step) == "python3 train.py --epochs 12"
    note = step.text.split(". ", 1)[1] if ". " in step.text else step.text
    assert f"{demo.PACE_ENV}={raw!r}" in step.text and "default pace" in step.text
    assert "\n" not in note


def workspace(tmp_path: Path) -> Path:
    """A folder laid out as the demo's: data/reviews.csv and the train.py it writes."""
    (tmp_path / "data").mkdir()
    shutil.copy(DATA, tmp_path / "data" / "reviews.csv")
    (tmp_path / "train.py").write_text(demo.TRAIN_SCRIPT, encoding="utf-8")
    return tmp_path


def run_training(folder: Path, *python_flags: str) -> list[str]:
    """Run one fast epoch of the demo's script; its stdout lines."""
    result = subprocess.run(
        [sys.executable, *python_flags, "train.py", "--epochs", "1", "--steps-per-s", "1000"],
        cwd=folder,
        env={
            "TRACKIO_DIR": str(folder / "trackio"),
            "HF_HUB_OFFLINE": "1",
            "PATH": "/usr/bin:/bin",
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout.splitlines()


def test_without_trackio_the_script_still_logs_every_metric(tmp_path: Path) -> None:
    folder = workspace(tmp_path)
    lines = run_training(folder, "-S")  # -S: no site-packages, so no trackio
    steps = [line for line in lines if line.startswith("step=")]
    assert [line.split()[0] for line in steps] == ["step=4", "step=8", "step=12"]
    assert any(line.startswith("epoch 1/1 ") and "val_acc=" in line for line in lines)
    assert json.loads((folder / "metrics.json").read_text())["epochs"] == 1
    assert not (folder / "trackio").exists()


def test_with_trackio_the_losses_go_to_its_local_store_too(tmp_path: Path) -> None:
    if importlib.util.find_spec("trackio") is None:  # not importorskip: that imports it here
        pytest.skip("trackio is a dev dependency")
    folder = workspace(tmp_path)
    lines = run_training(folder)
    printed = {
        int(line.split()[0].removeprefix("step=")): float(line.split()[1].removeprefix("loss="))
        for line in lines
        if line.startswith("step=")
    }
    with sqlite3.connect(folder / "trackio" / "ml-intern-demo.db") as db:
        rows = db.execute("SELECT step, metrics FROM metrics").fetchall()
    logged = {step: json.loads(raw)["train/loss"] for step, raw in rows if b"train/loss" in raw}
    assert logged.keys() == printed.keys() == {4, 8, 12}
    assert all(abs(logged[s] - printed[s]) < 1e-4 for s in printed)
    assert any(b"eval/accuracy" in raw for _, raw in rows)
