"""While a turn runs: how long it has taken, the tokens streamed so far, the running tool;
and the bell / OSC 9 (``tui/attention.py``) when it ends or an approval waits.

Kept by the status line from the events it already receives. Tokens are estimated from
the streamed text (about four characters a token), marked ``~``: the exact count comes
with the call's usage, after the stream.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ml_intern_tui.core import protocol as p
from ml_intern_tui.tui.formatting import format_duration, format_tokens

CHARS_PER_TOKEN = 4


@dataclass
class WorkStatus:
    """The running turn as the status line shows it."""

    started: float | None = None
    chars: int = 0
    tools: dict[str, str] = field(default_factory=dict)
    """Top-level calls running now: call id → tool name."""

    def fold(self, event: p.EventBase, attention: Callable[[str, bool], object]) -> None:
        """Take one event; ``attention(text, urgent)`` is asked for a turn end or approval."""
        if isinstance(event, p.TurnStarted):
            if self.started is None:
                self.started = event.ts
                self.chars = 0
        elif isinstance(event, p.AssistantDelta | p.ReasoningDelta) and event.parent_id is None:
            self.chars += len(event.text)
        elif isinstance(event, p.ToolCall) and event.parent_id is None:
            self.tools[event.call_id] = event.tool
        elif isinstance(event, p.ToolResultEvent):
            self.tools.pop(event.call_id, None)
        elif isinstance(event, p.ApprovalRequired):
            names = ", ".join(dict.fromkeys(item.tool for item in event.items))
            attention(f"Approval needed: {names}", True)
        elif isinstance(event, p.TurnComplete | p.Interrupted):
            done = isinstance(event, p.TurnComplete) and event.reason != "approval_pending"
            self.started, self.chars = None, 0
            self.tools.clear()
            if done:
                shell = isinstance(event, p.TurnComplete) and event.iterations == 0
                attention(
                    "Your command finished." if shell else "The agent finished its turn.", False
                )

    def parts(self, now: float, detail: int) -> list[str]:
        """``12s``, ``~1.2k tok``, ``bash`` — fewer as ``detail`` drops (0: elapsed only)."""
        if self.started is None:
            return []
        out = [format_duration(max(0.0, now - self.started))]
        if detail >= 1 and self.chars:
            out.append(f"~{format_tokens(self.chars // CHARS_PER_TOKEN or 1)} tok")
        if detail >= 2 and self.tools:
            running = list(dict.fromkeys(self.tools.values()))
            out.append(running[0] + (f" +{len(running) - 1}" if len(running) > 1 else ""))
        return out
