"""Quitting kills the running local jobs: that is not news for Slack, a deliberate cancel is."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fakes.openai_server import FakeOpenAI, Reply
from fakes.slack_api import FakeSlack

from ml_intern_tui.config.schema import NotificationsConfig
from ml_intern_tui.core.bus import EventBus
from ml_intern_tui.core.protocol import JobCancel, JobUpdated, Shutdown, UserInput
from ml_intern_tui.services.notifications import Notifier


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


def job_events(slack: FakeSlack) -> dict[str, Any]:
    return {
        "enabled": True,
        "destinations": {
            "team": {
                "type": "slack",
                "webhook_url": slack.webhook_url(),
                "events": ["job_finished"],
            }
        },
    }


def background(command: str, title: str) -> tuple[str, str]:
    args = {"command": command, "background": True, "description": title}
    return ("bash", json.dumps(args))


async def test_jobs_killed_by_the_quit_send_nothing_a_cancelled_one_does(
    fake_openai: FakeOpenAI, slack: FakeSlack, harness_factory: Callable[..., Any]
) -> None:
    fake_openai.enqueue(
        Reply(
            text="",
            tool_calls=[
                background("sleep 60", "stopped by hand"),
                background("sleep 60", "left running"),
                background("true", "quick one"),
            ],
        ),
        Reply(text="Three jobs started."),
    )
    harness = await harness_factory(mode="auto", notifications=job_events(slack))
    harness.submit(UserInput(text="start the jobs"))
    await harness.wait_for("turn_complete")
    titles = {e.title: e.job_id for e in harness.of("job_updated")}
    assert set(titles) == {"stopped by hand", "left running", "quick one"}
    await harness.wait_for(
        "job_updated", lambda e: e.job_id == titles["quick one"] and e.status == "completed"
    )

    harness.submit(JobCancel(job_id=titles["stopped by hand"]))
    await harness.wait_for(
        "job_updated", lambda e: e.job_id == titles["stopped by hand"] and e.status == "cancelled"
    )
    await harness.close()  # Shutdown: "left running" is killed on the way out

    killed = [e for e in harness.of("job_updated") if e.job_id == titles["left running"]]
    assert killed[-1].status == "cancelled"  # it was stopped, and quietly
    texts = sorted(m.text.split("\n")[0] for m in slack.messages)
    assert texts == [
        ":warning: *Local job cancelled: stopped by hand*",
        ":white_check_mark: *Local job completed: quick one*",
    ]


async def test_after_a_shutdown_only_deliberate_or_remote_ends_are_sent(slack: FakeSlack) -> None:
    bus = EventBus()
    settings = NotificationsConfig.model_validate(job_events(slack))
    notifier = Notifier(settings, publish=lambda _e: None, bus=bus, env={})
    run = asyncio.create_task(notifier.run())
    await asyncio.sleep(0)  # the workers start

    def ended(job_id: str, status: str, kind: str = "local") -> JobUpdated:
        return JobUpdated(job_id=job_id, kind=kind, status=status, title=job_id)  # type: ignore[arg-type]

    bus.publish(ended("before", "cancelled"))  # cancelled while the app ran: sent
    assert notifier.handle_op(JobCancel(job_id="by-hand")) is False  # ops pass through
    assert notifier.handle_op(Shutdown()) is False
    bus.publish(ended("by-hand", "cancelled"))
    bus.publish(ended("killed", "cancelled"))  # the quit's doing: not sent
    bus.publish(ended("finished", "completed"))
    bus.publish(ended("remote", "cancelled", kind="hf"))  # the quit never stops HF jobs
    run.cancel()  # then as at shutdown: whatever was queued is delivered
    await asyncio.gather(run, return_exceptions=True)
    await notifier.aclose()
    sent = sorted(m.text.split("\n")[0] for m in slack.messages)
    assert sent == [
        ":warning: *HF job cancelled: remote*",
        ":warning: *Local job cancelled: before*",
        ":warning: *Local job cancelled: by-hand*",
        ":white_check_mark: *Local job completed: finished*",
    ]
