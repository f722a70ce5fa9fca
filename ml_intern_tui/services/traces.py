"""The background trace uploader, and what ``/share-traces`` asks of it.

When ``[traces] upload`` is on (the default) and a Hugging Face token is available, the
trace of the session goes to the user's private dataset after each turn (and after an
undo or a compaction), a few seconds after the last change, so a burst of turns is one
upload. Every upload first goes into the on-disk retry queue (``queue.py``) and leaves it
only on success: a failed upload is retried with a growing delay, a quit or a crash keeps
it for the next start, and after ``MAX_ATTEMPTS`` failures it is dropped with a warning.
Nothing is uploaded without a token (that is said once, ever) and demo sessions on the
scripted model are never uploaded. The agent never waits for any of this: network calls
run in daemon threads, so a hanging Hub cannot hold up the turn or the quit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from ml_intern_tui.core.bus import EventBus
from ml_intern_tui.core.journal import JournalError
from ml_intern_tui.core.protocol import (
    Compacted,
    EventBase,
    ExportTrace,
    Notice,
    Ready,
    ShareTraces,
    TurnComplete,
    Undone,
)
from ml_intern_tui.traces.publish import DEFAULT_TEMPLATE, TraceConfigError, dataset_url, repo_for
from ml_intern_tui.traces.queue import QUEUE_FILE, PendingUpload, UploadQueue

T = TypeVar("T")
log = logging.getLogger(__name__)

DEBOUNCE_S = 3.0
RETRY_BASE_S = 30.0
RETRY_MAX_S = 1800.0
MAX_ATTEMPTS = 8
CALL_TIMEOUT_S = 300.0
"""Longest wait for one Hub exchange (huggingface_hub sets no timeout on API calls)."""
DEMO_PREFIX = "scripted/"
NO_TOKEN_FLAG = "no_token_said"
NO_TOKEN = (
    "Session traces are not uploaded: no Hugging Face token (set HF_TOKEN or run "
    "`hf auth login`; [traces] upload = false silences this)."
)


class TraceError(Exception):
    """A trace could not be shared; the message is one line for a person."""


@dataclass(frozen=True)
class TraceOptions:
    """The ``[traces]`` settings plus what the uploader needs from the rest of the config."""

    upload: bool = True
    repo: str = DEFAULT_TEMPLATE
    private: bool = True
    endpoint: str = "https://huggingface.co"
    sessions_dir: Path | None = None

    @classmethod
    def from_settings(cls, settings: Any) -> TraceOptions:
        """Read settings leniently (a UI test's fake settings lack most tables)."""
        from ml_intern_tui.paths import configured_sessions_dir

        traces = getattr(settings, "traces", None)
        hub = getattr(settings, "hub", None)
        sessions = getattr(settings, "sessions", None)
        journal_on = bool(getattr(sessions, "journal", True))
        return cls(
            upload=bool(getattr(traces, "upload", cls.upload)) and journal_on,
            repo=str(getattr(traces, "repo", None) or cls.repo),
            private=bool(getattr(traces, "private", cls.private)),
            endpoint=str(getattr(hub, "endpoint", None) or cls.endpoint),
            sessions_dir=configured_sessions_dir(settings),
        )


def _error_line(exc: BaseException) -> str:
    """One line for a failed upload: the Hub's status and message, or the error itself."""
    if isinstance(exc, TraceError | TraceConfigError):
        return str(exc)
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"Hub answered {status}: {first}" if status else f"{type(exc).__name__}: {first}"


async def _in_thread(fn: Callable[..., T], *args: Any) -> T:
    """Run a blocking call in a daemon thread (never joined at exit, unlike to_thread)."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(ok: bool, value: Any) -> None:
        if future.done():
            return
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)

    def target() -> None:
        try:
            result: Any = fn(*args)
            ok = True
        except BaseException as exc:  # handed to the awaiting task
            result, ok = exc, False
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(settle, ok, result)

    threading.Thread(target=target, name="trace-upload", daemon=True).start()
    return await future


@dataclass
class _State:
    due: dict[str, float] = field(default_factory=dict)
    """Session id → when (monotonic) to try its upload."""
    items: dict[str, PendingUpload] = field(default_factory=dict)
    fresh: set[str] = field(default_factory=set)
    """Sessions that changed since they were last written to the queue."""
    model: str = ""
    warned_failure: bool = False
    announced: set[str] = field(default_factory=set)


class TraceUploader:
    """Background service: uploads session traces when they change, retries from the queue."""

    name = "traces"

    def __init__(
        self,
        options: TraceOptions,
        *,
        hub: Any,
        bus: EventBus,
        queue: UploadQueue | None = None,
        journal_for: Callable[[str], Path | None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        debounce_s: float = DEBOUNCE_S,
        retry_base_s: float = RETRY_BASE_S,
        retry_max_s: float = RETRY_MAX_S,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        self.options = options
        self.hub = hub
        self.bus = bus
        self.queue = queue or UploadQueue(_data_dir() / QUEUE_FILE)
        self._journal_for = journal_for or self._journal_in_sessions_dir
        self._clock = clock
        self.debounce_s = debounce_s
        self.retry_base_s = retry_base_s
        self.retry_max_s = retry_max_s
        self.max_attempts = max_attempts
        self._state = _State()
        self._wake = asyncio.Event()
        self._upload_lock = asyncio.Lock()
        self._listening = False
        self._answers: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------ service

    async def run(self) -> None:
        """Listen for session changes and upload what is due, until cancelled."""
        self.bus.add_listener(self._on_event)
        self._listening = True
        try:
            if self.options.upload:
                await self._load_pending()
            while True:
                self._wake.clear()
                try:
                    await self._persist_fresh()
                    await self._upload_due()
                except Exception:  # a bug here must not end the service (or the app)
                    log.exception("trace upload round failed")
                    await asyncio.sleep(self.retry_base_s)
                timeout = None
                if self._state.due:
                    timeout = max(0.0, min(self._state.due.values()) - self._clock())
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout)
        finally:
            self._stop_listening()

    async def aclose(self) -> None:
        """Stop listening; changes not yet queued are queued now, for the next start."""
        self._stop_listening()
        if self._state.fresh and self.hub.token:
            for session_id in list(self._state.fresh):
                item = self._fresh_item(session_id)
                if item is not None:
                    with contextlib.suppress(OSError):
                        self.queue.put(item)
        self._state.fresh.clear()

    def request(self, session_id: str, delay: float | None = None) -> None:
        """Schedule an upload of ``session_id`` (later calls push it back: a debounce)."""
        wait = self.debounce_s if delay is None else delay
        self._state.due[session_id] = self._clock() + wait
        self._state.fresh.add(session_id)
        self._wake.set()

    @property
    def pending(self) -> dict[str, float]:
        """Sessions scheduled for upload and when (for tests and status lines)."""
        return dict(self._state.due)

    # ------------------------------------------------------------ commands

    def handle_op(self, op: Any) -> bool:
        """Take ``share_traces`` and ``export_trace``; each is answered with a ``notice``."""
        if not isinstance(op, ShareTraces | ExportTrace):
            return False
        task = asyncio.get_running_loop().create_task(self._answer(op))
        self._answers.add(task)
        task.add_done_callback(self._answers.discard)
        return True

    async def _answer(self, op: ShareTraces | ExportTrace) -> None:
        level = "success"
        try:
            if isinstance(op, ExportTrace):
                text = await self.export(op.session_id, Path(op.path))
            elif op.visibility is None:
                self._notice("Uploading this session's trace…")
                text = await self.share_now(op.session_id)
            else:
                text = await self.set_visibility(op.visibility == "private")
                level = "warning" if op.visibility == "public" else "success"
        except TraceError as exc:
            level, text = "error", str(exc)
        self._notice(text, level)

    async def export(self, session_id: str, path: Path) -> str:
        """Write ``session_id``'s trace (Claude Code JSONL) to ``path``; one line."""
        from ml_intern_tui.traces.export import write_trace

        journal = self._journal_for(session_id) if session_id else None
        try:
            if journal is None:
                raise JournalError(f"session {session_id or '?'} has no journal")
            written = await asyncio.to_thread(write_trace, journal, path)
        except JournalError as exc:
            raise TraceError(
                f"No trace to export: {exc}. Traces are built from the session journal "
                "([sessions] journal = true)."
            ) from exc
        except OSError as exc:
            raise TraceError(
                f"Could not write {path}: {exc.strerror or exc}. "
                "Give another path: /export --format trace PATH"
            ) from exc
        return (
            f"Trace written to {written} (Claude Code JSONL: upload it to a Hub dataset "
            "to open it in the trace viewer)."
        )

    async def share_now(self, session_id: str) -> str:
        """Upload ``session_id`` now (``/share-traces``); a one-line result or ``TraceError``."""
        journal = self._journal_for(session_id)
        if journal is None:
            raise TraceError(
                f"session {session_id or '?'} has no journal ([sessions] journal is off?), "
                "so there is no trace to upload"
            )
        item = PendingUpload(session_id, str(journal), private=self.options.private)
        try:
            repo = await self._upload(item)
            private = await self._visibility(repo)
        except Exception as exc:
            raise TraceError(f"Could not upload the trace: {_error_line(exc)}") from exc
        self._state.due.pop(session_id, None)
        self._state.items.pop(session_id, None)
        with contextlib.suppress(OSError):
            await _in_thread(self.queue.remove, session_id)
        shown = "private" if private is not False else "public"
        url = dataset_url(self.options.endpoint, repo)
        return f"Uploaded session {session_id} to {url} ({shown} dataset)."

    async def set_visibility(self, private: bool) -> str:
        """Make the traces dataset private or public (creating it if needed); one line."""
        from ml_intern_tui.traces.publish import set_private

        try:
            repo = await self._repo()
            await self._call(set_private, self.hub.api, repo, private)
        except Exception as exc:
            raise TraceError(f"Could not change the traces dataset: {_error_line(exc)}") from exc
        url = dataset_url(self.options.endpoint, repo)
        if private:
            return f"Traces dataset {url} is now private: only you can read it."
        return f"Traces dataset {url} is now public: anyone can read every uploaded session."

    # ------------------------------------------------------------ events

    def _on_event(self, event: EventBase) -> None:
        if isinstance(event, Ready):
            self._state.model = event.model
            return
        if not self.options.upload or self._state.model.startswith(DEMO_PREFIX):
            return
        if isinstance(event, TurnComplete | Undone | Compacted) and event.session_id:
            self.request(event.session_id)

    def _stop_listening(self) -> None:
        if self._listening:
            self.bus.remove_listener(self._on_event)
            self._listening = False

    # ------------------------------------------------------------ queue

    async def _load_pending(self) -> None:
        """Uploads left by earlier runs are due at once (when there is a token to use)."""
        try:
            items = await _in_thread(self.queue.pending)
        except OSError:
            return
        if not items or not self.hub.token:
            return
        now = self._clock()
        for item in items:
            self._state.items[item.session_id] = item
            self._state.due.setdefault(item.session_id, now)

    async def _persist_fresh(self) -> None:
        if not self._state.fresh:
            return
        if not self.hub.token:
            for session_id in self._state.fresh:
                self._state.due.pop(session_id, None)
            self._state.fresh.clear()
            await self._say_no_token()
            return
        for session_id in list(self._state.fresh):
            self._state.fresh.discard(session_id)
            item = self._fresh_item(session_id)
            if item is None:
                continue
            try:
                await _in_thread(self.queue.put, item)
            except OSError as exc:
                self._notice(f"Could not write the trace upload queue: {exc}", "warning")

    def _fresh_item(self, session_id: str) -> PendingUpload | None:
        """The queue entry for a changed session (attempts start over: new content)."""
        journal = self._journal_for(session_id)
        if journal is None:
            self._state.due.pop(session_id, None)
            return None
        item = PendingUpload(session_id, str(journal), private=self.options.private)
        self._state.items[session_id] = item
        return item

    async def _say_no_token(self) -> None:
        with contextlib.suppress(OSError):
            if await _in_thread(self.queue.set_flag, NO_TOKEN_FLAG, True):
                self._notice(NO_TOKEN)

    # ------------------------------------------------------------ uploads

    async def _upload_due(self) -> None:
        now = self._clock()
        due = sorted((t, s) for s, t in self._state.due.items() if t <= now)
        for _, session_id in due:
            if session_id in self._state.fresh:
                continue  # changed again meanwhile: queue the new state first
            item = self._state.items.get(session_id)
            if item is None:
                self._state.due.pop(session_id, None)
                continue
            await self._attempt(item)

    async def _attempt(self, item: PendingUpload) -> None:
        session_id = item.session_id
        if not await _in_thread(Path(item.journal).is_file):
            self._forget(session_id)  # the journal was deleted: nothing left to upload
            with contextlib.suppress(OSError):
                await _in_thread(self.queue.remove, session_id)
            return
        try:
            repo = await self._upload(item)
        except Exception as exc:
            await self._failed(item, _error_line(exc))
            return
        if session_id in self._state.fresh:
            return  # more turns arrived during the upload: the next one sends them
        self._forget(session_id)
        with contextlib.suppress(OSError):
            await _in_thread(self.queue.remove, session_id)
        await self._announce(repo)

    async def _failed(self, item: PendingUpload, error: str) -> None:
        item.attempts += 1
        item.last_error = error
        session_id = item.session_id
        if item.attempts >= self.max_attempts:
            self._forget(session_id)
            with contextlib.suppress(OSError):
                await _in_thread(self.queue.remove, session_id)
            self._notice(
                f"Gave up uploading the trace of session {session_id} after {item.attempts} "
                f"attempts ({error}); /share-traces tries again.",
                "warning",
            )
            return
        delay = min(self.retry_max_s, self.retry_base_s * 2 ** (item.attempts - 1))
        if session_id not in self._state.fresh:  # else the new content is due sooner
            self._state.due[session_id] = self._clock() + delay
        with contextlib.suppress(OSError):
            await _in_thread(self.queue.put, item)
        if not self._state.warned_failure:
            self._state.warned_failure = True
            self._notice(
                f"Could not upload the session trace ({error}); it stays queued and is "
                "retried in the background.",
                "warning",
            )

    def _forget(self, session_id: str) -> None:
        self._state.due.pop(session_id, None)
        self._state.items.pop(session_id, None)

    async def _announce(self, repo: str) -> None:
        """The first upload to a dataset says where traces go and how to stop it (once)."""
        if repo in self._state.announced:
            return
        self._state.announced.add(repo)
        with contextlib.suppress(OSError):
            if not await _in_thread(self.queue.set_flag, f"announced:{repo}", True):
                return
        url = dataset_url(self.options.endpoint, repo)
        self._notice(
            f"Session traces are uploaded to {url}; [traces] upload = false turns this off, "
            "/share-traces public|private sets who can read them."
        )

    async def _repo(self) -> str:
        if not self.hub.token:
            raise TraceError(
                "no Hugging Face token: set HF_TOKEN or run `hf auth login`, then try again"
            )
        user = await asyncio.wait_for(self.hub.whoami(), CALL_TIMEOUT_S)
        return repo_for(self.options.repo, user.name)

    async def _upload(self, item: PendingUpload) -> str:
        """Export the journal and commit it to the traces dataset; returns the dataset id."""
        from ml_intern_tui.traces.export import session_created, trace_bytes
        from ml_intern_tui.traces.publish import path_in_repo, upload_trace

        repo = await self._repo()
        journal = Path(item.journal)

        def work() -> None:
            data = trace_bytes(journal)
            where = path_in_repo(item.session_id, session_created(journal))
            upload_trace(
                self.hub.api, repo, where, data, private=item.private, session_id=item.session_id
            )

        async with self._upload_lock:
            await self._call(work)
        return repo

    async def _visibility(self, repo: str) -> bool | None:
        from ml_intern_tui.traces.publish import is_private

        return await self._call(is_private, self.hub.api, repo)

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        """A blocking Hub exchange in a daemon thread, abandoned after ``CALL_TIMEOUT_S``."""
        try:
            return await asyncio.wait_for(_in_thread(fn, *args), CALL_TIMEOUT_S)
        except TimeoutError as exc:
            raise TraceError(f"the Hub did not answer within {CALL_TIMEOUT_S:.0f} s") from exc

    # ------------------------------------------------------------ helpers

    def _journal_in_sessions_dir(self, session_id: str) -> Path | None:
        from ml_intern_tui.paths import sessions_dir

        directory = self.options.sessions_dir or sessions_dir()
        path = Path(directory) / f"{session_id}.jsonl"
        return path if session_id and path.is_file() else None

    def _notice(self, text: str, level: str = "info") -> None:
        self.bus.publish(Notice(level=level, text=text))  # type: ignore[arg-type]


def _data_dir() -> Path:
    from ml_intern_tui.paths import data_dir

    return data_dir()


def trace_uploader(settings: Any, loop: Any, bus: EventBus) -> TraceUploader:
    """The uploader for the app (``runtime.agent.background_services``): shares the loop's Hub client
    and finds the live session's journal through the loop."""
    options = TraceOptions.from_settings(settings)
    hub = loop.services.hub
    if hub is None:
        from ml_intern_tui.integrations.hub import HubClient

        hub = HubClient(options.endpoint)
    uploader = TraceUploader(options, hub=hub, bus=bus)
    fallback = uploader._journal_in_sessions_dir

    def journal_for(session_id: str) -> Path | None:
        session = getattr(loop, "session", None)
        journal = getattr(session, "journal", None)
        if session is not None and session.session_id == session_id and journal is not None:
            return Path(journal.path)
        return fallback(session_id)

    uploader._journal_for = journal_for
    return uploader
