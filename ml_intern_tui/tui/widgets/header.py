"""The header line: model · mode · session."""

from __future__ import annotations

from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static

from ml_intern_tui.core import protocol as p
from ml_intern_tui.tui.messages import AgentEvent


class HeaderLine(Static):
    """Which model, which approval mode, which session — always visible."""

    EVENT_TYPES = frozenset({"ready"})

    DEFAULT_CSS = """
    HeaderLine {
        height: 1;
        padding: 0 1;
        background: $panel;
        color: $foreground;
    }
    """

    model: reactive[str] = reactive("")
    mode: reactive[str] = reactive("ask")
    session_id: reactive[str] = reactive("")
    cwd: reactive[str] = reactive("")

    def on_agent_event(self, message: AgentEvent) -> None:
        event = message.event
        if isinstance(event, p.Ready):
            self.model, self.mode = event.model, event.mode
            self.session_id, self.cwd = event.session_id, event.cwd

    def render(self) -> Content:
        mode_style = "bold $error" if self.mode == "yolo" else "bold $accent"
        parts: list[Content | str | tuple[str, str]] = [
            ("ml-intern", "bold $primary"),
            "  ",
            (self.model or "starting…", "bold"),
            " · ",
            (self.mode, mode_style),
        ]
        if self.session_id:
            parts += [" · ", (f"session {self.session_id}", "$text-muted")]
        if self.cwd:
            parts += [" · ", (self.cwd, "$text-muted")]
        return Content.assemble(*parts)
