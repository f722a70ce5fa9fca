"""The model's reasoning: dimmed, collapsible, streamed."""

from __future__ import annotations

from textual.widgets import Collapsible, Markdown
from textual.widgets.markdown import MarkdownStream

from ml_intern_tui.tui.formatting import format_tokens


class ReasoningBlock(Collapsible):
    """A collapsible block holding one streamed reasoning text."""

    DEFAULT_CSS = """
    ReasoningBlock {
        margin: 1 0 0 0;
        padding: 0;
        border: none;
        background: transparent;
        color: $text-muted;
        & > Contents { padding: 0 0 0 2; }
        & Markdown { color: $text-muted; background: transparent; margin: 0; padding: 0; }
        & CollapsibleTitle { color: $text-muted; padding: 0 1; }
    }
    """

    def __init__(self, *, collapsed: bool, text: str = "") -> None:
        """``text`` makes a finished block at once (a resumed session's reasoning)."""
        # Links open only when they are web links (a click on a file: or app-scheme
        # link the model planted would open something on this machine).
        self._body = Markdown(text or None, classes="reasoning", open_links=False)
        title = f"Reasoning · {format_tokens(len(text))} chars" if text else "Reasoning…"
        super().__init__(self._body, title=title, collapsed=collapsed)
        self._stream: MarkdownStream | None = None
        self._fragments: list[str] = [text] if text else []
        self.chars = len(text)

    def on_markdown_link_clicked(self, event: Markdown.LinkClicked) -> None:
        from ml_intern_tui.tui.widgets.blocks.markdown_render import LINK_SCHEMES

        event.stop()
        if event.href.strip().lower().startswith(LINK_SCHEMES):
            self.app.open_url(event.href)

    async def write(self, fragment: str) -> None:
        if self._stream is None:
            self._stream = Markdown.get_stream(self._body)
        self.chars += len(fragment)
        self._fragments.append(fragment)
        await self._stream.write(fragment)

    async def finish(self) -> None:
        if self._stream is not None:
            stream, self._stream = self._stream, None
            await stream.stop()
        text = "".join(self._fragments)
        if text.strip() != (self._body.source or "").strip():
            await self._body.update(text)
        self.title = f"Reasoning · {format_tokens(self.chars)} chars"
