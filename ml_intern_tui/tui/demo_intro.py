"""The demo's first run: its empty chat says what the demo is, and one key sends its goal.

The runtime offers ``demo_offer`` (intro, goal, key: the data of ``demo/workspace.py``)
only under ``--demo``; elsewhere nothing here happens. The intro is the chat's first
block (it stays as the top of the conversation), and pressing the key on an empty prompt
sends the goal, until the first message is sent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ml_intern_tui.tui.app import MLInternApp


def key_label(key: str) -> str:
    """``enter`` → ``Enter``, ``ctrl+g`` → ``Ctrl+G`` (as the footer writes keys)."""
    return "+".join(part.capitalize() if len(part) > 1 else part.upper() for part in key.split("+"))


def offer_hint(goal: str, key: str) -> str:
    return f"Press {key_label(key)} on the empty prompt to send the demo's goal: “{goal}” — or type your own."


def install(app: MLInternApp) -> None:
    """Show the demo's intro and arm the one-key goal (a no-op outside the demo)."""
    offer = getattr(app.runtime, "demo_offer", None)
    if not offer:
        return
    intro, goal, key = offer
    app.local_notice(intro, "info", hint=offer_hint(goal, key))
    app.prompt_bar.empty_send = (key, goal)
