"""Tool calls that skip the screen's layout draw what a full layout draws.

A new call grows the tool tree and the chat's tool mention; the tree's pane has a fixed
size and the mention only changes height when it wraps, so neither lays out the whole
screen for every call. What is on screen must still be what a full layout gives: the
tree's scrollbar, its scroll position, the mention's wrapped lines, the side panes after
they were hidden.
"""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot

from ml_intern_tui.core import protocol as p
from ml_intern_tui.tui.app import MLInternApp
from ml_intern_tui.tui.widgets.blocks.tools import ToolMention
from tui.conftest import fixed_clock, wait_for
from tui.fake_runtime import FakeRuntime


async def _screen_after_full_layout(app: MLInternApp, pilot: Pilot[Any]) -> str:
    app.screen.refresh(layout=True)
    await pilot.pause()
    await pilot.pause()
    return app.export_screenshot()


async def _calls(runtime: FakeRuntime, pilot: Pilot[Any], first: int, count: int) -> None:
    for n in range(first, first + count):
        runtime.publish(
            p.ToolCall(call_id=f"c{n}", tool="read", args={"path": f"src/f{n}.py"}, ts=1.0),
            p.ToolResultEvent(call_id=f"c{n}", ok=True, summary=f"{n} lines", output="x", ts=1.1),
        )
        if n % 3 == 0:  # frames in between, as calls arrive in a real session
            await pilot.pause()


async def _check(app: MLInternApp, pilot: Pilot[Any], calls: int) -> None:
    await wait_for(pilot, lambda: len(app.tools.records) == calls)
    await wait_for(pilot, lambda: app.chat.query(ToolMention).last().tools.count("read") == calls)
    await pilot.pause()
    await pilot.pause()
    drawn = app.export_screenshot()
    assert drawn == await _screen_after_full_layout(app, pilot)


async def test_growing_tree_and_mention_draw_what_a_full_layout_draws() -> None:
    runtime = FakeRuntime()
    app = MLInternApp(runtime, clock=fixed_clock)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: app.header.session_id == "s-test")
        app.prompt.cursor_blink = False  # the same screen whenever it is taken
        runtime.publish(p.TurnStarted(text="read them all"))
        # Few calls: no scrollbar yet, the mention on one line.
        await _calls(runtime, pilot, 0, 4)
        await _check(app, pilot, 4)
        assert not app.tools.show_vertical_scrollbar
        # Many: the tree scrolls (scrollbar shown, newest call in view), the mention wraps.
        await _calls(runtime, pilot, 4, 60)
        await _check(app, pilot, 64)
        assert app.tools.show_vertical_scrollbar
        assert app.tools.scroll_y == app.tools.max_scroll_y > 0
        mention = app.chat.query(ToolMention).last()
        assert mention.size.height > 1


async def test_calls_while_the_side_panes_are_hidden_show_right_when_shown() -> None:
    runtime = FakeRuntime()
    app = MLInternApp(runtime, clock=fixed_clock)
    async with app.run_test(size=(80, 24)) as pilot:  # narrow: the side panes are hidden
        await wait_for(pilot, lambda: app.header.session_id == "s-test")
        app.prompt.cursor_blink = False
        runtime.publish(p.TurnStarted(text="read them all"))
        await _calls(runtime, pilot, 0, 30)
        await _check(app, pilot, 30)
        await pilot.press("ctrl+t")
        await wait_for(pilot, lambda: app.query_one("#side").region.width > 0)
        await pilot.pause()
        await _calls(runtime, pilot, 30, 5)
        await _check(app, pilot, 35)
        assert app.tools.show_vertical_scrollbar
