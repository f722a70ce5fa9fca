"""Pane focus and the side column: which panes show at which width, and focus cycling.

Wide terminals show the chat beside the side column (tool calls, plan, jobs); Ctrl+T hides
the column. Narrow ones show the chat alone; Ctrl+T swaps the side column in its place.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widget import Widget

if TYPE_CHECKING:
    from ml_intern_tui.tui.app import MLInternApp


def focus_next_pane(app: MLInternApp) -> None:
    """Move focus to the next visible pane: (drawer), prompt, chat, tool tree, jobs."""
    order: list[Widget] = [app.prompt, app.chat.scroller, app.tools, app.jobs.job_list]
    if app.drawer.is_open:
        order.insert(0, app.drawer)
    chain = app.screen.focus_chain
    visible = [w for w in order if w in chain]
    if not visible:
        return
    focused = app.focused
    current = next(
        (
            i
            for i, w in enumerate(visible)
            if focused is not None and (focused is w or w in focused.ancestors)
        ),
        -1,
    )
    visible[(current + 1) % len(visible)].focus()


def toggle_side(app: MLInternApp) -> None:
    screen = app.main_screen
    if screen.has_class("-narrow"):
        show_side(app, not screen.has_class("-show-side"))
    else:
        show_side(app, screen.has_class("-hide-side"))


def show_side(app: MLInternApp, show: bool) -> None:
    screen = app.main_screen
    screen.set_class(show, "-show-side")
    screen.set_class(not show, "-hide-side")
    side = app.query_one("#side")
    if not show and app.focused is not None and side in app.focused.ancestors:
        app.prompt.focus()
