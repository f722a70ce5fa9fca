"""The model's reasoning: dimmed, collapsible, streamed."""

from __future__ import annotations

from textual.widgets import Collapsible, Markdown
from textual.widgets.markdown import MarkdownStream

from ml_intern_tui.tui.formatting import format_tokens


class ReasoningBlock(Collapsible):
    """A collapsible block holding one streamed reasoning text.

    A finished block that starts collapsed (a resumed session's reasoning) makes its
    Markdown only when it is first opened: a ``Markdown`` widget costs about 7 ms to
    mount, and a resumed chat may hold a hundred of these nobody opens.
    """

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
        lazy = bool(text) and collapsed
        self._body: Markdown | None = None if lazy else self._markdown(text)
        title = f"Reasoning · {format_tokens(len(text))} chars" if text else "Reasoning…"
        super().__init__(
            *([self._body] if self._body else []),
            title=title,
            collapsed=collapsed,
            # Styled collapsed from the start: mounting then changes no class (a restyle).
            classes="-collapsed" if collapsed else "",
        )
        self._stream: MarkdownStream | None = None
        self._fragments: list[str] = [text] if text else []
        self.chars = len(text)

    @staticmethod
    def _markdown(text: str | None) -> Markdown:
        # Links open only when they are web links (a click on a file: or app-scheme
        # link the model planted would open something on this machine).
        return Markdown(text or None, classes="reasoning", open_links=False)

    async def _on_collapsible_expanded(self, event: Collapsible.Expanded) -> None:
        if event.collapsible is self and self._body is None:
            await self._make_body()

    async def _make_body(self) -> Markdown:
        if self._body is None:
            self._body = self._markdown("".join(self._fragments))
            await self.query_one(Collapsible.Contents).mount(self._body)
        return self._body

    def on_markdown_link_clicked(self, event: Markdown.LinkClicked) -> None:
        from ml_intern_tui.tui.widgets.blocks.markdown_render import LINK_SCHEMES

        event.stop()
        if event.href.strip().lower().startswith(LINK_SCHEMES):
            self.app.open_url(event.href)

    async def write(self, fragment: str) -> None:
        if self._stream is None:
            self._stream = Markdown.get_stream(await self._make_body())
        self.chars += len(fragment)
        self._fragments.append(fragment)
        await self._stream.write(fragment)

    async def finish(self) -> None:
        if self._stream is not None:
            stream, self._stream = self._stream, None
            await stream.stop()
        text = "".join(self._fragments)
        body = self._body
        if body is not None and text.strip() != (body.source or "").strip():
            await body.update(text)
        self.title = f"Reasoning · {format_tokens(self.chars)} chars"
