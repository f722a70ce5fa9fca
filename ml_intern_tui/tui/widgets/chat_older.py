"""The older part of a resumed chat: kept aside, mounted as the view comes near it.

Mounting a block costs, and every block mounted makes each later layout pass longer
(Textual lays out the whole chat when one block changes size). So a resumed chat mounts
only its newest blocks; the older ones wait here, oldest first, behind a one-line marker
at the top of the chat. Whenever the view is within a screen of the top (the user
scrolls up, or the mounted blocks do not fill the screen) the next chunk is mounted
above the others, and the view stays on what it showed. The blocks are the ones the live
handlers made: once mounted they are what a live session would show.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from textual.widget import Widget
from textual.widgets import Static

from ml_intern_tui.tui.widgets.chat_scroll import ChatScroll

CHUNK = 20
"""Older blocks mounted at a time (about a screen of them: one short layout pass each)."""


class EarlierMarker(Static):
    """The top line of a resumed chat while older blocks are not mounted: how many."""

    DEFAULT_CSS = """
    EarlierMarker {
        width: 100%;
        color: $text-muted;
        text-align: center;
        padding: 0 1 1 1;
    }
    """


def marker_text(count: int) -> str:
    entries = "entries" if count != 1 else "entry"
    return f"↑ {count} earlier {entries} of this session: scroll up to show them"


class OlderBlocks:
    """A resumed chat's older blocks, not mounted yet, and the marker that counts them.

    They may not even be made yet: ``unfolded`` (the history's events before the mounted
    blocks, folded by a chat of their own that is never mounted) is only run when they
    are needed (the view nears them, an undone turn began among them); until then the
    marker counts them as the core's block count has them.
    """

    def __init__(self, scroller: Callable[[], ChatScroll]) -> None:
        self._scroller = scroller
        self.waiting: list[Widget] = []
        """The blocks not mounted yet, oldest first (once made)."""
        self.marker: EarlierMarker | None = None
        self._unfolded: Callable[[], Awaitable[list[Widget]]] | None = None
        self._unfolded_count = 0
        """How many blocks ``_unfolded`` stands for (the newest of what it makes)."""
        self._making: asyncio.Task[None] | None = None
        self._revealing = False

    def __len__(self) -> int:
        return self._unfolded_count if self._unfolded is not None else len(self.waiting)

    async def hold(
        self,
        first: Widget,
        older: list[Widget] | None = None,
        *,
        unfolded: Callable[[], Awaitable[list[Widget]]] | None = None,
        count: int = 0,
    ) -> None:
        """Keep ``older`` aside (or ``count`` blocks ``unfolded`` makes when needed), with
        the marker above ``first`` (the oldest block mounted)."""
        self.forget()
        self.waiting = list(older or [])
        if unfolded is not None and count > 0:
            self._unfolded, self._unfolded_count = unfolded, count
        if len(self):
            self.marker = EarlierMarker(marker_text(len(self)))
            await self._scroller().mount(self.marker, before=first)

    def forget(self) -> None:
        """The chat started over: nothing waits (the marker went with the chat's children)."""
        self.waiting = []
        self.marker = None
        self._unfolded, self._unfolded_count = None, 0
        if self._making is not None:
            self._making.cancel()
            self._making = None

    async def made(self) -> list[Widget]:
        """The waiting blocks, made now if they were not yet (one fold, however many ask)."""
        if self._unfolded is not None:
            if self._making is None:
                self._making = asyncio.create_task(self._make(self._unfolded))
            making = self._making
            try:
                await asyncio.shield(making)
            except asyncio.CancelledError:
                if not making.cancelled():  # this caller was cancelled, not the fold
                    raise
        return self.waiting

    async def _make(self, unfolded: Callable[[], Awaitable[list[Widget]]]) -> None:
        blocks = await unfolded()
        if self._unfolded is unfolded:  # else the chat started over meanwhile
            count = self._unfolded_count  # what the bound left of them meanwhile
            self.waiting = [*(blocks[-count:] if count else []), *self.waiting]
            self._unfolded, self._unfolded_count, self._making = None, 0, None
            await self._settle()

    async def drop(self, count: int) -> int:
        """Drop up to ``count`` of the oldest waiting blocks (the chat's bound); how many."""
        dropped = min(count, len(self))
        if dropped and self._unfolded is not None:
            self._unfolded_count -= dropped
        elif dropped:
            del self.waiting[:dropped]
        if dropped:
            await self._settle()
        return dropped

    async def cut_from(self, index: int) -> None:
        """Drop the waiting blocks from ``index`` on (an undone turn that began up here)."""
        del (await self.made())[index:]
        await self._settle()

    def near_top(self) -> bool:
        """Whether the view is within a screen of the top while blocks wait."""
        scroller = self._scroller()
        return bool(len(self)) and scroller.scroll_y < max(scroller.size.height, 1)

    def check(self) -> None:
        """Mount the next chunk once the screen is drawn, if the view is near the top."""
        if len(self) and not self._revealing and self.near_top():
            self._revealing = True
            self._scroller().call_after_refresh(self._reveal)

    async def _reveal(self) -> None:
        try:
            marker = self.marker
            scroller = self._scroller()
            if not len(self) or marker is None or marker.parent is not scroller:
                return
            if not self.near_top():  # drawn now, the view is not near the top after all
                return
            await self.made()
            if marker.parent is not scroller:  # the chat started over meanwhile
                return
            chunk, self.waiting = self.waiting[-CHUNK:], self.waiting[:-CHUNK]
            height, top = scroller.virtual_size.height, scroller.scroll_y
            await scroller.mount_all(chunk, after=marker)
            await self._settle()
            if not scroller.following:  # the chunk went in above the view: keep the view
                scroller.call_after_refresh(self._keep_view, height, top)  # on what it showed
        finally:
            self._revealing = False
        self.check()

    def _keep_view(self, height: int, top: float) -> None:
        scroller = self._scroller()
        grown = scroller.virtual_size.height - height
        if grown > 0:
            scroller.scroll_to(y=top + grown, animate=False, immediate=True, release_anchor=False)
        self.check()

    async def _settle(self) -> None:
        if self.marker is None:
            return
        if len(self):
            self.marker.update(marker_text(len(self)))
        else:
            marker, self.marker = self.marker, None
            await marker.remove()
