"""The sandbox in the app: the one-time warning in the chat and the line in ``/status``."""

from __future__ import annotations

from ml_intern_tui.core import protocol as p
from ml_intern_tui.tui.app import MLInternApp
from ml_intern_tui.tui.widgets.blocks.notice import NoticeBlock
from tui.conftest import wait_for
from tui.fake_runtime import FakeRuntime

PROBLEM = "bubblewrap is not installed: `sudo apt-get install bubblewrap`"


def notices(app: MLInternApp) -> list[NoticeBlock]:
    return list(app.chat.query(NoticeBlock))


async def test_missing_sandbox_is_a_chat_warning_and_a_status_line(
    app: MLInternApp, runtime: FakeRuntime
) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        app.run_slash("status")
        await wait_for(pilot, lambda: any("Sandbox: checking" in n.text for n in notices(app)))
        runtime.publish(
            p.SandboxStatus(
                mode="auto",
                network="ask",
                active=False,
                problem=PROBLEM,
                summary=f"unavailable: {PROBLEM}; auto mode asks before non-read-only commands",
            ),
            p.Notice(level="warning", text=f"No OS sandbox: {PROBLEM}. Shell commands run…"),
        )
        await wait_for(pilot, lambda: any("No OS sandbox" in n.text for n in notices(app)))
        warning = next(n for n in notices(app) if "No OS sandbox" in n.text)
        assert warning.has_class("-warning")
        app.run_slash("status")
        await wait_for(
            pilot,
            lambda: any(f"Sandbox: unavailable: {PROBLEM}" in n.text for n in notices(app)),
        )
