"""The completion popup shown above the prompt while a slash command is typed."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from ml_intern_tui.tui.commands import Completion


class SlashPopup(OptionList, can_focus=False):
    """Candidates for the command or argument being typed; the prompt keeps focus."""

    DEFAULT_CSS = """
    SlashPopup {
        display: none;
        height: auto;
        max-height: 10;
        border: round $accent;
        padding: 0;
        background: $surface;
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.candidates: list[Completion] = []

    def show(self, candidates: list[Completion]) -> None:
        """Replace the candidates (hide when there are none)."""
        self.candidates = candidates
        self.clear_options()
        for candidate in candidates:
            label = Content.assemble((candidate.label, "bold"))
            if candidate.help:
                label = Content.assemble(label, "  ", (candidate.help, "$text-muted"))
            self.add_option(Option(label))
        self.display = bool(candidates)
        if candidates:
            self.highlighted = 0

    @property
    def chosen(self) -> Completion | None:
        if not self.display or self.highlighted is None or not self.candidates:
            return None
        return self.candidates[min(self.highlighted, len(self.candidates) - 1)]
