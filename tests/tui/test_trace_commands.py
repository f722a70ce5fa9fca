"""``/export --format trace`` and ``/share-traces``: the app submits ops; the trace service
takes them and answers with notices (against a fake Hub, through the real hub client)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes import hub_repos
from fakes.http_server import FakeHTTPServer
from fakes.hub_jobs import TOKEN, USER, install_hub_jobs

from ml_intern_tui.config.schema import AppConfig
from ml_intern_tui.core import protocol as p
from ml_intern_tui.core.bus import EventBus
from ml_intern_tui.core.journal import Journal
from ml_intern_tui.integrations.hub import HubClient
from ml_intern_tui.services.traces import TraceOptions, TraceUploader
from ml_intern_tui.traces.queue import UploadQueue
from ml_intern_tui.tui import slash  # noqa: F401  (registers the built-ins)
from ml_intern_tui.tui.app import MLInternApp
from ml_intern_tui.tui.commands import BUILTINS
from ml_intern_tui.tui.widgets.blocks.notice import NoticeBlock
from tui.conftest import fixed_clock, wait_for
from tui.fake_runtime import FakeRuntime, make_config

REPO = f"{USER}/ml-intern-sessions"


def sessions_dir(settings: AppConfig) -> Path:
    assert settings.sessions.dir is not None
    return settings.sessions.dir


@pytest.fixture
def server() -> Iterator[FakeHTTPServer]:
    with FakeHTTPServer() as fake:
        install_hub_jobs(fake)
        yield fake


@pytest.fixture
def hub(server: FakeHTTPServer) -> hub_repos.FakeHubRepos:
    return hub_repos.install(server, user=USER, token=TOKEN)


@pytest.fixture
def settings(tmp_path: Path, server: FakeHTTPServer, monkeypatch: pytest.MonkeyPatch) -> AppConfig:
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    return make_config(
        hub={"endpoint": server.base_url}, sessions={"dir": str(tmp_path / "sessions")}
    )


@pytest.fixture
def runtime(settings: AppConfig) -> FakeRuntime:
    return FakeRuntime(settings)


@pytest.fixture
def app(runtime: FakeRuntime) -> MLInternApp:
    return MLInternApp(runtime, clock=fixed_clock)


def journal(settings: AppConfig, session_id: str = "s-test") -> Path:
    j = Journal.create(sessions_dir(settings), session_id, {"model": "org/model", "cwd": "/w"})
    j.append({"kind": "message", "message": {"role": "user", "content": "Count the rows"}})
    j.append({"kind": "message", "message": {"role": "assistant", "content": "240 rows."}})
    j.close()
    return j.path


def notices(app: MLInternApp) -> list[NoticeBlock]:
    return list(app.chat.query(NoticeBlock))


def last(app: MLInternApp) -> NoticeBlock:
    return notices(app)[-1]


def test_the_commands_are_listed() -> None:
    BY_NAME = {c.name: c for c in BUILTINS}
    assert "--format md|trace" in BY_NAME["export"].usage
    assert BY_NAME["share-traces"].usage == "/share-traces [public|private]"


async def test_export_trace_submits_an_op_with_an_absolute_path(
    app: MLInternApp, runtime: FakeRuntime, tmp_path: Path
) -> None:
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: app.header.session_id == "s-test")
        app.run_slash("export", "--format trace out/trace.jsonl")
        await wait_for(pilot, lambda: runtime.ops_of(p.ExportTrace))
        [op] = runtime.ops_of(p.ExportTrace)
        assert op.session_id == "s-test"
        assert op.path == "/work/project/out/trace.jsonl"  # under the session's cwd
        app.run_slash("export", f"{tmp_path / 'x.pdf'} --format pdf")
        await wait_for(pilot, lambda: notices(app))
        assert "Unknown export format" in last(app).text
        assert "--format md|trace" in last(app).hint
        assert len(runtime.ops_of(p.ExportTrace)) == 1
    assert not (tmp_path / "x.pdf").exists()


async def test_export_markdown_still_the_default(app: MLInternApp, tmp_path: Path) -> None:
    target = tmp_path / "t.md"
    async with app.run_test() as pilot:
        app.run_slash("export", f"--format md {target}")
        await wait_for(pilot, lambda: target.exists())
    assert target.read_text().startswith("# ml-intern session")


async def test_share_traces_submits_ops_and_refuses_bad_visibility(
    app: MLInternApp, runtime: FakeRuntime
) -> None:
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: app.header.session_id == "s-test")
        app.run_slash("share-traces", "everyone")
        await wait_for(pilot, lambda: notices(app))
        assert "Not a visibility" in last(app).text and last(app).level == "error"
        for arg in ("", "public", "PRIVATE"):
            app.run_slash("share-traces", arg)
        await wait_for(pilot, lambda: len(runtime.ops_of(p.ShareTraces)) == 3)
        ops = runtime.ops_of(p.ShareTraces)
        assert [op.visibility for op in ops] == [None, "public", "private"]
        assert {op.session_id for op in ops} == {"s-test"}


# --------------------------------------------------------------- the trace service


def service(settings: AppConfig, server: FakeHTTPServer, tmp_path: Path) -> TraceUploader:
    options = TraceOptions(endpoint=server.base_url, sessions_dir=sessions_dir(settings))
    hub = HubClient(server.base_url, token=TOKEN, token_from_env=False)
    return TraceUploader(options, hub=hub, bus=EventBus(), queue=UploadQueue(tmp_path / "q"))


async def answers(uploader: TraceUploader, op: object, count: int = 1) -> list[p.Notice]:
    """Hand ``op`` to the service and wait (bounded) for ``count`` notices."""
    found: list[p.Notice] = []
    uploader.bus.add_listener(lambda e: found.append(e) if isinstance(e, p.Notice) else None)
    assert uploader.handle_op(op)
    for _ in range(1000):
        if len(found) >= count:
            return found
        await asyncio.sleep(0.01)
    raise AssertionError(f"no answer to {op!r}: {found}")


async def test_the_service_exports_a_trace(
    settings: AppConfig, server: FakeHTTPServer, tmp_path: Path
) -> None:
    journal(settings)
    target = tmp_path / "out" / "trace.jsonl"
    uploader = service(settings, server, tmp_path)
    [notice] = await answers(uploader, p.ExportTrace(session_id="s-test", path=str(target)))
    assert notice.level == "success" and f"Trace written to {target}" in notice.text
    lines = [json.loads(line) for line in target.read_text().splitlines()]
    assert [line["type"] for line in lines] == ["summary", "user", "assistant"]
    assert lines[1]["message"] == {"role": "user", "content": "Count the rows"}
    assert lines[2]["parentUuid"] == lines[1]["uuid"]


async def test_the_service_says_why_a_trace_cannot_be_exported(
    settings: AppConfig, server: FakeHTTPServer, tmp_path: Path
) -> None:
    uploader = service(settings, server, tmp_path)
    [notice] = await answers(uploader, p.ExportTrace(session_id="s-test", path=str(tmp_path)))
    assert notice.level == "error" and notice.text.startswith("No trace to export")
    assert "[sessions] journal = true" in notice.text
    journal(settings)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    op = p.ExportTrace(session_id="s-test", path=str(blocker / "t.jsonl"))
    [notice] = await answers(uploader, op)
    assert notice.level == "error" and notice.text.startswith(f"Could not write {blocker}")
    assert "\n" not in notice.text


async def test_the_service_uploads_now_and_sets_visibility(
    settings: AppConfig, hub: hub_repos.FakeHubRepos, server: FakeHTTPServer, tmp_path: Path
) -> None:
    journal(settings)
    uploader = service(settings, server, tmp_path)
    progress, done = await answers(uploader, p.ShareTraces(session_id="s-test"), count=2)
    assert progress.text == "Uploading this session's trace…"
    assert done.level == "success"
    assert done.text == (
        f"Uploaded session s-test to {server.base_url}/datasets/{REPO} (private dataset)."
    )
    repo = hub.repo(REPO, "dataset")
    assert repo.private and any(p.endswith("/s-test.jsonl") for p in repo.branches["main"])
    [public] = await answers(uploader, p.ShareTraces(visibility="public"))
    assert public.level == "warning" and "now public" in public.text
    assert repo.private is False
    [private] = await answers(uploader, p.ShareTraces(visibility="private"))
    assert private.level == "success" and "now private" in private.text
    assert repo.private is True


async def test_the_service_says_what_went_wrong_in_one_line(
    settings: AppConfig, server: FakeHTTPServer, tmp_path: Path
) -> None:
    uploader = service(settings, server, tmp_path)
    *_, notice = await answers(uploader, p.ShareTraces(session_id="s-test"), count=2)
    assert notice.level == "error" and "journal" in notice.text
    journal(settings)
    options = TraceOptions(endpoint=server.base_url, sessions_dir=sessions_dir(settings))
    tokenless = TraceUploader(
        options,
        hub=HubClient(server.base_url, token=None, token_from_env=False),
        bus=EventBus(),
        queue=UploadQueue(tmp_path / "q2"),
    )
    *_, notice = await answers(tokenless, p.ShareTraces(session_id="s-test"), count=2)
    assert "no Hugging Face token" in notice.text
    assert notice.level == "error" and "\n" not in notice.text


def test_other_ops_are_left_to_the_loop(
    settings: AppConfig, server: FakeHTTPServer, tmp_path: Path
) -> None:
    assert not service(settings, server, tmp_path).handle_op(p.Compact())
