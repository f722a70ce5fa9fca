"""A widget that shows Markdown as lines drawn block by block (Textual's line API).

An answer is one such widget however long it grows. Its lines are kept per block: when
streamed text grows the last block, only that block is drawn again and its lines
replaced; the blocks before keep theirs. The widget's height is the number of lines, and
a frame asks only for the lines on screen, so a frame costs the same for a 200-token
answer and a 20,000-token report. (Textual's ``Markdown`` makes a widget per block and a
Rich-drawn widget draws all of its text for each frame that changes it: both grew with
the answer and stalled long streams.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.segment import Segment
from textual.strip import Strip
from textual.widget import Widget

from ml_intern_tui.tui.widgets.blocks.markdown_render import (
    Block,
    Drawings,
    block_segments,
    extend_blocks,
    forget_other_shapes,
    prune,
    shape_of,
    split_blocks,
)

if TYPE_CHECKING:
    from textual.geometry import Size
    from textual.selection import Selection


class MarkdownLines(Widget):
    """Markdown text, drawn into lines a block at a time; ``set_text`` to change it."""

    DEFAULT_CSS = """
    MarkdownLines {
        height: auto;
        background: transparent;
    }
    """

    def __init__(self, text: str = "", *, classes: str | None = None) -> None:
        super().__init__(classes=classes)
        self.source = text
        self._blocks: list[Block] = split_blocks(text) if text else []
        self._drawings: Drawings = {}
        self._lines: list[Strip] = []
        self._starts: list[int] = []
        """Where each drawn block's lines start in ``_lines``."""
        self._drawn_for: tuple[object, ...] | None = None
        """The width, code theme and base style the lines were drawn with."""

    def set_text(self, text: str) -> None:
        """Show ``text``; when it extends the current text only the tail is drawn again."""
        if text == self.source:
            return
        old = self._blocks
        self._blocks = extend_blocks(old, self.source, text)
        self.source = text
        same = 0
        for before, after in zip(old, self._blocks, strict=False):
            if before != after:
                break
            same += 1
        self._forget_from(same)
        prune(self._drawings, self._blocks)
        if self.is_mounted:
            self.refresh(layout=True)

    @property
    def line_count(self) -> int:
        return len(self._lines)

    def _forget_from(self, index: int) -> None:
        if index < len(self._starts):
            del self._lines[self._starts[index] :]
            del self._starts[index:]

    def _code_theme(self) -> str:
        return "monokai" if getattr(self.app.current_theme, "dark", True) else "friendly"

    def lines_for(self, width: int) -> list[Strip]:
        """The lines at ``width``: drawn for the blocks that changed, kept for the rest."""
        if width <= 0:
            return []
        code_theme = self._code_theme()
        base = self.visual_style.rich_style
        drawn_for = (width, code_theme, base)
        if drawn_for != self._drawn_for:
            self._drawn_for = drawn_for
            self._forget_from(0)
        if len(self._starts) == len(self._blocks):
            return self._lines
        app = self.app
        options = app.console_options.update_width(width).update(highlight=False)
        forget_other_shapes(self._drawings, shape_of(options))
        for block in self._blocks[len(self._starts) :]:
            self._starts.append(len(self._lines))
            segments = block_segments(
                block,
                first=not self._lines,
                console=app.console,
                options=options,
                cache=self._drawings,
                code_theme=code_theme,
            )
            if not segments:
                continue
            styled = Segment.apply_style(segments, base) if base else segments
            for line in Segment.split_and_crop_lines(
                styled, width, pad=False, include_new_lines=False
            ):
                self._lines.append(Strip(line))
        return self._lines

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self.lines_for(width))

    def shown_text(self) -> str:
        """The text as drawn (one line per screen line, trailing blanks dropped)."""
        lines = self.lines_for(self.size.width) if self.size.width else self._lines
        return "\n".join(line.text.rstrip() for line in lines)

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        """The selected part of what is shown (mouse selection, Ctrl+C copies it)."""
        return selection.extract(self.shown_text()), "\n"

    def selection_updated(self, selection: Selection | None) -> None:
        self.refresh()

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        lines = self.lines_for(width)
        if not 0 <= y < len(lines):
            return Strip.blank(width, self.visual_style.rich_style)
        line = lines[y]
        selection = self.text_selection
        if selection is not None and (span := selection.get_span(y)) is not None:
            line = self._highlight(line, *span)
        # Each cell carries its (x, y) in the widget, which is how a mouse drag
        # becomes a selection of this widget's text.
        return line.apply_offsets(0, y)

    def _highlight(self, line: Strip, start: int, end: int) -> Strip:
        length = line.cell_length
        end = length if end == -1 else min(end, length)
        start = max(0, min(start, length))
        if end <= start:
            return line
        style = self.screen.get_component_rich_style("screen--selection")
        before, chosen, after = line.divide([start, end, length])[:3]
        # Over the text's own colours (a code block's too), as Textual's widgets do.
        marked = Strip(Segment.apply_style(chosen, post_style=style), chosen.cell_length)
        return Strip.join([before, marked, after])
