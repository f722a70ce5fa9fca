"""The prompt: a multi-line editor where Enter sends and another key adds a line."""

from __future__ import annotations

from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widgets import OptionList, TextArea

from ml_intern_tui.tui.keys import normalized, teach_parser

IDLE_PLACEHOLDER = "Ask the agent…  Enter sends · Ctrl+J new line · / commands"
BUSY_PLACEHOLDER = "Working… type ahead: Enter queues your message · Esc interrupts"
HISTORY_LIMIT = 1_000


class PromptInput(TextArea):
    """Keys: Enter sends, Ctrl+J / Shift+Enter / Alt+Enter add a line, Up/Down recall."""

    BINDINGS = [
        # Send and New line stay out of the footer (the placeholder names both), so the
        # footer's hints fit in 80 columns.
        Binding("enter", "submit", "Send", priority=True, id="prompt.send", show=False),
        Binding(
            "ctrl+j,shift+enter,alt+enter",
            "newline",
            "New line",
            priority=True,
            id="prompt.newline",
            key_display="^J",
            show=False,
        ),
        Binding("tab", "complete", "Complete", show=False, id="prompt.complete"),
        Binding("ctrl+r", "search_history", "History", show=False, id="prompt.history_search"),
        Binding("up", "move(-1)", show=False),
        Binding("down", "move(1)", show=False),
        Binding("escape", "close_popup", show=False),
    ]

    DEFAULT_CSS = """
    PromptInput {
        height: auto;
        min-height: 3;
        max-height: 10;
        border: round $primary 50%;
        padding: 0 1;
        &:focus { border: round $primary; }
    }
    """

    class Submit(Message):
        """Enter was pressed."""

    class Complete(Message):
        """Tab (or Enter over the popup) asked to take the highlighted completion."""

    def __init__(self, popup: OptionList, *, id: str | None = None) -> None:
        super().__init__(
            "",
            id=id,
            soft_wrap=True,
            show_line_numbers=False,
            tab_behavior="focus",
            placeholder=IDLE_PLACEHOLDER,
            highlight_cursor_line=False,
        )
        teach_parser()  # Alt+Enter (ESC CR) is a key of its own, not Enter
        self.popup = popup
        self.sent_history: list[str] = []
        self._history_index: int | None = None
        self._draft = ""

    @property
    def popup_open(self) -> bool:
        return bool(self.popup.display) and self.popup.option_count > 0

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in {"complete", "close_popup"}:
            return self.popup_open
        return True

    async def _on_key(self, event: events.Key) -> None:
        if normalized(event).key in {"shift+enter", "alt+enter"}:  # modifyOtherKeys forms
            event.prevent_default()
            event.stop()
            self.insert("\n")  # in order already: this is the widget's own key queue
            return
        await super()._on_key(event)

    def action_submit(self) -> None:
        self.post_message(self.Submit())

    def action_newline(self) -> None:
        # A priority binding runs when the app sees the key, before this widget has
        # inserted the characters typed just before it (still in its queue): insert from
        # the queue too, so a fast "text, Shift+Enter, text" keeps its order.
        self.call_later(self.insert, "\n")

    def action_complete(self) -> None:
        self.post_message(self.Complete())

    def action_close_popup(self) -> None:
        self.popup.display = False

    def action_move(self, delta: int) -> None:
        if self.popup_open:
            if delta < 0:
                self.popup.action_cursor_up()
            else:
                self.popup.action_cursor_down()
            return
        row, _ = self.cursor_location
        last_row = self.document.line_count - 1
        if delta < 0 and row == 0:
            self._recall(-1)
        elif delta > 0 and row == last_row and self._history_index is not None:
            self._recall(1)
        elif delta < 0:
            self.action_cursor_up()
        else:
            self.action_cursor_down()

    def on_mount(self) -> None:
        from ml_intern_tui.tui.prompt_history import HistoryKeeper

        self.keeper = HistoryKeeper(self)
        self.run_worker(self.keeper.load(), name="prompt-history", exit_on_error=False)

    def remember(self, text: str) -> None:
        """Add a sent message to the recall history (and the project's history file)."""
        if text.lstrip().lower().startswith("/login "):
            return  # a token typed after /login is never kept (it is refused, too)
        if getattr(self, "keeper", None) is not None:
            self.keeper.keep(text)
        if text and (not self.sent_history or self.sent_history[-1] != text):
            self.sent_history.append(text)
            del self.sent_history[:-HISTORY_LIMIT]
        self._history_index = None

    def _recall(self, delta: int) -> None:
        if not self.sent_history:
            return
        if self._history_index is None:
            if delta > 0:
                return
            self._draft = self.text
            index = len(self.sent_history) - 1
        else:
            index = self._history_index + delta
        if index >= len(self.sent_history):
            self._history_index = None
            self.load_text(self._draft)
        else:
            self._history_index = max(0, index)
            self.load_text(self.sent_history[self._history_index])
        self.move_cursor(self.document.end)

    def action_search_history(self) -> None:
        """Ctrl+R: search the sent prompts; the chosen one replaces the prompt's text."""
        from ml_intern_tui.tui.screens.history_search import HistorySearch

        query = self.text if "\n" not in self.text else ""

        def chosen(text: str | None) -> None:
            if text is not None:
                self._history_index = None
                self.set_text(text)
            self.focus()

        self.app.push_screen(HistorySearch(list(self.sent_history), query), chosen)

    def set_text(self, text: str) -> None:
        """Replace the content and put the cursor at the end."""
        self.load_text(text)
        self.move_cursor(self.document.end)
