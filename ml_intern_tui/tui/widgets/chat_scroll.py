"""The chat's scroller: anchored to the bottom, and aware of when the user scrolls away."""

from __future__ import annotations

from textual.containers import VerticalScroll
from textual.reactive import var


class ChatScroll(VerticalScroll):
    """Sticks to the bottom while output streams, unless the user has scrolled up.

    ``away`` is true from the moment the user moves the view until they are back at the
    bottom; the chat uses it to show a "new output" hint instead of moving the view.
    """

    DEFAULT_CSS = """
    ChatScroll {
        layout: vertical;
        padding: 0 1 1 1;
        scrollbar-size-vertical: 1;
    }
    """

    BLANK = True
    away: var[bool] = var(False)

    def on_mount(self) -> None:
        self.anchor()

    def release_anchor(self) -> None:
        super().release_anchor()
        if self.max_scroll_y > 0 and self.scroll_target_y < self.max_scroll_y:
            self.away = True

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if self.away and new_value >= self.max_scroll_y:
            self.away = False

    @property
    def following(self) -> bool:
        """Whether the view follows the bottom (anchored, the user has not moved it)."""
        return self.is_anchored and not self._anchor_released

    def jump_to_bottom(self) -> None:
        """Back to the newest output, and follow it again."""
        self.away = False
        self.anchor()
