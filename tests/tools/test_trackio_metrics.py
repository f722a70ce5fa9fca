"""trackio_metrics against stores the real trackio package wrote (in child processes)."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import sqlite3
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from ml_intern_tui.core.tool import ToolContext, ToolError, parse_arguments
from ml_intern_tui.integrations import trackio_store
from ml_intern_tui.jobs.registry import JobRegistry
from ml_intern_tui.tools import trackio_metrics as module
from ml_intern_tui.tools.jobs import JobsTool
from ml_intern_tui.tools.trackio_metrics import TrackioArgs, TrackioMetricsTool

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("trackio") is None, reason="trackio is a dev dependency"
)

WRITER = """
import math, trackio
trackio.init(project="bert-sst2", name="baseline", config={"lr": 2e-5, "epochs": 3})
for s in range(6):
    trackio.log({"train/loss": round(1.0 / (s + 1), 4), "eval/acc": 0.5 + s / 20, "lr": 2e-5}, step=s * 10)
trackio.log({"train/loss": float("nan")}, step=60)
trackio.finish()
trackio.init(project="bert-sst2", name="higher-lr", config={"lr": 1e-4})
trackio.log({"train/loss": 0.9, "note": "text is not a metric"}, step=0)
trackio.finish()
"""


def write_store(directory: Path, code: str, cwd: Path | None = None) -> None:
    env = {**os.environ, "TRACKIO_DIR": str(directory), "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("trackio")
    write_store(directory, WRITER)
    return directory


@pytest.fixture
def tctx(ctx: ToolContext, store_dir: Path, monkeypatch: pytest.MonkeyPatch) -> ToolContext:
    monkeypatch.setenv("TRACKIO_DIR", str(store_dir))
    return ctx


async def call(ctx: ToolContext, **raw: Any):  # type: ignore[no-untyped-def]
    args = parse_arguments(TrackioMetricsTool(), raw)
    assert isinstance(args, TrackioArgs)
    return await TrackioMetricsTool().run(args, ctx)


async def test_projects_runs_summary_and_series(tctx: ToolContext, store_dir: Path) -> None:
    projects = await call(tctx, operation="projects")
    assert projects.output.startswith("bert-sst2: 2 runs · 8 logged rows · last logged 20")
    assert str(store_dir / "bert-sst2.db") in projects.output

    runs = (await call(tctx, operation="runs", project="bert-sst2")).output.splitlines()
    assert runs[0] == "project bert-sst2: 2 runs, latest first"
    assert runs[1].startswith("- higher-lr: steps 0–0 · 1 rows")
    assert (
        "metrics: train/loss" in runs[1]
        and "note" not in runs[1]
        and "config: lr=0.0001" in runs[1]
    )
    assert runs[2].startswith("- baseline: steps 0–60 · 7 rows")
    assert "metrics: eval/acc, lr, train/loss" in runs[2] and "epochs=3" in runs[2]

    summary = await call(tctx, operation="summary", project="bert-sst2", run="baseline")
    lines = summary.output.splitlines()
    assert lines[0] == "project bert-sst2, run baseline: 3 metrics against step"
    loss = next(line for line in lines if line.startswith("train/loss"))
    assert "last NaN at step 60" in loss and "min 0.1667" in loss and "max 1" in loss
    assert "1 NaN/inf" in loss and "7 points" in loss
    acc = next(line for line in lines if line.startswith("eval/acc"))
    assert "last 0.75" in acc and "rising" in acc

    latest = await call(tctx, operation="summary", project="bert-sst2")  # the latest run
    assert "run higher-lr" in latest.output

    curve = await call(
        tctx,
        operation="series",
        project="bert-sst2",
        run="baseline",
        metric="eval/acc",
        max_points=3,
    )
    assert curve.output.splitlines() == [
        "eval/acc in bert-sst2/baseline against step: 3 of 6 points",
        "0\t0.5",
        "20\t0.6",
        "50\t0.75",
    ]
    assert "trackio" not in sys.modules  # read without importing trackio in this process


async def test_clear_errors_for_unknown_names(tctx: ToolContext) -> None:
    with pytest.raises(ToolError, match=r"no trackio project 'gpt' \(projects: bert-sst2\)"):
        await call(tctx, operation="runs", project="gpt")
    with pytest.raises(ToolError, match=r"no run 'nope' in project 'bert-sst2' \(runs: "):
        await call(tctx, operation="summary", project="bert-sst2", run="nope")
    with pytest.raises(ToolError, match="Pass metric= one of: eval/acc, lr, train/loss"):
        await call(tctx, operation="series", project="bert-sst2", run="baseline", metric="bleu")
    with pytest.raises(ToolError, match="project is required for runs"):
        await call(tctx, operation="runs")


async def test_without_trackio_or_a_store_the_tool_says_how_to_get_it(
    ctx: ToolContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRACKIO_DIR", str(tmp_path / "empty"))
    result = await call(ctx, operation="projects")
    assert result.output.startswith("No trackio projects in ")
    assert "pip install" not in result.output  # trackio is installed in this environment
    monkeypatch.setattr(module.importlib.util, "find_spec", lambda name: None)
    result = await call(ctx, operation="projects")
    assert result.output.endswith(module.INSTALL_HINT)
    assert "\n" not in module.INSTALL_HINT


async def test_a_running_writer_is_read_as_it_goes(
    ctx: ToolContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = tmp_path / "live"
    gate = tmp_path / "gate"
    monkeypatch.setenv("TRACKIO_DIR", str(directory))
    code = f"""
    import pathlib, time, trackio
    trackio.init(project="live", name="r")
    for s in range(3):
        trackio.log({{"loss": 1.0 - s / 10}}, step=s)
    trackio.finish()
    pathlib.Path({str(tmp_path / "ready")!r}).write_text("x")
    while not pathlib.Path({str(gate)!r}).exists():
        time.sleep(0.02)
    trackio.init(project="live", name="r", resume="must")
    for s in range(3, 5):
        trackio.log({{"loss": 1.0 - s / 10}}, step=s)
    trackio.finish()
    """
    env = {**os.environ, "TRACKIO_DIR": str(directory), "HF_HUB_OFFLINE": "1"}
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", textwrap.dedent(code), env=env
    )
    try:
        for _ in range(600):
            if (tmp_path / "ready").exists() or child.returncode is not None:
                break
            await asyncio.sleep(0.05)
        first = await call(ctx, operation="series", project="live", metric="loss")
        assert first.output.splitlines()[0].endswith("3 of 3 points")
        gate.write_text("go")
        assert await asyncio.wait_for(child.wait(), 60) == 0
        second = await call(ctx, operation="series", project="live", metric="loss")
        assert second.output.splitlines()[-1] == "4\t0.6"
    finally:
        if child.returncode is None:
            child.kill()
            await child.wait()


# ----------------------------------------------------------------- untrusted stores


async def test_hostile_databases_are_skipped_or_cleaned(
    ctx: ToolContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = tmp_path / "store"
    directory.mkdir()
    monkeypatch.setenv("TRACKIO_DIR", str(directory))
    (directory / "junk.db").write_bytes(b"not a database at all" * 100)
    other = sqlite3.connect(directory / "other.db")
    other.execute("CREATE TABLE users (name TEXT)")
    other.commit()
    other.close()
    evil = sqlite3.connect(directory / "evil.db")
    evil.execute("CREATE TABLE metrics (id INTEGER PRIMARY KEY, run_name TEXT, step INTEGER, metrics TEXT, timestamp TEXT)")  # fmt: skip
    rows = [
        ("r\x1b[2J", 0, json.dumps({"lo\x1b]0;pwned\x07ss": 1.0, "ok": 2.0}), "t"),
        ("r\x1b[2J", 1, "{not json", "t"),
        ("r\x1b[2J", 2, json.dumps([1, 2, 3]), "t"),
        ("r\x1b[2J", 3, json.dumps({"ok": {"nested": 1}, "x" * 500: 3.0}), "t"),
    ]
    evil.executemany("INSERT INTO metrics (run_name, step, metrics, timestamp) VALUES (?, ?, ?, ?)", rows)  # fmt: skip
    evil.commit()
    evil.close()

    projects = await call(ctx, operation="projects")
    assert [line.split(":")[0] for line in projects.output.splitlines()] == ["evil"]
    summary = await call(ctx, operation="summary", project="evil")
    assert "\x1b" not in summary.output and "\x07" not in summary.output
    assert "run r?[2J" in summary.output
    assert all(len(line) < 400 for line in summary.output.splitlines())
    with pytest.raises(ToolError, match="no trackio project"):
        await call(ctx, operation="runs", project="../../etc/passwd")  # stays in the store
    assert trackio_store.project_path(directory, "../../x").parent == directory
    with pytest.raises(ToolError, match=r"cannot read junk\.db as a trackio database"):
        await call(ctx, operation="runs", project="junk")


# ----------------------------------------------------------------- a job that logs to trackio


async def test_a_job_logging_to_trackio_is_linked_and_its_store_found(
    ctx: ToolContext, registry: JobRegistry, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TRACKIO_DIR", str(tmp_path / "elsewhere"))
    ctx.services = replace(ctx.services, jobs=registry)
    (ctx.cwd / "train.py").write_text(
        "import trackio\n"
        "trackio.init(project='demo-run', name='first')\n"
        "for s in range(3):\n"
        "    trackio.log({'loss': 1.0 / (s + 1)}, step=s)\n"
        "    print(f'step={s} loss={1.0 / (s + 1):.3f}', flush=True)\n"
        "trackio.finish()\n"
    )
    record = await registry.start_local(
        f"TRACKIO_DIR=runs HF_HUB_OFFLINE=1 {sys.executable} -u train.py", ctx.cwd, title="demo"
    )
    await registry.wait(record.id, 60)
    assert record.status == "completed", list(record.tail)
    assert record.metrics is not None and record.metrics.trackio is not None
    link = record.metrics.trackio
    assert (link.project, link.run) == ("demo-run", "first")
    status = await JobsTool().run(JobsTool.Args(operation="status", job_id=record.id), ctx)  # type: ignore[call-arg]
    assert (
        "trackio: project demo-run, run first — read its curves with trackio_metrics"
        in status.output
    )
    summary = await call(ctx, operation="summary", project="demo-run")
    assert "loss: last 0.3333 at step 2" in summary.output


async def test_a_job_logging_only_to_trackio_sends_its_curve_and_is_not_stalled(
    ctx: ToolContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ml_intern_tui.core.protocol import EventBase, JobMetrics, Notice
    from ml_intern_tui.jobs.alerts import JobWatch

    monkeypatch.setenv("TRACKIO_DIR", str(tmp_path / "default-store"))
    events: list[EventBase] = []
    watch = JobWatch(events.append, None, stall_after_s=None)  # checked by hand below
    registry = JobRegistry(
        events.append, tmp_path / "logs", batch_interval_s=0.05, watch=watch, trackio_poll_s=0.1
    )
    ctx.services = replace(ctx.services, jobs=registry)
    (ctx.cwd / "quiet.py").write_text(
        "import time, trackio\n"
        "trackio.init(project='quiet', name='r1')\n"
        "for s in range(8):\n"
        "    trackio.log({'train/loss': 2.0 / (s + 1)}, step=s * 5)\n"
        "    time.sleep(0.3)\n"  # nothing printed for 2.4 s, but rows keep coming
        "trackio.finish()\n"
    )
    try:
        record = await registry.start_local(
            f"TRACKIO_DIR=store HF_HUB_OFFLINE=1 {sys.executable} -u quiet.py", ctx.cwd, title="q"
        )
        # Once trackio has started (its import takes a while), nothing is printed any more,
        # but rows keep coming: a stall check every 0.2 s never finds 1.5 s of silence.
        for _ in range(1200):
            if record.finished or (
                record.metrics and record.metrics.trackio and record.metrics.trackio.run
            ):
                break
            await asyncio.sleep(0.05)
        watch.stall_after_s = 1.5
        while not record.finished:
            watch.check_stalls(registry.running())
            await asyncio.sleep(0.2)
        assert record.status == "completed", list(record.tail)
        for _ in range(100):  # the last poll after the end
            if record.trackio_metrics and record.trackio_metrics.series["train/loss"].count == 8:
                break
            await asyncio.sleep(0.05)
        sent = [e for e in events if isinstance(e, JobMetrics) and e.source == "trackio"]
        points = [p for e in sent for p in e.series.get("train/loss", [])]
        assert points == [(s * 5.0, 2.0 / (s + 1)) for s in range(8)]
        assert len(sent) > 1  # it arrived while the job ran, not only at the end
        assert not [e for e in events if isinstance(e, Notice) and e.alert == "stalled"]
        status = await JobsTool().run(JobsTool.Args(operation="status", job_id=record.id), ctx)  # type: ignore[call-arg]
        assert "--- metrics the job logged to trackio" in status.output
        assert "train/loss: last 0.25 at step 35" in status.output
    finally:
        await registry.shutdown()


async def test_a_store_outside_the_job_directory_is_not_followed(
    ctx: ToolContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ml_intern_tui.jobs.metrics import TrackioLink
    from ml_intern_tui.jobs.trackio_follow import store_directory

    monkeypatch.setenv("TRACKIO_DIR", str(tmp_path / "default-store"))
    link = TrackioLink(project="p", directory="/etc", run="r")
    assert store_directory(link, ctx.cwd) is None
    link.directory = "../outside"
    assert store_directory(link, ctx.cwd) is None
    link.directory = "runs"
    assert store_directory(link, ctx.cwd) == (ctx.cwd / "runs").resolve()
    link.directory = str(tmp_path / "default-store" / "sub")
    assert store_directory(link, ctx.cwd) is not None
    link.remote = "me/space"
    assert store_directory(link, ctx.cwd) is None  # logged to a Space: nothing local to follow
