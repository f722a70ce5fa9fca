"""Notifications end to end: the real runtime (and the real command) posting to a fake Slack."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fakes.openai_server import FakeOpenAI, Reply
from fakes.slack_api import BOT_TOKEN, FakeSlack

from ml_intern_tui import paths
from ml_intern_tui.core.protocol import UserInput


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


async def test_a_turn_posts_the_agent_message_and_the_final_answer(
    fake_openai: FakeOpenAI,
    slack: FakeSlack,
    harness_factory: Callable[..., Any],
    wait_until: Callable[..., Any],
) -> None:
    fake_openai.enqueue(
        Reply(tool_calls=[("notify", json.dumps({"message": "Eval **finished**: 0.91"}))]),
        Reply(text="All done: accuracy **0.91**."),
    )
    notifications = {
        "enabled": True,
        "destinations": {
            "team": {"type": "slack", "webhook_url": slack.webhook_url(),
                     "events": ["turn_complete"]},
            "ops": {"type": "slack", "token": BOT_TOKEN, "channel": "#ml",
                    "api_base": slack.api_base, "allow_agent": True, "events": []},
        },
    }  # fmt: skip
    harness = await harness_factory(notifications=notifications)
    assert "notify" in harness.of("ready")[0].tools
    harness.submit(UserInput(text="evaluate"))
    result = await harness.wait_for("tool_result")
    assert result.ok and result.output == "ops: sent"
    await harness.wait_for("turn_complete")
    await wait_until(lambda: len(slack.messages) == 2, what="two Slack messages")
    by_via = {m.via: m for m in slack.messages}
    session = harness.of("ready")[0].session_id
    assert by_via["api"].text.startswith(
        ":information_source: *Message from the agent*\nEval *finished*: 0.91\n"
        f"session `{session}` · model `vllm/fake`"
    )
    assert by_via["webhook"].text.startswith(
        ":white_check_mark: *Turn complete*\nAll done: accuracy *0.91*."
    )


async def test_without_an_allowed_destination_the_model_has_no_notify_tool(
    fake_openai: FakeOpenAI, slack: FakeSlack, harness_factory: Callable[..., Any]
) -> None:
    notifications = {
        "enabled": True,
        "destinations": {"team": {"type": "slack", "webhook_url": slack.webhook_url()}},
    }
    harness = await harness_factory(notifications=notifications)
    assert "notify" not in harness.of("ready")[0].tools
    assert "notify" not in harness.runtime.loop.router.names()


@pytest.mark.slow
def test_headless_demo_run_sends_its_final_notification_before_exiting(
    slack: FakeSlack, tmp_path: Path
) -> None:
    config = paths.user_config_path()
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(
        "[notifications]\nenabled = true\n"
        "[notifications.destinations.team]\n"
        'type = "slack"\nwebhook_url = "${TEST_SLACK_WEBHOOK}"\n'
    )
    # The first message is rate-limited for a second: when the run ends, both are still
    # queued, and only the flush at shutdown can deliver them.
    slack.fail_next(429, retry_after=1, via="webhook")
    env = {
        **os.environ,
        "ML_INTERN_SCRIPTED_DELAY": "0",
        "TEST_SLACK_WEBHOOK": slack.webhook_url(),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "ml_intern_tui.cli", "--demo", "-p", "go", "--mode", "auto"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    # The process has exited: everything Slack got was sent before it did.
    assert len(slack.requests()) == 3
    titles = [m.text.split("\n", 1)[0] for m in slack.messages]
    assert titles == [
        ":white_check_mark: *Local job completed: Train the baseline classifier*",
        ":white_check_mark: *Turn complete*",
    ]
    final = slack.messages[-1]
    assert "*validation accuracy of 0.9167*" in final.text
    assert final.block_texts()[-1].startswith("session `")
    assert "model `scripted/demo`" in final.block_texts()[-1]
