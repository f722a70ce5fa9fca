"""The prompt area: queued messages, the slash-command popup and the editor."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from textual import events, on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import TextArea

from ml_intern_tui.core import protocol as p
from ml_intern_tui.tui.commands import SlashRegistry
from ml_intern_tui.tui.mention_files import complete_mention, list_project_files, mentions_in
from ml_intern_tui.tui.widgets.prompt import PromptInput
from ml_intern_tui.tui.widgets.queued import QueuedMessages
from ml_intern_tui.tui.widgets.slash_popup import SlashPopup

FILES_FRESH_S = 30.0
"""The file list for ``@`` completion is listed again after this long."""


def _no_choices(_: str) -> list[str]:
    return []


class PromptBar(Vertical):
    """Owns completion; tells the app what the user sent."""

    DEFAULT_CSS = """
    PromptBar { height: auto; }
    """

    @staticmethod
    def user_input(text: str) -> p.UserInput:
        """The op for a message: its text and its ``@`` mentions (the core attaches them)."""
        return p.UserInput(text=text, mentions=mentions_in(text))

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
        self.empty_send: tuple[str, str] | None = None
        """(key, text): that key on an empty prompt sends the text (the demo's goal), until
        the first message goes (``tui/demo_intro.py``)."""
        self.files: list[str] | None = None
        """The project's files for ``@`` completion (listed when ``@`` is first typed)."""
        self._files_at = 0.0

    def compose(self) -> ComposeResult:
        yield self.queued
        yield self.popup
        yield self.input

    @on(TextArea.Changed, "#prompt")
    def _changed(self, event: TextArea.Changed | None = None) -> None:
        text = self.input.text
        candidates = self.registry.complete(text, self.arg_choices)
        if not candidates and "@" in text:
            if self.files is None or time.monotonic() - self._files_at > FILES_FRESH_S:
                self._list_files()
            candidates = complete_mention(text, self.files or [])
        self.popup.show(candidates)

    def _list_files(self) -> None:
        self._files_at = time.monotonic()

        def listed(files: list[str]) -> None:
            self.files = files
            self._changed()

        # The session's working directory (``ready`` says it; the demo's is a temporary one).
        session_dir = getattr(getattr(self.app, "header", None), "cwd", "")

        def work() -> None:
            project = Path(session_dir) if session_dir and Path(session_dir).is_dir() else None
            files = list_project_files(project or Path.cwd())
            self.app.call_from_thread(listed, files)

        self.run_worker(work, thread=True, group="mention-files", exclusive=True)

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
        elif chosen is not None and chosen.label.startswith("@"):
            self.input.set_text(chosen.text)  # Enter over an @ candidate takes it
            return
        if not text.strip():
            if self.empty_send is not None and self.empty_send[0] == "enter":
                self._send(self.empty_send[1])
            return
        self._send(text)

    def on_key(self, event: events.Key) -> None:
        offer = self.empty_send
        if offer is None or offer[0] == "enter" or event.key != offer[0]:
            return
        if not self.input.text.strip():
            event.stop()
            event.prevent_default()
            self._send(offer[1])

    def _send(self, text: str) -> None:
        if not text.startswith("/"):
            self.empty_send = None
        self.popup.show([])
        self.input.remember(text)
        self.input.clear()
        self.post_message(self.Sent(text))
