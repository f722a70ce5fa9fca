"""The session journal: one append-only JSONL file per session, the source of resume.

Every line is one JSON record with a ``kind``: ``meta`` (first line), ``event`` (a
protocol event), and ``message`` / ``replace`` / ``truncate`` / ``system`` (written by the
context manager, which alone knows how to rebuild history from them). The system prompt
is the first ``message`` of a new session (journals written before it was kept start
with the first user message; ``missing_system_slot`` tells them apart). A journal that
never got a user message is ``unused``: the loop discards it, and lists leave such
sessions out. The model's reasoning is kept as one ``reasoning_delta`` event per stretch
of reasoning, so a resumed chat can show it again; the other streaming events are left
out (their final forms are kept). Records are scrubbed with ``redact`` before they reach
the disk and flushed at once, so a killed process loses nothing it had finished;
conversation records are also fsync'ed, in a thread of their own (``disk_sync``) so the
event loop never waits on the disk (closing waits for it). Reading back is forgiving: a torn last line is
ignored and unreadable lines are counted, never fatal.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from pydantic import ValidationError

from ml_intern_tui import __version__
from ml_intern_tui.core.disk_sync import DiskSync
from ml_intern_tui.core.protocol import EVENT_ADAPTER, EventBase, ReasoningDelta
from ml_intern_tui.core.redact import redact

SUFFIX = ".jsonl"
FILES_SUFFIX = ".files"
"""A session's own files (long outputs spilled by tools) live in ``<id>.files/`` beside
its journal and go when the session goes."""
DURABLE_KINDS = frozenset({"message", "replace", "truncate"})
"""Record kinds that are fsync'ed: losing them would change the conversation on resume."""
SKIPPED_EVENT_TYPES = frozenset({"assistant_delta", "reasoning_delta", "tool_progress", "job_log"})
"""High-rate events the journal does not keep as they come (their final forms are kept)."""
NOT_RECORDED = SKIPPED_EVENT_TYPES | {"history", "slash_commands", "session_list", "session_action"}
"""Events never written: those above, a resumed session's past (already recorded), and
the sessions browser's answers (about other sessions)."""
MAX_REASONING_CHARS = 32_000
"""Reasoning kept per stretch: the end of a longer one (the part next to the answer)."""


class JournalError(Exception):
    """A journal cannot be found, created or read; the message is one line for a person."""


def new_session_id() -> str:
    """A fresh session id that sorts by creation time: ``20261122-034512-a1b2c3``."""
    return f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(3)}"


def files_dir(journal_path: Path) -> Path:
    """The directory of a session's own files: ``<id>.files/`` next to ``<id>.jsonl``."""
    path = Path(journal_path)
    return path.with_name(path.name.removesuffix(SUFFIX) + FILES_SUFFIX)


def remove_files(journal_path: Path) -> None:
    """Delete a session's own files (nothing happens when it has none)."""
    directory = files_dir(journal_path)
    if directory.is_dir() and not directory.is_symlink():
        shutil.rmtree(directory, ignore_errors=True)


class Journal:
    """An open journal file that records are appended to (thread-safe)."""

    def __init__(
        self, path: Path, handle: IO[str], meta: dict[str, Any], *, fresh: bool = False
    ) -> None:
        self.path = path
        self.meta = meta
        self.fresh = fresh
        """Created by this process (not a reopened one): ``discard`` may remove it."""
        self.has_user_message = False
        """A user message (or a turn) was recorded through this handle."""
        self._handle: IO[str] | None = handle
        self._disk = DiskSync(handle.fileno)
        self._lock = threading.Lock()
        self._reasoning: list[str] = []
        self._reasoning_event: ReasoningDelta | None = None

    @property
    def session_id(self) -> str:
        return str(self.meta.get("session_id") or self.path.stem)

    @property
    def files_dir(self) -> Path:
        """Where this session's own files go (created by whoever writes the first one)."""
        return files_dir(self.path)

    @classmethod
    def create(cls, directory: Path, session_id: str, meta: dict[str, Any]) -> Journal:
        """Start ``<directory>/<session_id>.jsonl`` with its ``meta`` record."""
        directory = Path(directory)
        path = directory / f"{session_id}{SUFFIX}"
        try:
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        except FileExistsError as exc:
            raise JournalError(
                f"a journal for session {session_id} already exists: {path}"
            ) from exc
        except OSError as exc:
            raise JournalError(f"cannot create the session journal {path}: {exc.strerror}") from exc
        record: dict[str, Any] = {
            "kind": "meta",
            "session_id": session_id,
            "created": time.time(),
            "model": "",
            "cwd": os.getcwd(),
            "version": __version__,
        }
        record.update({k: v for k, v in meta.items() if k != "kind"})
        record["session_id"] = session_id
        journal = cls(path, os.fdopen(fd, "a", encoding="utf-8"), record, fresh=True)
        journal.append(record, durable=True)
        return journal

    @classmethod
    def open_existing(cls, path: Path) -> Journal:
        """Reopen a journal to append to it (resume)."""
        path = Path(path)
        try:
            meta = _first_meta(path)  # a long journal is not read whole just for its head
            needs_newline = _ends_without_newline(path)
            handle = path.open("a", encoding="utf-8")
        except OSError as exc:
            raise JournalError(f"cannot open the session journal {path}: {exc.strerror}") from exc
        if needs_newline:
            # Keep a torn last line on its own line so the next record is not glued to it.
            handle.write("\n")
            handle.flush()
        meta = meta or {"kind": "meta", "session_id": path.stem}
        return cls(path, handle, meta)

    def append(self, record: dict[str, Any], *, durable: bool | None = None) -> None:
        """Write one record as one scrubbed JSON line and flush it.

        ``durable`` forces (or skips) an fsync; by default conversation records are
        fsync'ed (in the background: ``sync`` waits for it) and the others only flushed.
        """
        kind = record.get("kind")
        if not isinstance(kind, str) or not kind:
            raise ValueError("a journal record needs a 'kind'")
        line = json.dumps(redact(record), ensure_ascii=False, separators=(",", ":"), default=str)
        sync = kind in DURABLE_KINDS if durable is None else durable
        if kind in ("message", "replace") and not self.has_user_message:
            messages = [record.get("message")] if kind == "message" else record.get("messages")
            self.has_user_message = any(
                isinstance(m, dict) and m.get("role") == "user" for m in messages or []
            )
        with self._lock:
            handle = self._handle
            if handle is None:
                raise JournalError(f"the session journal {self.path} is closed")
            handle.write(line + "\n")
            handle.flush()
        if sync:
            self._disk.request()

    def sync(self, timeout: float | None = None) -> bool:
        """Wait until every conversation record written so far is fsync'ed."""
        return self._disk.wait(timeout)

    def record_event(self, event: EventBase) -> None:
        """Append a protocol event; streamed reasoning is gathered into one event."""
        if isinstance(event, ReasoningDelta):
            if event.parent_id is None:  # a sub-agent's reasoning is not shown in the chat
                if self._reasoning_event is None:
                    self._reasoning_event = event
                self._reasoning.append(event.text)
            return
        self._flush_reasoning()
        if getattr(event, "type", "") in NOT_RECORDED:
            return
        if getattr(event, "type", "") == "turn_started" and getattr(event, "text", ""):
            self.has_user_message = True
        self.append({"kind": "event", "event": event.model_dump(mode="json")})

    def _flush_reasoning(self) -> None:
        first, self._reasoning_event = self._reasoning_event, None
        text, self._reasoning = "".join(self._reasoning), []
        if first is None or not text.strip():
            return
        if len(text) > MAX_REASONING_CHARS:
            text = "…" + text[-MAX_REASONING_CHARS:]
        whole = first.model_copy(update={"text": text})
        self.append({"kind": "event", "event": whole.model_dump(mode="json")})

    @property
    def closed(self) -> bool:
        return self._handle is None

    @property
    def unused(self) -> bool:
        """Created here and never given a user message: an app start nobody typed into."""
        return self.fresh and not self.has_user_message

    def discard(self) -> None:
        """Close and delete the file (for an ``unused`` journal: it would only clutter lists)."""
        self._disk.stop()
        with self._lock:
            handle, self._handle = self._handle, None
        if handle is not None:
            handle.close()
        with contextlib.suppress(OSError):
            self.path.unlink()
        remove_files(self.path)

    def close(self) -> None:
        if self._handle is not None:
            self._flush_reasoning()
        self._disk.stop()
        with self._lock:
            handle, self._handle = self._handle, None
        if handle is not None:
            handle.flush()
            os.fsync(handle.fileno())
            handle.close()


def _first_meta(path: Path) -> dict[str, Any]:
    """The ``meta`` record, from the first line where ``create`` puts it (else a scan)."""
    with path.open("rb") as handle:
        first = handle.readline()
    try:
        record = json.loads(first.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        record = None
    if isinstance(record, dict) and record.get("kind") == "meta":
        return record
    return load(path).meta


def _ends_without_newline(path: Path) -> bool:
    with path.open("rb") as f:
        f.seek(0, os.SEEK_END)
        if f.tell() == 0:
            return False
        f.seek(-1, os.SEEK_END)
        return f.read(1) != b"\n"


@dataclass
class LoadedJournal:
    """A journal read back from disk."""

    path: Path
    meta: dict[str, Any] = field(default_factory=dict)
    records: list[dict[str, Any]] = field(default_factory=list)
    """Every readable record in file order, the ``meta`` record included."""
    events: list[EventBase] = field(default_factory=list)
    skipped: int = 0
    """Unreadable lines (garbage, or events this version cannot parse)."""
    torn: bool = False
    """The last line was cut off mid-write (expected after a crash; not counted in ``skipped``)."""


def _scan(path: Path) -> tuple[list[dict[str, Any]], int, bool]:
    """Parse a journal's lines: (records, unreadable lines, torn last line)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise JournalError(f"no session journal at {path}") from exc
    except OSError as exc:
        raise JournalError(f"cannot read the session journal {path}: {exc.strerror}") from exc
    lines = data.split(b"\n")
    complete = len(lines) - 1  # the piece after the last newline is unterminated
    records: list[dict[str, Any]] = []
    skipped = 0
    torn = False
    for index, raw in enumerate(lines):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            record = None
        if isinstance(record, dict) and isinstance(record.get("kind"), str):
            records.append(record)
        elif index >= complete:
            torn = True
        else:
            skipped += 1
    return records, skipped, torn


def load(path: Path) -> LoadedJournal:
    """Read a journal back: its meta, records and events, tolerating damage."""
    path = Path(path)
    records, skipped, torn = _scan(path)
    loaded = LoadedJournal(path=path, records=records, skipped=skipped, torn=torn)
    for record in records:
        kind = record["kind"]
        if kind == "meta" and not loaded.meta:
            loaded.meta = record
        elif kind == "event":
            try:
                loaded.events.append(EVENT_ADAPTER.validate_python(record.get("event")))
            except ValidationError:
                loaded.skipped += 1
    return loaded


def missing_system_slot(records: list[dict[str, Any]]) -> bool:
    """Whether the history starts without its system prompt (a journal from before it
    was recorded). Undo's ``truncate`` lengths count the system prompt, so whoever
    rebuilds such a history puts a blank system message in front first."""
    for record in records:
        kind = record.get("kind")
        if kind == "message":
            message = record.get("message")
            return not (isinstance(message, dict) and message.get("role") == "system")
        if kind in ("replace", "system", "truncate"):
            return False
    return False


def _is_system(record: dict[str, Any]) -> bool:
    message = record.get("message")
    return isinstance(message, dict) and message.get("role") == "system"
