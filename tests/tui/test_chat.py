"""The chat pane: streaming, reasoning, notices, errors, pruning and the scroll-up hint."""

from __future__ import annotations

from ml_intern_tui.core import protocol as p
from ml_intern_tui.tui.app import MLInternApp
from ml_intern_tui.tui.widgets.blocks.assistant import AssistantBlock
from ml_intern_tui.tui.widgets.blocks.notice import NoticeBlock
from ml_intern_tui.tui.widgets.blocks.reasoning import ReasoningBlock
from ml_intern_tui.tui.widgets.blocks.tools import ToolMention
from ml_intern_tui.tui.widgets.blocks.user import UserBlock
from tui import scenes
from tui.conftest import fixed_clock, wait_for
from tui.fake_runtime import FakeRuntime


def notices(app: MLInternApp) -> list[NoticeBlock]:
    return list(app.chat.query(NoticeBlock))


async def test_streamed_answer_is_one_block_per_message(
    app: MLInternApp, runtime: FakeRuntime
) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        scenes.conversation(runtime)
        await wait_for(pilot, lambda: app.chat.query(AssistantBlock))
        await wait_for(pilot, lambda: app.chat.query_one(AssistantBlock).text == scenes.ANSWER)
        runtime.publish(p.ToolCall(call_id="c1", tool="bash", args={"command": "ls"}))
        runtime.publish(p.ToolCall(call_id="c2", tool="read", args={"path": "a"}))
        runtime.publish(p.AssistantDelta(text="Second message."))
        runtime.publish(p.AssistantMessage(text="Second message."))
        await wait_for(pilot, lambda: len(app.chat.query(AssistantBlock)) == 2)
        first, second = app.chat.query(AssistantBlock)
        await wait_for(pilot, lambda: second.finished)
        assert first.finished and first.source.strip() == scenes.ANSWER.strip()
        assert second.source == "Second message."
        mention = app.chat.query_one(ToolMention)
        assert mention.tools == ["bash", "read"]
        kinds = [type(b).__name__ for b in app.chat.blocks]
        assert kinds == [
            "UserBlock",
            "ReasoningBlock",
            "AssistantBlock",
            "ToolMention",
            "AssistantBlock",
        ]


async def test_message_without_deltas_still_shows(app: MLInternApp, runtime: FakeRuntime) -> None:
    async with app.run_test() as pilot:
        runtime.publish(p.TurnStarted(text="hi"), p.AssistantMessage(text="Whole answer."))
        await wait_for(pilot, lambda: app.chat.query(AssistantBlock))
        assert app.chat.query_one(AssistantBlock).source == "Whole answer."
        assert app.chat.query_one(UserBlock).text == "hi"


async def test_reasoning_is_collapsible_and_respects_setting(runtime: FakeRuntime) -> None:
    runtime.settings.ui.show_reasoning = False
    app = MLInternApp(runtime, clock=fixed_clock)
    async with app.run_test() as pilot:
        runtime.publish(p.ReasoningDelta(text="thinking hard"), p.AssistantDelta(text="Answer"))
        await wait_for(
            pilot, lambda: app.chat.query(ReasoningBlock) and app.chat.query(AssistantBlock)
        )
        block = app.chat.query_one(ReasoningBlock)
        assert block.collapsed
        await wait_for(pilot, lambda: "13 chars" in block.title)
        block.collapsed = False
        await pilot.pause()
        assert not block.collapsed


async def test_notices_errors_and_turn_endings(app: MLInternApp, runtime: FakeRuntime) -> None:
    async with app.run_test() as pilot:
        runtime.publish(
            p.Notice(level="warning", text="Rate limited, retrying"),
            p.Error(kind="rate_limit", message="429 Too Many Requests", recoverable=True),
            p.Compacted(before=120_000, after=40_000, undoable=True),
            p.LoopWarning(kind="repetition", detail="same bash call 3 times"),
            p.TurnComplete(final_text="", iterations=300, reason="iteration_cap"),
            p.TurnComplete(final_text="", iterations=4, reason="budget"),
        )
        await wait_for(pilot, lambda: len(notices(app)) == 6)
        warn, error, compacted, loop, cap, budget = notices(app)
        assert warn.level == "warning" and "Rate limited" in warn.text
        assert error.level == "error" and "429" in error.text
        assert "Wait a moment" in error.hint
        assert "120k → 40k" in compacted.text and "/undo" in compacted.hint
        assert loop.level == "warning" and "repetition" in loop.text
        assert "300 iterations" in cap.text and "continue" in cap.hint
        assert "budget" in budget.text and "/budget" in budget.hint


async def test_fatal_error_says_what_to_do(app: MLInternApp, runtime: FakeRuntime) -> None:
    async with app.run_test() as pilot:
        runtime.publish(p.Error(kind="internal", message="boom", recoverable=False))
        await wait_for(pilot, lambda: notices(app))
        assert "/new" in notices(app)[0].hint


async def test_undo_removes_the_last_turn_and_restores_the_prompt(
    app: MLInternApp, runtime: FakeRuntime
) -> None:
    async with app.run_test() as pilot:
        runtime.publish(p.TurnStarted(text="first"), p.AssistantMessage(text="one"))
        runtime.publish(p.TurnComplete(final_text="one", iterations=1))
        runtime.publish(p.TurnStarted(text="second"), p.AssistantMessage(text="two"))
        runtime.publish(p.TurnComplete(final_text="two", iterations=1))
        await wait_for(pilot, lambda: len(app.chat.query(AssistantBlock)) == 2)
        await pilot.press("ctrl+u")
        assert isinstance(runtime.ops[-1], p.Undo)
        runtime.publish(p.Undone(what="turn", text="second"))
        await wait_for(pilot, lambda: len(app.chat.query(UserBlock)) == 1)
        assert [u.text for u in app.chat.query(UserBlock)] == ["first"]
        assert app.prompt.text == "second"
        assert "Undid" in notices(app)[-1].text


async def test_old_blocks_are_pruned(runtime: FakeRuntime) -> None:
    runtime.settings.ui.max_chat_blocks = 10
    app = MLInternApp(runtime, clock=fixed_clock)
    async with app.run_test() as pilot:
        for i in range(30):
            runtime.publish(p.Notice(text=f"note {i}"))
        await wait_for(pilot, lambda: notices(app) and notices(app)[-1].text == "note 29")
        texts = [n.text for n in notices(app)]
        assert len(app.chat.blocks) == 10
        assert texts[0] == "note 20"
        # The transcript keeps everything the screen dropped.
        assert "note 0" in app.transcript.to_markdown()


async def test_scrolling_up_stops_following_and_shows_a_hint(
    app: MLInternApp, runtime: FakeRuntime
) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        runtime.publish(p.TurnStarted(text="go"))
        for i in range(80):
            runtime.publish(p.AssistantDelta(text=f"line {i}\n\n"))
        scroller = app.chat.scroller
        await wait_for(pilot, lambda: scroller.max_scroll_y > 20)
        await wait_for(pilot, lambda: scroller.scroll_y == scroller.max_scroll_y)
        assert not app.chat.has_class("-new-output")

        await pilot.press("ctrl+n")  # focus the chat
        assert app.focused is scroller
        await pilot.press("pageup", "pageup")
        await wait_for(pilot, lambda: scroller.away)
        held = scroller.scroll_y
        for i in range(40):
            runtime.publish(p.AssistantDelta(text=f"more {i}\n\n"))
        await wait_for(pilot, lambda: app.chat.has_class("-new-output"))
        await pilot.pause()
        assert scroller.scroll_y == held  # the view did not move

        await pilot.press("end")
        await wait_for(pilot, lambda: not app.chat.has_class("-new-output"))
        runtime.publish(p.AssistantDelta(text="tail\n\n"))
        await wait_for(pilot, lambda: "tail" in app.chat.query(AssistantBlock).last().text)
        await wait_for(pilot, lambda: scroller.scroll_y == scroller.max_scroll_y)
        assert not scroller.away
