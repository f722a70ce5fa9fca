"""The retry queue of trace uploads: a small JSON file that outlives the process.

``$XDG_DATA_HOME/ml-intern-tui/trace-uploads.json`` lists the sessions whose trace still
has to go up (session id, journal path, visibility for a new dataset, attempts, last
error) plus a few "said it once" flags. A session is queued before its upload starts and
leaves the queue when the upload succeeds, so a crash, a failed upload or a quit in the
middle leaves it there for the next start. Writes are atomic (temporary file + rename)
and, where ``fcntl`` exists, serialised across processes with a lock file. A damaged file
is set aside (``.bad``) and the queue starts empty: losing a retry is better than
crashing the app.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

QUEUE_FILE = "trace-uploads.json"
VERSION = 1

try:  # POSIX only; elsewhere the in-process lock is all there is
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


@dataclass
class PendingUpload:
    """One session waiting for its trace to be uploaded."""

    session_id: str
    journal: str
    """Path of the session journal (the trace is rebuilt from it at upload time)."""
    private: bool = True
    """Visibility if the upload has to create the dataset."""
    attempts: int = 0
    last_error: str = ""
    queued_at: float = field(default_factory=time.time)

    @classmethod
    def from_json(cls, data: Any) -> PendingUpload | None:
        if not isinstance(data, dict) or not data.get("session_id") or not data.get("journal"):
            return None
        return cls(
            session_id=str(data["session_id"]),
            journal=str(data["journal"]),
            private=bool(data.get("private", True)),
            attempts=int(data.get("attempts") or 0),
            last_error=str(data.get("last_error") or ""),
            queued_at=float(data.get("queued_at") or time.time()),
        )


class UploadQueue:
    """The queue file; every method reads it fresh, so two app instances can share it."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    # ------------------------------------------------------------ reading

    def pending(self) -> list[PendingUpload]:
        """The queued uploads, oldest first."""
        with self._locked():
            state = self._read()
        return self._items(state)

    def flag(self, name: str) -> bool:
        with self._locked():
            return bool(self._read().get("flags", {}).get(name))

    # ------------------------------------------------------------ writing

    def put(self, item: PendingUpload) -> None:
        """Queue ``item``, replacing an earlier entry for the same session."""

        def change(state: dict[str, Any]) -> None:
            items = [i for i in self._items(state) if i.session_id != item.session_id]
            state["uploads"] = [asdict(i) for i in [*items, item]]

        self._update(change)

    def remove(self, session_id: str) -> None:
        def change(state: dict[str, Any]) -> None:
            items = [i for i in self._items(state) if i.session_id != session_id]
            state["uploads"] = [asdict(i) for i in items]

        self._update(change)

    def set_flag(self, name: str, value: bool = True) -> bool:
        """Set a flag; True when it changed (so "say it once" can check and set at once)."""
        changed = False

        def change(state: dict[str, Any]) -> None:
            nonlocal changed
            flags = state.setdefault("flags", {})
            changed = bool(flags.get(name)) != value
            flags[name] = value

        self._update(change)
        return changed

    # ------------------------------------------------------------ internals

    @staticmethod
    def _items(state: dict[str, Any]) -> list[PendingUpload]:
        raw = state.get("uploads")
        items = [PendingUpload.from_json(i) for i in raw] if isinstance(raw, list) else []
        return [i for i in items if i is not None]

    def _read(self) -> dict[str, Any]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except OSError:
            return {}
        try:
            state = json.loads(text)
        except ValueError:
            state = None
        if not isinstance(state, dict):
            with contextlib.suppress(OSError):
                os.replace(self.path, self.path.with_name(self.path.name + ".bad"))
            return {}
        return state

    def _write(self, state: dict[str, Any]) -> None:
        state["version"] = VERSION
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(state, handle, indent=1)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)

    def _update(self, change: Callable[[dict[str, Any]], None]) -> None:
        with self._locked():
            state = self._read()
            change(state)
            self._write(state)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with self._lock:
            if fcntl is None:
                yield
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            lock_path = self.path.with_name(self.path.name + ".lock")
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)
