"""``/slack test`` in the app: the prompt submits a ``slack_test`` op; the real notifier
posts through slack_sdk to the local fake Slack and its notices land in the chat."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from fakes.slack_api import FakeSlack

from ml_intern_tui.config.schema import NotificationsConfig
from ml_intern_tui.core.bus import EventBus
from ml_intern_tui.core.notify_ops import SlackTest
from ml_intern_tui.core.retry import RetryPolicy
from ml_intern_tui.integrations.slack_client import SlackClient
from ml_intern_tui.services.notifications import Notifier
from ml_intern_tui.tui.app import MLInternApp
from ml_intern_tui.tui.widgets.blocks.notice import NoticeBlock
from tui.conftest import wait_for
from tui.fake_runtime import FakeRuntime


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


def chat_text(app: MLInternApp) -> str:
    return "\n".join(str(block.render()) for block in app.chat.query(NoticeBlock))


async def test_slack_test_from_the_prompt(
    app: MLInternApp, runtime: FakeRuntime, slack: FakeSlack
) -> None:
    settings = NotificationsConfig.model_validate(
        {
            "enabled": True,
            "destinations": {"team": {"type": "slack", "webhook_url": slack.webhook_url()}},
        }
    )
    notifier = Notifier(
        settings,
        publish=runtime.publish,
        bus=EventBus(),
        env={},
        client=SlackClient(retry=RetryPolicy(attempts=1), timeout_s=5),
    )
    async with app.run_test() as pilot:
        worker = app.run_worker(notifier.run())
        app.run_slash("slack", "test")
        await wait_for(pilot, lambda: runtime.ops_of(SlackTest))
        op = runtime.ops_of(SlackTest)[-1]
        assert op.destination is None
        assert notifier.handle_op(op)  # what the runtime does with the ops it is given
        await wait_for(pilot, lambda: "Slack test sent to 'team'" in chat_text(app), tries=3000)
        (posted,) = slack.messages
        assert "ml-intern test message" in posted.text

        app.run_slash("slack", "test nope")
        await wait_for(pilot, lambda: len(runtime.ops_of(SlackTest)) == 2)
        assert notifier.handle_op(runtime.ops_of(SlackTest)[-1])
        await wait_for(pilot, lambda: "No Slack destination named 'nope'" in chat_text(app))

        app.run_slash("slack", "send everything")
        await wait_for(pilot, lambda: "Unknown /slack argument" in chat_text(app))
        assert len(runtime.ops_of(SlackTest)) == 2
        worker.cancel()
    await notifier.aclose()
