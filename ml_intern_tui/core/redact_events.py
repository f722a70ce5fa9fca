"""Events scrubbed as the journal keeps them, for output that leaves the process.

Headless output (``--json`` lines and the plain-text answer) is read by scripts and
lands in CI logs, so it gets the same redaction as the journal. Whole events are
scrubbed one by one. Streamed text is the hard part: a secret may be split between two
``assistant_delta`` events, and neither half looks like one. So each stream (answer or
reasoning, per sub-agent) goes through a ``StreamRedactor``: ordinary prose comes out
word by word, a line that may hold a secret once it is whole and redacted, and whatever
is left when the stream ends (any event that is not itself streaming, or the end of the
run).
"""

from __future__ import annotations

from ml_intern_tui.core.protocol import (
    AssistantDelta,
    ContextUsage,
    EventBase,
    JobLog,
    McpStatus,
    ReasoningDelta,
    Spend,
    ToolProgress,
)
from ml_intern_tui.core.redact import redact
from ml_intern_tui.core.redact_stream import StreamRedactor

_CONCURRENT = (JobLog, ToolProgress, McpStatus, Spend, ContextUsage)
"""Events that may arrive in the middle of a stream without ending it."""


def redact_event(event: EventBase) -> EventBase:
    """``event`` with every secret scrubbed, exactly as the journal would keep it."""
    dumped = event.model_dump(mode="json")
    scrubbed = redact(dumped)
    if scrubbed == dumped:
        return event
    try:
        return type(event).model_validate(scrubbed)
    except ValueError:  # a marker where a field wants a pattern: keep it, unchecked
        return type(event).model_construct(**scrubbed)


class EventRedactor:
    """Turns the bus's events into redacted ones (streamed deltas regrouped by line)."""

    def __init__(self) -> None:
        self._streams: dict[tuple[str, str | None], tuple[StreamRedactor, EventBase]] = {}

    def __call__(self, event: EventBase) -> list[EventBase]:
        """The events to show for ``event`` (none while a streamed line is unfinished)."""
        if isinstance(event, AssistantDelta | ReasoningDelta):
            key = (event.type, event.parent_id)
            redactor = self._streams[key][0] if key in self._streams else StreamRedactor(early=True)
            self._streams[key] = (redactor, event)
            text = redactor.feed(event.text)
            return [event.model_copy(update={"text": text})] if text else []
        released = [] if isinstance(event, _CONCURRENT) else self.flush()
        released.append(redact_event(event))
        return released

    def flush(self) -> list[EventBase]:
        """The rest of every open stream, as one last delta each."""
        released: list[EventBase] = []
        for redactor, last in self._streams.values():
            text = redactor.flush()
            if text:
                released.append(last.model_copy(update={"text": text}))
        self._streams.clear()
        return released
