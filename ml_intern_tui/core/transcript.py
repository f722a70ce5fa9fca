"""A session as Markdown: the transcript the app keeps for ``/export`` (apart from the
screen, which prunes) and what ``ml-intern-tui export SESSION`` writes from a journal."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from ml_intern_tui.core import protocol as p
from ml_intern_tui.core.text_format import format_tokens, one_line, short_args, spend_figure

MAX_ENTRIES = 20_000


@dataclass
class Transcript:
    """Markdown sections built from events: who said what, which tools ran, what happened."""

    session_id: str = ""
    model: str = ""
    entries: list[str] = field(default_factory=list)
    _streamed: list[str] = field(default_factory=list)
    _last_spend: p.Spend | None = None

    def _add(self, text: str) -> None:
        self.entries.append(text)
        del self.entries[:-MAX_ENTRIES]

    def _flush_stream(self) -> None:
        if self._streamed:
            self._add("**Assistant**\n\n" + "".join(self._streamed).strip())
            self._streamed.clear()

    def record(self, event: p.EventBase) -> None:
        """Fold one event into the transcript (sub-agent text is left to the tool tree)."""
        if isinstance(event, p.Ready):
            self.session_id, self.model = event.session_id, event.model
        elif isinstance(event, p.TurnStarted) and event.text:
            self._flush_stream()
            self._add("**You**\n\n" + event.text)
        elif isinstance(event, p.AssistantDelta) and event.parent_id is None:
            self._streamed.append(event.text)
        elif isinstance(event, p.AssistantMessage) and event.parent_id is None:
            self._streamed.clear()
            if event.text.strip():
                self._add("**Assistant**\n\n" + event.text.strip())
        elif isinstance(event, p.ToolCall):
            self._flush_stream()
            indent = "  " if event.parent_id else ""
            self._add(f"{indent}- tool `{event.tool}` {short_args(event.args, 80)}".rstrip())
        elif isinstance(event, p.ToolResultEvent):
            self._add(f"  - {event.status}: {one_line(event.summary or event.output, 100)}")
        elif isinstance(event, p.Notice | p.LoopWarning):
            text = event.text if isinstance(event, p.Notice) else f"{event.kind}: {event.detail}"
            self._add(f"> {text}")
        elif isinstance(event, p.Error):
            self._add(f"> **error** {event.kind}: {event.message}")
        elif isinstance(event, p.Compacted):
            before, after = format_tokens(event.before), format_tokens(event.after)
            self._add(f"> context compacted {before} → {after} tokens")
        elif isinstance(event, p.Interrupted):
            self._flush_stream()
            self._add("> interrupted")
        elif isinstance(event, p.TurnComplete):
            self._flush_stream()
        elif isinstance(event, p.Spend):
            self._last_spend = event

    def markdown_so_far(self) -> str:
        """The conversation as Markdown, an answer still streaming included (``/copy all``)."""
        entries = list(self.entries)
        if self._streamed:
            entries.append("**Assistant**\n\n" + "".join(self._streamed).strip())
        return "\n\n".join(entries) + "\n"

    def to_markdown(self) -> str:
        self._flush_stream()
        head = [f"# ml-intern session {self.session_id}".rstrip(), ""]
        stamp = time.strftime("%Y-%m-%d %H:%M")
        head.append(f"Exported {stamp} · model {self.model or 'unknown'}")
        if self._last_spend is not None:
            spend = self._last_spend
            head[-1] += f" · spent {spend_figure(spend)}"
        return "\n".join(head) + "\n\n" + "\n\n".join(self.entries) + "\n"

    def markdown(self) -> str:
        """The transcript as Markdown with secrets scrubbed."""
        from ml_intern_tui.core.redact import redact

        return str(redact(self.to_markdown()))

    def export(self, path: Path) -> Path:
        """Write the transcript (secrets scrubbed)."""
        text = self.markdown()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path


def export_saved(journal: Path, target: Path) -> Path:
    """Write a saved session's transcript as Markdown (the sessions browser's ``e``).

    Secrets are scrubbed (as ``export`` does) and the journal's text is made terminal-safe.
    This reads a journal from the UI: it is an export the user asked for, not the screen
    rebuilding itself (a resumed session arrives as a ``history`` event).
    """
    return saved_transcript(journal).export(target)


def saved_transcript(journal: Path) -> Transcript:
    """A saved session's transcript, its text terminal-safe (not yet scrubbed: ``export``
    and ``markdown`` scrub)."""
    from ml_intern_tui.core.journal import load
    from ml_intern_tui.safety.terminal import safe_event, terminal_safe

    loaded = load(journal)
    transcript = Transcript(
        session_id=terminal_safe(str(loaded.meta.get("session_id") or journal.stem)),
        model=terminal_safe(str(loaded.meta.get("model") or "")),
    )
    for event in loaded.events:
        transcript.record(safe_event(event))
    return transcript
