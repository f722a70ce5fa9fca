"""The one bus subscriber of the TUI: events in, Textual messages out.

High-rate events (assistant and reasoning deltas, job log lines) are batched to about
30 flushes a second (fewer while the event loop is behind): text is joined and log lines are concatenated, nothing is dropped.
Every other event is delivered at once, in bus order, after whatever was batched before it.
Each event goes through ``prepare`` (the app's: made terminal-safe) before delivery; a
resumed session's whole history is prepared in a worker thread, the events after it
waiting their turn, so its thousands of events do not hold the event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from ml_intern_tui.core.bus import Subscription
from ml_intern_tui.core.protocol import (
    AssistantDelta,
    EventBase,
    History,
    JobLog,
    ReasoningDelta,
)

FLUSH_INTERVAL_S = 1 / 30
MAX_FLUSH_INTERVAL_S = 0.25
"""When the loop is behind (a flush wakes up late), batches grow up to this interval."""
MAX_BATCH = 5_000
"""Most events drained in one go, so a flood cannot hold the loop for long."""

HIGH_RATE = (AssistantDelta, ReasoningDelta, JobLog)


def coalesce(batch: list[EventBase]) -> list[EventBase]:
    """Merge high-rate events without reordering anything that matters.

    Consecutive deltas of the same kind and parent become one delta. Job log lines merge
    with an earlier ``job_log`` of the same job as long as only high-rate events lie
    between them (log lines of one job are independent of the chat). Events are copied,
    never mutated: other subscribers hold the same objects.
    """
    out: list[EventBase] = []
    texts: dict[int, list[str]] = {}
    lines: dict[int, list[str]] = {}
    job_slot: dict[str, int] = {}
    for event in batch:
        if isinstance(event, AssistantDelta | ReasoningDelta):
            prev = out[-1] if out else None
            if (
                prev is not None
                and type(prev) is type(event)
                and getattr(prev, "parent_id", None) == event.parent_id
            ):
                texts[len(out) - 1].append(event.text)
                continue
            out.append(event)
            texts[len(out) - 1] = [event.text]
        elif isinstance(event, JobLog):
            slot = job_slot.get(event.job_id)
            if slot is not None:
                lines[slot].extend(event.lines)
                continue
            out.append(event)
            job_slot[event.job_id] = len(out) - 1
            lines[len(out) - 1] = list(event.lines)
        else:
            out.append(event)
            job_slot.clear()
    for index, parts in texts.items():
        if len(parts) > 1:
            out[index] = out[index].model_copy(update={"text": "".join(parts)})
    for index, merged in lines.items():
        original = out[index]
        if isinstance(original, JobLog) and len(merged) != len(original.lines):
            out[index] = original.model_copy(update={"lines": merged})
    return out


class EventBridge:
    """Reads a subscription and hands coalesced events to ``deliver`` in order."""

    def __init__(
        self,
        subscription: Subscription,
        deliver: Callable[[EventBase], None],
        *,
        on_close: Callable[[], None] | None = None,
        interval: float = FLUSH_INTERVAL_S,
        prepare: Callable[[EventBase], EventBase] | None = None,
    ) -> None:
        self._sub = subscription
        self._deliver = deliver
        self._prepare = prepare
        self._on_close = on_close
        self._interval = interval
        self._pace = interval
        self._closed = False
        self.delivered = 0
        self.received = 0

    def _drain(self, batch: list[EventBase]) -> None:
        while len(batch) < MAX_BATCH:
            try:
                event = self._sub.get_nowait()
            except asyncio.QueueEmpty:
                return
            if event is None:
                self._closed = True
                return
            batch.append(event)

    def _adapt(self, late: float) -> None:
        """Longer batches while the loop wakes us late, back to the base rate when it keeps up.

        Each flush costs the UI a layout and a frame, so fewer, larger flushes are what
        lets a busy loop catch up (and keeps time for keys) instead of falling further back.
        """
        if late > self._pace / 2:
            self._pace = min(MAX_FLUSH_INTERVAL_S, self._pace * 2)
        else:
            self._pace = max(self._interval, self._pace * 0.8)

    async def _prepared(self, event: EventBase) -> EventBase:
        if self._prepare is None:
            return event
        if isinstance(event, History):  # a whole session: off the loop, still in order
            return await asyncio.to_thread(self._prepare, event)
        return self._prepare(event)

    async def run(self) -> None:
        """Deliver until the bus closes (or the task is cancelled)."""
        loop = asyncio.get_running_loop()
        last_flush = 0.0
        try:
            while not self._closed:
                first = await self._sub.get()
                if first is None:
                    break
                batch = [first]
                self._drain(batch)
                only_high_rate = all(isinstance(e, HIGH_RATE) for e in batch)
                wait = self._pace - (loop.time() - last_flush)
                if only_high_rate and wait > 0 and not self._closed:
                    due = loop.time() + wait
                    await asyncio.sleep(wait)
                    self._adapt(loop.time() - due)
                    self._drain(batch)
                self.received += len(batch)
                for event in coalesce(batch):
                    self._deliver(await self._prepared(event))
                    self.delivered += 1
                last_flush = loop.time()
        finally:
            self._sub.close()
        if self._on_close is not None:
            self._on_close()
