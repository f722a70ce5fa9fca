"""A yes/no question answered with one key."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static


class ConfirmScreen(ModalScreen[bool]):
    """``y``/Enter answers yes; ``n``/Esc answers no."""

    BINDINGS = [
        Binding("y,enter", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
    ]

    DEFAULT_CSS = """
    ConfirmScreen {
        align: center middle;
        & > Vertical {
            width: auto; max-width: 80%; height: auto;
            border: round $warning; background: $surface; padding: 1 2;
        }
        & .keys { color: $text-muted; margin-top: 1; }
    }
    """

    def __init__(self, question: str, detail: str = "") -> None:
        super().__init__()
        self.question = question
        self.detail = detail

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Content.styled(self.question, "bold"))
            if self.detail:
                yield Static(Content(self.detail))
            yield Static(Content.from_markup("[b]y[/] yes · [b]n[/] no"), classes="keys")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
