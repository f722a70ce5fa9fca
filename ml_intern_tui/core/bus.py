"""Publish/subscribe for events: one bounded queue per subscriber, never blocks the publisher.

A subscriber that falls behind keeps the newest events it can hold and is told how many
it lost (``dropped``). High-rate events are coalesced by the renderer, not here: the bus
delivers every event it can. The journal and headless output subscribe with queues large
enough that nothing is dropped in practice.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable

from ml_intern_tui.core.protocol import EventBase

DEFAULT_QUEUE_SIZE = 10_000


class Subscription:
    """A subscriber's bounded queue of events."""

    def __init__(self, bus: EventBus, maxsize: int) -> None:
        self._bus = bus
        self.queue: asyncio.Queue[EventBase | None] = asyncio.Queue(maxsize=maxsize)
        self.dropped = 0
        self.closed = False

    def _offer(self, event: EventBase | None) -> None:
        if self.closed:
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            # Drop the oldest so the newest state (and the close marker) always arrives.
            try:
                self.queue.get_nowait()
                self.dropped += 1
            except asyncio.QueueEmpty:  # pragma: no cover - race with a consumer
                pass
            self.queue.put_nowait(event)

    async def get(self) -> EventBase | None:
        """The next event, or ``None`` once the bus is closed."""
        return await self.queue.get()

    def get_nowait(self) -> EventBase | None:
        return self.queue.get_nowait()

    def close(self) -> None:
        self._bus.unsubscribe(self)

    async def __aiter__(self) -> AsyncIterator[EventBase]:
        while True:
            event = await self.get()
            if event is None:
                return
            yield event


class EventBus:
    """Fan-out of events to subscribers (queues) and listeners (synchronous callbacks)."""

    def __init__(self) -> None:
        self._subs: list[Subscription] = []
        self._listeners: list[Callable[[EventBase], None]] = []
        self._seq = itertools.count(1)
        self._closed = False

    def subscribe(self, maxsize: int = DEFAULT_QUEUE_SIZE) -> Subscription:
        sub = Subscription(self, maxsize)
        if self._closed:
            sub._offer(None)
        self._subs.append(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        sub.closed = True
        if sub in self._subs:
            self._subs.remove(sub)

    def add_listener(self, listener: Callable[[EventBase], None]) -> None:
        """Call ``listener`` synchronously for every event (journal, headless printer)."""
        self._listeners.append(listener)

    def remove_listener(self, listener: Callable[[EventBase], None]) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def publish(self, event: EventBase) -> EventBase:
        """Stamp ``seq`` and deliver. Must be called from the event loop's thread."""
        event.seq = next(self._seq)
        for listener in list(self._listeners):
            listener(event)
        for sub in list(self._subs):
            sub._offer(event)
        return event

    def close(self) -> None:
        self._closed = True
        for sub in list(self._subs):
            sub._offer(None)
