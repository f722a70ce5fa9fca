"""``/slack test`` on the service side: the ``slack_test`` op, answered by notices, against
the local fake Slack through the real slack_sdk client."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from fakes.slack_api import BOT_TOKEN, FakeSlack

from ml_intern_tui.config.schema import NotificationsConfig
from ml_intern_tui.core.bus import EventBus
from ml_intern_tui.core.notify_ops import SlackTest
from ml_intern_tui.core.ops import JobCancel
from ml_intern_tui.core.protocol import Notice
from ml_intern_tui.core.retry import RetryPolicy
from ml_intern_tui.integrations.slack_client import SlackClient
from ml_intern_tui.services.notifications import Notifier

Wait = Callable[..., Awaitable[None]]


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


async def _notices_after(
    op: Any, destinations: dict[str, dict[str, Any]], wait_until: Wait, count: int = 1
) -> list[Notice]:
    notices: list[Notice] = []
    settings = NotificationsConfig.model_validate({"enabled": True, "destinations": destinations})
    notifier = Notifier(
        settings,
        publish=lambda e: notices.append(e),
        bus=EventBus(),
        env={},
        client=SlackClient(retry=RetryPolicy(attempts=2, base_delay_s=0.01), timeout_s=5),
    )
    task = asyncio.create_task(notifier.run())
    try:
        assert notifier.handle_op(op) is True  # taken: the loop never sees it
        await wait_until(lambda: len(notices) >= count, timeout=10, what="the test's notices")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await notifier.aclose()
    return notices


async def test_a_test_message_reaches_every_destination_and_each_says_so(
    slack: FakeSlack, wait_until: Wait
) -> None:
    destinations = {
        "hook": {"type": "slack", "webhook_url": slack.webhook_url()},
        "bot": {"type": "slack", "token": BOT_TOKEN, "channel": "#ml", "api_base": slack.api_base},
    }
    notices = await _notices_after(SlackTest(), destinations, wait_until, count=2)
    assert sorted((n.level, n.text) for n in notices) == [
        ("success", "Slack test sent to 'bot'."),
        ("success", "Slack test sent to 'hook'."),
    ]
    assert sorted(m.via for m in slack.messages) == ["api", "webhook"]
    assert all("ml-intern test message" in m.text for m in slack.messages)


async def test_a_failed_test_says_why_in_one_line_without_the_secret(
    slack: FakeSlack, wait_until: Wait
) -> None:
    bad = {"type": "slack", "token": "xoxb-wrong-token-123", "channel": "#ml",
           "api_base": slack.api_base}  # fmt: skip
    (notice,) = await _notices_after(SlackTest(destination="team"), {"team": bad}, wait_until)
    assert notice.level == "error"
    assert notice.text == (
        "Slack test to 'team' failed: Slack refused the message (invalid_auth); check the bot token"
    )
    assert "xoxb" not in notice.text and "\n" not in notice.text


async def test_an_unknown_destination_or_none_at_all_is_one_clear_line(
    slack: FakeSlack, wait_until: Wait
) -> None:
    hook = {"hook": {"type": "slack", "webhook_url": slack.webhook_url()}}
    (unknown,) = await _notices_after(SlackTest(destination="nope"), hook, wait_until)
    assert unknown.level == "error"
    assert unknown.text == "No Slack destination named 'nope' (known: 'hook')."
    notices = await _notices_after(SlackTest(), {}, wait_until, count=2)  # and run()'s own
    (none,) = [n for n in notices if n.text.startswith("No Slack destination")]
    assert none.level == "warning" and none.text.startswith("No Slack destination is active:")
    assert "[notifications.destinations.NAME]" in none.text
    assert slack.messages == []


async def test_other_ops_pass_through_to_the_loop(slack: FakeSlack) -> None:
    settings = NotificationsConfig.model_validate({"enabled": True, "destinations": {}})
    notifier = Notifier(settings, publish=lambda e: None, bus=EventBus(), env={})
    assert notifier.handle_op(JobCancel(job_id="j1")) is False
    await notifier.aclose()
