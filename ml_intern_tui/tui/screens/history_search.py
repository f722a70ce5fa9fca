"""Ctrl+R: search the prompts sent in this project, newest first; Enter puts one back."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from ml_intern_tui.safety.terminal import terminal_safe
from ml_intern_tui.tui.prompt_history import matches

LABEL_CHARS = 200


def label(text: str) -> Content:
    """One line for a prompt: its first line, and how many more there are."""
    first, *rest = text.strip().splitlines() or [""]
    shown = terminal_safe(first[:LABEL_CHARS])
    more = f"  (+{len(rest)} line{'s' if len(rest) != 1 else ''})" if rest else ""
    return Content.assemble(shown, (more, "$text-muted"))


class HistorySearch(ModalScreen[str | None]):
    """Type to narrow (every word must appear); Up/Down or Ctrl+R move; Enter takes it."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="history.cancel"),
        Binding("down,ctrl+r", "move(1)", show=False),
        Binding("up", "move(-1)", show=False),
    ]

    DEFAULT_CSS = """
    HistorySearch {
        align: center bottom;
        & > Vertical {
            width: 100%; height: auto; max-height: 60%;
            border: round $primary; background: $surface; padding: 0 1;
            margin-bottom: 3;
        }
        & OptionList { height: auto; max-height: 15; border: none; }
        & .empty { color: $text-muted; }
    }
    """

    def __init__(self, entries: list[str], query: str = "") -> None:
        super().__init__()
        self.entries = entries
        self.query_text = query
        self.shown: list[str] = []

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = "Search prompt history · Enter takes · Esc cancels"
            yield Input(self.query_text, placeholder="Type to search…", id="history-query")
            yield OptionList(id="history-options")
            yield Static("No prompt in this project's history matches.", classes="empty")

    def on_mount(self) -> None:
        self._fill(self.query_text)
        self.query_one(Input).focus()

    def _fill(self, query: str) -> None:
        self.shown = matches(self.entries, query)
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options([Option(label(t), id=str(i)) for i, t in enumerate(self.shown)])
        if self.shown:
            options.highlighted = 0
        options.display = bool(self.shown)
        self.query_one(".empty").display = not self.shown

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        self._fill(event.value)

    @on(Input.Submitted)
    def _submitted(self) -> None:
        options = self.query_one(OptionList)
        index = options.highlighted
        self.dismiss(self.shown[index] if index is not None and self.shown else None)

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.shown[event.option_index])

    def action_move(self, delta: int) -> None:
        options = self.query_one(OptionList)
        if delta > 0:
            options.action_cursor_down()
        else:
            options.action_cursor_up()

    def action_cancel(self) -> None:
        self.dismiss(None)
