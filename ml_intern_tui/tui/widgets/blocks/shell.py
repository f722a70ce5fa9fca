"""A command the user ran with ``!``: the command, then its output (the tail, capped)."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from ml_intern_tui.core import protocol as p

MAX_LINES = 40
"""Lines of output shown in the chat; the whole output is in the tool call's detail."""


class ShellBlock(Static):
    """``$ command`` while it runs; its output and outcome once the result arrives."""

    DEFAULT_CSS = """
    ShellBlock {
        margin: 1 0 0 0;
        padding: 0 1;
        background: $boost;
        border-left: outer $accent;
    }
    """

    def __init__(self, command: str) -> None:
        self.command = command
        self.output = ""
        super().__init__(self._body("running…", "$text-muted"), markup=False)

    def _body(self, tail: str, style: str, output: str = "") -> Content:
        parts: list[Content | str | tuple[str, str]] = [("$ ", "bold $accent"), self.command]
        if output:
            parts += ["\n", output]
        parts += ["\n", (tail, style)]
        return Content.assemble(*parts)

    def finish(self, event: p.ToolResultEvent) -> None:
        """Show the result (text already made terminal-safe by the app)."""
        lines = event.output.rstrip("\n").splitlines()
        # The bash tool ends its output with how the command ran ([exit 0 · …]);
        # the summary says the same, once.
        hidden = len(lines) - MAX_LINES
        shown = lines[-MAX_LINES:] if hidden > 0 else lines
        if hidden > 0:
            shown = [
                f"… {hidden} earlier line{'s' if hidden != 1 else ''} (Enter on the call)",
                *shown,
            ]
        self.output = "\n".join(shown)
        style = "$text-success" if event.ok else "$text-error"
        self.update(self._body(event.summary, style, self.output))
