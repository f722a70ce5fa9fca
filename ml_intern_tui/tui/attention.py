"""Asking for the user's attention when the terminal is not in front of them.

A job that stalls, diverges, finishes or fails while the user is in another window (or
another tmux pane, or away from an SSH session) should reach them: the terminal bell, or
an OSC 9 desktop notification on terminals that show one. ``[ui] notify`` picks how:

- ``"auto"`` (default): OSC 9 on terminals known to turn it into a desktop notification
  (iTerm2, WezTerm, Ghostty, kitty), the bell everywhere else (and inside tmux or screen,
  which drop an OSC they do not know but pass the bell on to the outer terminal);
- ``"bell"`` / ``"osc9"``: that channel only; ``"off"``: never.

Only when the terminal is not focused. Textual turns focus reports (``CSI ?1004``) into
``app_focus``; terminals that do not send them (tmux without ``focus-events on``, older
terminals) never say the user left. Until the first focus-out arrives the focus is
*unknown*: an ``urgent`` request (a job alert) rings anyway -- a bell the user did not
need costs less than a stalled run they did not see -- and a routine one (a turn that
ended) stays quiet.

The notification text comes from jobs, tools and the model: it is made terminal-safe and
kept on one short line (``osc9_text``), so it can neither end the OSC early nor inject
anything after it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from typing import Literal

from ml_intern_tui.safety.terminal import terminal_safe

NotifyMode = Literal["auto", "bell", "osc9", "off"]
NOTIFY_MODES: tuple[NotifyMode, ...] = ("auto", "bell", "osc9", "off")

OSC9_MAX_CHARS = 180
"""Desktop notifications show a line or two; a longer text is cut with an ellipsis."""

MIN_GAP_S = 2.0
"""Requests closer together than this ring once (three jobs failing at once is one bell)."""

_OSC9_TERMINALS = frozenset({"iterm.app", "wezterm", "ghostty"})
"""``TERM_PROGRAM`` values of terminals that show OSC 9 as a desktop notification."""


def osc9_text(text: str, *, prefix: str = "ml-intern: ") -> str:
    """``text`` as one terminal-safe line for an OSC 9 body.

    Control characters become visible stand-ins (no ``BEL``/``ESC`` can close the OSC or
    start another sequence), line breaks and tabs become spaces, and the prefix keeps the
    body from starting with ``<digit>;`` (which ConEmu and Windows Terminal read as an
    OSC 9 sub-command, e.g. ``4;`` progress).
    """
    line = " ".join(terminal_safe(text).split())
    body = prefix + line
    if len(body) > OSC9_MAX_CHARS:
        body = body[: OSC9_MAX_CHARS - 1].rstrip() + "…"
    return body


def channel_for(mode: NotifyMode, environ: Mapping[str, str] | None = None) -> str | None:
    """The channel (``"bell"``/``"osc9"``) a mode uses on this terminal; None for off."""
    if mode == "off":
        return None
    if mode != "auto":
        return mode
    env = os.environ if environ is None else environ
    if env.get("TMUX") or env.get("STY"):
        return "bell"
    program = env.get("TERM_PROGRAM", "").lower()
    if program in _OSC9_TERMINALS or env.get("TERM", "") == "xterm-kitty":
        return "osc9"
    return "bell"


class Attention:
    """Rings the bell or sends an OSC 9 notification when the user is elsewhere.

    ``write`` puts raw bytes on the terminal (the app's driver); ``focused`` says whether
    the terminal has focus. The app calls ``focus_changed`` when Textual reports a change.
    """

    def __init__(
        self,
        mode: NotifyMode,
        *,
        write: Callable[[str], None],
        focused: Callable[[], bool],
        environ: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.mode: NotifyMode = mode
        self.write = write
        self._focused = focused
        self._environ = environ
        self._clock = clock
        self.focus_known = False
        """True once the terminal reported a focus change (it sends focus reports)."""
        self._last = -MIN_GAP_S
        self.sent: list[str] = []
        """The channels used, newest last (``/status`` and tests read it; kept short)."""

    def focus_changed(self, focused: bool) -> None:
        """Textual reported focus in or out: from now on the focus is known."""
        self.focus_known = True

    def away(self) -> bool | None:
        """True when the user is not looking, False when they are, None when unknown."""
        if not self._focused():
            return True
        return False if self.focus_known else None

    def request(self, text: str, *, urgent: bool = False) -> str | None:
        """Ask for attention about ``text``; returns the channel used, or None.

        Nothing happens when the terminal has focus, when ``notify`` is off, within
        ``MIN_GAP_S`` of the previous request, or, unless ``urgent``, when the focus is
        unknown.
        """
        channel = channel_for(self.mode, self._environ)
        away = self.away()
        if channel is None or away is False or (away is None and not urgent):
            return None
        now = self._clock()
        if now - self._last < MIN_GAP_S:
            return None
        self._last = now
        if channel == "osc9":
            self.write(f"\x1b]9;{osc9_text(text)}\x07")
        else:
            self.write("\x07")
        self.sent = [*self.sent[-9:], channel]
        return channel
