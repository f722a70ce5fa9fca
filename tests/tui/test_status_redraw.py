"""The status line is drawn again when what it reads changes, and only then."""

from __future__ import annotations

from typing import Any

from textual.content import Content

from ml_intern_tui.core import protocol as p
from ml_intern_tui.tui.app import MLInternApp
from tui.conftest import wait_for
from tui.fake_runtime import FakeRuntime


async def test_an_update_that_changes_nothing_shown_does_not_redraw_the_line(
    app: MLInternApp, runtime: FakeRuntime
) -> None:
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: app.header.session_id == "s-test")
        status = app.status
        drawn: list[str] = []
        render = status.render

        def counting() -> Content:
            line = render()
            drawn.append(line.plain)
            return line

        status.render = counting  # type: ignore[method-assign]
        usage: dict[str, Any] = {"used": 20_000, "limit": 100_000, "threshold": 90_000}
        runtime.publish(p.ContextUsage(**usage))
        await wait_for(pilot, lambda: drawn and "20%" in drawn[-1])
        before = len(drawn)

        # The same figures again: nothing to draw.
        runtime.publish(*(p.ContextUsage(**usage) for _ in range(5)))
        runtime.publish(p.Notice(text="marker"))
        await wait_for(pilot, lambda: "marker" in _last(app))
        await pilot.pause()
        assert len(drawn) == before

        # A change is drawn.
        runtime.publish(p.ContextUsage(**{**usage, "used": 50_000}))
        await wait_for(pilot, lambda: len(drawn) > before and "50%" in drawn[-1])
        assert "50%" in status.render().plain


def _last(app: MLInternApp) -> str:
    blocks = app.chat.blocks
    return str(getattr(blocks[-1], "text", "")) if blocks else ""
