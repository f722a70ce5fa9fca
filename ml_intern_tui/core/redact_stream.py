"""Redaction of text that arrives in pieces: a secret split between two pieces is caught.

Streamed answers, output lines written to spill files and job logs reach the redactor a
chunk at a time, and half a token looks like nothing. ``StreamRedactor`` releases text
only once it is final:

- whole lines, redacted as lines (no pattern spans a line end), except that a private
  key block is kept whole until its ``-----END`` line;
- with ``early=True`` (streamed answers), also the words of the unfinished line while
  that line holds nothing a pattern could start from (``may_hold_secret``): ordinary
  prose still streams word by word, and a line that mentions a token, a key, a
  password, ``Bearer``… waits for its end.

A line longer than ``hold_limit`` characters is let through in pieces: the stream must
move on, and such a line is rare in a secret's neighbourhood.
"""

from __future__ import annotations

import re

from ml_intern_tui.core.redact import may_hold_secret, redact_text

_PRIVATE_KEY_BEGIN_RE = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----")
_PRIVATE_KEY_END_RE = re.compile(r"-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----")

EARLY_LIMIT = 4096
"""An unfinished line longer than this waits for its end (checking it per piece costs)."""


def _open_private_key(text: str) -> int | None:
    """Where the line of a private key block that ``text`` opens but does not close starts."""
    if "PRIVATE KEY" not in text:
        return None
    begins = list(_PRIVATE_KEY_BEGIN_RE.finditer(text))
    if not begins:
        return None
    last = begins[-1]
    if _PRIVATE_KEY_END_RE.search(text, last.end()):
        return None
    return text.rfind("\n", 0, last.start()) + 1


def _common_prefix(a: str, b: str) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


class StreamRedactor:
    """Feed pieces in, get the redacted text that is final out (see the module docstring)."""

    def __init__(self, *, early: bool = False, hold_limit: int = 65_536) -> None:
        self.early = early
        self.hold_limit = hold_limit
        self._parts: list[str] = []
        self._size = 0
        self._sent = 0
        """Characters of the unfinished line already released (as they were: nothing to
        redact in them)."""
        self._risky = False

    @property
    def pending(self) -> bool:
        """Whether text is held back (an unfinished line or an open key block)."""
        return self._size > self._sent

    def feed(self, text: str) -> str:
        """The redacted text that ``text`` made final (often empty)."""
        if not text:
            return ""
        self._parts.append(text)
        self._size += len(text)
        if "\n" not in text:
            if self._size > self.hold_limit:
                return self.flush()
            return self._early() if self.early else ""
        pending = "".join(self._parts)
        cut = pending.rfind("\n") + 1
        begin = _open_private_key(pending[:cut])
        if begin is not None and len(pending) - begin <= self.hold_limit:
            cut = begin
        ready = self._release(pending[:cut]) if cut else ""
        rest = pending[cut:]
        self._parts = [rest] if rest else []
        self._size = len(rest)
        if cut:  # the released part ended a line: the rest starts a new one
            self._sent, self._risky = 0, False
        return ready + (self._early() if self.early and rest else "")

    def flush(self) -> str:
        """Everything still held, redacted (the stream ended)."""
        ready = self._release("".join(self._parts))
        self._parts, self._size, self._sent, self._risky = [], 0, 0, False
        return ready

    def _release(self, text: str) -> str:
        """``text`` redacted, minus the part of its first line already released."""
        if not text:
            return ""
        redacted = redact_text(text)
        sent = self._sent
        if not sent:
            return redacted
        # The released words held nothing to redact and no match starts in them, so the
        # redacted text begins with them; if it ever does not, release what differs.
        if redacted.startswith(text[:sent]):
            return redacted[sent:]
        return redacted[_common_prefix(redacted, text[:sent]) :]

    def _early(self) -> str:
        """The words of the unfinished line that are final already."""
        if self._risky or self._size > EARLY_LIMIT:
            return ""
        line = "".join(self._parts)
        self._parts = [line]
        cut = max(line.rfind(" "), line.rfind("\t")) + 1  # the last word may go on
        if cut <= self._sent:
            return ""
        if may_hold_secret(line):
            self._risky = True
            return ""
        ready, self._sent = line[self._sent : cut], cut
        return ready
