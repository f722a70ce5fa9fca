"""A journal's lines read for a summary: each line parsed only when it is looked at.

Describing a session (``saved_sessions.session_info``) needs its meta, its first user
message, its last answer, its last ``spend`` and how many messages it holds. Parsing
every line of every journal for that made the sessions browser slow (500 sessions,
34 MB: ~1 s on each opening). Our journal writes each record as compact JSON starting
with its ``kind`` (``{"kind":"message","message":{"role":"user",...``), so the kind, a
message's role and whether an event line can be a given type are read from the bytes;
a line is parsed when its content is needed. A line in any other shape is parsed at
once, so journals written otherwise read the same, only slower.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

_KIND_PREFIX = b'{"kind":"'
_ROLE_PREFIX = b'{"kind":"message","message":{"role":"'


class JournalLine:
    """One non-blank line of a journal: its kind, a message's role, the record on demand."""

    __slots__ = ("_parsed", "_record", "compact", "kind", "raw", "role")

    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        self._record: dict[str, Any] | None = None
        self._parsed = False
        self.kind = ""
        self.role = ""
        self.compact = raw.startswith(_KIND_PREFIX)
        if self.compact:
            end = raw.find(b'"', len(_KIND_PREFIX))
            self.kind = raw[len(_KIND_PREFIX) : end].decode("utf-8", "replace") if end > 0 else ""
            if raw.startswith(_ROLE_PREFIX):
                start = len(_ROLE_PREFIX)
                end = raw.find(b'"', start)
                self.role = raw[start:end].decode("utf-8", "replace") if end > 0 else ""
            elif self.kind == "message":
                self._read_shape()
        else:
            self._read_shape()

    def _read_shape(self) -> None:
        """Kind and role from the parsed record (a line not in our compact shape)."""
        record = self.record()
        self.kind = str(record.get("kind")) if record is not None else ""
        message = record.get("message") if record is not None else None
        self.role = str(message.get("role") or "") if isinstance(message, dict) else ""

    def record(self) -> dict[str, Any] | None:
        """The parsed record, or ``None`` for a line that is not one (torn, garbage)."""
        if not self._parsed:
            self._parsed = True
            try:
                value = json.loads(self.raw.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                value = None
            ok = isinstance(value, dict) and isinstance(value.get("kind"), str)
            self._record = value if ok else None
        return self._record

    def valid(self) -> bool:
        """Whether the line holds a record. A compact line is taken as one when it ends
        as a record does (parsing it to know would cost what this module saves); only
        a journal's torn last line is checked by parsing (``lines`` does it)."""
        if not self.compact or self._parsed:
            return self.record() is not None
        return self.raw.rstrip().endswith(b"}")

    def may_be_event(self, event_type: str) -> bool:
        """Whether this line can be an event of ``event_type`` (parse it to be sure)."""
        if self.kind != "event":
            return False
        if self.compact:
            return f'"type":"{event_type}"'.encode() in self.raw
        return True

    def event(self) -> dict[str, Any] | None:
        record = self.record()
        event = record.get("event") if record is not None else None
        return event if isinstance(event, dict) else None

    def message(self) -> dict[str, Any] | None:
        record = self.record()
        message = record.get("message", record) if record is not None else None
        return message if isinstance(message, dict) else None


def lines(data: bytes) -> Iterator[JournalLine]:
    """The journal's record lines in file order. The last line, when the file does not end
    with a newline (cut off mid-write), is parsed to check it."""
    parts = data.split(b"\n")
    last = len(parts) - 1
    for index, raw in enumerate(parts):
        if not raw.strip():
            continue
        line = JournalLine(raw.strip())
        if index == last and line.record() is None:
            continue
        if line.valid():
            yield line
