"""Messages typed while the agent works, waiting to be sent when the turn ends."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from ml_intern_tui.safety.terminal import terminal_safe
from ml_intern_tui.tui.formatting import one_line


class QueuedMessages(Static):
    """``⧗ queued: …`` lines above the prompt; hidden when nothing is queued."""

    DEFAULT_CSS = """
    QueuedMessages {
        display: none;
        height: auto;
        max-height: 4;
        padding: 0 2;
        color: $text-muted;
        &.-some { display: block; }
    }
    """

    def show(self, texts: list[str], *, interrupting: bool) -> None:
        self.set_class(bool(texts), "-some")
        if not texts:
            self.update("")
            return
        when = "sends after the interrupt" if interrupting else "sends when the turn ends"
        lines = [
            # What was pasted into the prompt may hold escapes too: shown, never obeyed.
            Content.assemble(
                ("queued ", "bold $accent"), (one_line(terminal_safe(text), 70), "italic")
            )
            for text in texts
        ]
        lines.append(
            Content.styled(f"{len(texts)} queued · {when} · Esc interrupts", "$text-muted")
        )
        self.update(Content("\n").join(lines))
