"""A long resumed chat mounts its newest blocks; the older ones wait above, counted, and
come in as the view nears them. What the screen shows is what the whole chat would show,
and once all are in, the chat is the one the fold made."""

from __future__ import annotations

import random
from typing import Any

import pytest
from textual.widget import Widget

from ml_intern_tui.core import protocol as p
from ml_intern_tui.core.resume import session_history
from ml_intern_tui.tui.app import MLInternApp
from ml_intern_tui.tui.widgets import chat
from ml_intern_tui.tui.widgets.blocks.user import UserBlock
from ml_intern_tui.tui.widgets.chat_older import CHUNK, EarlierMarker
from tui.conftest import fixed_clock, wait_for
from tui.fake_runtime import FakeRuntime, make_config
from tui.test_resume_history import described, last_text, random_session

BLOCKS = 150
"""The chat's bound: several chunks wait above the first mounted blocks."""


def whole_history(seed: int, length: int = 900) -> p.History:
    events = random_session(random.Random(seed), length)
    return session_history(events, chat_blocks=length).model_copy(update={"chat_from": 0})


async def resume(
    app: MLInternApp, runtime: FakeRuntime, pilot: Any, name: str, history: p.History
) -> None:
    """Resume ``history`` as session ``name`` and wait until its end is on screen."""
    history = history.model_copy(update={"session_id": name})
    runtime.publish(runtime.ready(resumed=True, session_id=name), history)
    runtime.publish(p.Notice(text="the end"))
    await wait_for(pilot, lambda: last_text(app) == "the end")
    await pilot.pause()


def on_screen(app: MLInternApp) -> list[tuple[str, str, int, int]]:
    """The chat's blocks the screen shows: what each is, where and how tall."""
    visible: list[tuple[str, str, int, int]] = []
    blocks: list[Widget] = app.chat.blocks
    view = app.chat.scroller.region
    for (kind, text), block in zip(described(blocks), blocks, strict=True):
        shown = block.region.intersection(view)
        if shown.height:
            visible.append((kind, text, shown.y, shown.height))
    return visible


async def scroll_all_in(app: MLInternApp, pilot: Any) -> None:
    """Scroll to the top until no block waits (a chunk comes in each time)."""
    for _ in range(100):
        if not app.chat.waiting and len(app.chat.query(EarlierMarker)) == 0:
            return
        app.chat.scroller.scroll_to(y=0, animate=False, immediate=True)
        await pilot.pause(0.01)
    raise AssertionError(f"{app.chat.waiting} blocks still wait")


@pytest.fixture
def runtime() -> FakeRuntime:
    return FakeRuntime(make_config(ui={"max_chat_blocks": BLOCKS}))


async def test_the_screen_shows_what_the_whole_chat_shows(
    runtime: FakeRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = MLInternApp(runtime, clock=fixed_clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.header.session_id == "s-test")
        for seed in range(2):
            history = whole_history(seed)
            with monkeypatch.context() as patch:
                patch.setattr(chat, "FIRST_MOUNT", 10**9)  # every block mounted at once
                await resume(app, runtime, pilot, f"whole-{seed}", history)
                whole, whole_screen = described(app.chat.blocks), on_screen(app)
            assert len(whole) == BLOCKS and app.chat.waiting == 0
            await resume(app, runtime, pilot, f"lazy-{seed}", history)
            assert whole_screen and on_screen(app) == whole_screen, seed
            # Most of the chat waits: mounted, it would lengthen every layout pass.
            assert app.chat.waiting >= CHUNK
            assert len(app.chat.blocks) + app.chat.waiting == BLOCKS
            marker = app.chat.query_one(EarlierMarker)
            assert f"{app.chat.waiting} earlier entries" in str(marker.render())
            # Scrolled up to the top, all of them come in: the chat the fold made.
            await scroll_all_in(app, pilot)
            assert described(app.chat.blocks) == whole, seed
            assert len(app.chat.query(EarlierMarker)) == 0


async def test_scrolling_up_brings_older_blocks_in_and_the_view_stays_put(
    runtime: FakeRuntime,
) -> None:
    app = MLInternApp(runtime, clock=fixed_clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.header.session_id == "s-test")
        await resume(app, runtime, pilot, "lazy", whole_history(7))
        scroller = app.chat.scroller
        waiting = app.chat.waiting
        assert waiting > CHUNK
        for _ in range(10):  # the user scrolls to the top of what is mounted
            if not waiting:
                break
            first = app.chat.blocks[0]
            at_top = first.virtual_region.y  # where it is on screen with the view at the top
            scroller.scroll_to(y=0, animate=False, immediate=True)
            await wait_for(pilot, lambda waiting=waiting: app.chat.waiting < waiting)
            await wait_for(pilot, lambda: scroller.scroll_y > 0)
            await pilot.pause()
            # The block that was at the top is still there: the chunk went in above it.
            assert first.virtual_region.y - scroller.scroll_y == at_top
            assert (waiting - app.chat.waiting) % CHUNK == 0 or app.chat.waiting == 0
            waiting = app.chat.waiting
        assert not waiting


async def test_the_bound_and_undo_count_the_waiting_blocks(runtime: FakeRuntime) -> None:
    app = MLInternApp(runtime, clock=fixed_clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.header.session_id == "s-test")
        await resume(app, runtime, pilot, "lazy", whole_history(3))
        # Not made yet, the waiting blocks are counted as the core counts the chat's
        # blocks; made, as the fold made them (the two may differ by the odd block).
        assert len(app.chat.blocks) + app.chat.waiting == BLOCKS
        await app.chat._older.made()
        await pilot.pause()
        waiting = app.chat.waiting
        total = len(app.chat.blocks) + waiting
        assert BLOCKS - 3 <= total <= BLOCKS
        for i in range(5):  # live output: the oldest (waiting) blocks make room
            runtime.publish(p.Notice(text=f"live {i}"))
        await wait_for(pilot, lambda: last_text(app) == "live 4")
        assert len(app.chat.blocks) + app.chat.waiting == BLOCKS
        assert app.chat.waiting == waiting - (total + 5 - BLOCKS)


async def test_undoing_a_turn_that_began_among_the_waiting_blocks_removes_all_of_it(
    runtime: FakeRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    turn: list[p.EventBase] = [p.TurnStarted(text="a long turn")]
    for i in range(60):
        turn += [
            p.ToolCall(call_id=f"t{i}", tool="bash", args={}),
            p.AssistantMessage(text=f"step {i}"),
        ]
    events = [*random_session(random.Random(4), 300), p.TurnStarted(text="before"), *turn]
    history = session_history(events, chat_blocks=1000).model_copy(update={"chat_from": 0})
    app = MLInternApp(runtime, clock=fixed_clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.header.session_id == "s-test")

        async def resume_and_undo(name: str) -> None:
            await resume(app, runtime, pilot, name, history)
            runtime.publish(p.Undone(what="turn", text="a long turn"))
            await wait_for(pilot, lambda: last_text(app) == "Undid the last turn.")
            await pilot.pause()

        with monkeypatch.context() as patch:
            patch.setattr(chat, "FIRST_MOUNT", 10**9)
            await resume_and_undo("whole")
            whole = described(app.chat.blocks)
        await resume_and_undo("lazy")
        # The turn began above the mounted blocks: none of it stays, and what was before
        # it comes down to fill the screen.
        assert not any(
            isinstance(b, UserBlock) and b.text == "a long turn" for b in app.chat.blocks
        )
        assert not any(
            isinstance(b, UserBlock) and b.text == "a long turn" for b in app.chat._older.waiting
        )
        await wait_for(pilot, lambda: any(isinstance(b, UserBlock) for b in app.chat.blocks))
        assert on_screen(app)[-1][:2] == ("NoticeBlock", "Undid the last turn.")
        await scroll_all_in(app, pilot)
        assert described(app.chat.blocks) == whole


async def test_older_blocks_are_made_only_when_the_view_comes_near_them(
    runtime: FakeRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tall answers: the newest blocks fill the screen, so the older ones are not even
    made (folded) until the user scrolls up; then they are the ones the fold makes."""
    events: list[p.EventBase] = []
    for i in range(120):
        events += [
            p.TurnStarted(text=f"question {i}"),
            p.ToolCall(call_id=f"c{i}", tool="read", args={}),
            p.AssistantMessage(text="\n\n".join(f"answer {i} part {j}" for j in range(6))),
            p.TurnComplete(final_text="", iterations=1),
        ]
    history = session_history(events, chat_blocks=BLOCKS)
    app = MLInternApp(runtime, clock=fixed_clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.header.session_id == "s-test")
        with monkeypatch.context() as patch:
            patch.setattr(chat, "FIRST_MOUNT", 10**9)
            await resume(app, runtime, pilot, "whole", history)
            whole = described(app.chat.blocks)
        folds = 0
        real_fold = chat.ChatView._fold

        async def counted(self: chat.ChatView, *args: Any) -> list[Widget]:
            nonlocal folds
            folds += 1
            return await real_fold(self, *args)

        monkeypatch.setattr(chat.ChatView, "_fold", counted)
        await resume(app, runtime, pilot, "lazy", history)
        await pilot.pause(0.1)
        assert folds == 1  # the newest blocks only
        assert len(app.chat.blocks) == chat.FIRST_MOUNT + 1  # and the live notice
        assert len(app.chat.blocks) + app.chat.waiting == BLOCKS
        assert app.chat.latest_assistant() is not None
        assert "answer 119 part 5" in app.chat.latest_assistant().source  # type: ignore[union-attr]
        await scroll_all_in(app, pilot)
        assert folds == 2  # the older ones, once
        assert described(app.chat.blocks)[:-1] == whole[:-1]


async def test_a_chat_a_little_longer_than_the_first_mount_loses_no_block(
    runtime: FakeRuntime,
) -> None:
    events: list[p.EventBase] = []
    for i in range(chat.FIRST_MOUNT // 2 + 2):  # two blocks a turn: a few more than mounted
        events += [p.TurnStarted(text=f"q{i}"), p.AssistantMessage(text=f"a{i}")]
    app = MLInternApp(runtime, clock=fixed_clock)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.header.session_id == "s-test")
        await resume(app, runtime, pilot, "short", session_history(events, chat_blocks=BLOCKS))
        await scroll_all_in(app, pilot)
        texts = [text for _, text in described(app.chat.blocks)]
        assert texts == [t for i in range(len(events) // 2) for t in (f"q{i}", f"a{i}")] + [
            "the end"
        ]
