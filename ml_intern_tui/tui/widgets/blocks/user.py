"""A message the user sent."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static


class UserBlock(Static):
    """The user's text, as the core echoed it back in ``turn_started``."""

    DEFAULT_CSS = """
    UserBlock {
        margin: 1 0 0 0;
        padding: 0 1;
        background: $boost;
        border-left: outer $primary;
    }
    """

    def __init__(self, text: str) -> None:
        super().__init__(Content(text), markup=False)
        self.text = text
