"""A dim line in the chat naming the tools the agent called between messages."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static


class ToolMention(Static):
    """``⚙ plan · bash · read`` — the detail lives in the tool tree."""

    DEFAULT_CSS = """
    ToolMention {
        margin: 1 0 0 0;
        padding: 0 1;
        color: $text-muted;
    }
    """

    def __init__(self, tool: str) -> None:
        super().__init__()
        self.tools: list[str] = [tool]
        self._render_tools()

    def add(self, tool: str) -> None:
        self.tools.append(tool)
        self._render_tools()

    def _render_tools(self) -> None:
        names = " · ".join(self.tools)
        self.update(Content.assemble(("⚙ ", "$accent"), names))
