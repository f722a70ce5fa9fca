"""The sessions browser: saved sessions newest first, searched as you type.

Enter resumes the highlighted session, ``f`` forks it (a copy that goes on as a new
session), ``d`` deletes it after a question, ``e`` writes its transcript as Markdown.
The screen reads no journal: it sends ``list_sessions``, ``fork_session``,
``delete_session`` and ``export_session`` ops and folds the ``session_list`` and
``session_action`` answers (the sessions service, ``services/session_browser.py``, does
the work in a thread). It returns the id of the session to resume (or ``None``); the
caller resumes it. Sessions nobody typed into are not listed (every app start makes
one), except the open session, so that it is always there to be found.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from pydantic import BaseModel
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.coordinate import Coordinate
from textual.notifications import SeverityLevel
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Input, Static

from ml_intern_tui.core import protocol as p
from ml_intern_tui.safety.terminal import terminal_safe
from ml_intern_tui.tui.formatting import format_usd, one_line
from ml_intern_tui.tui.messages import AgentEvent

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


def matches(info: p.SavedSession, needle: str) -> bool:
    """Every word of the search appears in the title, first prompt, model or id."""
    haystack = " ".join((info.title, info.prompt, info.model, info.session_id)).lower()
    return all(word in haystack for word in needle.lower().split())


class SessionTable(DataTable[str | Content | Text]):
    """The list of sessions; Enter opens the highlighted one."""

    BINDINGS = [Binding("enter", "select_cursor", "Open", id="sessions.open")]


class SessionsScreen(ModalScreen[str | None]):
    """Browse saved sessions; dismisses with the id to resume, or ``None``.

    The app hands it the answers to its ops (``EVENT_TYPES``), terminal-safe like every
    event.
    """

    EVENT_TYPES = frozenset({"session_list", "session_action"})

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
        submit: Callable[[BaseModel], None],
        *,
        current: str = "",
        clock: Callable[[], float] = time.time,
        search: str = "",
    ) -> None:
        """``submit`` hands an op to the core; ``current`` is the open session (it cannot
        be deleted)."""
        super().__init__()
        self.submit = submit
        self.current = current
        self.clock = clock
        self.initial_search = search
        self.directory = ""
        """Where the journals are kept (from the ``session_list`` answer)."""
        self.sessions: list[p.SavedSession] | None = None
        self.shown: list[p.SavedSession] = []
        self.last_message = ""
        self.title_width = 40
        self.pending: set[tuple[str, str]] = set()
        """The (action, session id) asked for and not answered yet."""

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
        self.submit(p.ListSessions())

    def on_agent_event(self, message: AgentEvent) -> None:
        event = message.event
        if isinstance(event, p.SessionList):
            self.directory = event.directory
            if event.error:
                self._status(event.error)
                return
            self.sessions = event.sessions
            self._fill()
        elif isinstance(event, p.SessionAction) and self._asked(event):
            self._answered(event)

    def _asked(self, event: p.SessionAction) -> bool:
        """Whether this screen asked for ``event``'s action (and takes its answer now)."""
        key = (event.action, event.session_id)
        asked = key in self.pending
        self.pending.discard(key)
        return asked

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

    def _cells(self, info: p.SavedSession, now: float) -> list[str | Content | Text]:
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

    def _info(self, session_id: str | None) -> p.SavedSession | None:
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

    def _ask(self, op: p.ForkSession | p.DeleteSession | p.ExportSession, action: str) -> None:
        self.pending.add((action, op.session_id))
        self.submit(op)

    def action_fork(self) -> None:
        session_id = self.highlighted
        if session_id is not None:
            self._ask(p.ForkSession(session_id=session_id), "fork")

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
                self._ask(p.DeleteSession(session_id=info.session_id), "delete")

        self.app.push_screen(ConfirmScreen(f"Delete session {info.session_id}?", detail), answered)

    def action_export(self) -> None:
        info = self._info(self.highlighted)
        if info is not None:
            self._ask(p.ExportSession(session_id=info.session_id), "export")

    def _answered(self, event: p.SessionAction) -> None:
        """Say how a fork, delete or export went; a fork resumes the copy."""
        if event.error:
            self._say(f"Could not {event.action}: {event.error}", "error")
        elif event.action == "fork":
            text = f"Forked {event.session_id} as {event.new_id}; resuming the copy."
            self.notify(text, timeout=6, markup=False)
            self.dismiss(event.new_id)
        elif event.action == "delete":
            if self.sessions is not None:
                self.sessions = [s for s in self.sessions if s.session_id != event.session_id]
            self.last_message = ""
            self._fill()
            self._say(f"Deleted session {event.session_id}.")
        else:
            self._say(f"Exported to {event.path}")


def _lines(text: str, limit: int) -> str:
    """At most ``limit`` non-empty lines of ``text``, each cut to a screen's width."""
    rows = [one_line(row, 150) for row in text.splitlines() if row.strip()]
    if len(rows) > limit:
        rows = [*rows[:limit], "…"]
    return "\n".join(rows)
