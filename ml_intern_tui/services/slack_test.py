"""``/slack test``: a test message to each Slack destination, answered by one notice each."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from ml_intern_tui.core.notify_ops import SlackTest

if TYPE_CHECKING:
    from ml_intern_tui.services.notifications import Notifier

TEST_TITLE = "ml-intern test message"
TEST_TEXT = "If you can read this, ml-intern can post to this channel."
TEST_WAIT_S = 30.0
"""How long a test waits for a delivery still being retried before saying so."""
SETUP_HINT = (
    'add a [notifications.destinations.NAME] table (type = "slack", a webhook_url or a '
    "token and channel) with enabled = true under [notifications], or set SLACK_BOT_TOKEN "
    "and SLACK_CHANNEL_ID"
)


async def run_slack_test(notifier: Notifier, op: SlackTest, wait_s: float = TEST_WAIT_S) -> None:
    """Post the test message and publish what came of it, one notice per destination."""
    names = [d.name for d in notifier.destinations()]
    if not names:
        notifier.say("warning", f"No Slack destination is active: {SETUP_HINT}.")
        return
    if op.destination is not None:
        if op.destination not in names:
            known = ", ".join(repr(n) for n in names)
            notifier.say(
                "error", f"No Slack destination named {op.destination!r} (known: {known})."
            )
            return
        names = [op.destination]
    outcomes = await asyncio.gather(
        *(
            notifier.post(TEST_TEXT, title=TEST_TITLE, destination=name, wait_s=wait_s)
            for name in names
        )
    )
    for ((name, error, delivered),) in outcomes:
        if error is not None:
            notifier.say("error", f"Slack test to '{name}' failed: {error}")
        elif delivered:
            notifier.say("success", f"Slack test sent to '{name}'.")
        else:
            notifier.say("warning", f"Slack test to '{name}' is still being retried.")
