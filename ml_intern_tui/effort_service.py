"""The reasoning-effort service: answers ``set_effort`` and checks each model in use.

A background service (``runtime.agent.background_services``) around the app's ``EffortControl``
(``core/effort_control.py``): ``/effort`` arrives as a ``set_effort`` op, and every
``ready`` event (a session started, resumed, or switched model) has the current model
checked in the background — its ``effort`` event published, a probe started when the
books do not know what it takes. The turn itself reaches the same control through the
``effort`` service, before each model call.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from ml_intern_tui.core.bus import EventBus
from ml_intern_tui.core.effort_control import EffortControl
from ml_intern_tui.core.protocol import EventBase, Notice, Ready, SetEffort


class EffortService:
    """Routes ``set_effort`` to the control and starts its checks on ``ready``."""

    name = "effort"

    def __init__(self, control: EffortControl, loop: Any, bus: EventBus) -> None:
        self.control = control
        self.loop = loop
        self.bus = bus
        self._stopped = asyncio.Event()
        bus.add_listener(self._on_event)

    def _on_event(self, event: EventBase) -> None:
        if isinstance(event, Ready):
            # After the loop's own burst of start-up events, not in the middle of it.
            with contextlib.suppress(RuntimeError):
                asyncio.get_running_loop().call_soon(self._check)

    def _check(self) -> None:
        session = self.loop.session
        if session is not None:
            self.control.start(session)

    def handle_op(self, op: Any) -> bool:
        """Take ``set_effort`` (True); any other op is the loop's (False)."""
        if not isinstance(op, SetEffort):
            return False
        session = self.loop.session
        if session is None:  # typed before the session started: it starts with it
            self.control.preference = op.level
            self.loop.publish(Notice(text=f"Reasoning effort: {op.level or 'off'}."))
        else:
            self.control.set_preference(op.level, session)
        return True

    async def run(self) -> None:
        await self._stopped.wait()

    async def aclose(self) -> None:
        self._stopped.set()
        self.bus.remove_listener(self._on_event)
        await self.control.aclose()
