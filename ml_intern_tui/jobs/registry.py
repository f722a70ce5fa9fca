"""The session's jobs: local background processes now, Hugging Face Jobs through the same door.

Starting a job returns at once; a follower task streams its output. Lines are batched
into ``job_log`` events, the newest ones kept in memory, every one written to
``<log_dir>/<job_id>.log``. Each status change is a ``job_updated`` event. Training
metrics and progress bars read from the lines (``jobs.metrics``) go out as
``job_metrics`` deltas, at most one per ``metrics_interval_s`` per job; a
:class:`~ml_intern_tui.jobs.alerts.JobWatch`, when given, hears about new metrics, quiet
jobs and endings.

HF jobs join with :meth:`JobRegistry.register_external`: the caller supplies the record,
a follower coroutine that feeds lines (:meth:`JobRegistry.add_lines`) and reports status
(:meth:`JobRegistry.update`, :meth:`JobRegistry.finish`), and optionally a canceller.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import stat
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ml_intern_tui.core.protocol import EventBase, JobUpdated
from ml_intern_tui.jobs.alerts import JobWatch
from ml_intern_tui.jobs.local import (
    DEFAULT_KILL_GRACE_S,
    Launch,
    LineSplitter,
    Redraw,
    kill_process_group,
    spawn_shell,
    strip_ansi,
)
from ml_intern_tui.jobs.log_stream import LogStream
from ml_intern_tui.jobs.metrics import MetricsTracker
from ml_intern_tui.jobs.trackio_follow import (
    REMOTE_POLL_S,
    TRACKIO_POLL_S,
    TrackioFollower,
    remote_follower,
    store_directory,
)

JobKind = Literal["local", "hf"]
OnExit = Callable[["JobRecord", int], Awaitable[list[str]]]
"""Called with a local job and its exit code when its process has ended."""
FINAL_STATUSES: frozenset[str] = frozenset({"completed", "failed", "cancelled"})

SAVED_TAIL_BYTES = 512 * 1024
SAVED_TAIL_LINES = 2_000
"""What comes back of a resumed session's job log: its end, as the jobs pane shows it."""
PROGRESS_SNAPSHOT_S = 2.0
"""How often a carriage-return progress bar is written to the log while it changes."""
METRICS_INTERVAL_S = 0.25
"""Least time between two ``job_metrics`` events of one job."""


class JobError(Exception):
    """A job operation that cannot be done (unknown id); the message is for the model."""


@dataclass
class JobRecord:
    """What the session knows about one job."""

    id: str
    kind: JobKind
    title: str
    status: str = "running"
    started_at: float = field(default_factory=time.time)
    ended_at: float | None = None
    exit_code: int | None = None
    cost_usd: float = 0.0
    flavor: str | None = None
    url: str | None = None
    log_path: Path | None = None
    command: str | None = None
    pid: int | None = None
    tail: deque[str] = field(default_factory=deque)
    lines_total: int = 0
    last_output_at: float = field(default_factory=time.monotonic)
    """When the job last printed a line or redrew its progress bar (monotonic clock)."""
    metrics: MetricsTracker | None = None
    """Its metrics as read from its log (``None`` when extraction is off)."""
    seen_final: bool = False
    """The agent has seen the job's final state (``jobs`` status, logs or wait)."""
    cwd: Path | None = None
    """Where a local job runs (a trackio store it names is followed only inside it)."""
    trackio_metrics: MetricsTracker | None = None
    """Its metrics as read from the trackio run it logs to, when it names one."""

    @property
    def finished(self) -> bool:
        return self.status in FINAL_STATUSES

    def duration_s(self) -> float:
        return (self.ended_at or time.time()) - self.started_at


class JobRegistry:
    """Tracks the session's jobs, follows their output and publishes their events."""

    def __init__(
        self,
        publish: Callable[[EventBase], None],
        log_dir: Path,
        *,
        batch_interval_s: float = 0.1,
        max_lines_in_memory: int = 2000,
        kill_grace_s: float = DEFAULT_KILL_GRACE_S,
        session_id: str = "",
        extract_metrics: bool = True,
        metrics_interval_s: float = METRICS_INTERVAL_S,
        watch: JobWatch | None = None,
        trackio_poll_s: float = TRACKIO_POLL_S,
    ) -> None:
        self._publish = publish
        self.extract_metrics = extract_metrics
        self.metrics_interval_s = metrics_interval_s
        self.watch = watch
        self._stall_task: asyncio.Task[None] | None = None
        self.trackio_poll_s = trackio_poll_s
        self.trackio_remote_poll_s = REMOTE_POLL_S
        self.hub: Any = None
        """The Hub client, to follow runs a trackio Space syncs to a dataset (set by agent)."""
        self._trackio: dict[str, tuple[TrackioFollower, asyncio.Task[None]]] = {}
        self._trackio_checked: dict[str, tuple[str, ...]] = {}
        self._last_polls: set[asyncio.Task[bool]] = set()
        self.log_dir = Path(log_dir)
        self.batch_interval_s = batch_interval_s
        self.max_lines_in_memory = max_lines_in_memory
        self.kill_grace_s = kill_grace_s
        self.session_id = session_id
        self._jobs: dict[str, JobRecord] = {}
        self._streams: dict[str, LogStream] = {}
        self._done: dict[str, asyncio.Event] = {}
        self._followers: dict[str, asyncio.Task[None]] = {}
        self._procs: dict[str, asyncio.subprocess.Process] = {}
        self._cancellers: dict[str, Callable[[], Awaitable[None]]] = {}
        self._cancelling: set[str] = set()

    # ----------------------------------------------------------------- queries

    def get(self, job_id: str) -> JobRecord | None:
        return self._jobs.get(job_id)

    def require(self, job_id: str) -> JobRecord:
        """The job, or a ``JobError`` naming the known ones."""
        record = self._jobs.get(job_id)
        if record is None:
            known = ", ".join(self._jobs) or "none"
            raise JobError(f"no job {job_id!r} in this session (known jobs: {known})")
        return record

    def running(self) -> list[JobRecord]:
        return [job for job in self._jobs.values() if not job.finished]

    def tail(self, job_id: str, n: int) -> list[str]:
        """The last ``n`` lines; from the log file when memory holds fewer."""
        record = self.require(job_id)
        if n <= 0:
            return []
        if n <= len(record.tail) or record.lines_total <= len(record.tail):
            return list(record.tail)[-n:]
        if record.log_path is not None and record.log_path.exists():
            with record.log_path.open(encoding="utf-8", errors="replace") as fh:
                return [line.rstrip("\n") for line in deque(fh, maxlen=n)]
        return list(record.tail)[-n:]  # pragma: no cover - log file removed under us

    def saved_log_tail(self, job_id: str, lines: int = SAVED_TAIL_LINES) -> list[str]:
        """The end of a job's log file, for a job of a resumed session (blocking I/O).

        At most ``lines`` lines from the file's last ``SAVED_TAIL_BYTES``; empty when
        there is no such file. The id comes from a journal, so only a plain file name in
        the log directory is read (never a path somewhere else, never a link).
        """
        if not job_id or Path(job_id).name != job_id or job_id.startswith("."):
            return []
        path = self.log_dir / f"{job_id}.log"
        # No link followed, and no wait on a FIFO: a regular file or nothing.
        flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(path, flags)
        except (OSError, ValueError):  # missing, a link, or a name with a NUL in it
            return []
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            return []
        with os.fdopen(fd, "rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(0, size - SAVED_TAIL_BYTES))
            data = handle.read(SAVED_TAIL_BYTES)
        text = data.decode("utf-8", errors="replace")
        if size > SAVED_TAIL_BYTES:
            text = text.partition("\n")[2]  # the first line read is most likely cut
        return text.splitlines()[-lines:] if lines > 0 else []

    async def wait(self, job_id: str, timeout_s: float) -> JobRecord:
        """The job once it finishes, or as it stands after ``timeout_s`` (cancellable)."""
        record = self.require(job_id)
        done = self._done[job_id]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), timeout_s)
        return record

    def acknowledge(self, job_id: str) -> None:
        """The agent has just seen this job's state: drop the notes waiting about it."""
        record = self._jobs.get(job_id)
        if record is None:
            return
        if record.finished:
            record.seen_final = True
        if self.watch is not None:
            self.watch.acknowledge(record)

    # ---------------------------------------------------------------- starting

    def new_id(self) -> str:
        """A short, readable, unused job id (``job-1a2b3c``)."""
        while True:
            job_id = f"job-{secrets.token_hex(3)}"
            if job_id not in self._jobs:
                return job_id

    async def start_local(
        self,
        command: str,
        cwd: Path,
        title: str,
        env: dict[str, str] | None = None,
        *,
        launch: Launch | None = None,
        on_exit: OnExit | None = None,
    ) -> JobRecord:
        """Start ``command`` as a background job and return at once.

        ``env`` adds to (overrides) this process's environment minus its secrets;
        ``launch`` may run it in the sandbox. ``on_exit`` runs when the process has ended,
        before the job is marked finished; the lines it returns end the job's log (why
        the sandbox may have made it fail, git traps it left). Raises ``OSError`` when
        the process cannot be started (missing ``cwd``).
        """
        job_id = self.new_id()
        spawning = asyncio.ensure_future(spawn_shell(command, cwd, env, launch=launch))
        try:
            proc = await asyncio.shield(spawning)
        except asyncio.CancelledError:
            # The job may already run while asyncio wires its pipes: register it anyway
            # so it is followed, listed and reported as still running.
            with contextlib.suppress(OSError):
                self._register_local(job_id, await spawning, command, title, cwd, on_exit)
            raise
        return self._register_local(job_id, proc, command, title, cwd, on_exit)

    def _register_local(
        self,
        job_id: str,
        proc: asyncio.subprocess.Process,
        command: str,
        title: str,
        cwd: Path | None = None,
        on_exit: OnExit | None = None,
    ) -> JobRecord:
        record = JobRecord(
            id=job_id,
            kind="local",
            title=title,
            command=command,
            pid=proc.pid,
            cwd=cwd,
            log_path=self.log_dir / f"{job_id}.log",
            tail=deque(maxlen=self.max_lines_in_memory),
        )
        self._track(record)
        self._procs[job_id] = proc
        self._followers[job_id] = asyncio.create_task(
            self._follow_local(record, proc, on_exit), name=f"follow-{job_id}"
        )
        return record

    def register_external(
        self,
        record: JobRecord,
        follower: Coroutine[Any, Any, None] | None = None,
        *,
        canceller: Callable[[], Awaitable[None]] | None = None,
    ) -> JobRecord:
        """Track a job run elsewhere (HF Jobs).

        ``follower`` streams its logs with :meth:`add_lines` and ends it with
        :meth:`finish`; if it returns without finishing the job, the job stays as it is.
        ``canceller`` stops the remote job when :meth:`cancel` is called.
        """
        if record.id in self._jobs:
            raise JobError(f"a job with id {record.id!r} is already tracked")
        if record.log_path is None:
            record.log_path = self.log_dir / f"{record.id}.log"
        record.tail = deque(record.tail, maxlen=self.max_lines_in_memory)
        self._track(record)
        if canceller is not None:
            self._cancellers[record.id] = canceller
        if follower is not None:
            self._followers[record.id] = asyncio.create_task(
                self._run_external(record, follower), name=f"follow-{record.id}"
            )
        return record

    def add_lines(self, job_id: str, lines: list[str]) -> None:
        """Append raw log lines to a job (ANSI stripped here).

        A line holding carriage-return redraws (a progress bar, as HF Jobs logs keep it)
        is logged as a terminal shows it, its last state; the states before it are read
        as progress in their place.
        """
        if "\r" not in "".join(lines):  # the usual case, checked at C speed
            self._streams[job_id].add([strip_ansi(line) for line in lines])
            return
        items: list[str] = []
        for line in lines:
            if "\r" in line:
                states = [state for state in line.split("\r") if state.strip()]
                items += [Redraw(strip_ansi(state)) for state in states[:-1]]
                line = states[-1] if states else ""
            items.append(strip_ansi(line))
        self._streams[job_id].add_output(items)

    def update(self, job_id: str, **changes: Any) -> JobRecord:
        """Change fields of a job (status, cost_usd, url, flavor...) and publish it."""
        record = self.require(job_id)
        if changes.get("status") == "running" and record.status != "running":
            record.last_output_at = time.monotonic()  # time spent queued is not a stall
        for name, value in changes.items():
            if not hasattr(record, name):
                raise AttributeError(f"JobRecord has no field {name!r}")
            setattr(record, name, value)
        if record.finished:
            self._close(record)
        else:
            self._publish_record(record)
        return record

    def finish(self, job_id: str, status: str, exit_code: int | None = None) -> JobRecord:
        """Mark a job finished (once): flush its logs, publish, wake waiters."""
        record = self.require(job_id)
        if record.finished:
            return record
        record.status = status
        record.exit_code = exit_code
        self._close(record)
        return record

    # -------------------------------------------------------------- stopping

    async def cancel(self, job_id: str) -> bool:
        """Stop a running job; False when it is unknown or already finished."""
        record = self._jobs.get(job_id)
        if record is None or record.finished:
            return False
        self._cancelling.add(job_id)
        proc = self._procs.get(job_id)
        if proc is not None:
            await kill_process_group(proc, self.kill_grace_s)
        elif job_id in self._cancellers:
            await self._cancellers[job_id]()
        # The follower normally records the end; do not wait forever on it.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._done[job_id].wait(), self.kill_grace_s + 2.0)
        if not record.finished:
            follower = self._followers.get(job_id)
            if follower is not None:
                follower.cancel()
            self.finish(job_id, "cancelled", record.exit_code)
        return True

    async def shutdown(self) -> None:
        """Kill local jobs and stop following the others (remote jobs keep running)."""
        local = [job.id for job in self.running() if job.id in self._procs]
        await asyncio.gather(*(self.cancel(job_id) for job_id in local))
        for follower in self._followers.values():
            follower.cancel()
        if self._stall_task is not None:
            self._stall_task.cancel()
        for _follower, task in self._trackio.values():
            task.cancel()
        for job_id, stream in self._streams.items():
            stream.close()
            self._done[job_id].set()

    # ----------------------------------------------------------------- inside

    def _track(self, record: JobRecord) -> None:
        self._jobs[record.id] = record
        self._done[record.id] = asyncio.Event()
        self._streams[record.id] = LogStream(self, record)
        self._publish_record(record)
        self._watch_stalls()

    def _watch_stalls(self) -> None:
        """Run the stall check while jobs run (started again by the next job)."""
        watch = self.watch
        if watch is None or watch.stall_after_s is None:
            return
        if self._stall_task is None or self._stall_task.done():
            period = min(max(watch.stall_after_s / 4, 0.05), 30.0)
            self._stall_task = asyncio.create_task(self._check_stalls(period), name="job-stalls")

    async def _check_stalls(self, period: float) -> None:
        assert self.watch is not None
        while self.running():
            await asyncio.sleep(period)
            self.watch.check_stalls(self.running())

    def _output(self, record: JobRecord) -> None:
        if self.watch is not None:
            self.watch.output(record)

    def _metrics_changed(
        self, record: JobRecord, tracker: MetricsTracker, source: str = "log"
    ) -> None:
        if self.watch is not None:
            self.watch.metrics(record, tracker, source=source)

    def _trackio_seen(self, record: JobRecord) -> None:
        """The job's log names a trackio run: follow its store (once, when allowed)."""
        link = record.metrics.trackio if record.metrics is not None else None
        if link is None or record.id in self._trackio or record.finished:
            return
        key = (link.project, link.directory, link.run, link.remote)
        if self._trackio_checked.get(record.id) == key:
            return
        self._trackio_checked[record.id] = key
        directory = store_directory(link, record.cwd)

        def rows(tracker: MetricsTracker) -> None:
            record.last_output_at = time.monotonic()  # logging to trackio is activity
            self._output(record)
            self._metrics_changed(record, tracker, "trackio")

        if directory is not None:
            follower: TrackioFollower | None = TrackioFollower(
                record.id, link, directory, self._emit, on_rows=rows, poll_s=self.trackio_poll_s
            )
        elif self.hub is not None:  # a Space-backed run: follow the dataset it syncs to
            follower = remote_follower(
                record.id, link, self.hub, self._emit, on_rows=rows,
                poll_s=self.trackio_remote_poll_s,
            )  # fmt: skip
        else:
            follower = None
        if follower is None:
            return
        record.trackio_metrics = follower.tracker
        task = asyncio.create_task(follower.follow(), name=f"trackio-{record.id}")
        self._trackio[record.id] = (follower, task)

    def _stop_trackio(self, record: JobRecord) -> None:
        following = self._trackio.get(record.id)
        if following is None:
            return
        follower, task = following
        task.cancel()
        last = asyncio.create_task(follower.poll(), name=f"trackio-last-{record.id}")
        self._last_polls.add(last)  # rows written just before the end
        last.add_done_callback(self._last_polls.discard)

    async def _follow_local(
        self, record: JobRecord, proc: asyncio.subprocess.Process, on_exit: OnExit | None
    ) -> None:
        stream = self._streams[record.id]
        splitter = LineSplitter(
            progress_interval_s=PROGRESS_SNAPSHOT_S, redraws=self.extract_metrics
        )
        loop = asyncio.get_running_loop()
        assert proc.stdout is not None
        try:
            while chunk := await proc.stdout.read(65536):
                stream.add_output(splitter.feed(chunk, loop.time()))
            stream.add(splitter.finish())
            code = await proc.wait()
        finally:
            self._procs.pop(record.id, None)
        if on_exit is not None:
            try:
                stream.add(await on_exit(record, code))
            except Exception as exc:  # a check after the job must not lose its end
                stream.add([f"[the check after the job failed: {exc}]"])
        if record.id in self._cancelling:
            status = "cancelled"
        else:
            status = "completed" if code == 0 else "failed"
        self.finish(record.id, status, code)

    async def _run_external(self, record: JobRecord, follower: Coroutine[Any, Any, None]) -> None:
        try:
            await follower
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.add_lines(record.id, [f"[log follower stopped: {exc}]"])

    def _close(self, record: JobRecord) -> None:
        if record.ended_at is None:
            record.ended_at = time.time()
        self._streams[record.id].close()
        self._stop_trackio(record)
        self._cancelling.discard(record.id)
        self._publish_record(record)
        if self.watch is not None:
            # HF jobs get their notice from their follower, local ones from here.
            self.watch.finished(record, notice=record.kind == "local")
        self._done[record.id].set()

    def _publish_record(self, record: JobRecord) -> None:
        self._emit(
            JobUpdated(
                job_id=record.id,
                kind=record.kind,
                status=record.status,
                flavor=record.flavor,
                cost_usd=record.cost_usd,
                url=record.url,
                title=record.title,
                started_at=record.started_at,
                ended_at=record.ended_at,
            )
        )

    def _emit(self, event: EventBase) -> None:
        event.session_id = self.session_id
        self._publish(event)

    # Defined last: inside the class body the name would shadow the builtin in annotations.
    def list(self) -> list[JobRecord]:
        """Every job of the session, oldest first."""
        return list(self._jobs.values())
