"""One assistant message, streamed as Markdown.

The block is a :class:`MarkdownLines`: one widget that draws the Markdown block by block
and keeps each block's lines, so streaming redraws only the block that grows and a frame
composes only the lines on screen. (Textual's ``Markdown`` makes a widget of
every paragraph, list item and fence and lays all of them out on every frame: a
20,000-token report was about 1,500 widgets and each frame cost 50–100 ms.)

New text is handed to it at most every ``UPDATE_EVERY_S`` (slower while the loop is
busy), so a fast stream costs a bounded number of frames.
"""

from __future__ import annotations

from time import monotonic

from textual.timer import Timer

from ml_intern_tui.tui.widgets.blocks.markdown_lines import MarkdownLines

UPDATE_EVERY_S = 0.1
"""While streaming, new text reaches the screen at most this often: each update draws
the growing block and lays out the screen, and a fast stream would otherwise spend its
time on frames nobody can read."""
MAX_UPDATE_EVERY_S = 0.25
"""The slowest update rate, reached while the loop keeps firing our timer late."""
LATE_S = 0.02


class AssistantBlock(MarkdownLines):
    """An answer: fragments are written in and shown at a paced rate."""

    DEFAULT_CSS = """
    AssistantBlock {
        height: auto;
        margin: 1 0 0 0;
        padding: 0 1;
        background: transparent;
    }
    """

    def __init__(self, text: str = "") -> None:
        super().__init__(text)
        self._fragments: list[str] = [text] if text else []
        self._unsent: list[str] = []
        self._sent_at = 0.0
        self._every = UPDATE_EVERY_S
        self._due = 0.0
        self._timer: Timer | None = None
        self.finished = False

    @property
    def streaming(self) -> bool:
        return not self.finished and bool(self._fragments)

    @property
    def text(self) -> str:
        """Everything written so far."""
        return "".join(self._fragments)

    async def write(self, fragment: str) -> None:
        """Append a fragment: shown now, or with the next paced update."""
        if not fragment:
            return
        self._fragments.append(fragment)
        self._unsent.append(fragment)
        if self._timer is not None:
            return
        wait = self._sent_at + self._every - monotonic()
        if wait <= 0:
            self._send()
        else:
            self._due = monotonic() + wait
            self._timer = self.set_timer(wait, self._send_when_due)

    def _send_when_due(self) -> None:
        # A late timer means the loop is busy (a fast stream, tools, a big frame): update
        # less often until it keeps up again, so the frames do not add to the backlog.
        late = monotonic() - self._due
        if late > LATE_S:
            self._every = min(MAX_UPDATE_EVERY_S, self._every * 1.5)
        else:
            self._every = max(UPDATE_EVERY_S, self._every * 0.8)
        self._timer = None
        self._send()

    def _send(self) -> None:
        """Show the gathered text: one layout for all of it."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._sent_at = monotonic()
        if self._unsent:
            self.set_text(self.source + "".join(self._unsent))
            self._unsent.clear()

    async def finish(self, final_text: str | None = None) -> None:
        """Stop streaming; show the final text if it differs from what was streamed.

        A differing final text (deltas that never arrived, or a message that was edited)
        replaces what is shown.
        """
        self._send()
        self.finished = True
        text = final_text if final_text is not None else self.text
        self._fragments = [text]
        if text.strip() != self.source.strip():
            self.set_text(text)
