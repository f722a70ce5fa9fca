"""trackio_metrics on Space-backed projects: the parquet files real trackio syncs, served by
the fake Hub and read back through the real huggingface_hub client."""

from __future__ import annotations

import asyncio
import importlib.util
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fakes import hub_repos
from fakes.http_server import FakeHTTPServer

from ml_intern_tui.core.protocol import EventBase, JobMetrics
from ml_intern_tui.core.tool import ToolContext, ToolError, ToolResult, parse_arguments
from ml_intern_tui.integrations import trackio_remote
from ml_intern_tui.integrations.hub import HubClient
from ml_intern_tui.jobs.registry import JobRegistry
from ml_intern_tui.tools.trackio_metrics import TrackioArgs, TrackioMetricsTool

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("trackio") is None or importlib.util.find_spec("pyarrow") is None,
    reason="trackio and pyarrow are dev dependencies",
)

SPACE_README = "---\ntitle: runs\nsdk: gradio\ndatasets:\n - org/trackio-data\n---\n# runs\n"

# What a trackio Space does before each sync: the store it keeps is exported to parquet
# (SQLiteStorage.export_to_parquet), and the root parquet files are committed.
WRITER = """
import os, trackio
from trackio.sqlite_storage import SQLiteStorage
trackio.init(project="bert-sst2", name="baseline", config={"lr": 2e-5, "epochs": 3})
for s in range(6):
    trackio.log({"train/loss": round(1.0 / (s + 1), 4), "eval/acc": 0.5 + s / 20}, step=s * 10)
trackio.log({"train/loss": float("nan")}, step=60)
trackio.finish()
trackio.init(project="bert-sst2", name="higher-lr", config={"lr": 1e-4})
trackio.log({"train/loss": 0.9, "note": "text is not a metric"}, step=0)
trackio.finish()
trackio.init(project="gpt-small", name="only", config={})
trackio.log({"loss": 3.0}, step=1)
trackio.finish()
SQLiteStorage._dataset_import_attempted = True
SQLiteStorage.export_to_parquet()
"""


def run_trackio(directory: Path, code: str) -> dict[str, bytes]:
    """Run ``code`` with trackio writing to ``directory``; the root parquet files it left."""
    env = {**os.environ, "TRACKIO_DIR": str(directory), "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return {p.name: p.read_bytes() for p in directory.glob("*.parquet")}


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    files = run_trackio(tmp_path_factory.mktemp("space-store"), WRITER)
    assert {"bert-sst2.parquet", "bert-sst2_configs.parquet", "gpt-small.parquet"} <= set(files)
    return files


@pytest.fixture(scope="module")
def synced_later(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The export after gpt-small's run logged one more row."""
    more = 'trackio.log({"loss": 3.0}, step=1)\ntrackio.log({"loss": 2.5}, step=2)'
    code = WRITER.replace('trackio.log({"loss": 3.0}, step=1)', more)
    return run_trackio(tmp_path_factory.mktemp("space-store-later"), code)


@pytest.fixture
def server() -> Iterator[FakeHTTPServer]:
    with FakeHTTPServer() as fake:
        yield fake


@pytest.fixture
def hub(server: FakeHTTPServer, synced: dict[str, bytes]) -> hub_repos.FakeHubRepos:
    state = hub_repos.install(server)
    state.add_repo("org/trackio", "space", files={"README.md": SPACE_README})
    media = {"media/bert-sst2/x.png": b"\x89PNG"}
    state.add_repo("org/trackio-data", "dataset", files={**synced, **media}, private=True)
    return state


def tool_ctx(
    ctx: ToolContext, server: FakeHTTPServer, token: str | None = "hf_fake"
) -> ToolContext:
    ctx.services = replace(
        ctx.services, hub=HubClient(server.base_url, token=token, token_from_env=False)
    )
    return ctx


async def call(ctx: ToolContext, **raw: Any) -> ToolResult:
    args = parse_arguments(TrackioMetricsTool(), raw)
    assert isinstance(args, TrackioArgs)
    return await TrackioMetricsTool().run(args, ctx)


def downloads(server: FakeHTTPServer) -> list[str]:
    return [r.path for r in server.requests if "/resolve/" in r.path]


async def test_a_space_backed_project_reads_like_a_local_one(
    ctx: ToolContext, server: FakeHTTPServer, hub: hub_repos.FakeHubRepos
) -> None:
    tctx = tool_ctx(ctx, server)
    projects = (await call(tctx, operation="projects", space_id="org/trackio")).output
    lines = projects.splitlines()
    assert lines[0].startswith("gpt-small: 1 runs · 1 logged rows · last logged 20")  # latest
    assert lines[1].startswith("bert-sst2: 2 runs · 8 logged rows · last logged 20")
    assert "from dataset org/trackio-data" in lines[-1]
    assert not any("media" in path for path in downloads(server))

    runs = await call(tctx, operation="runs", project="bert-sst2", space_id="org/trackio")
    assert "- baseline: steps 0–60 · 7 rows" in runs.output
    assert "metrics: eval/acc, train/loss" in runs.output
    assert "config: lr=2e-05, epochs=3" in runs.output

    summary = await call(
        tctx,
        operation="summary",
        project="bert-sst2",
        run="baseline",
        dataset_id="org/trackio-data",
    )
    assert "train/loss" in summary.output and "eval/acc" in summary.output
    assert "nan" in summary.output.lower()

    series = await call(
        tctx, operation="series", project="bert-sst2", run="baseline", metric="eval/acc",
        dataset_id="https://huggingface.co/datasets/org/trackio-data",
    )  # fmt: skip
    assert series.output.splitlines()[1:] == [f"{s * 10}\t{0.5 + s / 20:g}" for s in range(6)]


async def test_unchanged_files_are_not_downloaded_again(
    ctx: ToolContext,
    server: FakeHTTPServer,
    hub: hub_repos.FakeHubRepos,
    synced: dict[str, bytes],
    synced_later: dict[str, bytes],
) -> None:
    tctx = tool_ctx(ctx, server)
    await call(tctx, operation="summary", project="gpt-small", dataset_id="org/trackio-data")
    first = len(downloads(server))
    assert first == 1 + ("gpt-small_configs.parquet" in synced)  # metrics (+ configs)
    await call(tctx, operation="summary", project="gpt-small", dataset_id="org/trackio-data")
    assert len(downloads(server)) == first

    # The Space syncs a newer export: the next read fetches it and sees the new row.
    files = hub.repo("org/trackio-data", "dataset").branches["main"]
    files["gpt-small.parquet"] = synced_later["gpt-small.parquet"]
    series = await call(
        tctx, operation="series", project="gpt-small", metric="loss", dataset_id="org/trackio-data"
    )
    assert series.output.splitlines()[1:] == ["1\t3", "2\t2.5"]
    assert len(downloads(server)) == 2 * first


async def test_a_private_dataset_without_a_token_says_how_to_fix_it(
    ctx: ToolContext, server: FakeHTTPServer, hub: hub_repos.FakeHubRepos
) -> None:
    tctx = tool_ctx(ctx, server, token=None)
    with pytest.raises(ToolError) as caught:
        await call(tctx, operation="projects", space_id="org/trackio")
    message = str(caught.value)
    assert message == (
        "dataset org/trackio-data was not found or is private: set HF_TOKEN "
        "(or run `hf auth login`) with read access to it"
    )


async def test_a_space_without_a_dataset_names_the_bucket_it_likely_uses(
    ctx: ToolContext, server: FakeHTTPServer, hub: hub_repos.FakeHubRepos
) -> None:
    hub.add_repo("org/bucketed", "space", files={"README.md": "---\nsdk: gradio\n---\n"})
    with pytest.raises(ToolError) as caught:
        await call(tool_ctx(ctx, server), operation="projects", space_id="org/bucketed")
    message = str(caught.value)
    assert "\n" not in message
    assert "Space org/bucketed links no dataset and org/bucketed-dataset was not found" in message
    assert "pass dataset_id=" in message

    with pytest.raises(ToolError, match="Space org/missing was not found"):
        await call(tool_ctx(ctx, server), operation="projects", space_id="org/missing")


async def test_trackio_older_default_dataset_name_is_found(
    ctx: ToolContext, server: FakeHTTPServer, hub: hub_repos.FakeHubRepos, synced: dict[str, bytes]
) -> None:
    hub.add_repo("org/old", "space", files={"README.md": "# no card\n"})
    hub.add_repo(
        "org/old-dataset", "dataset", files={"gpt-small.parquet": synced["gpt-small.parquet"]}
    )
    result = await call(
        tool_ctx(ctx, server), operation="runs", project="gpt-small", space_id="org/old"
    )
    assert "- only: steps 1–1 · 1 rows" in result.output


async def test_unknown_projects_and_bad_ids_are_one_line(
    ctx: ToolContext, server: FakeHTTPServer, hub: hub_repos.FakeHubRepos
) -> None:
    tctx = tool_ctx(ctx, server)
    with pytest.raises(ToolError) as caught:
        await call(tctx, operation="runs", project="nope", dataset_id="org/trackio-data")
    assert str(caught.value) == (
        "no trackio project 'nope' in dataset org/trackio-data (projects: bert-sst2, gpt-small)"
    )
    for bad in ("../../etc", "org/a/b", "org/..", "x\x1b[2J/y", ""):
        with pytest.raises(ToolError) as caught:
            await call(tctx, operation="projects", dataset_id=bad or " ")
        assert "is not a dataset id: use the form org/name" in str(caught.value)
        assert "\x1b" not in str(caught.value)
    assert not downloads(server)


async def test_a_job_logging_to_a_space_gets_its_curve_from_the_dataset(
    ctx: ToolContext,
    server: FakeHTTPServer,
    hub: hub_repos.FakeHubRepos,
    synced_later: dict[str, bytes],
    tmp_path: Path,
) -> None:
    """The jobs pane's curves for a run trackio sends to a Space: read from its dataset."""
    events: list[EventBase] = []
    registry = JobRegistry(events.append, tmp_path / "logs", batch_interval_s=0.05)
    registry.hub = HubClient(server.base_url, token="hf_fake", token_from_env=False)
    registry.trackio_remote_poll_s = 0.1
    # What trackio prints when it logs to a Space persisting to a dataset.
    script = (
        "import time\n"
        "print('* Trackio project initialized: gpt-small', flush=True)\n"
        "print('* Trackio metrics will be synced to Hugging Face Dataset: org/trackio-data',"
        " flush=True)\n"
        "print('* Created new run: only', flush=True)\n"
        "time.sleep(60)\n"
    )
    (ctx.cwd / "remote.py").write_text(script)

    def points() -> list[tuple[float, float]]:
        sent = [e for e in events if isinstance(e, JobMetrics) and e.source == "trackio"]
        return [p for e in sent for p in e.series.get("loss", [])]

    async def until(expected: list[tuple[float, float]]) -> None:
        for _ in range(400):
            if points() == expected:
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"curve {points()} never became {expected}")

    try:
        record = await registry.start_local(f"{sys.executable} -u remote.py", ctx.cwd, title="r")
        await until([(1.0, 3.0)])
        files = hub.repo("org/trackio-data", "dataset").branches["main"]
        files["gpt-small.parquet"] = synced_later["gpt-small.parquet"]  # the Space synced again
        await until([(1.0, 3.0), (2.0, 2.5)])
        assert record.trackio_metrics is not None
        assert record.trackio_metrics.series["loss"].count == 2
    finally:
        await registry.shutdown()


async def test_a_private_dataset_the_job_names_says_why_it_is_not_followed(
    ctx: ToolContext, server: FakeHTTPServer, hub: hub_repos.FakeHubRepos, tmp_path: Path
) -> None:
    from ml_intern_tui.tools.jobs import JobsTool

    registry = JobRegistry(lambda _event: None, tmp_path / "logs", batch_interval_s=0.05)
    registry.hub = HubClient(server.base_url, token=None, token_from_env=False)
    registry.trackio_remote_poll_s = 0.1
    ctx.services = replace(ctx.services, jobs=registry)
    lines = [
        "* Trackio project initialized: gpt-small",
        "* Trackio metrics will be synced to Hugging Face Dataset: org/trackio-data",
        "* Created new run: only",
    ]
    script = (
        "".join(f"print({line!r}, flush=True)\n" for line in lines)
        + "import time\ntime.sleep(60)\n"
    )
    (ctx.cwd / "remote.py").write_text(script)
    try:
        record = await registry.start_local(f"{sys.executable} -u remote.py", ctx.cwd, title="r")
        for _ in range(400):
            link = record.metrics.trackio if record.metrics else None
            if link is not None and link.problem:
                break
            await asyncio.sleep(0.05)
        status = await JobsTool().run(JobsTool.Args(operation="status", job_id=record.id), ctx)  # type: ignore[call-arg]
        assert (
            "trackio: project gpt-small, run only (synced to org/trackio-data) — not followed: "
            "dataset org/trackio-data was not found or is private: set HF_TOKEN"
        ) in status.output
    finally:
        await registry.shutdown()


async def test_reads_at_the_same_time_do_not_trip_over_each_other(
    ctx: ToolContext, server: FakeHTTPServer, hub: hub_repos.FakeHubRepos
) -> None:
    tctx = tool_ctx(ctx, server)
    results = await asyncio.gather(
        *(
            call(tctx, operation="summary", project="bert-sst2", dataset_id="org/trackio-data")
            for _ in range(6)
        )
    )
    assert all("train/loss" in r.output for r in results)
    cache = trackio_remote.default_cache() / "org--trackio-data"
    assert not list((cache / "downloads").iterdir())  # no file left behind
