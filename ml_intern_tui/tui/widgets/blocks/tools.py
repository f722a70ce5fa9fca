"""A dim line in the chat naming the tools the agent called between messages."""

from __future__ import annotations

from rich._wrap import divide_line
from textual.app import ComposeResult
from textual.content import Content
from textual.events import Resize
from textual.widget import Widget
from textual.widgets import Static

GLYPH = "⚙ "
SEPARATOR = " · "


class ToolMention(Widget):
    """``⚙ plan · bash · read`` — the detail lives in the tool tree.

    A long turn calls hundreds of tools. Drawn as one block, every new name re-wrapped and
    redrew every name before it; here each wrapped line is a widget of its own and a new
    name touches only the last one (a line that fills up gets a new line after it). The
    lines break where Textual's word wrap breaks the whole text (greedy wrapping breaks a
    text's end as it breaks that end alone), so it reads as one wrapped block.
    """

    DEFAULT_CSS = """
    ToolMention {
        height: auto;
        margin: 1 0 0 0;
        padding: 0 1;
        color: $text-muted;
        & > Static { width: 1fr; }
    }
    """

    def __init__(self, tool: str) -> None:
        super().__init__()
        self.tools: list[str] = [tool]
        self._text = GLYPH + tool
        """Every name, as the one text the lines divide."""
        self._starts: list[int] = [0]
        """Where each line starts in ``_text`` (for ``_width``; one line while it is 0)."""
        self._width = 0
        self._lines: list[Static] = [Static(self._line(0, len(self._text)))]

    def compose(self) -> ComposeResult:
        yield from self._lines

    def add(self, tool: str) -> None:
        self.tools.append(tool)
        self._text += SEPARATOR + tool
        if not self._width:  # not laid out yet: one line, wrapped by itself
            self._lines[0].update(self._line(0, len(self._text)))
            return
        start = self._starts[-1]
        breaks = [start + offset for offset in divide_line(self._text[start:], self._width)]
        self._starts += breaks
        self._show(len(self._starts) - len(breaks) - 1)

    def _line(self, start: int, end: int | None = None) -> Content:
        """The text of one line (a full line loses its trailing spaces, as in a wrap)."""
        text = self._text[start:end]
        if end is not None and end < len(self._text):
            text = text.rstrip()
        if start == 0:
            return Content.assemble((GLYPH, "$accent"), text[len(GLYPH) :])
        return Content(text)

    def _show(self, first: int) -> None:
        """Draw the lines from ``first`` on: update the widgets there, add or drop the rest."""
        starts = self._starts
        ends: list[int | None] = [*starts[1:], None]
        new: list[Static] = []
        for index in range(first, len(starts)):
            content = self._line(starts[index], ends[index])
            if index < len(self._lines):
                # A line that fits keeps its height: no layout of the whole screen for it.
                self._lines[index].update(content, layout=False)
            else:
                new.append(Static(content))
        extra = self._lines[len(starts) :]
        del self._lines[len(starts) :]
        for widget in extra:
            widget.remove()
        if new:
            self._lines += new
            self.mount(*new)

    def on_resize(self, event: Resize) -> None:
        width = self.content_size.width
        if width and width != self._width:  # a new width breaks every line anew
            self._width = width
            self._starts = [0, *divide_line(self._text, width)]
            self._show(0)
