"""Prompt keys: send, new line, type-ahead queue, interrupt, Ctrl+C, undo, compact, keymap."""

from __future__ import annotations

from ml_intern_tui.core import protocol as p
from ml_intern_tui.tui.app import MLInternApp
from tui.conftest import fixed_clock, wait_for
from tui.fake_runtime import FakeRuntime


def sent(runtime: FakeRuntime) -> list[str]:
    return [op.text for op in runtime.ops_of(p.UserInput)]


async def test_enter_sends_and_newline_key_adds_a_line(
    app: MLInternApp, runtime: FakeRuntime
) -> None:
    async with app.run_test() as pilot:
        await pilot.press(*"first line", "ctrl+j", *"second", "enter")
        assert sent(runtime) == ["first line\nsecond"]
        assert app.prompt.text == ""
        assert app.busy  # until the turn ends


async def test_empty_prompt_sends_nothing(app: MLInternApp, runtime: FakeRuntime) -> None:
    async with app.run_test() as pilot:
        await pilot.press("enter", "space", "enter")
        assert sent(runtime) == []


async def test_type_ahead_is_queued_and_sent_when_the_turn_ends(
    app: MLInternApp, runtime: FakeRuntime
) -> None:
    async with app.run_test() as pilot:
        runtime.publish(p.TurnStarted(text="long job"))
        await wait_for(pilot, lambda: app.busy)
        await pilot.press(*"also check the README", "enter")
        await pilot.press(*"and the tests", "enter")
        assert sent(runtime) == []
        assert app.queue == ["also check the README", "and the tests"]
        assert app.prompt_bar.queued.has_class("-some")
        assert app.status.queued == 2
        runtime.publish(p.TurnComplete(final_text="done", iterations=3))
        await wait_for(pilot, lambda: sent(runtime))
        assert sent(runtime) == ["also check the README\n\nand the tests"]
        assert app.queue == [] and not app.prompt_bar.queued.has_class("-some")


async def test_escape_interrupts_then_enter_sends_right_after(
    app: MLInternApp, runtime: FakeRuntime
) -> None:
    async with app.run_test() as pilot:
        runtime.publish(p.TurnStarted(text="wrong direction"))
        await wait_for(pilot, lambda: app.busy)
        await pilot.press("escape")
        assert runtime.ops_of(p.Interrupt)
        await pilot.press("escape")  # a second Esc does not interrupt twice
        assert len(runtime.ops_of(p.Interrupt)) == 1
        await pilot.press(*"do this instead", "enter")
        assert sent(runtime) == []
        assert "after the interrupt" in str(app.prompt_bar.queued.render())
        runtime.publish(p.Interrupted())
        await wait_for(pilot, lambda: sent(runtime))
        assert sent(runtime) == ["do this instead"]


async def test_approval_pending_keeps_the_queue(app: MLInternApp, runtime: FakeRuntime) -> None:
    async with app.run_test() as pilot:
        runtime.publish(p.TurnStarted(text="go"))
        await wait_for(pilot, lambda: app.busy)
        await pilot.press(*"later", "enter")
        runtime.publish(p.TurnComplete(final_text="", iterations=1, reason="approval_pending"))
        await wait_for(pilot, lambda: not app.busy)
        assert sent(runtime) == [] and app.queue == ["later"]


async def test_ctrl_c_clears_then_quits_on_a_second_press(
    app: MLInternApp, runtime: FakeRuntime
) -> None:
    async with app.run_test() as pilot:
        await pilot.press(*"draft")
        await pilot.press("ctrl+c")
        assert app.prompt.text == ""
        assert app.is_running
        await pilot.press("ctrl+c")
        await wait_for(pilot, lambda: runtime.ops_of(p.Shutdown))
        await wait_for(pilot, lambda: not app.is_running)


async def test_ctrl_c_presses_far_apart_do_not_quit(app: MLInternApp, runtime: FakeRuntime) -> None:
    async with app.run_test() as pilot:
        await pilot.press("ctrl+c")
        app._last_ctrl_c -= 5  # as if a few seconds passed
        await pilot.press("ctrl+c")
        assert not runtime.ops_of(p.Shutdown)
        assert app.is_running


async def test_undo_and_compact_keys(app: MLInternApp, runtime: FakeRuntime) -> None:
    async with app.run_test() as pilot:
        await pilot.press("ctrl+u", "ctrl+o")
        assert [type(op) for op in runtime.ops] == [p.Undo, p.Compact]


async def test_up_recalls_sent_messages(app: MLInternApp, runtime: FakeRuntime) -> None:
    async with app.run_test() as pilot:
        await pilot.press(*"one", "enter")
        runtime.publish(p.TurnComplete(final_text="", iterations=1))
        await wait_for(pilot, lambda: not app.busy)
        await pilot.press(*"two", "enter")
        await pilot.press("up")
        assert app.prompt.text == "two"
        await pilot.press("up")
        assert app.prompt.text == "one"
        await pilot.press("down", "down")
        assert app.prompt.text == ""


async def test_keymap_overrides_bindings(runtime: FakeRuntime) -> None:
    runtime.settings.keymap = {"app.undo": "f5", "prompt.send": "ctrl+s"}
    app = MLInternApp(runtime, clock=fixed_clock)
    async with app.run_test() as pilot:
        await pilot.press("f5")
        assert isinstance(runtime.ops[-1], p.Undo)
        await pilot.press("ctrl+u")
        assert len(runtime.ops_of(p.Undo)) == 1  # the old key no longer undoes
        await pilot.press(*"hi", "ctrl+s")
        assert sent(runtime) == ["hi"]


async def test_no_binding_uses_keys_that_alias_over_ssh(app: MLInternApp) -> None:
    async with app.run_test():
        keys: set[str] = set()
        for widget in [app, *app.query("*")]:
            for _key, binding in widget._bindings:
                keys.update(k.strip() for k in binding.key.split(","))
        assert not keys & {"ctrl+h", "ctrl+i", "ctrl+m", "ctrl+left_square_bracket"}
