"""Pick one value from a list, filtering as you type."""

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


class PickerScreen(ModalScreen[str | None]):
    """Returns the chosen value, or ``None`` on Esc."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="picker.cancel"),
        Binding("down", "move(1)", show=False),
        Binding("up", "move(-1)", show=False),
    ]

    DEFAULT_CSS = """
    PickerScreen {
        align: center middle;
        & > Vertical {
            width: 70; max-width: 95%; height: auto; max-height: 80%;
            border: round $primary; background: $surface; padding: 0 1;
        }
        & OptionList { height: auto; max-height: 20; border: none; }
        & .empty { color: $text-muted; padding: 1; }
        & #picker-footnote { color: $text-muted; height: auto; }
    }
    """

    def __init__(
        self, title: str, values: list[tuple[str, str]], *, current: str | None = None
    ) -> None:
        """``values`` are ``(value, label)`` pairs."""
        super().__init__()
        self.title_text = title
        self.values = values
        self.current = current
        self.footnote = ""
        """A line under the options (where the facts come from); empty hides it."""

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = Content(self.title_text)
            yield Input(placeholder="Filter…", id="picker-filter")
            yield OptionList(id="picker-options")
            yield Static("Nothing to pick from.", classes="empty")
            yield Static(self.footnote, id="picker-footnote", markup=False)

    def on_mount(self) -> None:
        self._fill("")
        self.query_one("#picker-footnote").display = bool(self.footnote)

    def set_values(self, values: list[tuple[str, str]], footnote: str | None = None) -> None:
        """Replace the choices (e.g. with richer labels that arrived later), keeping the
        filter typed so far and the highlighted value."""
        options = self.query_one(OptionList)
        highlighted = options.highlighted
        keep = options.get_option_at_index(highlighted).id if highlighted is not None else None
        self.values = values
        self._fill(self.query_one(Input).value)
        for index in range(options.option_count):
            if keep is not None and options.get_option_at_index(index).id == keep:
                options.highlighted = index
        if footnote is not None:
            self.footnote = footnote
            note = self.query_one("#picker-footnote", Static)
            note.update(footnote)
            note.display = bool(footnote)

    def _fill(self, needle: str) -> None:
        options = self.query_one(OptionList)
        options.clear_options()
        needle = needle.lower()
        highlight = 0
        for value, label in self.values:
            if needle in value.lower() or needle in label.lower():
                if value == self.current:
                    highlight = options.option_count
                    label = f"{label}  (current)"
                # Labels may come from a server (a model catalog): literal and terminal-safe.
                options.add_option(Option(Content(terminal_safe(label)), id=value))
        self.query_one(".empty").display = options.option_count == 0
        if options.option_count:
            options.highlighted = highlight

    @on(Input.Changed, "#picker-filter")
    def _filter(self, event: Input.Changed) -> None:
        self._fill(event.value)

    @on(Input.Submitted, "#picker-filter")
    def _take_highlighted(self, event: Input.Submitted) -> None:
        options = self.query_one(OptionList)
        if options.highlighted is not None:
            option = options.get_option_at_index(options.highlighted)
            self.dismiss(option.id)
        elif event.value.strip():
            self.dismiss(event.value.strip())

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_move(self, delta: int) -> None:
        options = self.query_one(OptionList)
        if delta > 0:
            options.action_cursor_down()
        else:
            options.action_cursor_up()

    def action_cancel(self) -> None:
        self.dismiss(None)
