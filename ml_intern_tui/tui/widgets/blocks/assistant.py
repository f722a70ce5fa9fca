"""One assistant message, streamed as Markdown."""

from __future__ import annotations

from textual.widgets import Markdown
from textual.widgets.markdown import MarkdownStream


class AssistantBlock(Markdown):
    """Streams fragments through one ``MarkdownStream``; never re-renders per token."""

    DEFAULT_CSS = """
    AssistantBlock {
        margin: 1 0 0 0;
        padding: 0 1;
        background: transparent;
        layout: stream;
    }
    """

    def __init__(self, text: str = "") -> None:
        super().__init__(text)
        self._stream: MarkdownStream | None = None
        self.finished = False

    @property
    def streaming(self) -> bool:
        return self._stream is not None

    async def write(self, fragment: str) -> None:
        """Append a fragment; the stream batches whatever arrives while it renders."""
        if self._stream is None:
            self._stream = Markdown.get_stream(self)
        await self._stream.write(fragment)

    async def finish(self, final_text: str | None = None) -> None:
        """Stop the stream; re-render once from ``final_text`` if it differs."""
        if self._stream is not None:
            stream, self._stream = self._stream, None
            await stream.stop()
        self.finished = True
        if final_text is not None and final_text.strip() != (self.source or "").strip():
            await self.update(final_text)
