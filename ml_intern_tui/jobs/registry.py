"""The session's jobs: local background processes now, Hugging Face Jobs through the same door.

Starting a job returns at once; a follower task streams its output. Lines are batched
into ``job_log`` events, the newest ones kept in memory, every one written to
``<log_dir>/<job_id>.log``. Each status change is a ``job_updated`` event.

HF jobs join with :meth:`JobRegistry.register_external`: the caller supplies the record,
a follower coroutine that feeds lines (:meth:`JobRegistry.add_lines`) and reports status
(:meth:`JobRegistry.update`, :meth:`JobRegistry.finish`), and optionally a canceller.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

from ml_intern_tui.core.protocol import EventBase, JobLog, JobUpdated
from ml_intern_tui.core.redact_stream import StreamRedactor
from ml_intern_tui.jobs.local import (
    DEFAULT_KILL_GRACE_S,
    Launch,
    LineSplitter,
    kill_process_group,
    spawn_shell,
    strip_ansi,
)

JobKind = Literal["local", "hf"]
OnExit = Callable[["JobRecord", int], Awaitable[list[str]]]
"""Called with a local job and its exit code when its process has ended."""
JobStatus = Literal["running", "completed", "failed", "cancelled"]
FINAL_STATUSES: frozenset[str] = frozenset({"completed", "failed", "cancelled"})

PROGRESS_SNAPSHOT_S = 2.0
"""How often a carriage-return progress bar is written to the log while it changes."""


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

    @property
    def finished(self) -> bool:
        return self.status in FINAL_STATUSES

    def duration_s(self) -> float:
        return (self.ended_at or time.time()) - self.started_at


class _LogStream:
    """One job's lines: memory tail, full file on disk, batched ``job_log`` events."""

    def __init__(self, registry: JobRegistry, record: JobRecord) -> None:
        self._registry = registry
        self._record = record
        self._pending: list[str] = []
        self._timer: asyncio.TimerHandle | None = None
        self._file: IO[str] | None = None
        self._redactor = StreamRedactor()  # the log file outlives the session: no secrets
        if record.log_path is not None:
            record.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._file = record.log_path.open("a", encoding="utf-8")

    def add(self, lines: list[str]) -> None:
        if not lines:
            return
        self._record.tail.extend(lines)
        self._record.lines_total += len(lines)
        if self._file is not None:
            self._file.write(self._redactor.feed("".join(line + "\n" for line in lines)))
            self._file.flush()
        self._pending.extend(lines)
        if self._timer is None:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(self._registry.batch_interval_s, self.flush)

    def flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._pending:
            lines, self._pending = self._pending, []
            self._registry._emit(JobLog(job_id=self._record.id, lines=lines))

    def close(self) -> None:
        self.flush()
        if self._file is not None:
            self._file.write(self._redactor.flush())
            self._file.close()
            self._file = None


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
    ) -> None:
        self._publish = publish
        self.log_dir = Path(log_dir)
        self.batch_interval_s = batch_interval_s
        self.max_lines_in_memory = max_lines_in_memory
        self.kill_grace_s = kill_grace_s
        self.session_id = session_id
        self._jobs: dict[str, JobRecord] = {}
        self._streams: dict[str, _LogStream] = {}
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

    async def wait(self, job_id: str, timeout_s: float) -> JobRecord:
        """The job once it finishes, or as it stands after ``timeout_s`` (cancellable)."""
        record = self.require(job_id)
        done = self._done[job_id]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), timeout_s)
        return record

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
                self._register_local(job_id, await spawning, command, title, on_exit)
            raise
        return self._register_local(job_id, proc, command, title, on_exit)

    def _register_local(
        self,
        job_id: str,
        proc: asyncio.subprocess.Process,
        command: str,
        title: str,
        on_exit: OnExit | None = None,
    ) -> JobRecord:
        record = JobRecord(
            id=job_id,
            kind="local",
            title=title,
            command=command,
            pid=proc.pid,
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
        """Append raw log lines to a job (ANSI stripped here)."""
        self._streams[job_id].add([strip_ansi(line) for line in lines])

    def update(self, job_id: str, **changes: Any) -> JobRecord:
        """Change fields of a job (status, cost_usd, url, flavor...) and publish it."""
        record = self.require(job_id)
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
        for job_id, stream in self._streams.items():
            stream.close()
            self._done[job_id].set()

    # ----------------------------------------------------------------- inside

    def _track(self, record: JobRecord) -> None:
        self._jobs[record.id] = record
        self._done[record.id] = asyncio.Event()
        self._streams[record.id] = _LogStream(self, record)
        self._publish_record(record)

    async def _follow_local(
        self, record: JobRecord, proc: asyncio.subprocess.Process, on_exit: OnExit | None
    ) -> None:
        stream = self._streams[record.id]
        splitter = LineSplitter(progress_interval_s=PROGRESS_SNAPSHOT_S)
        loop = asyncio.get_running_loop()
        assert proc.stdout is not None
        try:
            while chunk := await proc.stdout.read(65536):
                stream.add(splitter.feed(chunk, loop.time()))
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
        self._cancelling.discard(record.id)
        self._publish_record(record)
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
