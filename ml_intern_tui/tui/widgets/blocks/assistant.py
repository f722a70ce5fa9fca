"""One assistant message, streamed as Markdown."""

from __future__ import annotations

from textual.timer import Timer
from textual.widgets import Markdown
from textual.widgets.markdown import MarkdownStream

PACE_FREE_WIDGETS = 150
"""Up to this many widgets in the message, fragments go to the screen at once."""
PACE_PER_WIDGET_S = 0.0005
MAX_PACE_S = 0.5


class AssistantBlock(Markdown):
    """Streams fragments through one ``MarkdownStream``; never re-renders per token.

    Every update of a long message costs a layout proportional to its widgets, so a long
    message is updated less often (up to twice a second): the loop keeps time for keys.
    """

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
        self._fragments: list[str] = [text] if text else []
        self._unsent: list[str] = []
        self._timer: Timer | None = None
        self.finished = False

    @property
    def streaming(self) -> bool:
        return self._stream is not None

    @property
    def text(self) -> str:
        """Everything written so far."""
        return "".join(self._fragments)

    def pace(self) -> float:
        """Seconds to gather fragments before the next screen update."""
        widgets = sum(1 for _ in self.walk_children())
        return min(MAX_PACE_S, max(0, widgets - PACE_FREE_WIDGETS) * PACE_PER_WIDGET_S)

    async def write(self, fragment: str) -> None:
        """Append a fragment (shown at once, or with the next paced update)."""
        self._fragments.append(fragment)
        self._unsent.append(fragment)
        if self._timer is not None:
            return
        delay = self.pace()
        if delay <= 0:
            await self._send()
        else:
            self._timer = self.set_timer(delay, self._send)

    async def _send(self) -> None:
        self._timer = None
        if not self._unsent:
            return
        text = "".join(self._unsent)
        self._unsent.clear()
        if self._stream is None:
            self._stream = Markdown.get_stream(self)
        await self._stream.write(text)

    async def finish(self, final_text: str | None = None) -> None:
        """Stop the stream; re-render once if what is shown differs from the full text.

        The final render also settles anything the incremental parser left stale
        (an unclosed fence, or a fragment still queued when the stream stopped).
        """
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._unsent.clear()
        if self._stream is not None:
            stream, self._stream = self._stream, None
            await stream.stop()
        self.finished = True
        text = final_text if final_text is not None else self.text
        self._fragments = [text]
        if text.strip() != (self.source or "").strip():
            await self.update(text)
