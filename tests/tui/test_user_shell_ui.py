"""``!cmd`` in the prompt: sent to the core as ``user_shell``; its output shown in the chat."""

from __future__ import annotations

from ml_intern_tui.core import protocol as p
from ml_intern_tui.core.user_shell import USER_SHELL_PREFIX
from ml_intern_tui.tui.app import MLInternApp
from ml_intern_tui.tui.widgets.blocks.shell import MAX_LINES, ShellBlock
from tui.conftest import wait_for
from tui.fake_runtime import FakeRuntime

CALL = f"{USER_SHELL_PREFIX}abc"


async def test_bang_sends_user_shell_and_the_output_shows(
    app: MLInternApp, runtime: FakeRuntime
) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        app.prompt.set_text("!ls -la")
        await pilot.press("enter")
        await wait_for(pilot, lambda: runtime.ops)
        assert runtime.ops == [p.UserShell(command="ls -la")]
        assert not app.busy  # the prompt stays free: it is not a turn of the model
        runtime.publish(p.ToolCall(call_id=CALL, tool="bash", args={"command": "ls -la"}))
        await wait_for(pilot, lambda: app.chat.query(ShellBlock))
        block = app.chat.query_one(ShellBlock)
        assert block.command == "ls -la" and block.output == ""
        output = "\n".join(f"file{i}.txt" for i in range(100)) + "\n\x1b]0;pwned\x07evil"
        runtime.publish(
            p.ToolResultEvent(call_id=CALL, ok=True, summary="exit 0 · 101 lines", output=output)
        )
        await wait_for(pilot, lambda: block.output)
        lines = block.output.splitlines()
        assert lines[0].startswith("… 61 earlier lines") and len(lines) == MAX_LINES + 1
        assert "file99.txt" in block.output and "\x1b" not in block.output
        assert "file0.txt" not in block.output
        assert app.busy  # running: the prompt queues, Esc stops it
        runtime.publish(p.TurnComplete(final_text="", iterations=0))
        await wait_for(pilot, lambda: not app.busy)


async def test_agent_tool_calls_do_not_make_shell_blocks(
    app: MLInternApp, runtime: FakeRuntime
) -> None:
    async with app.run_test() as pilot:
        runtime.publish(
            p.ToolCall(call_id="c1", tool="bash", args={"command": "ls"}),
            p.ToolResultEvent(call_id="c1", ok=True, summary="exit 0", output="a"),
            p.Notice(text="marker"),
        )
        await wait_for(pilot, lambda: "marker" in str(app.transcript.entries))
        assert not app.chat.query(ShellBlock)
