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
    }
    """

    def __init__(self, text: str = "") -> None:
        super().__init__(text)
        self._stream: MarkdownStream | None = None
        self._fragments: list[str] = [text] if text else []
        self.finished = False

    @property
    def streaming(self) -> bool:
        return self._stream is not None

    async def write(self, fragment: str) -> None:
        """Append a fragment; the stream batches whatever arrives while it renders."""
        if self._stream is None:
            self._stream = Markdown.get_stream(self)
        self._fragments.append(fragment)
        await self._stream.write(fragment)

    @property
    def text(self) -> str:
        """Everything written so far."""
        return "".join(self._fragments)

    async def finish(self, final_text: str | None = None) -> None:
        """Stop the stream; re-render once if what is shown differs from the full text.

        The final render also settles anything the incremental parser left stale
        (an unclosed fence, or a fragment still queued when the stream stopped).
        """
        if self._stream is not None:
            stream, self._stream = self._stream, None
            await stream.stop()
        self.finished = True
        text = final_text if final_text is not None else self.text
        self._fragments = [text]
        if text.strip() != (self.source or "").strip():
            await self.update(text)
