"""notify: the agent posts to the Slack destinations that allow it, and only to those."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from typing import Any

import pytest
from fakes.slack_api import BOT_TOKEN, FakeSlack

from ml_intern_tui.config.schema import NotificationsConfig
from ml_intern_tui.core.bus import EventBus
from ml_intern_tui.core.protocol import Ready
from ml_intern_tui.core.retry import RetryPolicy
from ml_intern_tui.core.tool import BadArguments, ToolContext, ToolError, parse_arguments
from ml_intern_tui.integrations.slack_client import SlackClient
from ml_intern_tui.services.notifications import Notifier
from ml_intern_tui.tools import notify_tools
from ml_intern_tui.tools.notify import NotifyArgs, NotifyTool


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
async def notifier(slack: FakeSlack) -> AsyncIterator[Notifier]:
    config = NotificationsConfig.model_validate(
        {
            "enabled": True,
            "destinations": {
                "team": {"type": "slack", "webhook_url": slack.webhook_url(),
                         "allow_agent": True, "events": []},
                "ops": {"type": "slack", "token": BOT_TOKEN, "channel": "#ml",
                        "api_base": slack.api_base, "allow_agent": True, "events": []},
                "alerts": {"type": "slack", "webhook_url": slack.webhook_url("other"),
                           "events": ["error"]},
            },
        }
    )  # fmt: skip
    bus = EventBus()
    service = Notifier(
        config,
        publish=lambda e: None,
        bus=bus,
        env={},
        client=SlackClient(retry=RetryPolicy(attempts=2, base_delay_s=0.01), timeout_s=5),
    )
    task = asyncio.create_task(service.run())
    bus.publish(
        Ready(session_id="s-7", model="vllm/m", mode="auto", tools=[], cwd="/p", context_limit=1000)
    )
    yield service
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await service.aclose()


@pytest.fixture
def notify_ctx(ctx: ToolContext, notifier: Notifier) -> ToolContext:
    ctx.services = replace(ctx.services, notifier=notifier)
    return ctx


async def call(ctx: ToolContext, **args: Any) -> Any:
    tool = NotifyTool(ctx.services.notifier.agent_destinations())
    parsed = parse_arguments(tool, args)
    assert isinstance(parsed, NotifyArgs)
    assert tool.approval(parsed, ctx) is None  # allowed destinations need no approval
    return await tool.run(parsed, ctx)


def test_registered_only_when_a_destination_allows_the_agent() -> None:
    assert notify_tools([]) == []
    (tool,) = notify_tools(["team", "ops"])
    spec = tool.spec()["function"]
    assert spec["name"] == "notify"
    assert spec["description"].endswith("Destinations: team, ops.")
    params = spec["parameters"]
    assert params["required"] == ["message"] and params["additionalProperties"] is False
    assert params["properties"]["destination"]["anyOf"][0]["enum"] == ["team", "ops"]
    assert all(p.get("description") for p in params["properties"].values())
    assert not tool.read_only  # the research sub-agent cannot post


async def test_posts_to_every_allowed_destination(
    notify_ctx: ToolContext, slack: FakeSlack
) -> None:
    result = await call(
        notify_ctx, message="Training done: **acc 0.91**", title="bert-ft", level="success"
    )
    assert result.ok and result.summary == "sent to team, ops"
    assert result.output == "team: sent\nops: sent"
    assert sorted(m.via for m in slack.messages) == ["api", "webhook"]
    for message in slack.messages:
        assert message.text == (
            ":white_check_mark: *bert-ft*\nTraining done: *acc 0.91*\n"
            "session `s-7` · model `vllm/m` · `/p`"
        )


async def test_one_named_destination(notify_ctx: ToolContext, slack: FakeSlack) -> None:
    result = await call(notify_ctx, message="hi", destination="ops")
    assert result.output == "ops: sent"
    (message,) = slack.messages
    assert message.via == "api" and message.text.startswith(
        ":information_source: *Message from the agent*\nhi"
    )


async def test_refuses_destinations_that_do_not_allow_it(
    notify_ctx: ToolContext, slack: FakeSlack
) -> None:
    with pytest.raises(ToolError) as caught:
        await call(notify_ctx, message="hi", destination="alerts")
    assert str(caught.value) == (
        "destination 'alerts' does not allow the agent (allow_agent = false); use one of: team, ops"
    )
    with pytest.raises(ToolError) as caught:
        await call(notify_ctx, message="hi", destination="nowhere")
    assert "'nowhere' does not exist" in str(caught.value)
    assert slack.requests() == []


async def test_a_failure_is_reported_per_destination(
    notify_ctx: ToolContext, slack: FakeSlack
) -> None:
    slack.fail_next(200, error="not_in_channel", via="api")
    result = await call(notify_ctx, message="hi")
    assert result.ok and result.summary == "1/2 sent"
    assert result.output.splitlines() == [
        "team: sent",
        "ops: failed (Slack refused the message (not_in_channel); invite the bot to the "
        "channel (/invite @your-bot))",
    ]


async def test_without_a_notifier_it_says_how_to_set_one_up(ctx: ToolContext) -> None:
    tool = NotifyTool(["team"])
    with pytest.raises(ToolError) as caught:
        await tool.run(NotifyArgs(message="hi"), ctx)
    assert "allow_agent = true" in str(caught.value)


def test_message_must_not_be_empty() -> None:
    with pytest.raises(BadArguments):
        parse_arguments(NotifyTool(["team"]), {"message": ""})
