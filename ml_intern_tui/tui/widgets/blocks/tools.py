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
        content = Content.assemble(("⚙ ", "$accent"), names)
        width = self.content_size.width if self.is_mounted else 0
        if not width:
            self.update(content)
            return
        # A layout lays out the whole screen (the chat with every block): one more tool
        # name only needs one when it wraps onto a new line.
        height = self.content_size.height
        self.update(content, layout=False)
        if self.get_content_height(self.content_size, self.app.size, width) != height:
            self.refresh(layout=True)
