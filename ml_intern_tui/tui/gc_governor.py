"""Keeps Python's full garbage collections off the UI's hot path.

The app holds a lot of long-lived objects: the imported libraries (litellm alone is
hundreds of thousands) and the widgets of the conversation. CPython's cyclic collector
walks every one of them in a full (generation 2) collection, and it starts one whenever
enough new objects have survived — which a streaming answer does continuously. Each such
collection held the event loop for 0.3–1 s: keys, frames and the stream all stopped.

So the governor moves long-lived objects out of the collector's reach with
``gc.freeze()``: once the runtime is wired, then every second, busy or idle (a resumed
session's history, folded while no turn runs, is frozen the same way). Full collections
then only walk what is new, and stay short. (Freezing is O(1); a collection of the
young generations first would cost tens of milliseconds each time.)

Frozen objects are still freed by reference counting; only garbage *cycles* among them
(widgets removed from the screen, for instance) wait. Those are reclaimed by a sweep —
unfreeze, full collection, freeze — run only while the app is idle (no turn, no key for a
few seconds) and only when the heap has grown enough since the last sweep for it to be
worth one pause.

How much it grew is read from ``sys.getallocatedblocks()``, a counter. The obvious
measure, ``gc.get_freeze_count()``, walks the whole frozen list: 60–130 ms for the
300,000 objects of a running app, and it ran on every idle tick, so an idle app stalled
for that long once a second.
"""

from __future__ import annotations

import gc
import sys
import time
from collections.abc import Callable

FREEZE_EVERY_S = 1.0
"""How often long-lived objects are frozen (the governor's tick)."""
IDLE_BEFORE_SWEEP_S = 4.0
"""Quiet time (no turn, no key) before a sweep may run."""
SWEEP_GROWTH = 600_000
"""Memory blocks gained since the last sweep before another one is worth its pause
(a Python object is one to a few blocks)."""


def heap_size() -> int:
    """Allocated memory blocks (O(1)); 0 when Python runs without its own allocator."""
    return sys.getallocatedblocks()


class GcGovernor:
    """Freezes long-lived objects every tick; sweeps cycles while the app is idle."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        sweep_growth: int = SWEEP_GROWTH,
        idle_before_sweep_s: float = IDLE_BEFORE_SWEEP_S,
        size: Callable[[], int] = heap_size,
    ) -> None:
        self.clock = clock
        self.sweep_growth = sweep_growth
        self.idle_before_sweep_s = idle_before_sweep_s
        self.busy = False
        self.settled = False
        self.freezes = 0
        self.sweeps = 0
        self._size = size
        self._last_activity = clock()
        self._baseline = 0
        """The heap's size right after the last sweep (or the first freeze)."""
        self._checked_quiet = False
        """Without a block counter, the frozen set was counted once this quiet stretch."""

    def _measure(self) -> int:
        return self._size() or gc.get_freeze_count()

    def settle(self) -> None:
        """Freeze what start-up left behind (libraries, the screen): call once, when wired."""
        gc.freeze()
        self.settled = True
        self._baseline = self._measure()

    def activity(self) -> None:
        """A key, an event, anything that means the user may be waiting on the loop."""
        self._last_activity = self.clock()
        self._checked_quiet = False

    def tick(self) -> None:
        """Call about once a second from a timer."""
        if not self.settled:
            return
        if self.busy:
            self.activity()
        elif self.clock() - self._last_activity >= self.idle_before_sweep_s and self._grown():
            self.sweep()
            return
        gc.freeze()
        self.freezes += 1

    def _grown(self) -> bool:
        size = self._size()
        if not size:  # no counter: count the frozen list (slow), once per quiet stretch
            if self._checked_quiet:
                return False
            self._checked_quiet = True
            size = gc.get_freeze_count()
        return size - self._baseline >= self.sweep_growth

    def release(self) -> None:
        """Stop governing: everything frozen goes back to the collector."""
        gc.unfreeze()
        self.settled = False

    def sweep(self) -> None:
        """Reclaim frozen garbage cycles: one full collection, then freeze again."""
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        self.sweeps += 1
        self._baseline = self._measure()
        self._last_activity = self.clock()
