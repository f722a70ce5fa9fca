"""Snapshots of the main screen states (review changes with ``pytest --snapshot-update``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from textual.pilot import Pilot

from ml_intern_tui.core import protocol as p
from ml_intern_tui.tui.app import MLInternApp
from ml_intern_tui.tui.widgets.blocks.assistant import AssistantBlock
from ml_intern_tui.tui.widgets.blocks.notice import NoticeBlock
from tui import scenes
from tui.conftest import fixed_clock, wait_for
from tui.fake_runtime import FakeRuntime

Scene = Callable[[FakeRuntime, MLInternApp, Pilot[Any]], Awaitable[None]]
SnapCompare = Callable[..., bool]


def make(theme: str = "ml-intern-dark") -> tuple[FakeRuntime, MLInternApp]:
    runtime = FakeRuntime()
    runtime.settings.ui.theme = theme
    return runtime, MLInternApp(runtime, clock=fixed_clock)


def before(
    runtime: FakeRuntime, app: MLInternApp, scene: Scene
) -> Callable[[Pilot[Any]], Awaitable[None]]:
    async def run_before(pilot: Pilot[Any]) -> None:
        app.prompt.cursor_blink = False
        await wait_for(pilot, lambda: app.header.session_id == "s-test")
        await scene(runtime, app, pilot)
        await pilot.pause()

    return run_before


async def settled_answer(app: MLInternApp, pilot: Pilot[Any], text: str) -> None:
    await wait_for(pilot, lambda: app.chat.query(AssistantBlock))
    block = app.chat.query(AssistantBlock).last()
    await wait_for(pilot, lambda: block.text == text and block.source == text)


async def full_session(runtime: FakeRuntime, app: MLInternApp, pilot: Pilot[Any]) -> None:
    scenes.usage(runtime)
    scenes.conversation(runtime)
    scenes.plan(runtime)
    scenes.nested_tools(runtime)
    scenes.job(runtime)
    await wait_for(pilot, lambda: "c4" in app.tools.nodes and app.jobs.jobs)
    await wait_for(pilot, lambda: app.jobs.log_view.line_count == 30)
    await wait_for(pilot, lambda: app.chat.query(AssistantBlock))
    await wait_for(pilot, lambda: app.chat.query(AssistantBlock).first().finished)


def test_empty(snap_compare: SnapCompare) -> None:
    """A fresh session: header, welcome line, empty panes, focused prompt, keys in the footer."""

    async def scene(runtime: FakeRuntime, app: MLInternApp, pilot: Pilot[Any]) -> None:
        return None

    runtime, app = make()
    assert snap_compare(app, terminal_size=(120, 40), run_before=before(runtime, app, scene))


def test_streaming(snap_compare: SnapCompare) -> None:
    """A user message, collapsible reasoning and an answer part-way through streaming."""

    async def scene(runtime: FakeRuntime, app: MLInternApp, pilot: Pilot[Any]) -> None:
        scenes.usage(runtime)
        scenes.conversation(runtime)
        await settled_answer(app, pilot, scenes.ANSWER)

    runtime, app = make()
    assert snap_compare(app, terminal_size=(120, 40), run_before=before(runtime, app, scene))


def test_nested_tool_tree(snap_compare: SnapCompare) -> None:
    """Tool calls grouped under the turn: ok, running, a research call with nested calls, a failure expanded."""

    async def scene(runtime: FakeRuntime, app: MLInternApp, pilot: Pilot[Any]) -> None:
        runtime.publish(p.TurnStarted(text="Find a good baseline", ts=scenes.at(0)))
        scenes.nested_tools(runtime)
        scenes.plan(runtime)
        await wait_for(pilot, lambda: "c4" in app.tools.nodes and app.tools.nodes["c4"].children)

    runtime, app = make()
    assert snap_compare(app, terminal_size=(120, 40), run_before=before(runtime, app, scene))


def test_approval_drawer(snap_compare: SnapCompare) -> None:
    """The drawer holds focus over the prompt: item 1 of 2, risk, cost, one-key answers."""

    async def scene(runtime: FakeRuntime, app: MLInternApp, pilot: Pilot[Any]) -> None:
        scenes.usage(runtime)
        runtime.publish(p.TurnStarted(text="Train it", ts=scenes.at(0)))
        scenes.approval(runtime, two=True)
        await wait_for(pilot, lambda: app.drawer.is_open and app.focused is app.drawer)

    runtime, app = make()
    assert snap_compare(app, terminal_size=(120, 40), run_before=before(runtime, app, scene))


def test_jobs_with_log(snap_compare: SnapCompare) -> None:
    """The jobs pane focused: a running and a finished job, the running one's log tail."""

    async def scene(runtime: FakeRuntime, app: MLInternApp, pilot: Pilot[Any]) -> None:
        scenes.job(runtime, lines=60)
        await wait_for(pilot, lambda: app.jobs.log_view.line_count == 60)
        app.jobs.job_list.focus()

    runtime, app = make()
    assert snap_compare(app, terminal_size=(120, 40), run_before=before(runtime, app, scene))


def test_error(snap_compare: SnapCompare) -> None:
    """An error in the chat says what happened and what to do next."""

    async def scene(runtime: FakeRuntime, app: MLInternApp, pilot: Pilot[Any]) -> None:
        runtime.publish(
            p.TurnStarted(text="hello", ts=scenes.at(0)),
            p.Error(
                kind="llm_auth", message="401 Unauthorized from the HF router", recoverable=True
            ),
            p.TurnComplete(final_text="", iterations=1, reason="error"),
        )
        await wait_for(pilot, lambda: app.chat.query(NoticeBlock))

    runtime, app = make()
    assert snap_compare(app, terminal_size=(120, 40), run_before=before(runtime, app, scene))


def test_light_theme(snap_compare: SnapCompare) -> None:
    """Every pane alive in the light theme."""
    runtime, app = make("ml-intern-light")
    assert snap_compare(app, terminal_size=(120, 40), run_before=before(runtime, app, full_session))


def test_full_session_dark(snap_compare: SnapCompare) -> None:
    """Every pane alive in the dark theme at 120×40."""
    runtime, app = make()
    assert snap_compare(app, terminal_size=(120, 40), run_before=before(runtime, app, full_session))


def test_degraded_80x24(snap_compare: SnapCompare) -> None:
    """80×24: the side panes collapse, the chat takes the width, the status line shortens."""
    runtime, app = make()
    assert snap_compare(app, terminal_size=(80, 24), run_before=before(runtime, app, full_session))


def test_degraded_80x24_side_panes(snap_compare: SnapCompare) -> None:
    """80×24 after Ctrl+T: the side panes replace the chat; nothing overlaps."""

    async def scene(runtime: FakeRuntime, app: MLInternApp, pilot: Pilot[Any]) -> None:
        await full_session(runtime, app, pilot)
        await pilot.press("ctrl+t")
        await wait_for(pilot, lambda: app.query_one("#side").region.width > 0)

    runtime, app = make()
    assert snap_compare(app, terminal_size=(80, 24), run_before=before(runtime, app, scene))
