"""One assistant message, streamed as Markdown in pieces.

Textual's ``Markdown`` widget makes a widget of every paragraph, list item and fence,
and every frame lays out and renders all of them: a long answer (a 20,000-token report
is about 1,500 widgets) made each frame cost 50–100 ms, so streaming stalled the loop.

Here an answer is a column of ``MarkdownPiece`` widgets, each drawing one stretch of the
Markdown with Rich's renderer as a single widget. Text streams into the last piece; once
it holds ``PIECE_CHARS`` and a new top-level block (paragraph, list, fence, heading...)
starts, that piece is finished as it stands and a new one takes the rest. Only the live
piece is ever parsed and drawn again, and a frame pays for a handful of widgets however
long the answer grows. Pieces are cut only between top-level blocks, so each piece is
valid Markdown on its own and the joined pieces read as the whole answer. New text is
handed over at most every ``UPDATE_EVERY_S``, so a fast stream costs a bounded number of
frames.
"""

from __future__ import annotations

from functools import lru_cache
from time import monotonic
from typing import TYPE_CHECKING, Any

from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Static

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from rich.console import RenderableType

PIECE_CHARS = 800
"""A piece is finished at the next top-level block boundary once it holds this much."""
UPDATE_EVERY_S = 0.1
"""While streaming, new text reaches the screen at most this often: each update parses
and draws the live piece and lays out the screen, and a fast stream would otherwise spend
its time on frames nobody can read."""
MAX_UPDATE_EVERY_S = 0.25
"""The slowest update rate, reached while the loop keeps firing our timer late."""
LATE_S = 0.02


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    from markdown_it import MarkdownIt

    return MarkdownIt("gfm-like")


def block_starts(text: str) -> list[tuple[int, bool]]:
    """Where ``text`` may be cut: ``(offset, inside_list)`` pairs, the start omitted.

    A cut goes before a top-level block (paragraph, list, fence, heading, table...) or
    before an item of a top-level bullet list (``inside_list``): a long list must not make
    one huge piece, and a bullet list cut between items draws the same as the whole list.
    Ordered lists are cut only around them (a second half would number from its own start).
    """
    offsets = [0]
    for line in text.splitlines(keepends=True):
        offsets.append(offsets[-1] + len(line))
    starts: list[tuple[int, bool]] = []
    in_bullets = False
    first_item = False
    for token in _parser().parse(text):
        if token.level == 0 and token.nesting >= 0:
            in_bullets = token.type == "bullet_list_open"
            first_item = in_bullets
            cut: tuple[int, bool] | None = (token.map[0], False) if token.map else None
        elif in_bullets and token.level == 1 and token.type == "list_item_open":
            cut = None if first_item else ((token.map[0], True) if token.map else None)
            first_item = False
        else:
            continue
        if cut is not None and 0 < cut[0] < len(offsets):
            offset = offsets[cut[0]]
            if not starts or starts[-1][0] != offset:
                starts.append((offset, cut[1]))
    return starts


def split_pieces(text: str, size: int = PIECE_CHARS) -> list[tuple[str, bool]]:
    """``text`` cut into ``(piece, continues_list)`` of at least ``size`` chars each."""
    pieces: list[tuple[str, bool]] = []
    begin, continues = 0, False
    for start, inside_list in block_starts(text):
        if start - begin >= size:
            pieces.append((text[begin:start], continues))
            begin, continues = start, inside_list
    pieces.append((text[begin:], continues))
    return [(piece, cont) for piece, cont in pieces if piece]


class MarkdownPiece(Static):
    """One stretch of an answer's Markdown, drawn by Rich as one widget."""

    DEFAULT_CSS = """
    MarkdownPiece {
        height: auto;
        background: transparent;
        margin: 1 0 0 0;
        &.-first, &.-continues-list { margin: 0; }
    }
    """

    def __init__(
        self, text: str = "", *, continues_list: bool = False, first: bool = False
    ) -> None:
        # Plain classes, not :first-of-type: order pseudo-classes make Textual restyle
        # every sibling each time a piece is mounted.
        classes = ["-continues-list"] * continues_list + ["-first"] * first
        super().__init__(classes=" ".join(classes))
        self.source = text
        self.finished = False

    def on_mount(self) -> None:
        self.update(self._renderable())

    def set_text(self, text: str) -> None:
        if text != self.source:
            self.source = text
            if self.is_mounted:
                self.update(self._renderable())

    def _renderable(self) -> RenderableType:
        from rich.markdown import Markdown as RichMarkdown

        dark = getattr(self.app.current_theme, "dark", True)
        return RichMarkdown(
            self.source.strip("\n"),
            code_theme="monokai" if dark else "friendly",
            inline_code_theme="monokai" if dark else "friendly",
        )

    def on_app_theme_changed(self) -> None:  # pragma: no cover - Textual has no such event
        self.update(self._renderable())


class AssistantBlock(Widget):
    """Streams fragments into Markdown pieces; only the last piece is ever redrawn."""

    DEFAULT_CSS = """
    AssistantBlock {
        height: auto;
        margin: 1 0 0 0;
        padding: 0 1;
        background: transparent;
        layout: stream;
    }
    """

    def __init__(self, text: str = "") -> None:
        super().__init__()
        self._fragments: list[str] = [text] if text else []
        self._pending_text = text
        self._live: MarkdownPiece | None = None
        self._live_text = ""
        self._last_start = 0
        """Offset in ``_live_text`` where the live piece's last top-level block starts."""
        self._unsent: list[str] = []
        self._sent_at = 0.0
        self._every = UPDATE_EVERY_S
        self._due = 0.0
        self._timer: Timer | None = None
        self.finished = False

    def compose(self) -> Any:
        if self._pending_text:
            text, self._pending_text = self._pending_text, ""
            for index, (piece, continues) in enumerate(split_pieces(text)):
                done = MarkdownPiece(piece, continues_list=continues, first=index == 0)
                done.finished = True
                yield done

    @property
    def streaming(self) -> bool:
        return self._live is not None

    @property
    def text(self) -> str:
        """Everything written so far."""
        return "".join(self._fragments)

    @property
    def pieces(self) -> list[MarkdownPiece]:
        return [child for child in self.children if isinstance(child, MarkdownPiece)]

    @property
    def source(self) -> str:
        """The Markdown shown so far (all pieces joined)."""
        if self._pending_text:
            return self._pending_text
        return "".join(piece.source for piece in self.pieces)

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
            await self._send()
        else:
            self._due = monotonic() + wait
            self._timer = self.set_timer(wait, self._send_when_due)

    async def _send_when_due(self) -> None:
        # A late timer means the loop is busy (a fast stream, tools, a big frame): update
        # less often until it keeps up again, so the frames do not add to the backlog.
        late = monotonic() - self._due
        if late > LATE_S:
            self._every = min(MAX_UPDATE_EVERY_S, self._every * 1.5)
        else:
            self._every = max(UPDATE_EVERY_S, self._every * 0.8)
        self._timer = None
        await self._send()

    async def _send(self) -> None:
        """Hand the gathered text to the pieces: one layout for all of it."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._sent_at = monotonic()
        if not self._unsent:
            return
        text = "".join(self._unsent)
        self._unsent.clear()
        continues = False
        while text:
            if self._live is None:
                await self._start_piece(text, continues_list=continues)
                return
            found = self._boundary(text) if "\n" in text else None
            if found is None:
                self._live_text += text
                self._live.set_text(self._live_text)
                return
            cut, continues = found
            self._live_text += text[:cut]
            self._live.set_text(self._live_text)
            self._end_piece()
            text = text[cut:]

    def _boundary(self, fragment: str) -> tuple[int, bool] | None:
        """Where in ``fragment`` the live piece may end (and whether inside a bullet list).

        Only the live piece's last block and the fragment are parsed (earlier blocks are
        complete), and where the last block starts is remembered for next time.
        """
        base = self._live_text[self._last_start :]
        starts = block_starts(base + fragment)
        for start, inside_list in starts:
            if start > len(base) and len(self._live_text) + start - len(base) >= PIECE_CHARS:
                return start - len(base), inside_list
        top_level = [start for start, inside_list in starts if not inside_list]
        if top_level:
            self._last_start += top_level[-1]
        return None

    async def _start_piece(self, text: str, *, continues_list: bool = False) -> None:
        first = not self.children
        self._live = MarkdownPiece(text, continues_list=continues_list, first=first)
        self._live_text = text
        self._last_start = 0
        await self.mount(self._live)

    def _end_piece(self) -> None:
        live, self._live = self._live, None
        if live is not None:
            live.finished = True

    async def finish(self, final_text: str | None = None) -> None:
        """Stop streaming; draw again in pieces if what is shown differs from the final text.

        A differing final text (deltas that never arrived, or a message that was edited)
        replaces the pieces.
        """
        await self._send()
        self._end_piece()
        self.finished = True
        text = final_text if final_text is not None else self.text
        self._fragments = [text]
        if text.strip() == self.source.strip():
            return
        await self.remove_children()
        pieces = []
        for index, (piece_text, continues) in enumerate(split_pieces(text)):
            piece = MarkdownPiece(piece_text, continues_list=continues, first=index == 0)
            piece.finished = True
            pieces.append(piece)
        if pieces:
            await self.mount_all(pieces)
