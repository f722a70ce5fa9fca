"""Textual messages the bridge posts: one per (coalesced) agent event."""

from __future__ import annotations

from textual.message import Message

from ml_intern_tui.core.protocol import EventBase


class AgentEvent(Message, bubble=False):
    """An event from the agent core, delivered on the UI thread in bus order."""

    def __init__(self, event: EventBase) -> None:
        super().__init__()
        self.event = event

    @property
    def kind(self) -> str:
        """The event's ``type`` (``"assistant_delta"``, ``"tool_call"``...)."""
        return str(getattr(self.event, "type", ""))


class BusClosed(Message, bubble=False):
    """The bus closed: no more events will arrive."""
