"""A one-line (or short) notice in the chat: info, warning, error, success."""

from __future__ import annotations

from typing import Literal

from textual.content import Content
from textual.widgets import Static

Level = Literal["info", "warning", "error", "success"]

_GLYPH: dict[str, str] = {"info": "·", "warning": "!", "error": "✗", "success": "✓"}
_STYLE: dict[str, str] = {
    "info": "$text-muted",
    "warning": "$text-warning",
    "error": "$text-error",
    "success": "$text-success",
}


class NoticeBlock(Static):
    """What happened, and (for problems) a second line saying what to do."""

    DEFAULT_CSS = """
    NoticeBlock {
        margin: 1 0 0 0;
        padding: 0 1;
        &.-error { background: $error-muted; }
        &.-warning { background: $warning-muted; }
    }
    """

    def __init__(self, text: str, level: Level = "info", *, hint: str = "") -> None:
        body = Content.assemble((f"{_GLYPH.get(level, '·')} ", f"bold {_STYLE[level]}"), text)
        if hint:
            body = Content.assemble(body, "\n", ("→ ", "bold"), (hint, "italic"))
        super().__init__(body, classes=f"-{level}")
        self.text = text
        self.level = level
        self.hint = hint
