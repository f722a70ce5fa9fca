"""The banner above the panes that names a missing credential, with its fix.

It shows the lines of the ``credential_status`` event (sent by the core at start, after
``/login`` and after a model switch) and hides when the list is empty, so a user sees
before the first message why it would fail and what to do.
"""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from ml_intern_tui.core import protocol as p
from ml_intern_tui.tui.messages import AgentEvent

LOGIN_HINT = "/login stores a Hugging Face token (typed in a hidden field)."


class CredentialBanner(Static):
    """Missing credentials for the session's model (hidden when none are missing)."""

    EVENT_TYPES = frozenset({"credential_status"})

    DEFAULT_CSS = """
    CredentialBanner {
        display: none;
        height: auto;
        padding: 0 1;
        background: $warning 15%;
        border-left: thick $warning;
        &.-shown { display: block; }
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self.missing: list[str] = []

    def on_agent_event(self, message: AgentEvent) -> None:
        event = message.event
        if isinstance(event, p.CredentialStatus):
            self.show_missing(event.missing)

    def show_missing(self, missing: list[str]) -> None:
        """Show these lines (terminal-safe already: the app cleans every event)."""
        self.missing = list(missing)
        self.set_class(bool(missing), "-shown")
        if not missing:
            self.update("")
            return
        parts = [Content.styled("⚠ ", "bold $warning") + Content(line) for line in missing]
        if any("Hugging Face token" in line for line in missing):
            parts.append(Content.styled(LOGIN_HINT, "$text-muted"))
        self.update(Content("\n").join(parts))
