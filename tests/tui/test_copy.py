"""Copying: mouse selection in answers, Ctrl+C, ``/copy`` of answers, code blocks and all."""

from __future__ import annotations

from ml_intern_tui.core import protocol as p
from ml_intern_tui.tui.app import MLInternApp
from ml_intern_tui.tui.copying import code_blocks
from ml_intern_tui.tui.widgets.blocks.assistant import AssistantBlock
from ml_intern_tui.tui.widgets.blocks.notice import NoticeBlock
from tui.conftest import wait_for
from tui.fake_runtime import FakeRuntime

ANSWER = (
    "Here is the fix.\n\n"
    "```python\nprint('first')\n```\n\n"
    "And the test:\n\n"
    "```bash\npytest -q tests/test_x.py\n```\n"
)


def last_notice(app: MLInternApp) -> NoticeBlock | None:
    found = list(app.chat.query(NoticeBlock))
    return found[-1] if found else None


async def answered(app: MLInternApp, runtime: FakeRuntime, pilot: object, text: str) -> None:
    runtime.publish(p.TurnStarted(text="fix it"), p.AssistantMessage(text=text))
    runtime.publish(p.TurnComplete(final_text=text, iterations=1, reason="done"))
    await wait_for(pilot, lambda: app.chat.latest_assistant() is not None)  # type: ignore[arg-type]
    block = app.chat.latest_assistant()
    assert block is not None
    await wait_for(pilot, lambda: block.line_count > 0)  # type: ignore[arg-type]


def test_code_blocks_are_found_in_order() -> None:
    assert code_blocks(ANSWER) == ["print('first')\n", "pytest -q tests/test_x.py\n"]
    assert code_blocks("no code here") == []
    assert code_blocks("text\n\n    indented = 1\n") == ["indented = 1\n"]


async def test_mouse_drag_selects_answer_text_and_ctrl_c_copies_it(
    app: MLInternApp, runtime: FakeRuntime
) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await answered(app, runtime, pilot, "Alpha beta gamma.\n\nSecond paragraph here.")
        block = app.chat.query_one(AssistantBlock)
        app.prompt.set_text("draft survives")  # (typing in the prompt ends a selection)
        await pilot.pause()
        await pilot.mouse_down(block, offset=(1 + 6, 0))  # the block has 1 column padding
        await pilot.hover(block, offset=(1 + 15, 0))
        await pilot.mouse_up(block, offset=(1 + 15, 0))
        await wait_for(pilot, lambda: app.screen.get_selected_text())
        assert app.screen.get_selected_text() == "beta gamma"
        # The selection is drawn: the selected cells carry the selection style.
        line = block.render_line(0)
        assert any(seg.text.startswith("beta") and seg.style.bgcolor for seg in line)
        await pilot.press("ctrl+c")
        assert app.clipboard == "beta gamma"
        assert app.prompt.text == "draft survives"  # copying does not clear the prompt
        assert not app.screen.get_selected_text()  # the selection is used up


async def test_selection_across_lines_and_select_all(
    app: MLInternApp, runtime: FakeRuntime
) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        await answered(app, runtime, pilot, "Alpha beta gamma.\n\nSecond paragraph here.")
        block = app.chat.query_one(AssistantBlock)
        await pilot.mouse_down(block, offset=(1 + 6, 0))
        await pilot.hover(block, offset=(1 + 5, 2))
        await pilot.mouse_up(block, offset=(1 + 5, 2))
        await wait_for(pilot, lambda: app.screen.get_selected_text())
        assert app.screen.get_selected_text() == "beta gamma.\n\nSecond"
        app.screen.clear_selection()
        block.text_select_all()
        assert app.screen.get_selected_text() == "Alpha beta gamma.\n\nSecond paragraph here."


async def test_ctrl_c_without_selection_keeps_clearing(
    app: MLInternApp, runtime: FakeRuntime
) -> None:
    async with app.run_test() as pilot:
        app.prompt.set_text("some draft")
        await pilot.press("ctrl+c")
        assert app.prompt.text == ""
        assert app.clipboard == ""


async def test_copy_last_answer_code_blocks_and_all(app: MLInternApp, runtime: FakeRuntime) -> None:
    async with app.run_test() as pilot:
        app.run_slash("copy")
        await wait_for(pilot, lambda: last_notice(app))
        assert "Nothing to copy" in last_notice(app).text  # type: ignore[union-attr]
        await answered(app, runtime, pilot, ANSWER)
        app.run_slash("copy")
        await wait_for(pilot, lambda: app.clipboard)
        assert app.clipboard == ANSWER.strip()
        app.run_slash("copy", "code 1")
        await wait_for(pilot, lambda: app.clipboard == "print('first')\n")
        app.run_slash("copy", "code")  # the last block without a number
        await wait_for(pilot, lambda: app.clipboard == "pytest -q tests/test_x.py\n")
        app.run_slash("copy", "all")
        await wait_for(pilot, lambda: "**You**" in app.clipboard)
        assert "fix it" in app.clipboard and "print('first')" in app.clipboard
        app.run_slash("copy", "code 7")
        await wait_for(pilot, lambda: "No code block 7" in last_notice(app).text)  # type: ignore[union-attr]
        assert "has 2" in last_notice(app).text  # type: ignore[union-attr]
        app.run_slash("copy", "sideways")
        await wait_for(pilot, lambda: "sideways" in last_notice(app).text)  # type: ignore[union-attr]
        assert last_notice(app).hint.startswith("/copy")  # type: ignore[union-attr]


async def test_copied_text_carries_no_escape_sequence(
    app: MLInternApp, runtime: FakeRuntime
) -> None:
    """A model's answer that plants an OSC 52 (or any escape) cannot reach the clipboard
    as a live sequence: what is copied is what was shown, made visible."""
    hostile = "Run this:\n\n```bash\necho hi\x1b]52;c;cm0gLXJmIH4=\x07\x1b[2J\n```\n"
    async with app.run_test() as pilot:
        await answered(app, runtime, pilot, hostile)
        app.run_slash("copy", "code")
        await wait_for(pilot, lambda: app.clipboard)
        assert "\x1b" not in app.clipboard and "\x07" not in app.clipboard
        assert app.clipboard.startswith("echo hi")
        block = app.chat.query_one(AssistantBlock)
        block.text_select_all()
        selected = app.screen.get_selected_text() or ""
        assert "echo hi" in selected and "\x1b" not in selected
        await pilot.press("ctrl+c")
        assert "\x1b" not in app.clipboard
