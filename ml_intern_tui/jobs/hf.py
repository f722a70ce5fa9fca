"""Following a Hugging Face Job: live logs, stage changes and cost, until it ends.

The follower streams the job's log with ``HfApi.fetch_job_logs(follow=True)`` in a daemon
thread (the call blocks for as long as the job runs) and hands each line to the event
loop, where it joins the :class:`~ml_intern_tui.jobs.registry.JobRegistry` (which batches
``job_log`` events and keeps the full log on disk). When the stream drops while the job
still runs, it reconnects with backoff; the server replays the log from the start, so the
lines already seen are skipped by count. Meanwhile ``inspect_job`` is polled for stage
changes and the cost accrued from the $/h table; the job ends with ``registry.finish``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from ml_intern_tui.core.cost import job_cost_so_far
from ml_intern_tui.core.protocol import EventBase, Notice
from ml_intern_tui.core.services import HubService, JobsService
from ml_intern_tui.jobs.alerts import latest_values

log = logging.getLogger(__name__)

FINAL_STAGES: dict[str, str] = {
    "COMPLETED": "completed",
    "ERROR": "failed",
    "CANCELED": "cancelled",
    "DELETED": "cancelled",
}
"""HF Jobs' final stages and the registry status each one becomes."""

DEFAULT_POLL_INTERVAL_S = 10.0
DEFAULT_RECONNECT_DELAYS_S: tuple[float, ...] = (1.0, 2.0, 5.0, 10.0, 30.0)
DEFAULT_MAX_RECONNECTS = 30
"""Consecutive reconnects that bring no new line before the log stream is given up."""
DRAIN_TIMEOUT_S = 10.0
"""How long the log stream may keep delivering lines after the job's final stage is seen."""

_END = object()


def stage_of(info: Any) -> str:
    """The upper-case stage of a ``JobInfo`` (``RUNNING``...), whatever type holds it."""
    stage = getattr(getattr(info, "status", None), "stage", None) or "UNKNOWN"
    return str(getattr(stage, "value", stage)).upper()


def running_seconds(info: Any, fallback: float) -> float:
    """Seconds the job has run: the server's figure, its timestamps, else ``fallback``."""
    durations = getattr(info, "durations", None)
    secs = getattr(durations, "running_secs", None)
    if isinstance(secs, int | float) and secs >= 0:
        return float(secs)
    started = getattr(info, "started_at", None)
    if started is not None:
        finished = getattr(info, "finished_at", None)
        end = float(finished.timestamp()) if finished is not None else time.time()
        return max(end - float(started.timestamp()), 0.0)
    return fallback


class HfJobFollower:
    """Follows one HF job into the registry; ``run()`` is the follower, ``cancel()`` the canceller."""

    def __init__(
        self,
        hub: HubService,
        registry: JobsService,
        job_id: str,
        *,
        namespace: str | None = None,
        flavor: str | None = None,
        poll_interval_s: float = DEFAULT_POLL_INTERVAL_S,
        reconnect_delays_s: tuple[float, ...] = DEFAULT_RECONNECT_DELAYS_S,
        max_reconnects: int = DEFAULT_MAX_RECONNECTS,
        drain_timeout_s: float = DRAIN_TIMEOUT_S,
        notify: Callable[[EventBase], None] | None = None,
    ) -> None:
        self.hub = hub
        self.registry = registry
        self.job_id = job_id
        self.namespace = namespace
        self.flavor = flavor
        self.poll_interval_s = poll_interval_s
        self.reconnect_delays_s = reconnect_delays_s or (1.0,)
        self.max_reconnects = max_reconnects
        self.drain_timeout_s = drain_timeout_s
        self.notify = notify
        self.seen = 0
        """Log lines received so far (the replay prefix skipped on reconnect)."""
        self.connections = 0
        self.stage = "UNKNOWN"
        self.last_info: Any = None
        self._final = asyncio.Event()
        self._wake = asyncio.Event()
        self._stop = threading.Event()
        self._running_since: float | None = None

    # ------------------------------------------------------------------ public

    async def run(self) -> None:
        """Follow the job until its final stage, then finish it in the registry."""
        poller = asyncio.create_task(self._poll_stage(), name=f"poll-{self.job_id}")
        streamer = asyncio.create_task(self._stream_logs(), name=f"logs-{self.job_id}")
        try:
            await self._final.wait()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(streamer), self.drain_timeout_s)
        finally:
            self._stop.set()
            for task in (poller, streamer):
                task.cancel()
            await asyncio.gather(poller, streamer, return_exceptions=True)
        self._finish()

    async def cancel(self) -> None:
        """Cancel the remote job (the registry's canceller); the poll sees it end."""
        await self.hub.run(self.hub.api.cancel_job, job_id=self.job_id, namespace=self.namespace)
        self._wake.set()

    # ------------------------------------------------------------------ stages

    async def _poll_stage(self) -> None:
        failures = 0
        while not self._final.is_set():
            # Cleared before asking, so a cancel() during the request still wakes us.
            self._wake.clear()
            try:
                info = await self.hub.run(
                    self.hub.api.inspect_job, job_id=self.job_id, namespace=self.namespace
                )
                self._observe(info)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if _status_code(exc) == 404:
                    self._note(f"[HF job {self.job_id} no longer exists on the Hub]")
                    self.stage = "DELETED"
                    self._final.set()
                    return
                failures += 1
                log.debug("inspect_job %s failed (%s): %s", self.job_id, failures, exc)
                delay = min(self.poll_interval_s * (2 ** min(failures, 5)), 60.0)
            else:
                failures = 0
                delay = self.poll_interval_s
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)

    def _observe(self, info: Any) -> None:
        """Record what ``inspect_job`` said: publish stage changes and the cost so far."""
        stage = stage_of(info)
        self.last_info = info
        if stage == "RUNNING" and self._running_since is None:
            self._running_since = time.monotonic()
        if stage in FINAL_STAGES:
            self.stage = stage
            self._final.set()
            return
        record = self.registry.get(self.job_id)
        if record is None or record.finished:
            return
        cost = job_cost_so_far(self.flavor, running_seconds(info, self._local_running_s()))
        if stage != self.stage or abs(cost - record.cost_usd) >= 0.005:
            self.registry.update(self.job_id, status=stage.lower(), cost_usd=cost)
        self.stage = stage

    def _local_running_s(self) -> float:
        return time.monotonic() - self._running_since if self._running_since else 0.0

    def _finish(self) -> None:
        record = self.registry.get(self.job_id)
        if record is None or record.finished:
            return
        status = FINAL_STAGES.get(self.stage, "failed")
        info = self.last_info
        record.cost_usd = job_cost_so_far(
            self.flavor, running_seconds(info, self._local_running_s())
        )
        message = getattr(getattr(info, "status", None), "message", None)
        if message:
            self._note(f"[HF job {self.stage}: {message}]")
        self.registry.finish(self.job_id, status)
        if self.notify is not None:
            level: Any = {"completed": "success", "failed": "error"}.get(status, "warning")
            parts = [f"HF job {self.job_id} {status}"]
            if record.cost_usd:
                parts.append(f"${record.cost_usd:.2f}")
            if latest := latest_values(record.metrics):
                parts.append(latest)
            if record.url:
                parts.append(record.url)
            alert: Any = {"completed": "finished", "failed": "failed"}.get(status)
            self.notify(
                Notice(level=level, text=" · ".join(parts), job_id=self.job_id, alert=alert)
            )

    # -------------------------------------------------------------------- logs

    async def _stream_logs(self) -> None:
        idle_reconnects = 0
        while not self._stop.is_set():
            before = self.seen
            error = await self._stream_once()
            if self._final.is_set():
                return
            if self.seen > before:
                idle_reconnects = 0
            else:
                idle_reconnects += 1
            # 404 is retried: the log route may not exist yet while a job is scheduled.
            if error is not None and _status_code(error) in (401, 403):
                self._note(f"[log stream stopped: {str(error).splitlines()[0]}]")
                return
            # Did the stream end because the job did? Ask before reconnecting.
            with contextlib.suppress(Exception):
                self._observe(
                    await self.hub.run(
                        self.hub.api.inspect_job, job_id=self.job_id, namespace=self.namespace
                    )
                )
            if self._final.is_set():
                return
            if idle_reconnects > self.max_reconnects:
                self._note(
                    f"[log stream lost after {self.max_reconnects} reconnects; "
                    "still following the job's status]"
                )
                return
            delays = self.reconnect_delays_s
            await asyncio.sleep(
                delays[min(idle_reconnects, len(delays)) - 1] if idle_reconnects else 0
            )

    async def _stream_once(self) -> BaseException | None:
        """One connection: lines go to the registry until the stream ends; returns its error."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue()
        skip = self.seen
        self.connections += 1
        thread = threading.Thread(
            target=self._read_stream,
            args=(loop, queue, skip),
            name=f"hf-logs-{self.job_id}",
            daemon=True,  # a stream blocked on a quiet job must never hold the process open
        )
        thread.start()
        while True:
            item = await queue.get()
            if item is _END:
                return None
            if isinstance(item, BaseException):
                return item
            self._add_remote(item)

    def _read_stream(
        self, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[Any], skip: int
    ) -> None:
        """Worker thread: iterate the blocking log generator, posting lines to the loop."""

        def post(item: Any) -> bool:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, item)
            except RuntimeError:  # the event loop is gone
                return False
            return True

        index = 0
        try:
            stream = self.hub.api.fetch_job_logs(
                job_id=self.job_id, namespace=self.namespace, follow=True
            )
            for line in stream:
                if self._stop.is_set():
                    return
                index += 1
                if index > skip and not post([line]):
                    return
        except Exception as exc:
            post(exc)
            return
        post(_END)

    def _add_remote(self, lines: list[str]) -> None:
        """Lines from the job's log (counted: a reconnect skips this many)."""
        self.seen += len(lines)
        record = self.registry.get(self.job_id)
        if record is not None and not record.finished:
            self.registry.add_lines(self.job_id, lines)

    def _note(self, text: str) -> None:
        """A line of our own in the job's log (not counted as a remote line)."""
        record = self.registry.get(self.job_id)
        if record is not None and not record.finished:
            self.registry.add_lines(self.job_id, [text])


def _status_code(exc: BaseException) -> int | None:
    code = getattr(getattr(exc, "response", None), "status_code", None)
    return code if isinstance(code, int) else None


async def follow_hf_job(
    hub: HubService,
    registry: JobsService,
    job_id: str,
    *,
    namespace: str | None = None,
    flavor: str | None = None,
    poll_interval_s: float = DEFAULT_POLL_INTERVAL_S,
    notify: Callable[[EventBase], None] | None = None,
) -> None:
    """Follow ``job_id`` into ``registry`` until it ends (see :class:`HfJobFollower`)."""
    follower = HfJobFollower(
        hub,
        registry,
        job_id,
        namespace=namespace,
        flavor=flavor,
        poll_interval_s=poll_interval_s,
        notify=notify,
    )
    await follower.run()
