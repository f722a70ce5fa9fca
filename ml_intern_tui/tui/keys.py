"""Key names terminals send for Alt+Enter and Shift+Enter, made into the names we bind.

Textual 8.2 reads three forms of "Enter with a modifier" as something else:

- Alt+Enter in most terminals (and tmux's ``M-Enter``) is ESC then CR. Textual waits for
  the escape delay, then reports a plain ``enter`` (the Alt is dropped for keys whose
  name is longer than one letter), so Alt+Enter sent the message instead of adding a
  line. We teach the parser the two-byte sequence as ``alt+enter``; it is then
  recognised at once, without the escape delay. (As in every terminal program, Esc and
  Enter arriving together — within the escape delay — read as Alt+Enter.)
- xterm's modifyOtherKeys form (what tmux sends with ``extended-keys``):
  ``CSI 27;2;13~`` is reported as ``shift+\\r`` and ``CSI 27;3;13~`` as ``\\r``.
  :func:`normalized` maps those names to ``shift+enter`` and ``alt+enter``.

Kitty-protocol terminals (kitty, WezTerm, foot, Ghostty) report ``shift+enter`` and
``alt+enter`` directly. A terminal that sends plain CR for Shift+Enter cannot be told
apart from Enter; Ctrl+J adds a line everywhere.
"""

from __future__ import annotations

from enum import Enum
from typing import cast

from textual import events

ALT_ENTER_SEQUENCES = ("\x1b\r",)
"""ESC CR: Alt+Enter in xterm, VTE, iTerm2, Windows Terminal and tmux."""

ALIASES = {"shift+\r": "shift+enter", "\r": "alt+enter", "ctrl+\r": "ctrl+enter"}
"""Names Textual gives to modifyOtherKeys Enter sequences → the names bindings use."""


class _Key(Enum):
    """Key names to add to Textual's sequence table (it reads ``.value`` of each)."""

    ALT_ENTER = "alt+enter"


def teach_parser() -> None:
    """Add ESC CR → ``alt+enter`` to Textual's table of key sequences (idempotent)."""
    from textual._ansi_sequences import ANSI_SEQUENCES_KEYS

    table = cast("dict[str, object]", ANSI_SEQUENCES_KEYS)  # a dict, typed as a Mapping
    for sequence in ALT_ENTER_SEQUENCES:
        table.setdefault(sequence, (_Key.ALT_ENTER,))


def normalized(event: events.Key) -> events.Key:
    """``event``, or a key event under the name our bindings use for it."""
    name = ALIASES.get(event.key)
    if name is None:
        return event
    return events.Key(name, None)
