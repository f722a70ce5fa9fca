"""The real loop resumes a session as events: ``ready``, then its ``history`` at once, then
its state (spend with the jobs' costs); nothing of the past is journaled, printed or sent
again."""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fakes.openai_server import FakeOpenAI, Reply
from fakes.slack_api import FakeSlack

from ml_intern_tui.config.schema import NotificationsConfig
from ml_intern_tui.core import protocol as p
from ml_intern_tui.core.bus import EventBus
from ml_intern_tui.core.journal import Journal
from ml_intern_tui.core.retry import RetryPolicy
from ml_intern_tui.headless import _run
from ml_intern_tui.integrations.slack_client import SlackClient
from ml_intern_tui.paths import data_dir, sessions_dir
from ml_intern_tui.runtime.agent import build_runtime
from ml_intern_tui.services.notifications import Notifier

Factory = Callable[..., Any]
SESSION = "20260301-090000-abcdef"


def saved_session() -> Path:
    """A session as an earlier run left it: a turn, a call still running, a plan, a local
    job that was running (its log on disk) and an HF job that finished and cost $2."""
    journal = Journal.create(sessions_dir(), SESSION, {"model": "vllm/m", "cwd": "/w"})
    journal.append({"kind": "message", "message": {"role": "system", "content": "sys"}})
    journal.append({"kind": "message", "message": {"role": "user", "content": "train"}})
    journal.append({"kind": "message", "message": {"role": "assistant", "content": "Starting."}})
    item = p.PlanItem(id="1", content="train", status="completed")
    for event in (
        p.Ready(model="vllm/m", mode="ask", tools=[], cwd="/w", context_limit=32_000),
        p.TurnStarted(text="train the baseline"),
        p.AssistantMessage(text="Starting."),
        p.ToolCall(call_id="c1", tool="bash", args={"command": "python train.py"}),
        p.PlanUpdated(items=[item]),
        p.JobUpdated(job_id="job-aaaaaa", kind="local", status="running", title="train"),
        p.JobUpdated(job_id="hf-9", kind="hf", status="running", cost_usd=0.5),
        p.Spend(llm_usd=0.1, jobs_usd=0.5),
        p.JobUpdated(job_id="hf-9", kind="hf", status="completed", cost_usd=2.0),
        p.TurnComplete(final_text="", iterations=1),
        p.ContextUsage(used=12_345, limit=32_000, threshold=28_800),
    ):
        event.session_id = SESSION
        journal.record_event(event)
    journal.close()
    jobs = data_dir() / "jobs"
    jobs.mkdir(parents=True, exist_ok=True)
    (jobs / "job-aaaaaa.log").write_text("step 1\nstep 2\n")
    return journal.path


async def test_resume_publishes_ready_then_history_then_the_state(
    fake_openai: FakeOpenAI, harness_factory: Factory
) -> None:
    saved_session()
    harness = await harness_factory()
    mark = harness.mark()
    harness.submit(p.Resume(session_id=SESSION))
    await harness.wait_for("notice", lambda e: e.text.startswith("Resumed"), after=mark)
    after = harness.events[mark:]
    kinds = [e.type for e in after]
    start = kinds.index("ready")
    assert kinds[start : start + 4] == ["ready", "history", "context_usage", "spend"]
    ready, history, usage, spend = after[start : start + 4]
    # The gauge as the session left it, at once; the count of the history (in a thread)
    # replaces it when done.
    assert usage.used == 12_345
    counted = await harness.wait_for("context_usage", after=mark + start + 3)
    assert counted.used != 12_345 and counted.used == harness.runtime.loop.session.context.tokens()
    assert ready.resumed and history.session_id == SESSION == ready.session_id
    assert [e.type for e in history.events] == [
        "turn_started",
        "assistant_message",
        "tool_call",
        "plan_updated",
        "turn_complete",
        "tool_result",  # the call the session left running: cancelled where it ended
        "job_updated",
        "job_log",
        "job_updated",
    ]
    lost, log, done = history.events[-3:]
    assert (lost.job_id, lost.status) == ("job-aaaaaa", "unknown")
    assert log.lines[:2] == ["step 1", "step 2"] and "not followed" in log.lines[-1]
    assert (done.job_id, done.status, done.cost_usd) == ("hf-9", "completed", 2.0)
    # The session's spend, its jobs' included (before, a resume lost what jobs cost).
    assert (spend.llm_usd, spend.jobs_usd) == (0.1, 2.0)
    assert harness.runtime.loop.spend.total() == 2.1
    # The journal goes on without the history in it.
    path = sessions_dir() / f"{SESSION}.jsonl"
    kinds_on_disk = [
        json.loads(line).get("event", {}).get("type") for line in path.read_text().splitlines()
    ]
    assert "history" not in kinds_on_disk and kinds_on_disk.count("ready") == 2


async def test_resuming_a_missing_session_is_an_error_event_and_the_session_goes_on(
    fake_openai: FakeOpenAI, harness_factory: Factory
) -> None:
    harness = await harness_factory()
    before = harness.runtime.loop.session.session_id
    mark = harness.mark()
    harness.submit(p.Resume(session_id="nosuch"))
    error = await harness.wait_for("error", after=mark)
    assert error.kind == "resume" and "no session 'nosuch'" in error.message
    assert not harness.of("history") and harness.runtime.loop.session.session_id == before


async def headless(workspace: Path, fake: FakeOpenAI, *, json_mode: bool, history: bool) -> str:
    from ml_intern_tui.config.schema import AppConfig

    fake.enqueue(Reply(text="Going on."))
    settings = AppConfig.model_validate({"model": "vllm/m", "llm": {"max_retries": 1}})
    runtime = build_runtime(settings, cwd=workspace, resume=SESSION)
    out, err = io.StringIO(), io.StringIO()
    code = await _run(runtime, "continue", json_mode, out, err, history=history)
    assert code == 0, err.getvalue()
    if not json_mode:  # progress lines (the restored plan) are on stderr
        assert err.getvalue().splitlines() == ["  plan: 1/1 done"]
    return out.getvalue()


async def test_headless_prints_the_past_only_when_asked(
    fake_openai: FakeOpenAI, workspace: Path
) -> None:
    saved_session()
    text = await headless(workspace, fake_openai, json_mode=False, history=False)
    # Nothing of the past on stdout: only this run's answer.
    assert text.splitlines() == ["Going on."]
    plain = [
        json.loads(line)
        for line in (
            await headless(workspace, fake_openai, json_mode=True, history=False)
        ).splitlines()
    ]
    assert "history" not in [e["type"] for e in plain]
    assert [e["resumed"] for e in plain if e["type"] == "ready"] == [True]
    asked = [
        json.loads(line)
        for line in (
            await headless(workspace, fake_openai, json_mode=True, history=True)
        ).splitlines()
    ]
    kinds = [e["type"] for e in asked]
    at = kinds.index("ready")
    assert kinds[at : at + 2] == ["ready", "history"] and kinds.count("history") == 1
    past = asked[at + 1]["events"]
    assert past[0] == {**past[0], "type": "turn_started", "text": "train the baseline"}
    # Everything else is the same run as without the flag.
    assert set(kinds) - {"history"} == {e["type"] for e in plain}


async def test_notifications_do_not_take_the_past_for_news() -> None:
    with FakeSlack() as slack:
        bus = EventBus()
        settings = NotificationsConfig.model_validate(
            {
                "enabled": True,
                "destinations": {"team": {"type": "slack", "webhook_url": slack.webhook_url()}},
            }
        )
        notifier = Notifier(
            settings,
            publish=lambda _e: None,
            bus=bus,
            env={},
            client=SlackClient(
                retry=RetryPolicy(attempts=1, base_delay_s=0.01, max_delay_s=0.01), timeout_s=5
            ),
        )
        task = asyncio.create_task(notifier.run())
        try:
            past = [
                p.Error(kind="llm", message="503 last week"),
                p.TurnComplete(final_text="Done last week", iterations=2),
                p.JobUpdated(job_id="hf-1", kind="hf", status="completed", title="old job"),
            ]
            bus.publish(p.History(events=past))
            bus.publish(p.TurnComplete(final_text="Done now", iterations=1))
            for _ in range(500):
                if slack.messages:
                    break
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.1)
            assert [m.text.split("\n", 1)[1][:8] for m in slack.messages] == ["Done now"]
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await notifier.aclose()


def test_the_json_history_flag_on_the_command_line(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    """``--json-history`` (alone: it implies ``--json``) adds the one ``history`` line."""
    saved_session()
    fake_openai.enqueue(Reply(text="Going on."))
    env = {**os.environ, "ML_INTERN_LLM__MAX_RETRIES": "1"}
    args = ["--model", "vllm/m", "--resume", SESSION[:12], "-p", "continue", "--json-history"]
    proc = subprocess.run(
        [sys.executable, "-m", "ml_intern_tui.cli", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    events = [p.event_from_json(line) for line in proc.stdout.splitlines()]
    [history] = [e for e in events if isinstance(e, p.History)]
    assert history.session_id == SESSION
    assert [e.text for e in history.events if isinstance(e, p.TurnStarted)] == [
        "train the baseline"
    ]


def test_trace_uploads_are_not_scheduled_by_the_past(tmp_path: Path) -> None:
    """A finished turn inside a history is not a change of the session to upload."""
    from ml_intern_tui.services.traces import TraceOptions, TraceUploader
    from ml_intern_tui.traces.queue import UploadQueue

    bus = EventBus()
    uploader = TraceUploader(
        TraceOptions(upload=True, sessions_dir=tmp_path),
        hub=object(),
        bus=bus,
        queue=UploadQueue(tmp_path / "queue.json"),
    )
    bus.add_listener(uploader._on_event)  # as its ``run`` does
    past = [p.TurnComplete(session_id=SESSION, final_text="old", iterations=1)]
    bus.publish(p.History(session_id=SESSION, events=past))
    assert uploader._state.due == {}
    bus.publish(p.TurnComplete(session_id=SESSION, final_text="new", iterations=1))
    assert list(uploader._state.due) == [SESSION]
