"""A unified diff rendered as a diff: additions, removals and hunk headers coloured."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

_LINE_STYLES = (
    ("+++", "bold"),
    ("---", "bold"),
    ("diff ", "bold"),
    ("@@", "$text-accent"),
    ("+", "$text-success on $success-muted"),
    ("-", "$text-error on $error-muted"),
)


def render_diff(text: str) -> Content:
    """Colour each line of a unified diff by its first characters."""
    lines: list[Content] = []
    for line in text.splitlines():
        style = next((s for prefix, s in _LINE_STYLES if line.startswith(prefix)), "")
        lines.append(Content.styled(line, style) if style else Content(line))
    return Content("\n").join(lines)


class DiffView(Static):
    """A read-only diff."""

    DEFAULT_CSS = """
    DiffView { height: auto; padding: 0 1; background: $surface; }
    """

    def __init__(self, diff: str, *, id: str | None = None) -> None:
        super().__init__(render_diff(diff), id=id)
        self.diff = diff
