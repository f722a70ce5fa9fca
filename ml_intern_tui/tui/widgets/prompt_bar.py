"""The prompt area: queued messages, the slash-command popup and the editor."""

from __future__ import annotations

from collections.abc import Callable

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import TextArea

from ml_intern_tui.tui.commands import SlashRegistry
from ml_intern_tui.tui.widgets.prompt import PromptInput
from ml_intern_tui.tui.widgets.queued import QueuedMessages
from ml_intern_tui.tui.widgets.slash_popup import SlashPopup


def _no_choices(_: str) -> list[str]:
    return []


class PromptBar(Vertical):
    """Owns completion; tells the app what the user sent."""

    DEFAULT_CSS = """
    PromptBar { height: auto; }
    """

    class Sent(Message):
        """The user pressed Enter on some text (a message or a slash command)."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.arg_choices: Callable[[str], list[str]] = _no_choices
        self.registry = SlashRegistry(())
        """The app's commands (set by the app when it mounts)."""
        self.popup = SlashPopup(id="slash-popup")
        self.queued = QueuedMessages(id="queued")
        self.input = PromptInput(self.popup, id="prompt")

    def compose(self) -> ComposeResult:
        yield self.queued
        yield self.popup
        yield self.input

    @on(TextArea.Changed, "#prompt")
    def _changed(self, event: TextArea.Changed) -> None:
        self.popup.show(self.registry.complete(self.input.text, self.arg_choices))

    @on(PromptInput.Complete)
    def _complete(self, event: PromptInput.Complete) -> None:
        event.stop()
        chosen = self.popup.chosen
        if chosen is None:
            return
        command_only = " " not in chosen.text
        self.input.set_text(chosen.text + (" " if command_only else ""))

    @on(PromptInput.Submit)
    def _submit(self, event: PromptInput.Submit) -> None:
        event.stop()
        text = self.input.text
        chosen = self.popup.chosen
        typed = text.strip()
        partial = (
            typed.startswith("/") and " " not in typed and typed[1:].lower() not in self.registry
        )
        if chosen is not None and partial:
            # A partly typed command name runs the highlighted command.
            text = chosen.text
        if not text.strip():
            return
        self.popup.show([])
        self.input.remember(text)
        self.input.clear()
        self.post_message(self.Sent(text))
