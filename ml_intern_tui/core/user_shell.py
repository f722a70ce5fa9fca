"""``!cmd``: a shell command the user typed, run through the session's bash tool.

It runs exactly as the agent's commands do — in the same sandbox (the bash tool asks the
``sandbox`` service where to run), with the same scrubbed environment and output cap —
but without an approval: the person typed it. It is shown as a tool call whose id starts
with ``USER_SHELL_PREFIX`` (the UI shows its output in the chat), and its output goes
into the conversation as something the user ran, so the model can use it next turn.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import TYPE_CHECKING

from ml_intern_tui.core import known_secrets
from ml_intern_tui.core.protocol import Notice, ToolCall, ToolResultEvent, TurnComplete
from ml_intern_tui.core.tool import BadArguments, parse_arguments

if TYPE_CHECKING:
    from ml_intern_tui.core.session import Session
    from ml_intern_tui.core.turn import TurnRunner

USER_SHELL_PREFIX = "user-shell-"
"""Call ids of commands the user ran with ``!``."""
CONTEXT_CHARS = 8_000
"""At most this much of the output goes into the conversation (its head and tail)."""


def for_context(command: str, event: ToolResultEvent) -> str:
    """The user message that tells the model what the user ran and what it printed."""
    output = event.output
    if len(output) > CONTEXT_CHARS:
        half = CONTEXT_CHARS // 2
        output = f"{output[:half]}\n[… {len(output) - CONTEXT_CHARS} chars cut …]\n{output[-half:]}"
    outcome = "succeeded" if event.ok else "failed"
    return (
        f"I ran this shell command myself ({outcome}; {event.summary}):\n"
        f"$ {command}\n```\n{output.rstrip()}\n```"
    )


async def run_user_shell(session: Session, runner: TurnRunner, command: str) -> None:
    """Run ``command`` with the bash tool, publish it as a call and add it to context."""
    command = command.strip()
    if not command:
        session.publish(Notice(level="warning", text="Nothing to run: type a command after !"))
        return
    tool = session.router.get("bash")
    if tool is None:
        session.publish(
            Notice(level="error", text="No shell in this session: the bash tool is disabled.")
        )
        return
    call_id = f"{USER_SHELL_PREFIX}{uuid.uuid4().hex[:12]}"
    raw = json.dumps({"command": command})
    session.publish(ToolCall(call_id=call_id, tool="bash", args={"command": command}))
    try:
        args = parse_arguments(tool, raw)
    except BadArguments as exc:
        _, event = runner.failure(call_id, f"Error: {exc}")
    else:
        try:
            _, event = await runner.run_one(call_id, "bash", args)
        except asyncio.CancelledError:  # Esc: the bash tool stopped the command
            _, event = runner.failure(call_id, "Interrupted by the user.", "cancelled")
            session.publish(event)
            session.context.inject(for_context(command, event), origin="user_shell")
            raise
    session.publish(event)
    known_secrets.refresh()
    session.context.inject(known_secrets.scrub(for_context(command, event)), origin="user_shell")
    # Idle again: the front ends leave their "working" state (no model call was made).
    session.publish(TurnComplete(final_text="", iterations=0))
