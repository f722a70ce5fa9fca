"""The sessions service: lists, forks, deletes and exports saved sessions for the browser.

A background service of the app (see ``agent.background_services``). The browser sends
``list_sessions`` / ``fork_session`` / ``delete_session`` / ``export_session`` ops
(``core/session_ops.py``); the work runs in a thread (a directory of long sessions must
not stall the loop) and the answer is a ``session_list`` or ``session_action`` event. The
UI never opens a journal itself.

Ids come from a front end: only the plain id of a journal in the sessions directory is
acted on (no prefixes, no ``last``, no paths), and the open session is never deleted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ml_intern_tui.core import saved_sessions
from ml_intern_tui.core.export_paths import export_path
from ml_intern_tui.core.journal import SUFFIX, JournalError
from ml_intern_tui.core.protocol import EventBase, SavedSession, SessionAction, SessionList
from ml_intern_tui.core.saved_sessions import SessionInfo
from ml_intern_tui.core.session_ops import (
    DeleteSession,
    ExportSession,
    ForkSession,
    ListSessions,
)

log = logging.getLogger(__name__)


def saved(info: SessionInfo) -> SavedSession:
    """A listing entry as the event carries it (the journal's path stays in the core)."""
    return SavedSession(
        session_id=info.session_id,
        title=info.title,
        model=info.model,
        created=info.created,
        updated=info.updated,
        messages=info.messages,
        cost_usd=info.cost_usd,
        prompt=info.prompt,
        last_answer=info.last_answer,
        cwd=info.cwd,
        forked_from=info.forked_from,
        unpriced_calls=info.unpriced_calls,
    )


def listing(directory: Path, current: str) -> list[SessionInfo]:
    """The sessions worth listing, newest first: those with a message, and ``current``
    (the open session is always there to be found, even before anything was typed)."""
    sessions = saved_sessions.list_sessions(directory)
    if current and Path(current).name == current:
        own = Path(directory) / f"{current}{SUFFIX}"
        if own.is_file() and all(info.session_id != current for info in sessions):
            with contextlib.suppress(JournalError):
                sessions.append(saved_sessions.session_info(own))
            sessions.sort(key=lambda i: (i.updated, i.session_id), reverse=True)
    return sessions


def warm_listing(directory: Path) -> int:
    """Summarise every saved session once (in a thread, after the app's start-up), so the
    browser's first open reads only the journals written since; how many were listed."""
    try:
        return len(saved_sessions.list_sessions(directory))
    except OSError:  # the browser says what is wrong when it is opened
        return 0


def export_session(info: SessionInfo, places: list[str]) -> Path:
    """Write a session's Markdown transcript into the first directory that takes it."""
    from ml_intern_tui.core.transcript import export_saved

    problem = "none of its directories exists"
    for place in dict.fromkeys(d for d in places if d):
        if not Path(place).is_dir():
            continue
        target = export_path("", place, info.session_id)
        try:
            return export_saved(info.path, target)
        except OSError as exc:
            problem = f"{target}: {exc.strerror}"
    raise OSError(problem)


class SessionBrowser:
    """Answers the sessions browser's ops from the sessions directory."""

    name = "sessions"

    def __init__(
        self,
        directory: Callable[[], Path],
        *,
        current: Callable[[], str],
        cwd: Callable[[], str],
        publish: Callable[[EventBase], None],
    ) -> None:
        """``current``: the open session's id; ``cwd``: its working directory (where an
        export goes when the exported session's own directory is gone)."""
        self.directory = directory
        self.current = current
        self.cwd = cwd
        self.publish = publish
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopped = asyncio.Event()

    def handle_op(self, op: Any) -> bool:
        """Take the browser's ops (True); any other op is someone else's (False)."""
        if isinstance(op, ListSessions):
            self._start(self._list())
        elif isinstance(op, ForkSession):
            self._start(self._act("fork", op.session_id))
        elif isinstance(op, DeleteSession):
            self._start(self._act("delete", op.session_id))
        elif isinstance(op, ExportSession):
            self._start(self._act("export", op.session_id))
        else:
            return False
        return True

    def _start(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work, name="sessions")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _list(self) -> None:
        directory = self.directory()
        try:
            infos = await asyncio.to_thread(listing, directory, self.current())
        except OSError as exc:
            error = f"Cannot read {directory}: {exc.strerror or exc}"
            self.publish(SessionList(sessions=[], directory=str(directory), error=error))
            return
        sessions = [saved(info) for info in infos]
        self.publish(SessionList(sessions=sessions, directory=str(directory)))

    async def _act(self, action: Any, session_id: str) -> None:
        answer = SessionAction(action=action, session_id=session_id)
        try:
            done = await asyncio.to_thread(self._do, action, session_id)
        except (JournalError, OSError) as exc:
            answer.error = str(exc) or type(exc).__name__
        except Exception as exc:  # a background service never takes the app down
            log.debug("sessions %s failed", action, exc_info=True)
            answer.error = f"{type(exc).__name__}: {exc}"
        else:
            if action == "fork":
                answer.new_id = done
            elif action == "export":
                answer.path = done
        self.publish(answer)

    def _journal(self, session_id: str) -> Path:
        """The journal of exactly ``session_id`` (ids only: a front end names it)."""
        if not session_id or Path(session_id).name != session_id or session_id[0] == ".":
            raise JournalError(f"{session_id!r} is not a session id")
        path = self.directory() / f"{session_id}{SUFFIX}"
        if not path.is_file():
            raise JournalError(f"no session {session_id!r} in {self.directory()}")
        return path

    def _do(self, action: str, session_id: str) -> str:
        """The work of one action, in a thread: the new id, the written path, or ``""``."""
        path = self._journal(session_id)
        if action == "fork":
            return saved_sessions.fork_session(self.directory(), session_id)
        if action == "delete":
            if session_id == self.current():
                raise JournalError("the open session cannot be deleted")
            saved_sessions.delete_session(self.directory(), session_id)
            return ""
        info = saved_sessions.session_info(path)
        return str(export_session(info, [info.cwd, self.cwd(), os.getcwd()]))

    async def run(self) -> None:
        await self._stopped.wait()

    async def aclose(self) -> None:
        self._stopped.set()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
