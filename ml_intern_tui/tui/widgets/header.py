"""The header line: model · effort · mode · session."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from ml_intern_tui.core import protocol as p
from ml_intern_tui.tui.messages import AgentEvent
from ml_intern_tui.tui.session_view import SessionView


class HeaderLine(Static):
    """Which model, which approval mode, which session — always visible.

    It draws the app's ``SessionView`` (folded before this widget gets the event).
    """

    EVENT_TYPES = frozenset({"ready", "effort"})

    DEFAULT_CSS = """
    HeaderLine {
        height: 1;
        padding: 0 1;
        background: $panel;
        color: $foreground;
    }
    """

    def __init__(self, view: SessionView | None = None, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.view = view if view is not None else SessionView()

    @property
    def model(self) -> str:
        return self.view.model

    @property
    def mode(self) -> str:
        return self.view.mode

    @property
    def session_id(self) -> str:
        return self.view.session_id

    @property
    def cwd(self) -> str:
        return self.view.cwd

    @property
    def effort(self) -> p.EffortStatus | None:
        return self.view.effort

    def on_agent_event(self, message: AgentEvent) -> None:
        self.refresh()

    def render(self) -> Content:
        mode_style = "bold $error" if self.mode == "yolo" else "bold $accent"
        parts: list[Content | str | tuple[str, str]] = [
            ("ml-intern", "bold $primary"),
            "  ",
            (self.model or "starting…", "bold"),
        ]
        effort = effort_label(self.effort, self.model)
        if effort:
            parts += [" · ", (effort, "$text-muted")]
        parts += [" · ", (self.mode, mode_style)]
        if self.session_id:
            parts += [" · ", (f"session {self.session_id}", "$text-muted")]
        if self.cwd:
            parts += [" · ", (self.cwd, "$text-muted")]
        return Content.assemble(*parts)


def effort_label(status: p.EffortStatus | None, model: str) -> str:
    """``effort high``, ``effort max→high``, ``effort high…`` (checking), or nothing."""
    if status is None or status.model != model or status.preference is None:
        return ""
    if status.state == "not_sent":
        return ""
    if status.level is None:
        return "no effort"
    label = f"effort {status.level}"
    if status.level != status.preference:
        label = f"effort {status.preference}→{status.level}"
    return label + ("…" if status.state == "probing" else "")


def effort_report(status: p.EffortStatus | None) -> str:
    """What ``/effort`` and ``/status`` say about the reasoning effort."""
    if status is None:
        return "Reasoning effort: not known yet (the session is starting)."
    asked = status.preference or "off"
    if status.state == "not_sent":
        return f"Reasoning effort: {asked}; {status.model} gets none ({status.note})."
    if status.preference is None:
        return "Reasoning effort: off (none is sent)."
    sent = f"'{status.level}'" if status.level else "none"
    line = f"Reasoning effort: {asked}; {status.model} gets {sent}"
    known = []
    if status.accepted:
        known.append("takes " + ", ".join(status.accepted))
    if status.refused:
        known.append("refused " + ", ".join(status.refused))
    what = {
        "probing": "being checked",
        "probed": "checked",
        "unknown": "not checked",
        "unsupported": "takes no effort",
    }.get(status.state, status.state)
    line += f" ({what}" + (f"; {'; '.join(known)}" if known else "") + ")"
    return line + (f": {status.note}." if status.note else ".")
