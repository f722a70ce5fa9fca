"""Textual messages the bridge posts: one per (coalesced) agent event, one per history."""

from __future__ import annotations

from collections.abc import Iterator

from textual.message import Message
from textual.widget import Widget

from ml_intern_tui.core.protocol import EventBase, History


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


class AgentHistory(Message, bubble=False):
    """A resumed session's past (its ``history`` event) for one pane to fold in one go.

    Posted to every pane that declares ``HISTORY_TYPES``, after the ``ready`` that
    announced the session and before any live event of it; the pane runs the events
    through its live handlers.
    """

    def __init__(self, history: History) -> None:
        super().__init__()
        self.history = history

    def events(self, kinds: frozenset[str], *, start: int = 0) -> Iterator[EventBase]:
        """The history's events of ``kinds``, from the ``start``-th on."""
        for event in self.history.events[start:]:
            if getattr(event, "type", "") in kinds:
                yield event


def history_failed(widget: Widget, exc: Exception) -> None:
    """Say in the chat that part of a resumed session could not be shown (never crash)."""
    notice = getattr(widget.app, "local_notice", None)
    if notice is not None:
        notice(
            f"Part of the session could not be shown again: {type(exc).__name__}: {exc}",
            "warning",
        )


class BusClosed(Message, bubble=False):
    """The bus closed: no more events will arrive."""
