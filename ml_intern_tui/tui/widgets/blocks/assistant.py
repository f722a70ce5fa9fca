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
valid Markdown on its own and the joined pieces read as the whole answer.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from textual.widget import Widget
from textual.widgets import Static

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from rich.console import RenderableType

PIECE_CHARS = 800
"""A piece is finished at the next top-level block boundary once it holds this much."""


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    from markdown_it import MarkdownIt

    return MarkdownIt("gfm-like")


def block_starts(text: str) -> list[int]:
    """Character offsets where the top-level blocks of ``text`` start (the first omitted)."""
    offsets = [0]
    for line in text.splitlines(keepends=True):
        offsets.append(offsets[-1] + len(line))
    starts: list[int] = []
    for token in _parser().parse(text):
        if token.level == 0 and token.map is not None and token.nesting >= 0:
            first = token.map[0]
            if 0 < first < len(offsets) and (not starts or starts[-1] != offsets[first]):
                starts.append(offsets[first])
    return starts


def split_pieces(text: str, size: int = PIECE_CHARS) -> list[str]:
    """``text`` cut at top-level block boundaries into pieces of at least ``size`` chars."""
    pieces: list[str] = []
    begin = 0
    for start in block_starts(text):
        if start - begin >= size:
            pieces.append(text[begin:start])
            begin = start
    pieces.append(text[begin:])
    return [piece for piece in pieces if piece]


class MarkdownPiece(Static):
    """One stretch of an answer's Markdown, drawn by Rich as one widget."""

    DEFAULT_CSS = """
    MarkdownPiece {
        height: auto;
        background: transparent;
    }
    """

    def __init__(self, text: str = "") -> None:
        super().__init__()
        self.source = text
        self.finished = False

    def on_mount(self) -> None:
        self.update(self._renderable())

    def set_text(self, text: str) -> None:
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
        & > MarkdownPiece { margin: 0 0 1 0; }
        & > MarkdownPiece:last-of-type { margin: 0; }
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
        self.finished = False

    def compose(self) -> Any:
        if self._pending_text:
            text, self._pending_text = self._pending_text, ""
            for piece in split_pieces(text):
                done = MarkdownPiece(piece)
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
        """Append a fragment to the live piece (starting a new piece at a block boundary)."""
        if not fragment:
            return
        self._fragments.append(fragment)
        if self._live is None:
            await self._start_piece(fragment)
            return
        cut = self._boundary(fragment) if "\n" in fragment else None
        if cut is None:
            self._live_text += fragment
            self._live.set_text(self._live_text)
            return
        head, rest = fragment[:cut], fragment[cut:]
        if head:
            self._live_text += head
            self._live.set_text(self._live_text)
        self._end_piece()
        if rest:
            await self._start_piece(rest)

    def _boundary(self, fragment: str) -> int | None:
        """Where in ``fragment`` the live piece may end: a new top-level block, if it is long.

        Only the live piece's last block and the fragment are parsed (earlier blocks are
        complete), and where the last block starts is remembered for next time.
        """
        base = self._live_text[self._last_start :]
        starts = block_starts(base + fragment)
        if not starts:
            return None
        last = starts[-1]
        if last >= len(base) and len(self._live_text) + last - len(base) >= PIECE_CHARS:
            return last - len(base)
        self._last_start += last if last <= len(base) else len(base)
        return None

    async def _start_piece(self, text: str) -> None:
        self._live = MarkdownPiece(text)
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
        self._end_piece()
        self.finished = True
        text = final_text if final_text is not None else self.text
        self._fragments = [text]
        if text.strip() == self.source.strip():
            return
        await self.remove_children()
        pieces = []
        for piece_text in split_pieces(text):
            piece = MarkdownPiece(piece_text)
            piece.finished = True
            pieces.append(piece)
        if pieces:
            await self.mount_all(pieces)
