"""The Notifier: which events become which Slack messages, and that it never gets in the way."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fakes.slack_api import BOT_TOKEN, FakeSlack

from ml_intern_tui import paths
from ml_intern_tui.config import ConfigError, load_config
from ml_intern_tui.config.schema import NotificationsConfig
from ml_intern_tui.core.bus import EventBus
from ml_intern_tui.core.protocol import (
    ApprovalItem,
    ApprovalRequired,
    Error,
    EventBase,
    JobUpdated,
    Notice,
    Ready,
    TurnComplete,
)
from ml_intern_tui.core.retry import RetryPolicy
from ml_intern_tui.integrations.slack_client import SlackClient
from ml_intern_tui.services import notifications
from ml_intern_tui.services.notifications import Notifier
from ml_intern_tui.services.notify_destinations import resolve_destinations

HF_TOKEN = "hf_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6"
Wait = Callable[..., Awaitable[None]]


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


class Running:
    """A notifier running on a bus, with the notices it published."""

    def __init__(self, notifier: Notifier, bus: EventBus, notices: list[Notice]) -> None:
        self.notifier = notifier
        self.bus = bus
        self.notices = notices
        self.task = asyncio.create_task(notifier.run())

    def publish(self, event: EventBase) -> None:
        self.bus.publish(event)

    async def stop(self) -> None:
        """As the runtime does at shutdown: cancel ``run``, then ``aclose``."""
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
        await self.notifier.aclose()


@pytest.fixture
async def start(slack: FakeSlack) -> AsyncIterator[Callable[..., Running]]:
    made: list[Running] = []

    def make(
        destinations: dict[str, dict[str, Any]],
        *,
        retry: RetryPolicy | None = None,
        flush_timeout_s: float = 5.0,
        **config: Any,
    ) -> Running:
        settings = NotificationsConfig.model_validate(
            {"enabled": True, "destinations": destinations, **config}
        )
        bus, notices = EventBus(), []
        policy = retry or RetryPolicy(attempts=3, base_delay_s=0.01, max_delay_s=0.02)
        notifier = Notifier(
            settings,
            publish=lambda e: notices.append(e),
            bus=bus,
            env={},
            client=SlackClient(retry=policy, timeout_s=5),
            flush_timeout_s=flush_timeout_s,
        )
        running = Running(notifier, bus, notices)
        made.append(running)
        return running

    yield make
    for running in made:
        await running.stop()


def webhook(slack: FakeSlack, **extra: Any) -> dict[str, Any]:
    return {"type": "slack", "webhook_url": slack.webhook_url(), **extra}


def bot(slack: FakeSlack, **extra: Any) -> dict[str, Any]:
    return {"type": "slack", "token": BOT_TOKEN, "channel": "#ml", "api_base": slack.api_base,
            **extra}  # fmt: skip


def ready() -> Ready:
    return Ready(
        session_id="s-42", model="vllm/qwen", mode="ask", tools=[], cwd="/work/proj",
        context_limit=1000,
    )  # fmt: skip


def approval() -> ApprovalRequired:
    item = ApprovalItem(
        call_id="c1", tool="hf_jobs", title="Run job on a10g-small", details="...",
        cost_estimate_usd=0.4, remember_scope="hf_jobs: run", blocked_reason="over budget",
    )  # fmt: skip
    return ApprovalRequired(items=[item])


def job(status: str, **extra: Any) -> JobUpdated:
    return JobUpdated(
        job_id="job-1", kind="hf", status=status, flavor="a10g-small", cost_usd=0.42,
        url="https://huggingface.co/jobs/me/job-1", title="train bert", started_at=100.0,
        ended_at=165.0, **extra,
    )  # fmt: skip


# ----------------------------------------------------------------------------- routing


async def test_each_destination_gets_the_events_it_asked_for(
    slack: FakeSlack, start: Callable[..., Running], wait_until: Wait
) -> None:
    running = start({"team": webhook(slack), "jobs": bot(slack, events=["job_finished"])})
    running.publish(ready())
    running.publish(approval())
    running.publish(Error(kind="llm", message="the model call failed: 503\nTraceback..."))
    running.publish(TurnComplete(final_text="**Done**: accuracy 0.91", iterations=3))
    running.publish(job("running"))
    running.publish(job("completed"))
    running.publish(job("completed"))  # published again: still one message
    await wait_until(lambda: len(slack.messages) == 5, what="5 messages")
    await asyncio.sleep(0.1)
    assert len(slack.messages) == 5

    hook = [m for m in slack.messages if m.via == "webhook"]
    api = [m for m in slack.messages if m.via == "api"]
    assert [m.text.split("\n")[0] for m in hook] == [
        ":warning: *Approval required*",
        ":x: *Agent error*",
        ":white_check_mark: *Turn complete*",
        ":white_check_mark: *HF job completed: train bert*",
    ]
    context = "session `s-42` · model `vllm/qwen` · `/work/proj`"
    assert all(m.blocks and m.block_texts()[-1] == context for m in hook)
    assert hook[0].text.split("\n")[1:3] == [
        "The agent is waiting for your approval of 1 tool call(s):",
        "• *hf_jobs* — Run job on a10g-small (estimated cost $0.40) — over budget",
    ]
    assert hook[1].text.split("\n")[1] == "`llm`: the model call failed: 503"
    assert "*Done*: accuracy 0.91" in hook[2].text and "_3 model call(s)_" in hook[2].text
    assert hook[3].text.split("\n")[1:5] == [
        "• id: `job-1` on `a10g-small`",
        "• duration: 1m 05s",
        "• cost: $0.42",
        "• <https://huggingface.co/jobs/me/job-1|open the job>",
    ]
    assert [m.text.split("\n")[0] for m in api] == [
        ":white_check_mark: *HF job completed: train bert*"
    ]
    assert running.notices == []


async def test_stalled_and_diverging_jobs_go_out_as_job_alert(
    slack: FakeSlack, start: Callable[..., Running], wait_until: Wait
) -> None:
    running = start(
        {
            "alerts": webhook(slack, events=["job_alert"]),
            "ends": bot(slack, events=["job_finished"]),
        }
    )
    text = "Job job-1 stalled: no new output for 10m00s at step 370/1000 (37%)"
    running.publish(Notice(level="warning", text=text, job_id="job-1", alert="stalled"))
    running.publish(
        Notice(level="success", text="Job job-1 completed", job_id="job-1", alert="finished")
    )
    running.publish(Notice(level="warning", text="just a notice"))
    diverging = "Job job-2 is diverging: loss is NaN at step 420"
    running.publish(Notice(level="warning", text=diverging, job_id="job-2", alert="diverging"))
    await wait_until(lambda: len(slack.messages) == 2, what="2 messages")
    await asyncio.sleep(0.1)
    assert [(m.via, m.text.split("\n")[:2]) for m in slack.messages] == [
        ("webhook", [":warning: *Job stalled*", text]),
        ("webhook", [":warning: *Job diverging*", diverging]),
    ]  # the ending goes as job_finished (from job_updated), never twice


async def test_turns_ending_for_approval_or_error_send_no_turn_message(
    slack: FakeSlack, start: Callable[..., Running], wait_until: Wait
) -> None:
    running = start({"team": webhook(slack, events=["turn_complete"])}, preview_chars=200)
    running.publish(TurnComplete(final_text="", iterations=1, reason="approval_pending"))
    running.publish(TurnComplete(final_text="", iterations=1, reason="error"))
    running.publish(TurnComplete(final_text="", iterations=300, reason="iteration_cap"))
    running.publish(TurnComplete(final_text="word " * 500, iterations=2))
    await wait_until(lambda: len(slack.messages) == 2, what="2 messages")
    capped, long = slack.messages
    assert capped.text.startswith(":warning: *Turn stopped: iteration cap reached*")
    assert "_(no final message)_" in capped.text
    preview = long.text.split("\n", 1)[1]
    assert preview.startswith("word word") and len(preview) < 320
    assert "more characters in the app" in preview


async def test_everything_sent_is_redacted(
    slack: FakeSlack, start: Callable[..., Running], wait_until: Wait
) -> None:
    running = start({"team": webhook(slack)})
    running.publish(Error(kind="hub", message=f"401 for token {HF_TOKEN}"))
    running.publish(TurnComplete(final_text=f"export HF_TOKEN={HF_TOKEN}", iterations=1))
    await wait_until(lambda: len(slack.messages) == 2, what="2 messages")
    for request in slack.requests():
        assert HF_TOKEN not in request.body.decode()
    assert "[REDACTED_HF_TOKEN]" in slack.messages[0].text


async def test_disabled_notifications_do_nothing(slack: FakeSlack) -> None:
    settings = NotificationsConfig.model_validate(
        {"enabled": False, "destinations": {"team": webhook(slack, allow_agent=True)}}
    )
    notifier = Notifier(settings, publish=lambda e: None, bus=EventBus(), env={})
    assert not notifier.active and notifier.agent_destinations() == []
    await asyncio.wait_for(notifier.run(), 1)  # returns at once
    await notifier.aclose()


# ----------------------------------------------------------------------------- failures


async def test_publishing_never_waits_for_slack(
    slack: FakeSlack, start: Callable[..., Running], wait_until: Wait
) -> None:
    slack.fail_next(429, retry_after=1, via="webhook")
    running = start({"team": webhook(slack)})
    began = time.perf_counter()
    for i in range(3):
        running.publish(Error(kind="x", message=f"problem {i}"))
    assert time.perf_counter() - began < 0.05
    await wait_until(lambda: len(slack.requests()) == 1, what="the rate-limited request")
    assert slack.messages == []  # waiting out Retry-After, while the agent goes on
    await wait_until(lambda: len(slack.messages) == 3, timeout=5, what="3 messages")
    assert [m.text.split("\n")[1] for m in slack.messages] == [
        f"`x`: problem {i}" for i in range(3)
    ]


async def test_a_failing_destination_warns_once_then_says_when_it_recovers(
    slack: FakeSlack, start: Callable[..., Running], wait_until: Wait
) -> None:
    slack.fail_next(500, via="webhook", times=6)  # two messages x three attempts
    running = start({"team": webhook(slack)})
    for i in range(3):
        running.publish(Error(kind="x", message=f"problem {i}"))
    await wait_until(lambda: len(running.notices) == 2, what="the recovery notice")
    assert len(slack.messages) == 1 and slack.messages[0].text.endswith("problem 2")
    assert [(n.level, n.text) for n in running.notices] == [
        (
            "warning",
            "Slack notification to 'team' failed: Slack server error (HTTP 500). Further "
            "failures there are not shown until one gets through.",
        ),
        ("info", "Slack destination 'team' works again; 2 notification(s) were lost meanwhile."),
    ]


async def test_shutdown_flushes_what_is_queued(
    slack: FakeSlack, start: Callable[..., Running]
) -> None:
    running = start({"team": webhook(slack)})
    await asyncio.sleep(0)  # the workers start
    running.publish(TurnComplete(final_text="final answer", iterations=1))
    await running.stop()
    assert len(slack.messages) == 1 and "final answer" in slack.messages[0].text
    assert running.notices == []


async def test_shutdown_gives_up_after_a_bounded_time(
    slack: FakeSlack, start: Callable[..., Running]
) -> None:
    slack.fail_next(429, retry_after=30, via="webhook", times=5)
    retry = RetryPolicy(attempts=5, max_retry_after_s=30)
    running = start({"team": webhook(slack)}, retry=retry, flush_timeout_s=0.3)
    await asyncio.sleep(0)
    running.publish(TurnComplete(final_text="one", iterations=1))
    running.publish(TurnComplete(final_text="two", iterations=1))
    began = time.perf_counter()
    await running.stop()
    assert time.perf_counter() - began < 2
    assert slack.messages == []
    assert [n.text for n in running.notices] == ["2 notification(s) were not sent before exit."]


async def test_a_backed_up_destination_drops_with_one_notice(
    slack: FakeSlack,
    start: Callable[..., Running],
    wait_until: Wait,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(notifications, "MAX_QUEUED", 2)
    slack.fail_next(429, retry_after=0.3, via="webhook")
    running = start({"team": webhook(slack)})
    await asyncio.sleep(0)
    running.publish(Error(kind="x", message="first"))  # taken by the worker, then held
    await wait_until(lambda: len(slack.requests()) == 1, what="the first request")
    for i in range(5):
        running.publish(Error(kind="x", message=f"queued {i}"))
    await wait_until(lambda: len(slack.messages) == 3, what="3 messages")
    assert [m.text.split("`x`: ")[1] for m in slack.messages] == ["first", "queued 0", "queued 1"]
    assert [n.text for n in running.notices] == [
        "Slack destination 'team' is backed up; new notifications are dropped until it catches up."
    ]


# ----------------------------------------------------------------------------- env, config


def test_slack_env_shortcut_adds_a_destination_and_switches_on() -> None:
    env = {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_CHANNEL_ID": "C0ML"}
    (dest,), problems = resolve_destinations(NotificationsConfig(), env)
    assert problems == []
    assert (dest.name, dest.target.channel, dest.target.token) == ("slack", "C0ML", BOT_TOKEN)
    assert dest.allow_agent and dest.events == {
        "approval_required", "error", "turn_complete", "job_finished", "job_alert",
    }  # fmt: skip
    env |= {
        "SLACK_CHANNEL_ID": "",
        "SLACK_CHANNEL": "#ml",
        "ML_INTERN_SLACK_DESTINATION": "ops",
        "ML_INTERN_SLACK_ALLOW_AGENT_TOOL": "false",
        "ML_INTERN_SLACK_AUTO_EVENTS": "error, turn_complete",
        "ML_INTERN_SLACK_API_BASE": "http://127.0.0.1:9/api",
    }
    (dest,), _ = resolve_destinations(NotificationsConfig(), env)
    assert (dest.name, dest.target.channel, dest.allow_agent) == ("ops", "#ml", False)
    assert dest.events == {"error", "turn_complete"}
    assert dest.target.api_base == "http://127.0.0.1:9/api"
    env["ML_INTERN_SLACK_ALLOW_AUTO_EVENTS"] = "no"
    assert resolve_destinations(NotificationsConfig(), env)[0][0].events == frozenset()
    env["ML_INTERN_SLACK_NOTIFICATIONS"] = "off"
    assert resolve_destinations(NotificationsConfig(), env) == ([], [])


def test_config_wins_over_the_env_shortcut_and_bad_env_is_one_line() -> None:
    config = NotificationsConfig.model_validate(
        {"destinations": {"slack": {"type": "slack", "webhook_url": "https://h.example/x"}}}
    )
    env = {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_CHANNEL": "#ml"}
    # The config's "slack" wins over the shortcut's, and enabled = false keeps it off.
    assert resolve_destinations(config, env) == ([], [])
    config.enabled = True
    (dest,), _ = resolve_destinations(config, env)
    assert (dest.name, dest.target.webhook_url) == ("slack", "https://h.example/x")
    config.destinations["team"] = config.destinations.pop("slack")
    assert [d.name for d in resolve_destinations(config, env)[0]] == ["team", "slack"]
    config.enabled = False  # the shortcut is used even then; "team" stays off
    assert [d.name for d in resolve_destinations(config, env)[0]] == ["slack"]
    env = {"SLACK_BOT_TOKEN": "not-a-slack-token-123", "SLACK_CHANNEL": "#ml"}
    destinations, problems = resolve_destinations(NotificationsConfig(), env)
    assert destinations == []
    assert problems == [
        "SLACK_BOT_TOKEN shortcut ignored: token must be a Slack token like xoxb-… "
        "(the value is not shown)"
    ]


def test_enabled_without_destinations_is_reported() -> None:
    _, problems = resolve_destinations(NotificationsConfig(enabled=True), {})
    assert problems == [
        "notifications are enabled but no destination is configured: add a "
        "[notifications.destinations.NAME] table"
    ]


def test_bad_destination_config_is_one_line_each_without_secrets(tmp_path: Path) -> None:
    user = paths.user_config_path()
    user.parent.mkdir(parents=True, exist_ok=True)
    user.write_text(
        "[notifications.destinations.a]\n"
        'type = "slack"\ntoken = "sekrit-value-1"\nchannel = "#ml"\n'
        "[notifications.destinations.b]\n"
        'type = "slack"\nwebhook_url = "ftp://sekrit-value-2"\n'
        "[notifications.destinations.c]\n"
        'type = "slack"\ntoken = "${SLACK_BOT_TOKEN}"\n'
        "[notifications.destinations.d]\n"
        'type = "discord"\nwebhook_url = "https://x"\nevents = ["turn_done"]\n'
        "[notifications.destinations.e]\n"
        'type = "slack"\n'
    )
    project = tmp_path / "proj"
    project.mkdir()
    with pytest.raises(ConfigError) as caught:
        load_config(cwd=project, env={**os.environ, "SLACK_BOT_TOKEN": "xoxb-sekrit-value-3"})
    key = f"{user}: notifications.destinations"
    assert sorted(caught.value.problems) == [
        f"{key}.a: token must be a Slack token like xoxb-… (the value is not shown)",
        f"{key}.b: webhook_url must be an https:// URL (the value is not shown)",
        f"{key}.c: token needs channel (the channel name or id to post to)",
        f"{key}.d.events[0]: expected one of 'approval_required', 'error', 'turn_complete', "
        "'job_finished' or 'job_alert', got 'turn_done'",
        f"{key}.d.type: expected one of 'slack', got 'discord'",
        f"{key}.e: set either webhook_url, or token and channel",
    ]
    assert "sekrit" not in str(caught.value)


def test_destination_settings_hide_their_secrets() -> None:
    config = NotificationsConfig.model_validate(
        {"destinations": {"a": {"type": "slack", "token": BOT_TOKEN, "channel": "#ml"}}}
    )
    assert BOT_TOKEN not in repr(config) and BOT_TOKEN not in str(config.model_dump())
