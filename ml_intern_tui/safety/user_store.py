"""A small JSON file the app keeps for the user: trust decisions, remembered approvals.

These files live in the app's data directory, a protected path: no tool writes there
without a person approving it, so only the user's own answers change them. Writes are
atomic (a temporary file renamed into place) and serialised between processes with a
lock file. A file that cannot be read is one warning and counts as empty; the next write
keeps the broken one next to it (``<name>.corrupt``) rather than losing it silently.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

VERSION = 1


class StoreFile:
    """One JSON object with a ``version`` key, read whole and rewritten whole."""

    def __init__(self, path: Path, *, what: str) -> None:
        self.path = path
        self.what = what
        """What the file holds, for messages (``trusted projects``)."""

    def read(self) -> tuple[dict[str, Any], str | None]:
        """The stored object (empty when missing or broken) and a warning when broken."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return {}, None
        except OSError as exc:
            return {}, self._warning(f"cannot read it ({exc.strerror or exc})")
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            return {}, self._warning(f"not valid JSON ({exc})")
        if not isinstance(data, dict):
            return {}, self._warning("not a JSON object")
        if data.get("version") != VERSION:
            return {}, self._warning(f"unknown version {data.get('version')!r}")
        return data, None

    def update(self, change: Callable[[dict[str, Any]], bool]) -> bool:
        """Apply ``change`` to the stored object under the lock; write when it returns True."""
        with self._locked():
            data, warning = self.read()
            if warning is not None and self.path.exists():
                with contextlib.suppress(OSError):
                    os.replace(self.path, self.path.with_name(self.path.name + ".corrupt"))
            if not change(data):
                return False
            data["version"] = VERSION
            self._write(data)
            return True

    def _warning(self, problem: str) -> str:
        return (
            f"{self.path}: {problem}; no {self.what} are read from it until it is fixed "
            "or deleted (the next change keeps a copy as .corrupt)"
        )

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        lock = self.path.with_name(self.path.name + ".lock")
        handle = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                import fcntl
            except ImportError:  # pragma: no cover - Windows: one process at a time
                yield
                return
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        finally:
            os.close(handle)

    def _write(self, data: dict[str, Any]) -> None:
        text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        fd, temp = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:  # mkstemp: mode 0600
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise
