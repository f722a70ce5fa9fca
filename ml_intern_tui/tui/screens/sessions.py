"""The sessions browser: saved sessions newest first, searched as you type.

Enter resumes the highlighted session, ``f`` forks it (a copy that goes on as a new
session), ``d`` deletes it after a question, ``e`` writes its transcript as Markdown.
Journals are read in a thread: a directory of long sessions must not freeze the screen.
The screen returns the id of the session to resume (or ``None``); the caller resumes it.
Sessions nobody typed into are not listed (every app start makes one), except the open
session, so that it is always there to be found.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import time
from collections.abc import Callable
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.coordinate import Coordinate
from textual.notifications import SeverityLevel
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Input, Static

from ml_intern_tui.core import journal as journal_store
from ml_intern_tui.core import saved_sessions
from ml_intern_tui.core.journal import JournalError
from ml_intern_tui.core.saved_sessions import SessionInfo
from ml_intern_tui.safety.terminal import terminal_safe
from ml_intern_tui.tui.formatting import format_usd, one_line

MODEL_WIDTH = 30
OTHER_COLUMNS = 82
"""Cells taken by every column but the title (model, when, counts, id, padding)."""


def relative_time(then: float, now: float) -> str:
    """``just now``, ``5 min ago``, ``3 h ago``, ``yesterday``, ``4 days ago``, else a date."""
    seconds = now - then
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86_400:
        return f"{int(seconds // 3600)} h ago"
    if seconds < 2 * 86_400:
        return "yesterday"
    if seconds < 7 * 86_400:
        return f"{int(seconds // 86_400)} days ago"
    return time.strftime("%Y-%m-%d", time.localtime(then))


def short_id(session_id: str) -> str:
    """The random tail of ``20261122-034512-a1b2c3`` (the date is in its own column)."""
    return session_id.rsplit("-", 1)[-1][:12] or session_id[:12]


def matches(info: SessionInfo, needle: str) -> bool:
    """Every word of the search appears in the title, first prompt, model or id."""
    haystack = " ".join((info.title, info.prompt, info.model, info.session_id)).lower()
    return all(word in haystack for word in needle.lower().split())


class SessionTable(DataTable[str | Content | Text]):
    """The list of sessions; Enter opens the highlighted one."""

    BINDINGS = [Binding("enter", "select_cursor", "Open", id="sessions.open")]


class SessionsScreen(ModalScreen[str | None]):
    """Browse saved sessions; dismisses with the id to resume, or ``None``."""

    BINDINGS = [
        Binding("f", "fork", "Fork", id="sessions.fork"),
        Binding("d,delete", "delete", "Delete", id="sessions.delete"),
        Binding("e", "export", "Export .md", id="sessions.export"),
        Binding("slash", "search", "Search", id="sessions.search"),
        Binding("escape", "close", "Close", id="sessions.close"),
        Binding("down", "focus_table", show=False),
    ]

    DEFAULT_CSS = """
    SessionsScreen {
        background: $background;
        & > Vertical { height: 1fr; padding: 0 1; }
        & #sessions-title { text-style: bold; color: $text-primary; padding: 0 1; }
        & #sessions-search { margin: 0 0 1 0; }
        & SessionTable { height: 1fr; }
        & #sessions-status { color: $text-muted; padding: 0 1; height: auto; }
        & #sessions-preview {
            height: auto; max-height: 10; padding: 0 1;
            border-top: solid $primary-muted; color: $foreground;
        }
    }
    """

    def __init__(
        self,
        directory: Path,
        *,
        current: str = "",
        clock: Callable[[], float] = time.time,
        search: str = "",
        export_dir: str = "",
    ) -> None:
        """``current`` is the open session (it cannot be deleted); ``export_dir`` is where
        exports go when a session's own working directory is gone."""
        super().__init__()
        self.directory = Path(directory)
        self.current = current
        self.clock = clock
        self.initial_search = search
        self.export_dir = export_dir
        self.sessions: list[SessionInfo] | None = None
        self.shown: list[SessionInfo] = []
        self.last_message = ""
        self.title_width = 40

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Sessions", id="sessions-title")
            yield Input(
                self.initial_search,
                placeholder="Search titles, models and ids…  (/ to search, ↓ to the list)",
                id="sessions-search",
            )
            yield SessionTable(id="sessions-table", cursor_type="row", zebra_stripes=True)
            yield Static("Loading sessions…", id="sessions-status")
            yield Static("", id="sessions-preview")
        yield Footer(compact=True, show_command_palette=False)

    @property
    def table(self) -> SessionTable:
        return self.query_one(SessionTable)

    @property
    def search(self) -> Input:
        return self.query_one("#sessions-search", Input)

    def on_mount(self) -> None:
        table = self.table
        self.title_width = max(20, min(100, self.app.size.width - OTHER_COLUMNS))
        table.add_column("Title", width=self.title_width, key="title")
        table.add_column("Model", key="model")
        table.add_column("When", key="when")
        table.add_column("Msgs", key="messages")
        table.add_column("Cost", key="cost")
        table.add_column("ID", key="id")
        table.focus()
        self.query_one("#sessions-preview").display = False
        self._load()

    @work(group="sessions-load", exclusive=True, exit_on_error=False)
    async def _load(self) -> None:
        try:
            sessions = await asyncio.to_thread(listing, self.directory, self.current)
        except OSError as exc:
            self._status(f"Cannot read {self.directory}: {exc.strerror}")
            return
        self.sessions = sessions
        self._fill()

    # ------------------------------------------------------------------ listing

    def _status(self, text: str) -> None:
        self.query_one("#sessions-status", Static).update(Content(text))

    def _fill(self) -> None:
        if self.sessions is None:
            return
        table = self.table
        keep = self.highlighted
        needle = self.search.value.strip()
        self.shown = [s for s in self.sessions if not needle or matches(s, needle)]
        table.clear()
        now = self.clock()
        for info in self.shown:
            table.add_row(*self._cells(info, now), key=info.session_id)
        if not self.sessions:
            self._status(f"No saved sessions yet. They are kept in {self.directory}.")
        elif not self.shown:
            self._status(f"No session matches {needle!r}.")
        else:
            total = len(self.sessions)
            count = f"{len(self.shown)} of {total}" if needle else str(total)
            noun = "session" if total == 1 else "sessions"
            self._status(self.last_message or f"{count} {noun}, newest first.")
        ids = [s.session_id for s in self.shown]
        if keep in ids:
            table.move_cursor(row=ids.index(keep))
        self._preview()

    def _cells(self, info: SessionInfo, now: float) -> list[str | Content | Text]:
        title = one_line(info.title or "(no message)", self.title_width - 2)
        if info.session_id == self.current:
            title_cell = Content.assemble(("● ", "$success"), (title, "bold"))
        elif info.forked_from:
            title_cell = Content.assemble(("⑂ ", "$accent"), title)
        else:
            title_cell = Content(title)
        cost = format_usd(info.cost_usd) if info.cost_usd else "–"
        if info.unpriced_calls:  # never $0.00 (or "–") for calls nobody could price
            cost = "unpriced" if not info.cost_usd else f"{cost}+unpriced"
        return [
            title_cell,
            Text(one_line(info.model or "?", MODEL_WIDTH)),  # literal: a str cell is markup
            relative_time(info.updated, now),
            str(info.messages),
            cost,
            short_id(info.session_id),
        ]

    @property
    def highlighted(self) -> str | None:
        """The id of the highlighted session."""
        table = self.table
        if not self.shown or table.row_count == 0:
            return None
        row = min(max(table.cursor_row, 0), table.row_count - 1)
        key = table.coordinate_to_cell_key(Coordinate(row, 0)).row_key.value
        return str(key) if key is not None else None

    def _info(self, session_id: str | None) -> SessionInfo | None:
        return next((s for s in self.shown if s.session_id == session_id), None)

    def _preview(self) -> None:
        preview = self.query_one("#sessions-preview", Static)
        info = self._info(self.highlighted)
        preview.display = info is not None
        if info is None:
            return
        lines: list[Content] = [Content.styled(_lines(info.prompt or info.title, 3), "bold")]
        if info.last_answer:
            answer = _lines(info.last_answer, 3)
            lines.append(Content.assemble(("Last answer  ", "$text-muted"), answer))
        facts = [info.session_id, info.cwd or "?", f"{info.messages} messages"]
        if info.cost_usd or info.unpriced_calls:
            money = format_usd(info.cost_usd) if info.cost_usd else ""
            facts.append(
                f"{money}+unpriced" if money and info.unpriced_calls else money or "unpriced"
            )
        if info.forked_from:
            facts.append(f"forked from {info.forked_from}")
        if info.session_id == self.current:
            facts.append("the current session")
        lines.append(Content.styled(" · ".join(facts), "$text-muted"))
        preview.update(Content("\n").join(lines))

    @on(Input.Changed, "#sessions-search")
    def _search_changed(self) -> None:
        self.last_message = ""
        self._fill()

    @on(Input.Submitted, "#sessions-search")
    def _search_submitted(self) -> None:
        self.action_open()

    @on(DataTable.RowHighlighted)
    def _row_highlighted(self) -> None:
        self._preview()

    @on(DataTable.RowSelected)
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    # ------------------------------------------------------------------ actions

    def _say(self, text: str, severity: SeverityLevel = "information") -> None:
        self.last_message = text
        self._status(text)
        self.notify(terminal_safe(text), severity=severity, timeout=6, markup=False)

    def action_search(self) -> None:
        self.search.focus()

    def action_focus_table(self) -> None:
        self.table.focus()

    def action_close(self) -> None:
        if self.search.has_focus and self.shown:
            self.table.focus()
        else:
            self.dismiss(None)

    def action_open(self) -> None:
        session_id = self.highlighted
        if session_id is None:
            return
        if session_id == self.current:
            self.notify("That is the session already open.", timeout=4)
            self.dismiss(None)
            return
        self.dismiss(session_id)

    def action_fork(self) -> None:
        session_id = self.highlighted
        if session_id is not None:
            self._fork(session_id)

    @work(group="sessions-action", exit_on_error=False)
    async def _fork(self, session_id: str) -> None:
        try:
            new_id = await asyncio.to_thread(
                saved_sessions.fork_session, self.directory, session_id
            )
        except JournalError as exc:
            self._say(f"Could not fork: {exc}", "error")
            return
        self.notify(f"Forked {session_id} as {new_id}; resuming the copy.", timeout=6, markup=False)
        self.dismiss(new_id)

    def action_delete(self) -> None:
        info = self._info(self.highlighted)
        if info is None:
            return
        if info.session_id == self.current:
            self._say(
                "The open session cannot be deleted: start another one with /new first.",
                "warning",
            )
            return
        from ml_intern_tui.tui.screens.confirm import ConfirmScreen

        detail = f"{info.title or '(no message)'} · {info.messages} messages · cannot be undone"

        def answered(yes: bool | None) -> None:
            if yes:
                self._delete(info.session_id)

        self.app.push_screen(ConfirmScreen(f"Delete session {info.session_id}?", detail), answered)

    @work(group="sessions-action", exit_on_error=False)
    async def _delete(self, session_id: str) -> None:
        try:
            await asyncio.to_thread(saved_sessions.delete_session, self.directory, session_id)
        except JournalError as exc:
            self._say(f"Could not delete: {exc}", "error")
            return
        if self.sessions is not None:
            self.sessions = [s for s in self.sessions if s.session_id != session_id]
        self.last_message = ""
        self._fill()
        self._say(f"Deleted session {session_id}.")

    def action_export(self) -> None:
        info = self._info(self.highlighted)
        if info is not None:
            self._export(info)

    @work(group="sessions-action", exit_on_error=False)
    async def _export(self, info: SessionInfo) -> None:
        places = [info.cwd, self.export_dir, os.getcwd()]
        try:
            written = await asyncio.to_thread(export_session, info, places)
        except (JournalError, OSError) as exc:
            self._say(f"Could not export: {exc}", "error")
            return
        self._say(f"Exported to {written}")


def listing(directory: Path, current: str) -> list[SessionInfo]:
    """The sessions worth listing, newest first: those with a message, and ``current``.

    Their texts (titles, previews, model, directory) come from journals on disk and are
    made terminal-safe here, once, for every cell and preview drawn from them.
    """
    sessions = saved_sessions.list_sessions(directory)
    if current and Path(current).name == current:
        own = Path(directory) / f"{current}{journal_store.SUFFIX}"
        if own.is_file() and all(info.session_id != current for info in sessions):
            try:
                sessions.append(saved_sessions.session_info(own))
            except JournalError:
                pass
            sessions.sort(key=lambda i: (i.updated, i.session_id), reverse=True)
    return [_terminal_safe_info(info) for info in sessions]


def _terminal_safe_info(info: SessionInfo) -> SessionInfo:
    return dataclasses.replace(
        info,
        title=terminal_safe(info.title),
        model=terminal_safe(info.model),
        prompt=terminal_safe(info.prompt),
        last_answer=terminal_safe(info.last_answer),
        cwd=terminal_safe(info.cwd),
        forked_from=terminal_safe(info.forked_from),
    )


def export_session(info: SessionInfo, places: list[str]) -> Path:
    """Write a session's Markdown transcript into the first directory that takes it."""
    from ml_intern_tui.tui.slash import export_path
    from ml_intern_tui.tui.transcript import export_saved

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


def _lines(text: str, limit: int) -> str:
    """At most ``limit`` non-empty lines of ``text``, each cut to a screen's width."""
    rows = [one_line(row, 150) for row in text.splitlines() if row.strip()]
    if len(rows) > limit:
        rows = [*rows[:limit], "…"]
    return "\n".join(rows)
