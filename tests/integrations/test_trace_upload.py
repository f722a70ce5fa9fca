"""Trace uploads with the real huggingface_hub client against a fake Hub on 127.0.0.1.

Covers the background uploader (turn end → private dataset, debounce, demo sessions
skipped, no token said once), the retry queue across restarts (a failed upload is
retried by the next app start), ``/share-traces`` (upload now, public/private) and the
dataset layout and card.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fakes import hub_repos
from fakes.http_server import FakeHTTPServer
from fakes.hub_jobs import TOKEN, USER, install_hub_jobs

from ml_intern_tui.config.schema import AppConfig
from ml_intern_tui.core.bus import EventBus
from ml_intern_tui.core.journal import Journal
from ml_intern_tui.core.protocol import Notice, Ready, TurnComplete
from ml_intern_tui.core.services import Services
from ml_intern_tui.integrations.hub import HubClient
from ml_intern_tui.services.traces import NO_TOKEN, TraceError, TraceOptions, TraceUploader
from ml_intern_tui.traces.publish import CARD_PATH, path_in_repo
from ml_intern_tui.traces.queue import PendingUpload, UploadQueue

Wait = Callable[..., Awaitable[None]]
REPO = f"{USER}/ml-intern-sessions"
COMMIT = rf"/api/datasets/{REPO}/commit/main"
SID = "20260301-101500-abcdef"


@pytest.fixture
def server() -> Iterator[FakeHTTPServer]:
    with FakeHTTPServer() as fake:
        yield fake


@pytest.fixture
def hub(server: FakeHTTPServer) -> hub_repos.FakeHubRepos:
    install_hub_jobs(server)  # whoami-v2
    return hub_repos.install(server, user=USER, token=TOKEN)


@pytest.fixture
def sessions(tmp_path: Path) -> Path:
    return tmp_path / "sessions"


def journal(directory: Path, session_id: str = SID, text: str = "train a model") -> Path:
    j = Journal.create(directory, session_id, {"model": "org/model"})
    j.append({"kind": "message", "message": {"role": "user", "content": text, "_origin": "user"}})
    j.append({"kind": "message", "message": {"role": "assistant", "content": "On it."}})
    j.close()
    return j.path


def uploader(
    endpoint: str,
    sessions: Path,
    queue_path: Path,
    bus: EventBus | None = None,
    *,
    token: str | None = TOKEN,
    **options: Any,
) -> TraceUploader:
    opts = TraceOptions(endpoint=endpoint, sessions_dir=sessions, **options)
    hub = HubClient(endpoint, token=token, token_from_env=False)
    return TraceUploader(
        opts,
        hub=hub,
        bus=bus or EventBus(),
        queue=UploadQueue(queue_path),
        debounce_s=0.05,
        retry_base_s=0.05,
        retry_max_s=0.2,
    )


def notices(bus: EventBus) -> list[str]:
    found: list[str] = []
    bus.add_listener(lambda e: found.append(e.text) if isinstance(e, Notice) else None)
    return found


def uploaded(hub: hub_repos.FakeHubRepos, path: str) -> bytes | None:
    repo = hub.repos.get(("dataset", REPO))
    return None if repo is None else repo.branches["main"].get(path)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def serve(service: TraceUploader) -> asyncio.Task[None]:
    task = asyncio.create_task(service.run())
    await asyncio.sleep(0)
    return task


async def stop(service: TraceUploader, task: asyncio.Task[None]) -> None:
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await service.aclose()


async def test_turn_end_uploads_the_trace_to_a_private_dataset(
    server: FakeHTTPServer,
    hub: hub_repos.FakeHubRepos,
    sessions: Path,
    tmp_path: Path,
    wait_until: Wait,
) -> None:
    path = journal(sessions)
    bus = EventBus()
    said = notices(bus)
    service = uploader(server.base_url, sessions, tmp_path / "q.json", bus)
    task = await serve(service)
    bus.publish(Ready(model="org/model", mode="ask", tools=[], cwd="/w", context_limit=1000))
    for _ in range(3):  # a burst of turns is one upload
        bus.publish(TurnComplete(session_id=SID, final_text="", iterations=1))
    where = path_in_repo(SID, json.loads(path.read_text().splitlines()[0])["created"])
    await wait_until(lambda: uploaded(hub, where) is not None, 10, "the trace upload")
    await wait_until(lambda: bool(said), 5, "the first-upload notice")
    await stop(service, task)

    repo = hub.repo(REPO, "dataset")
    assert repo.private is True
    assert where.startswith("sessions/") and where.endswith(f"/{SID}.jsonl")
    lines = [json.loads(line) for line in repo.branches["main"][where].decode().splitlines()]
    assert [line["type"] for line in lines] == ["summary", "user", "assistant"]
    card = repo.branches["main"][CARD_PATH].decode()
    assert "agent-traces" in card and "sessions/**/*.jsonl" in card
    assert len(repo.commits) == 1 and repo.commits[0]["summary"] == f"Upload session {SID}"
    assert f"/datasets/{REPO}" in said[0] and "upload = false" in said[0] and "public" in said[0]
    assert UploadQueue(tmp_path / "q.json").pending() == []


async def test_second_upload_replaces_the_file_and_keeps_the_card(
    server: FakeHTTPServer, hub: hub_repos.FakeHubRepos, sessions: Path, tmp_path: Path
) -> None:
    path = journal(sessions)
    service = uploader(server.base_url, sessions, tmp_path / "q.json")
    await service.share_now(SID)
    with path.open("a") as handle:
        handle.write(
            json.dumps({"kind": "message", "message": {"role": "user", "content": "more"}})
        )
        handle.write("\n")
    await service.share_now(SID)
    repo = hub.repo(REPO, "dataset")
    assert [c["added"] for c in repo.commits] == [
        [repo.commits[0]["added"][0], CARD_PATH],
        [repo.commits[0]["added"][0]],
    ]
    assert b'"more"' in repo.branches["main"][repo.commits[0]["added"][0]]


async def test_failed_upload_is_retried_by_the_next_start(
    server: FakeHTTPServer,
    hub: hub_repos.FakeHubRepos,
    sessions: Path,
    tmp_path: Path,
    wait_until: Wait,
) -> None:
    journal(sessions)
    queue_path = tmp_path / "data" / "trace-uploads.json"

    # First run: the Hub cannot be reached at all; the app quits before it comes back.
    dead = f"http://127.0.0.1:{closed_port()}"
    bus = EventBus()
    said = notices(bus)
    first = uploader(dead, sessions, queue_path, bus)
    first.hub._user = hub_repos_user()  # whoami was answered earlier in the session
    task = await serve(first)
    bus.publish(TurnComplete(session_id=SID, final_text="", iterations=1))
    await wait_until(lambda: bool(said), 10, "the failure notice")
    await stop(first, task)
    assert "Could not upload the session trace" in said[0] and "retried" in said[0]
    (item,) = UploadQueue(queue_path).pending()
    assert item.session_id == SID and item.attempts >= 1 and item.last_error
    assert json.loads(queue_path.read_text())["uploads"][0]["session_id"] == SID

    # Next start: the queue is picked up without any new turn and the upload goes through.
    second = uploader(server.base_url, sessions, queue_path)
    task = await serve(second)
    await wait_until(lambda: UploadQueue(queue_path).pending() == [], 10, "the queue to empty")
    await stop(second, task)
    assert any(p.endswith(f"{SID}.jsonl") for p in hub.repo(REPO, "dataset").branches["main"])


async def test_a_hub_error_is_retried_with_backoff_in_the_same_run(
    server: FakeHTTPServer,
    hub: hub_repos.FakeHubRepos,
    sessions: Path,
    tmp_path: Path,
    wait_until: Wait,
) -> None:
    journal(sessions)
    server.fail_next("POST", COMMIT, 500, "internal error")
    bus = EventBus()
    said = notices(bus)
    service = uploader(server.base_url, sessions, tmp_path / "q.json", bus)
    task = await serve(service)
    bus.publish(TurnComplete(session_id=SID, final_text="", iterations=1))
    await wait_until(lambda: len(hub.repo(REPO, "dataset").commits) == 1 if (
        ("dataset", REPO) in hub.repos) else False, 10, "the retried commit")  # fmt: skip
    await stop(service, task)
    assert len(server.calls("POST", COMMIT)) >= 2
    assert any("500" in text for text in said)


async def test_gives_up_after_max_attempts(
    server: FakeHTTPServer,
    hub: hub_repos.FakeHubRepos,
    sessions: Path,
    tmp_path: Path,
    wait_until: Wait,
) -> None:
    journal(sessions)
    for _ in range(3):
        server.fail_next("POST", r"/api/repos/create", 503, "down")
    bus = EventBus()
    said = notices(bus)
    service = uploader(server.base_url, sessions, tmp_path / "q.json", bus)
    service.max_attempts = 3
    task = await serve(service)
    bus.publish(TurnComplete(session_id=SID, final_text="", iterations=1))
    await wait_until(lambda: any("Gave up" in t for t in said), 10, "giving up")
    await stop(service, task)
    assert UploadQueue(tmp_path / "q.json").pending() == []
    assert ("dataset", REPO) not in hub.repos


async def test_no_token_uploads_nothing_and_says_so_once_ever(
    server: FakeHTTPServer,
    hub: hub_repos.FakeHubRepos,
    sessions: Path,
    tmp_path: Path,
    wait_until: Wait,
) -> None:
    journal(sessions)
    queue_path = tmp_path / "q.json"
    said: list[str] = []
    for _ in range(2):  # two app runs
        bus = EventBus()
        said_now = notices(bus)
        service = uploader(server.base_url, sessions, queue_path, bus, token=None)
        task = await serve(service)
        bus.publish(TurnComplete(session_id=SID, final_text="", iterations=1))
        bus.publish(TurnComplete(session_id=SID, final_text="", iterations=1))
        await wait_until(lambda s=service: not s.pending, 5, "the request to be dropped")
        await asyncio.sleep(0.1)
        await stop(service, task)
        said += said_now
    assert said == [NO_TOKEN]
    assert server.requests == []
    assert UploadQueue(queue_path).pending() == []


async def test_opted_out_and_demo_sessions_are_not_uploaded(
    server: FakeHTTPServer, hub: hub_repos.FakeHubRepos, sessions: Path, tmp_path: Path
) -> None:
    journal(sessions)
    off = uploader(server.base_url, sessions, tmp_path / "q.json", upload=False)
    demo = uploader(server.base_url, sessions, tmp_path / "q.json")
    for service in (off, demo):
        task = await serve(service)
        model = "scripted/demo" if service is demo else "org/model"
        service.bus.publish(Ready(model=model, mode="ask", tools=[], cwd="/", context_limit=1))
        service.bus.publish(TurnComplete(session_id=SID, final_text="", iterations=1))
        await asyncio.sleep(0.2)
        assert service.pending == {}
        await stop(service, task)
    assert server.requests == []


async def test_quit_before_the_debounce_keeps_the_upload_for_next_time(
    server: FakeHTTPServer, hub: hub_repos.FakeHubRepos, sessions: Path, tmp_path: Path
) -> None:
    journal(sessions)
    queue_path = tmp_path / "q.json"
    bus = EventBus()
    service = uploader(server.base_url, sessions, queue_path, bus)
    service.debounce_s = 60
    task = await serve(service)
    bus.publish(TurnComplete(session_id=SID, final_text="", iterations=1))
    await stop(service, task)
    assert [i.session_id for i in UploadQueue(queue_path).pending()] == [SID]
    assert server.requests == []


async def test_share_traces_now_and_visibility(
    server: FakeHTTPServer, hub: hub_repos.FakeHubRepos, sessions: Path, tmp_path: Path
) -> None:
    journal(sessions)
    service = uploader(server.base_url, sessions, tmp_path / "q.json", upload=False)
    text = await service.share_now(SID)
    assert text == f"Uploaded session {SID} to {server.base_url}/datasets/{REPO} (private dataset)."

    text = await service.set_visibility(False)
    assert "now public" in text and f"/datasets/{REPO}" in text
    assert hub.repo(REPO, "dataset").private is False
    assert hub.repo(REPO, "dataset").settings[-1] == {"visibility": "public"}
    assert "(public dataset)" in await service.share_now(SID)

    assert "now private" in await service.set_visibility(True)
    assert hub.repo(REPO, "dataset").private is True


async def test_share_traces_explains_failures_in_one_line(
    server: FakeHTTPServer, hub: hub_repos.FakeHubRepos, sessions: Path, tmp_path: Path
) -> None:
    journal(sessions)
    no_token = uploader(server.base_url, sessions, tmp_path / "q.json", token=None)
    with pytest.raises(TraceError, match="no Hugging Face token"):
        await no_token.share_now(SID)
    service = uploader(server.base_url, sessions, tmp_path / "q.json")
    with pytest.raises(TraceError, match="no journal"):
        await service.share_now("20990101-000000-000000")
    server.fail_next("POST", COMMIT, 403, "You don't have the rights")
    with pytest.raises(TraceError) as failure:
        await service.share_now(SID)
    assert "403" in str(failure.value) and "\n" not in str(failure.value)
    org = uploader(server.base_url, sessions, tmp_path / "q.json", repo="{user}/a/b")
    with pytest.raises(TraceError, match="not a dataset id"):
        await org.share_now(SID)


def test_queue_survives_damage_and_replaces_entries(tmp_path: Path) -> None:
    path = tmp_path / "q.json"
    queue = UploadQueue(path)
    queue.put(PendingUpload("a", "/j/a.jsonl", attempts=2))
    queue.put(PendingUpload("b", "/j/b.jsonl"))
    queue.put(PendingUpload("a", "/j/a.jsonl"))
    assert [(i.session_id, i.attempts) for i in queue.pending()] == [("b", 0), ("a", 0)]
    assert (path.stat().st_mode & 0o777) == 0o600
    queue.remove("b")
    assert [i.session_id for i in queue.pending()] == ["a"]
    assert queue.set_flag("x") is True and queue.set_flag("x") is False and queue.flag("x")

    path.write_text("{not json")
    assert queue.pending() == []
    assert path.with_name("q.json.bad").exists()
    queue.put(PendingUpload("c", "/j/c.jsonl"))
    assert [i.session_id for i in UploadQueue(path).pending()] == ["c"]


def test_app_settings_wire_the_uploader(tmp_path: Path) -> None:
    from ml_intern_tui.paths import data_dir
    from ml_intern_tui.runtime.agent import background_services

    settings = AppConfig.model_validate(
        {"traces": {"repo": "my-org/traces", "private": False}, "sessions": {"dir": str(tmp_path)}}
    )

    class Loop:
        services = Services()
        session = None
        cwd = tmp_path

        def publish(self, event: Any) -> None: ...

    (service,) = [
        s for s in background_services(settings, Loop(), EventBus()) if s.name == "traces"
    ]
    assert isinstance(service, TraceUploader)
    assert service.options.repo == "my-org/traces" and service.options.private is False
    assert service.options.upload is True and service.options.sessions_dir == tmp_path
    assert service.queue.path == data_dir() / "trace-uploads.json"  # survives restarts
    off = AppConfig.model_validate({"traces": {"upload": False}})
    assert TraceOptions.from_settings(off).upload is False
    no_journal = AppConfig.model_validate({"sessions": {"journal": False}})
    assert TraceOptions.from_settings(no_journal).upload is False
    with pytest.raises(ValueError, match="must name a dataset"):
        AppConfig.model_validate({"traces": {"repo": "no-slash"}})


def hub_repos_user() -> Any:
    from ml_intern_tui.integrations.hub import HubUser

    return HubUser(name=USER)


@pytest.mark.slow
async def test_the_real_runtime_uploads_its_session_after_a_turn(
    server: FakeHTTPServer,
    hub: hub_repos.FakeHubRepos,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    wait_until: Wait,
) -> None:
    from fakes.openai_server import FakeOpenAI, Reply

    from ml_intern_tui.core.protocol import EventBase, Shutdown, UserInput
    from ml_intern_tui.runtime.agent import build_runtime

    monkeypatch.setenv("HF_TOKEN", TOKEN)
    workspace = tmp_path / "work"
    workspace.mkdir()
    settings = AppConfig.model_validate(
        {
            "model": "vllm/fake",
            "hub": {"endpoint": server.base_url},
            "sessions": {"dir": str(tmp_path / "sessions")},
        }
    )
    with FakeOpenAI() as llm:
        monkeypatch.setenv("VLLM_BASE_URL", llm.base_url)
        monkeypatch.setenv("VLLM_API_KEY", "sk-fake")
        llm.enqueue(Reply(text="Hello from the model."))
        runtime = build_runtime(settings, cwd=workspace)
        events: list[EventBase] = []
        runtime.bus.add_listener(events.append)
        task = asyncio.create_task(runtime.run())
        try:
            await wait_until(lambda: any(isinstance(e, Ready) for e in events), 30, "ready")
            (service,) = [s for s in runtime.background if isinstance(s, TraceUploader)]
            service.debounce_s = 0.05
            runtime.submit(UserInput(text="say hello"))

            def trace() -> bytes | None:
                repo = hub.repos.get(("dataset", REPO))
                files = repo.branches["main"] if repo else {}
                return next((v for k, v in files.items() if k.endswith(".jsonl")), None)

            await wait_until(lambda: trace() is not None, 30, "the upload after the turn")
        finally:
            runtime.submit(Shutdown())
            await asyncio.wait_for(task, 15)
    session_id = runtime.loop.session.session_id if runtime.loop.session else ""
    lines = [json.loads(line) for line in (trace() or b"").decode().splitlines()]
    # The journal records the system prompt first, so the trace shows it too.
    assert [line["type"] for line in lines] == ["summary", "system", "user", "assistant"]
    assert lines[2]["message"]["content"] == "say hello" and lines[2]["sessionId"] == session_id
    assert lines[3]["message"]["content"] == [{"type": "text", "text": "Hello from the model."}]
    assert lines[3]["message"]["model"] == "vllm/fake"
    assert hub.repo(REPO, "dataset").private is True
