"""fsync in a thread of its own: a writer flushes and goes on, the disk catches up.

The journal is written on the event loop after every message; an fsync there costs one
to several milliseconds per record (more on a busy or networked disk), twice per model
call. A flushed write is already safe from a killed process (the kernel has it); the
fsync, which only adds safety against a machine crash, runs here instead, right away,
one fsync covering every write made before it.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable


class DiskSync:
    """Keeps one open file fsync'ed behind its writer (``request`` after each write)."""

    def __init__(self, fileno: Callable[[], int], name: str = "journal-fsync") -> None:
        self._fileno = fileno
        self._name = name
        self._cond = threading.Condition()
        self._requested = 0
        self._synced = 0
        self._stopping = False
        self._thread: threading.Thread | None = None
        self.error: OSError | None = None
        """The last fsync failure (the file stays written; only its durability is unsure)."""

    def request(self) -> None:
        """Ask for an fsync of everything written so far (returns at once)."""
        with self._cond:
            if self._stopping:
                return
            self._requested += 1
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every requested fsync is done; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: self._synced >= self._requested, timeout)

    def stop(self) -> None:
        """Finish the pending fsync and end the thread (before the file is closed)."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join()

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._synced < self._requested or self._stopping)
                target = self._requested
                if target == self._synced:  # stopping, nothing pending
                    return
            try:
                os.fsync(self._fileno())
            except (OSError, ValueError) as exc:  # a closed or odd file: never crash a writer
                with contextlib.suppress(Exception):
                    self.error = exc if isinstance(exc, OSError) else OSError(str(exc))
            with self._cond:
                self._synced = target
                self._cond.notify_all()
