"""The app opens on a runtime, focuses the prompt, and serves the runtime."""

from __future__ import annotations

from ml_intern_tui.core import protocol as p
from ml_intern_tui.tui.app import MLInternApp
from tui.conftest import wait_for
from tui.fake_runtime import FakeRuntime


async def test_opens_with_prompt_focused_and_warms_up(
    app: MLInternApp, runtime: FakeRuntime
) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.header.session_id == "s-test")
        assert app.focused is app.prompt
        await wait_for(pilot, lambda: runtime.warmed)
        assert app.header.model == "test/model"


async def test_user_message_streams_into_chat(app: MLInternApp, runtime: FakeRuntime) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press(*"hello", "enter")
        await wait_for(pilot, lambda: runtime.ops_of(p.UserInput))
        assert runtime.ops_of(p.UserInput)[0].text == "hello"
        runtime.publish(p.TurnStarted(text="hello"))
        for word in ["Hi ", "there, ", "**friend**."]:
            runtime.publish(p.AssistantDelta(text=word))
        runtime.publish(p.AssistantMessage(text="Hi there, **friend**."))
        runtime.publish(p.TurnComplete(final_text="Hi there, **friend**.", iterations=1))
        from ml_intern_tui.tui.widgets.blocks.assistant import AssistantBlock

        await wait_for(
            pilot,
            lambda: app.chat.query(AssistantBlock) and app.chat.query_one(AssistantBlock).finished,
        )
        assert app.chat.query_one(AssistantBlock).source == "Hi there, **friend**."
        assert not app.busy
