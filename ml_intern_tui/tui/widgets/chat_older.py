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

from collections.abc import Callable

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
    plural = "s" if count != 1 else ""
    return f"↑ {count} earlier block{plural} of this session: scroll up to show them"


class OlderBlocks:
    """A resumed chat's older blocks, not mounted yet, and the marker that counts them."""

    def __init__(self, scroller: Callable[[], ChatScroll]) -> None:
        self._scroller = scroller
        self.waiting: list[Widget] = []
        """The blocks not mounted yet, oldest first."""
        self.marker: EarlierMarker | None = None
        self._revealing = False

    def __len__(self) -> int:
        return len(self.waiting)

    async def hold(self, older: list[Widget], first: Widget) -> None:
        """Keep ``older`` aside, with the marker above ``first`` (the oldest block mounted)."""
        self.waiting = list(older)
        if self.waiting:
            self.marker = EarlierMarker(marker_text(len(self.waiting)))
            await self._scroller().mount(self.marker, before=first)

    def forget(self) -> None:
        """The chat started over: nothing waits (the marker went with the chat's children)."""
        self.waiting = []
        self.marker = None

    async def drop(self, count: int) -> int:
        """Drop up to ``count`` of the oldest waiting blocks (the chat's bound); how many."""
        dropped = min(count, len(self.waiting))
        if dropped:
            del self.waiting[:dropped]
            await self._settle()
        return dropped

    async def cut_from(self, index: int) -> None:
        """Drop the waiting blocks from ``index`` on (an undone turn that began up here)."""
        del self.waiting[index:]
        await self._settle()

    def near_top(self) -> bool:
        """Whether the view is within a screen of the top while blocks wait."""
        scroller = self._scroller()
        return bool(self.waiting) and scroller.scroll_y < max(scroller.size.height, 1)

    def check(self) -> None:
        """Mount the next chunk once the screen is drawn, if the view is near the top."""
        if self.waiting and not self._revealing and self.near_top():
            self._revealing = True
            self._scroller().call_after_refresh(self._reveal)

    async def _reveal(self) -> None:
        try:
            marker = self.marker
            scroller = self._scroller()
            if not self.waiting or marker is None or marker.parent is not scroller:
                return
            chunk, self.waiting = self.waiting[-CHUNK:], self.waiting[:-CHUNK]
            height, top = scroller.virtual_size.height, scroller.scroll_y
            await scroller.mount_all(chunk, after=marker)
            await self._settle()
            # The chunk went in above the view: keep the view on what it showed (at the
            # bottom, anchored, that is where the anchor keeps it too).
            scroller.call_after_refresh(self._keep_view, height, top)
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
        if self.waiting:
            self.marker.update(marker_text(len(self.waiting)))
        else:
            marker, self.marker = self.marker, None
            await marker.remove()
