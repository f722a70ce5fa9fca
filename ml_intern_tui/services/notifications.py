"""Notifications: Slack messages when the agent needs you, fails, finishes, or a job ends or stalls.

The :class:`Notifier` is a background service (see ``core.services.BackgroundService``). A bus
listener turns events into messages for each destination that wants them and puts them
on that destination's queue; one worker per destination posts them in order. Nothing
here can block or break the agent: the listener only enqueues, a full queue drops, and
a failed delivery becomes one warning notice (then silence until that destination works
again). At shutdown ``aclose`` gives the queues a short, bounded time to drain, so the
last ``turn_complete`` of a headless run still goes out. Local jobs that the quit itself
stops are not reported as cancelled: the notifier watches the ops (``handle_op``) for
``shutdown``, and for the ``job_cancel`` of a job a person stopped on purpose.

Destinations come from ``notify_destinations``, the wording from ``notify_messages``.
Every text is scrubbed by :func:`~ml_intern_tui.core.redact.redact_text` first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ml_intern_tui.config.schema import (
    NotificationsConfig,
)
from ml_intern_tui.core.notify_ops import SlackTest
from ml_intern_tui.core.protocol import (
    ApprovalRequired,
    Error,
    EventBase,
    JobCancel,
    JobUpdated,
    Notice,
    Ready,
    Shutdown,
    TurnComplete,
)
from ml_intern_tui.core.redact import redact_text
from ml_intern_tui.integrations.slack import Level, SlackMessage
from ml_intern_tui.integrations.slack_client import SlackClient, SlackError
from ml_intern_tui.jobs.registry import FINAL_STATUSES
from ml_intern_tui.services.notify_destinations import Destination, resolve_destinations
from ml_intern_tui.services.notify_messages import (
    approval_message,
    error_message,
    job_alert_message,
    job_message,
    turn_message,
)
from ml_intern_tui.services.slack_test import run_slack_test

if TYPE_CHECKING:
    from ml_intern_tui.core.bus import EventBus

log = logging.getLogger(__name__)

FLUSH_TIMEOUT_S = 5.0
"""How long shutdown waits for queued messages before giving up on them."""
MAX_QUEUED = 100
"""Messages one destination may hold; more are dropped (with one notice)."""
TOOL_WAIT_S = 10.0
"""How long the ``notify`` tool waits for a delivery before reporting it as queued."""


@dataclass
class _Delivery:
    message: SlackMessage
    result: asyncio.Future[str | None] | None = None
    """Set for the ``notify`` tool: ``None`` when sent, else the error line."""


_STOP = object()


@dataclass
class _Lane:
    """One destination's queue, worker and failure streak."""

    destination: Destination
    queue: asyncio.Queue[Any] = field(default_factory=asyncio.Queue)
    worker: asyncio.Task[None] | None = None
    current: _Delivery | None = None
    failing: bool = False
    lost: int = 0
    full: bool = False


class Notifier:
    """Sends notifications for the session's events, and for the ``notify`` tool."""

    name = "notifications"

    def __init__(
        self,
        config: NotificationsConfig,
        *,
        publish: Callable[[EventBase], None],
        bus: EventBus,
        env: Mapping[str, str] | None = None,
        client: SlackClient | None = None,
        flush_timeout_s: float = FLUSH_TIMEOUT_S,
    ) -> None:
        self.config = config
        self._publish = publish
        self._bus = bus
        destinations, self._problems = resolve_destinations(
            config, os.environ if env is None else env
        )
        self._lanes = {d.name: _Lane(d) for d in destinations}
        self.client = client or SlackClient()
        self.flush_timeout_s = flush_timeout_s
        self._context: dict[str, str] = {}
        self._jobs_done: set[str] = set()
        self._cancelled_on_purpose: set[str] = set()
        self._quitting = False
        self._closed = False
        self._tests: set[asyncio.Task[None]] = set()
        # Listening from the start: events published before ``run`` is scheduled (the
        # session's first ones) wait in the queues for the workers.
        self._listening = self.active
        if self._listening:
            bus.add_listener(self._on_event)

    # ---------------------------------------------------------------- queries

    @property
    def active(self) -> bool:
        return bool(self._lanes)

    def destinations(self) -> list[Destination]:
        return [lane.destination for lane in self._lanes.values()]

    def agent_destinations(self) -> list[str]:
        """Names the ``notify`` tool may post to."""
        return [d.name for d in self.destinations() if d.allow_agent]

    def context_line(self) -> str:
        parts = [f"session `{self._context['session']}`"] if self._context.get("session") else []
        if self._context.get("model"):
            parts.append(f"model `{self._context['model']}`")
        if self._context.get("cwd"):
            parts.append(f"`{self._context['cwd']}`")
        return " · ".join(parts)

    # ---------------------------------------------------------------- service

    async def run(self) -> None:
        """Start one worker per destination; never raises."""
        for problem in self._problems:
            self._notice("warning", f"Notifications: {problem}")
        if not self._lanes or self._closed:
            return
        for lane in self._lanes.values():
            lane.worker = asyncio.create_task(
                self._work(lane), name=f"notify:{lane.destination.name}"
            )
        # ``wait`` (unlike ``gather``) leaves the workers running when this task is
        # cancelled at shutdown: ``aclose`` drains them.
        await asyncio.wait([lane.worker for lane in self._lanes.values() if lane.worker])

    async def aclose(self) -> None:
        """Stop listening, give queued messages a bounded time, then close the client."""
        self._closed = True
        for test in list(self._tests):
            test.cancel()
        if self._listening:
            self._bus.remove_listener(self._on_event)
            self._listening = False
        workers = []
        for lane in self._lanes.values():
            if lane.worker is not None and not lane.worker.done():
                lane.queue.put_nowait(_STOP)
                workers.append(lane.worker)
        if workers:
            _, late = await asyncio.wait(workers, timeout=self.flush_timeout_s)
            for task in late:
                task.cancel()
            for task in late:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        left = 0
        for lane in self._lanes.values():
            unsent = [lane.current, *_drain(lane.queue)]
            for item in unsent:
                if isinstance(item, _Delivery):
                    left += 1
                    if item.result is not None and not item.result.done():
                        item.result.set_result("not sent: the app closed first")
        if left:
            self._notice("warning", f"{left} notification(s) were not sent before exit.")
        with contextlib.suppress(Exception):
            await self.client.aclose()

    def handle_op(self, op: Any) -> bool:
        """See the ops on their way to the loop (never takes one: always False).

        After ``shutdown`` the loop kills the running local jobs; their ``cancelled``
        is the quit, not news. A ``job_cancel`` (the jobs pane) marks a job stopped on
        purpose, still worth a message, and so is one the agent cancelled before the
        quit (a cancel racing the quit itself counts as the quit's).
        """
        if isinstance(op, SlackTest):  # ``/slack test``: answered by notices
            task = asyncio.create_task(run_slack_test(self, op), name="slack-test")
            self._tests.add(task)
            task.add_done_callback(self._tests.discard)
            return True
        if isinstance(op, Shutdown):
            self._quitting = True
        elif isinstance(op, JobCancel):
            self._cancelled_on_purpose.add(op.job_id)
        return False

    # ---------------------------------------------------------------- events

    def _on_event(self, event: EventBase) -> None:
        try:
            self._route(event)
        except Exception:  # a notification must never break the publisher
            log.exception("notification for %s failed", type(event).__name__)

    def _route(self, event: EventBase) -> None:
        if isinstance(event, Ready):
            self._context = {"session": event.session_id, "model": event.model, "cwd": event.cwd}
            return
        kind, message = self._message_for(event)
        lanes = [lane for lane in self._lanes.values() if kind in lane.destination.events]
        if message is None or not lanes:
            return
        message = self._finish(message)
        for lane in lanes:
            self._enqueue(lane, _Delivery(message))

    def _message_for(self, event: EventBase) -> tuple[str, SlackMessage | None]:
        if isinstance(event, ApprovalRequired) and event.items:
            return "approval_required", approval_message(event)
        if isinstance(event, Error):
            return "error", error_message(event)
        if isinstance(event, TurnComplete):
            return "turn_complete", turn_message(event, self.config.preview_chars)
        if isinstance(event, Notice) and event.alert in ("stalled", "diverging"):
            return "job_alert", job_alert_message(event)
        if isinstance(event, JobUpdated) and event.status in FINAL_STATUSES:
            if event.job_id in self._jobs_done or self._stopped_by_quit(event):
                return "job_finished", None
            self._jobs_done.add(event.job_id)
            return "job_finished", job_message(event)
        return "", None

    def _stopped_by_quit(self, event: JobUpdated) -> bool:
        return (
            self._quitting
            and event.kind == "local"
            and event.status == "cancelled"
            and event.job_id not in self._cancelled_on_purpose
        )

    def _finish(self, message: SlackMessage) -> SlackMessage:
        """Redacted, with the context line (session, model, directory)."""
        return SlackMessage(
            redact_text(message.title),
            redact_text(message.body),
            message.level,
            redact_text(message.context or self.context_line()),
        )

    def _enqueue(self, lane: _Lane, delivery: _Delivery) -> bool:
        if self._closed:
            return False
        if lane.queue.qsize() >= MAX_QUEUED:
            if not lane.full:
                lane.full = True
                self._notice(
                    "warning",
                    f"Slack destination '{lane.destination.name}' is backed up; "
                    "new notifications are dropped until it catches up.",
                )
            return False
        lane.full = False
        lane.queue.put_nowait(delivery)
        return True

    # ---------------------------------------------------------------- agent

    async def post(
        self,
        text: str,
        *,
        title: str,
        level: Level = "info",
        destination: str | None = None,
        wait_s: float = TOOL_WAIT_S,
    ) -> list[tuple[str, str | None, bool]]:
        """Post for the ``notify`` tool: ``(name, error or None, delivered)`` per destination.

        Waits up to ``wait_s`` for the deliveries; one still being retried then is
        reported as not yet delivered and goes on in the background.
        """
        names = [destination] if destination else self.agent_destinations()
        unknown = [name for name in names if name not in self._lanes]
        if unknown:
            raise ValueError(f"no notification destination named {unknown[0]!r}")
        message = self._finish(SlackMessage(title, text, level))
        loop = asyncio.get_running_loop()
        pending: dict[str, asyncio.Future[str | None]] = {}
        outcome: list[tuple[str, str | None, bool]] = []
        for name in names:
            future: asyncio.Future[str | None] = loop.create_future()
            if self._enqueue(self._lanes[name], _Delivery(message, future)):
                pending[name] = future
        if pending:
            await asyncio.wait(list(pending.values()), timeout=wait_s)
        for name in names:
            future_or_none = pending.get(name)
            if future_or_none is None:
                outcome.append((name, "notifications are shutting down or backed up", True))
            elif future_or_none.done():
                outcome.append((name, future_or_none.result(), True))
            else:
                outcome.append((name, None, False))
        return outcome

    # ---------------------------------------------------------------- worker

    async def _work(self, lane: _Lane) -> None:
        while True:
            item = await lane.queue.get()
            if item is _STOP:
                return
            assert isinstance(item, _Delivery)
            lane.current = item
            error = await self._deliver(lane, item.message)
            lane.current = None
            if item.result is not None and not item.result.done():
                item.result.set_result(error)
            self._report(lane, error, from_agent=item.result is not None)

    async def _deliver(self, lane: _Lane, message: SlackMessage) -> str | None:
        target = lane.destination.target
        try:
            await self.client.send(target, message)
        except SlackError as exc:
            return target.scrub(str(exc))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug here must not kill the lane
            log.exception("Slack delivery crashed")
            return target.scrub(f"{type(exc).__name__}: {exc}")[:200]
        return None

    def _report(self, lane: _Lane, error: str | None, *, from_agent: bool) -> None:
        name = lane.destination.name
        if error is None:
            if lane.failing and lane.lost:
                self._notice(
                    "info",
                    f"Slack destination '{name}' works again; {lane.lost} notification(s) "
                    "were lost meanwhile.",
                )
            lane.failing, lane.lost = False, 0
            return
        if from_agent:
            return  # the notify tool's result says it already
        lane.lost += 1
        if not lane.failing:
            lane.failing = True
            self._notice(
                "warning",
                f"Slack notification to '{name}' failed: {error}. Further failures there "
                "are not shown until one gets through.",
            )

    def say(self, level: Any, text: str) -> None:
        """Publish one notice (redacted); never raises."""
        self._notice(level, text)

    def _notice(self, level: Any, text: str) -> None:
        with contextlib.suppress(Exception):
            self._publish(Notice(level=level, text=redact_text(text)))


def _drain(queue: asyncio.Queue[Any]) -> list[Any]:
    items = []
    while True:
        try:
            items.append(queue.get_nowait())
        except asyncio.QueueEmpty:
            return items
