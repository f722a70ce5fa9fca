"""``!cmd``: the user's own command runs through the real runtime's bash tool — sandboxed,
never asking — is shown as a call and reaches the model as something the user ran."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from fakes.openai_server import FakeOpenAI, Reply

from ml_intern_tui.core.protocol import Interrupt, UserInput, UserShell
from ml_intern_tui.core.user_shell import USER_SHELL_PREFIX
from ml_intern_tui.safety.sandbox import detect


async def test_user_command_runs_without_asking_and_reaches_the_model(
    fake_openai: FakeOpenAI, harness_factory, workspace: Path
) -> None:
    fake_openai.enqueue(Reply(text="I see made.txt"))
    h = await harness_factory(mode="ask")  # ask mode would ask for a write by the model
    h.submit(UserShell(command="echo hello > made.txt; ls"))
    result = await h.wait_for("tool_result")
    call = h.of("tool_call")[-1]
    assert call.call_id == result.call_id and call.call_id.startswith(USER_SHELL_PREFIX)
    assert call.tool == "bash" and call.args == {"command": "echo hello > made.txt; ls"}
    assert result.ok and "made.txt" in result.output
    assert (workspace / "made.txt").read_text() == "hello\n"
    assert not h.of("approval_required")
    assert not h.of("turn_started")  # the model was not called
    assert fake_openai.requests_count == 0
    idle = await h.wait_for("turn_complete")  # the front ends leave "working"
    assert idle.iterations == 0 and idle.final_text == ""

    mark = h.mark()
    h.submit(UserInput(text="what did I make?"))
    await h.wait_for("turn_complete", after=mark)
    sent = fake_openai.requests[0].body["messages"]
    ran = [m["content"] for m in sent if m["role"] == "user" and "$ echo hello" in m["content"]]
    assert len(ran) == 1 and "I ran this shell command myself" in ran[0]
    assert "made.txt" in ran[0]
    assert sent[-1]["content"] == "what did I make?"


async def test_user_command_is_sandboxed_like_the_agents(
    fake_openai: FakeOpenAI, harness_factory
) -> None:
    if detect().problem is not None:
        pytest.skip("no working bubblewrap here")
    outside = Path("/") / f"ml-intern-user-shell-{uuid.uuid4().hex[:8]}"
    h = await harness_factory(mode="yolo")
    try:
        h.submit(UserShell(command=f"touch {outside}"))
        result = await h.wait_for("tool_result")
        assert not result.ok and not outside.exists()
        assert "Read-only file system" in result.output or "Permission denied" in result.output
    finally:
        outside.unlink(missing_ok=True)


async def test_empty_command_and_busy_loop_say_so(fake_openai: FakeOpenAI, harness_factory) -> None:
    h = await harness_factory()
    h.submit(UserShell(command="   "))
    notice = await h.wait_for("notice", lambda e: "after !" in e.text)
    assert notice.level == "warning"
    h.submit(UserShell(command="sleep 5"))
    await h.wait_for("tool_call")
    mark = h.mark()
    h.submit(UserShell(command="echo second"))
    await h.wait_for("notice", lambda e: "working" in e.text, after=mark)
    assert [c.args["command"] for c in h.of("tool_call")] == ["sleep 5"]
    h.submit(Interrupt())  # Esc stops the user's command as it stops a turn
    await h.wait_for("interrupted")
    stopped = await h.wait_for("tool_result")
    assert stopped.status in {"cancelled", "failed"}
    # The next command runs (the loop is free again; the stopped one is cleaned up).
    mark = h.mark()
    h.submit(UserShell(command="echo after"))
    after = await h.wait_for("tool_result", after=mark)
    assert after.ok and "after" in after.output
