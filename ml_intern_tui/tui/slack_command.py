"""``/slack test [NAME]``: post a test message to the Slack destinations.

The screen never calls Slack: it submits a ``slack_test`` op and the notifier answers
with one notice per destination (sent, or the one-line reason it failed).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ml_intern_tui.core.notify_ops import SlackTest
from ml_intern_tui.tui.commands import command

if TYPE_CHECKING:
    from ml_intern_tui.tui.app import MLInternApp

USAGE = "/slack test posts a test message to every Slack destination; /slack test NAME to one"


@command("slack", "/slack test [name]", "Post a test message to your Slack destinations")
async def cmd_slack(app: MLInternApp, arg: str) -> None:
    words = arg.split()
    if not words or words[0].lower() != "test" or len(words) > 2:
        app.local_notice(f"Unknown /slack argument {arg.strip()!r}.", "error", hint=USAGE)
        return
    app.submit(SlackTest(destination=words[1] if len(words) == 2 else None))
