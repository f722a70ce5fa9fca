"""Textual messages the bridge posts: one per (coalesced) agent event."""

from __future__ import annotations

from textual.message import Message

from ml_intern_tui.core.protocol import EventBase


class AgentEvent(Message, bubble=False):
    """An event from the agent core, delivered on the UI thread in bus order."""

    def __init__(self, event: EventBase, *, new_session: bool = False) -> None:
        super().__init__()
        self.event = event
        self.new_session = new_session
        """For ``ready``: the session changed (``/new``, ``/resume``), so panes start over."""

    @property
    def kind(self) -> str:
        """The event's ``type`` (``"assistant_delta"``, ``"tool_call"``...)."""
        return str(getattr(self.event, "type", ""))


class BusClosed(Message, bubble=False):
    """The bus closed: no more events will arrive."""
