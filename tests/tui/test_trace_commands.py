"""``/export --format trace`` and ``/share-traces`` in the app, against a fake Hub."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fakes import hub_repos
from fakes.http_server import FakeHTTPServer
from fakes.hub_jobs import TOKEN, USER, install_hub_jobs

from ml_intern_tui.core.journal import Journal
from ml_intern_tui.tui import slash  # noqa: F401  (registers the built-ins)
from ml_intern_tui.tui.app import MLInternApp
from ml_intern_tui.tui.commands import BUILTINS
from ml_intern_tui.tui.widgets.blocks.notice import NoticeBlock
from tui.conftest import fixed_clock, wait_for
from tui.fake_runtime import FakeRuntime, FakeSettings

REPO = f"{USER}/ml-intern-sessions"


@dataclass
class Hub:
    endpoint: str


@dataclass
class Sessions:
    dir: Path
    journal: bool = True


@dataclass
class Settings(FakeSettings):
    hub: Hub = field(default_factory=lambda: Hub(""))
    sessions: Sessions = field(default_factory=lambda: Sessions(Path(".")))


@pytest.fixture
def server() -> Iterator[FakeHTTPServer]:
    with FakeHTTPServer() as fake:
        install_hub_jobs(fake)
        yield fake


@pytest.fixture
def hub(server: FakeHTTPServer) -> hub_repos.FakeHubRepos:
    return hub_repos.install(server, user=USER, token=TOKEN)


@pytest.fixture
def settings(tmp_path: Path, server: FakeHTTPServer, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    return Settings(hub=Hub(server.base_url), sessions=Sessions(tmp_path / "sessions"))


@pytest.fixture
def runtime(settings: Settings) -> FakeRuntime:
    return FakeRuntime(settings)


@pytest.fixture
def app(runtime: FakeRuntime) -> MLInternApp:
    return MLInternApp(runtime, clock=fixed_clock)


def journal(settings: Settings, session_id: str = "s-test") -> Path:
    j = Journal.create(settings.sessions.dir, session_id, {"model": "org/model", "cwd": "/w"})
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


async def test_export_trace_writes_claude_code_jsonl(
    app: MLInternApp, settings: Settings, tmp_path: Path
) -> None:
    journal(settings)
    target = tmp_path / "out" / "trace.jsonl"
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: app.header.session_id == "s-test")
        app.run_slash("export", f"--format trace {target}")
        await wait_for(pilot, lambda: target.exists() and notices(app))
        assert last(app).level == "success" and str(target) in last(app).text
    lines = [json.loads(line) for line in target.read_text().splitlines()]
    assert [line["type"] for line in lines] == ["summary", "user", "assistant"]
    assert lines[1]["message"] == {"role": "user", "content": "Count the rows"}
    assert lines[2]["parentUuid"] == lines[1]["uuid"]


async def test_export_trace_without_a_journal_and_unknown_formats(
    app: MLInternApp, tmp_path: Path
) -> None:
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: app.header.session_id == "s-test")
        app.run_slash("export", "--format trace")
        await wait_for(pilot, lambda: notices(app))
        assert last(app).level == "error" and "No trace to export" in last(app).text
        assert "journal" in last(app).hint
        app.run_slash("export", f"{tmp_path / 'x.pdf'} --format pdf")
        await wait_for(pilot, lambda: len(notices(app)) == 2)
        assert "Unknown export format" in last(app).text
        assert "--format md|trace" in last(app).hint
    assert not (tmp_path / "x.pdf").exists()


async def test_export_markdown_still_the_default(app: MLInternApp, tmp_path: Path) -> None:
    target = tmp_path / "t.md"
    async with app.run_test() as pilot:
        app.run_slash("export", f"--format md {target}")
        await wait_for(pilot, lambda: target.exists())
    assert target.read_text().startswith("# ml-intern session")


async def test_share_traces_uploads_now_and_sets_visibility(
    app: MLInternApp, settings: Settings, hub: hub_repos.FakeHubRepos, server: FakeHTTPServer
) -> None:
    journal(settings)
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: app.header.session_id == "s-test")
        app.run_slash("share-traces")
        await wait_for(pilot, lambda: any(n.level == "success" for n in notices(app)))
        text = last(app).text
        assert (
            text
            == f"Uploaded session s-test to {server.base_url}/datasets/{REPO} (private dataset)."
        )
        repo = hub.repo(REPO, "dataset")
        assert repo.private and any(p.endswith("/s-test.jsonl") for p in repo.branches["main"])

        app.run_slash("share-traces", "public")
        await wait_for(pilot, lambda: last(app).level == "warning")
        assert "now public" in last(app).text and repo.private is False
        app.run_slash("share-traces", "private")
        await wait_for(pilot, lambda: "now private" in last(app).text)
        assert repo.private is True


async def test_share_traces_problems_are_one_line(
    app: MLInternApp, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: app.header.session_id == "s-test")
        app.run_slash("share-traces", "everyone")
        await wait_for(pilot, lambda: notices(app))
        assert "Not a visibility" in last(app).text and last(app).level == "error"
        app.run_slash("share-traces")  # no journal for this session
        await wait_for(pilot, lambda: last(app).level == "error" and "journal" in last(app).text)
        journal(settings)
        monkeypatch.delenv("HF_TOKEN")
        app.run_slash("share-traces")
        await wait_for(pilot, lambda: "no Hugging Face token" in last(app).text)
        assert last(app).level == "error" and "\n" not in last(app).text
