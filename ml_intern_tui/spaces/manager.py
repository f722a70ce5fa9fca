"""The session's remote sandbox: created in the background as a job, metered, deleted.

``SandboxManager`` is a service (``ctx.services.space_sandbox``) and a background
service of the app (its ``aclose`` deletes the Space at exit). ``create`` returns at
once: a job in the jobs pane follows the creation (build log, stages), then stays
running while the sandbox lives, its cost growing from the hardware's $/h. The Space is
deleted when the job is cancelled (during creation too), when its lifetime is up, when
the session's spend reaches the budget, on ``stop`` and at exit; a build that fails
deletes it as well, so no Space is left behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from ml_intern_tui.core import known_secrets
from ml_intern_tui.core.protocol import EventBase, Notice
from ml_intern_tui.jobs.registry import JobRecord, JobRegistry
from ml_intern_tui.spaces.budget_window import MAX_WINDOW_S, BudgetWindow
from ml_intern_tui.spaces.client import SandboxApiError, SandboxClient
from ml_intern_tui.spaces.hub_spaces import (
    FAILED_STAGES,
    RUNNING_STAGES,
    SpaceError,
    SpaceHub,
    new_api_token,
    new_space_name,
)
from ml_intern_tui.spaces.prices import hourly, usd

Status = Literal["creating", "running", "failed", "stopped"]


@dataclass
class Timing:
    """How often things are checked (tests make them short)."""

    runtime_poll_s: float = 5.0
    health_poll_s: float = 3.0
    health_timeout_s: float = 180.0
    meter_s: float = 10.0
    delete_backoff_s: float = 1.0
    window_s: float = MAX_WINDOW_S
    """Longest budget window of a paid sandbox (see ``budget_window``)."""

    @classmethod
    def every(cls, poll_s: float) -> Timing:
        """The checks of ``[sandbox.space] poll_s``: the Hub and the meter every
        ``poll_s``, the health check a little sooner, the delete retries at most 1 s apart."""
        return cls(
            runtime_poll_s=poll_s,
            health_poll_s=min(3.0, poll_s),
            meter_s=min(10.0, 2 * poll_s),
            delete_backoff_s=min(1.0, poll_s),
        )


@dataclass
class SpaceSandbox:
    """One sandbox Space of this session."""

    hardware: str
    hourly_usd: float | None
    lifetime_s: float
    job_id: str
    repo_id: str = ""
    status: Status = "creating"
    error: str = ""
    url: str = ""
    stage: str = ""
    """The Space's last runtime stage on the Hub (``BUILDING``, ``RUNNING``...)."""
    client: SandboxClient | None = None
    started: float = field(default_factory=time.monotonic)
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when the sandbox answers, or its creation has failed or stopped."""
    task: asyncio.Task[None] | None = None
    """Creates, then meters it."""
    creating: asyncio.Future[None] | None = None
    """The Hub calls that create the Space (shielded: a stop waits for them, then deletes)."""
    window: BudgetWindow | None = None
    """The budget's hold on a paid sandbox (``None`` when free, unpriced or untracked)."""
    guard: asyncio.Task[None] | None = None
    """Renews the budget window, or stops the sandbox when the budget cannot."""

    def cost(self) -> float:
        return (self.hourly_usd or 0.0) * (time.monotonic() - self.started) / 3600

    def describe(self) -> str:
        price = "price unknown" if self.hourly_usd is None else f"{usd(self.hourly_usd)}/h"
        name = self.repo_id or "(name not yet chosen)"
        line = f"{name} · {self.hardware} · {price} · {self.status}"
        if self.status == "running":
            line += f" · {usd(self.cost())} so far"
        return line + (f" · {self.error}" if self.error else "")

    def status_line(self) -> str:
        """``/sandbox``: hardware, stage, $/h, cost so far and lifetime left, one line."""
        price = "price unknown" if self.hourly_usd is None else f"{usd(self.hourly_usd)}/h"
        stage = f" (Hub stage {self.stage})" if self.stage else ""
        parts = [
            self.repo_id or "(name not yet chosen)",
            self.hardware,
            f"{self.status}{stage}",
            price,
            f"{usd(self.cost())} so far",
        ]
        if self.status in ("creating", "running"):
            left = max(self.lifetime_s - (time.monotonic() - self.started), 0.0)
            parts.append(f"{left / 60:.0f} min of its lifetime left")
        line = " · ".join(parts)
        return line + (f" · {self.error}" if self.error else "")


class SandboxManager:
    """Creates, meters and deletes the session's sandbox Space."""

    name = "space-sandbox"

    def __init__(
        self,
        space_hub: SpaceHub,
        jobs: JobRegistry,
        settings: Any,
        publish: Callable[[EventBase], None],
        *,
        spend: Any = None,
        budget_usd: Callable[[], float | None] = lambda: None,
        timing: Timing | None = None,
        live_prices: dict[str, float] | None = None,
    ) -> None:
        self.space_hub = space_hub
        self.jobs = jobs
        self.settings = settings
        self.publish = publish
        self.spend = spend
        self.budget_usd = budget_usd
        self.timing = timing or Timing()
        self.live_prices = live_prices
        self.active: SpaceSandbox | None = None
        self._lock = asyncio.Lock()
        self._deleted: set[str] = set()
        self.autostart: str | None = None
        """Hardware to create a sandbox on when the app starts (``--sandbox``)."""
        self.read_paths: set[str] = set()
        """Sandbox files the agent has read (a write or edit of an existing one needs it)."""
        self._op_tasks: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------ queries

    def price(self, hardware: str) -> float | None:
        return hourly(hardware, self.live_prices)

    def lifetime_s(self) -> float:
        return float(self.settings.lifetime_minutes) * 60

    def worst_case(self, hardware: str) -> float | None:
        price = self.price(hardware)
        return None if price is None else price * self.lifetime_s() / 3600

    async def client(self, wait_s: float = 0.0) -> SandboxClient:
        """The running sandbox's API client, waiting up to ``wait_s`` while it is created;
        a ``SandboxApiError`` with one line saying why there is none."""
        box = self.active
        if box is None:
            raise SandboxApiError("no sandbox is active: create one with sandbox_create first")
        if box.status == "creating" and wait_s > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(box.ready.wait(), wait_s)
        if box.status == "creating":
            raise SandboxApiError(
                f"the sandbox is still being created ({box.describe()}); follow job {box.job_id} "
                "with the jobs tool, and keep working meanwhile"
            )
        if box.client is None or box.status != "running":
            raise SandboxApiError(f"the sandbox is not running: {box.describe()}")
        return box.client

    # ------------------------------------------------------------ create

    async def create(self, hardware: str, *, reservation: str | None = None) -> SpaceSandbox:
        """Start creating a sandbox on ``hardware`` as a background job; returns at once.

        A paid sandbox first reserves its first budget window; ``reservation`` (the
        approving call's own, held for its worst case) is released as it does, and a
        window over the budget refuses with a ``SandboxApiError``.
        """
        async with self._lock:
            box = self.active
            if box is not None and box.status in ("creating", "running"):
                if box.hardware == hardware:
                    return box
                raise SandboxApiError(
                    f"a sandbox is already {box.status} on {box.hardware} ({box.repo_id}); "
                    "stop it with /sandbox stop before asking for other hardware"
                )
            job_id = self.jobs.new_id()
            box = SpaceSandbox(hardware, self.price(hardware), self.lifetime_s(), job_id)
            if reservation is not None and self.spend is not None:
                self.spend.release(reservation)
            self._first_window(box)
            self.active = box
            record = JobRecord(
                id=job_id,
                kind="hf",
                title=f"sandbox on {hardware}",
                flavor=hardware,
            )
            self.jobs.register_external(record, canceller=lambda: self._cancelled(box))
            box.task = asyncio.create_task(self._follow(box), name=f"sandbox-{job_id}")
            if box.window is not None:
                box.guard = asyncio.create_task(self._guard(box), name=f"sandbox-budget-{job_id}")
            return box

    def _first_window(self, box: SpaceSandbox) -> None:
        if self.spend is None or not box.hourly_usd:
            return
        window = BudgetWindow(
            self.spend,
            self.budget_usd,
            box.job_id,
            box.hourly_usd,
            box.lifetime_s,
            min(box.lifetime_s, self.timing.window_s),
        )
        why = window.take(0.0, 0.0)
        if why is not None:
            raise SandboxApiError(f"no sandbox on {box.hardware}: {why}")
        box.window = window

    async def _guard(self, box: SpaceSandbox) -> None:
        """Keep the budget's hold current; renew it at 95 % of each window, or stop the
        sandbox (with a notice) while its running time is still paid for."""
        window = box.window
        assert window is not None
        while box.status in ("creating", "running"):
            elapsed = time.monotonic() - box.started
            due = window.renew_at()
            if due is not None and elapsed >= due:
                why = window.take(elapsed, box.cost())
                if why is not None:
                    await self.stop(why)
                    return
                self._lines(
                    box,
                    f"[budget] reserved {usd(window.committed(window.until_s) - box.cost())} "
                    f"for the next {(window.until_s - elapsed) / 60:.0f} min",
                )
                continue
            window.refresh(box.cost())
            wait = self.timing.meter_s if due is None else min(self.timing.meter_s, due - elapsed)
            await asyncio.sleep(max(wait, 0.01))

    def _unhold(self, box: SpaceSandbox) -> None:
        """The sandbox is gone: release its reservation, end the guard."""
        if box.window is not None:
            box.window.release()
        guard = box.guard
        if guard is not None and guard is not asyncio.current_task():
            guard.cancel()

    async def _follow(self, box: SpaceSandbox) -> None:
        try:
            await self._build(box)
        except asyncio.CancelledError:
            raise
        except (SpaceError, SandboxApiError) as exc:
            await self._fail(box, str(exc))
            return
        except Exception as exc:  # a bug must not leave a paid Space behind
            await self._fail(box, f"{type(exc).__name__}: {exc}")
            return
        await self._meter(box)

    async def _build(self, box: SpaceSandbox) -> None:
        settings = self.settings
        owner = await self.space_hub.owner(settings.namespace)
        box.repo_id = f"{owner}/{new_space_name()}"
        self.jobs.update(
            box.job_id,
            title=f"sandbox {box.repo_id} ({box.hardware})",
            url=f"{self.space_hub.hub.endpoint}/spaces/{box.repo_id}",
        )
        token = new_api_token()
        known_secrets.register(token, "sandbox API token")
        secrets = {"SANDBOX_API_TOKEN": token}
        if settings.pass_hf_token:
            secrets["HF_TOKEN"] = self.space_hub.hub.require_token()
        self._lines(box, f"creating private Space {box.repo_id} on {box.hardware}")
        box.creating = asyncio.ensure_future(
            self.space_hub.create(
                box.repo_id,
                hardware=box.hardware,
                sleep_time_s=settings.sleep_time_s,
                secrets=secrets,
                template=settings.template,
            )
        )
        await asyncio.shield(box.creating)
        stop = threading.Event()
        log_done = self._stream_build_log(box, stop)
        try:
            await asyncio.wait_for(self._wait_running(box), settings.create_timeout_s)
            with contextlib.suppress(TimeoutError):  # the log's last lines, briefly
                await asyncio.wait_for(log_done.wait(), 2.0)
        except TimeoutError:
            raise SpaceError(
                f"the sandbox was not running after {settings.create_timeout_s}s"
            ) from None
        finally:
            stop.set()
        box.url = await self.space_hub.address(box.repo_id)
        box.client = SandboxClient(box.url, token, self.space_hub.hub.token)
        await self._wait_healthy(box)
        box.status = "running"
        box.ready.set()
        self._lines(box, f"sandbox ready at {box.url}")
        self.publish(Notice(level="success", text=f"Sandbox ready: {box.describe()}"))

    def _stream_build_log(self, box: SpaceSandbox, stop: threading.Event) -> asyncio.Event:
        """Stream the build log into the job from a daemon thread (the Hub's stream
        blocks); the event returned is set when the stream has ended."""
        loop = asyncio.get_running_loop()
        done = asyncio.Event()

        def pump() -> None:
            try:
                for line in self.space_hub.build_log(box.repo_id, stop):
                    loop.call_soon_threadsafe(self._lines, box, line)
            except Exception:  # the build log is a courtesy; the stages say what matters
                pass
            finally:
                with contextlib.suppress(RuntimeError):  # the loop may be closed at exit
                    loop.call_soon_threadsafe(done.set)

        thread = threading.Thread(target=pump, name=f"build-log-{box.job_id}", daemon=True)
        thread.start()
        return done

    async def _wait_running(self, box: SpaceSandbox) -> None:
        seen = ""
        while True:
            stage, hardware, message = await self.space_hub.runtime(box.repo_id)
            if stage != seen:
                seen = box.stage = stage
                self._lines(box, f"[stage {stage}{' on ' + hardware if hardware else ''}]")
            if stage in FAILED_STAGES:
                why = f": {message}" if message else ""
                raise SpaceError(f"the sandbox Space failed to start ({stage}{why})")
            if stage in RUNNING_STAGES and (hardware in (None, box.hardware)):
                return
            await asyncio.sleep(self.timing.runtime_poll_s)

    async def _wait_healthy(self, box: SpaceSandbox) -> None:
        assert box.client is not None
        deadline = time.monotonic() + self.timing.health_timeout_s
        while True:
            try:
                await box.client.call("health", {}, timeout_s=15)
                return
            except SandboxApiError as exc:
                if exc.status == 401 or time.monotonic() >= deadline:
                    raise
            await asyncio.sleep(self.timing.health_poll_s)

    # ------------------------------------------------------------ lifetime

    async def _meter(self, box: SpaceSandbox) -> None:
        """Cost so far into the job (and the session's spend) until it stops."""
        while box.status == "running":
            cost = box.cost()
            self.jobs.update(box.job_id, cost_usd=round(cost, 6))
            budget = self.budget_usd()
            if time.monotonic() - box.started >= box.lifetime_s:
                await self.stop(f"its lifetime of {box.lifetime_s / 60:.0f} min is up")
                return
            if budget is not None and self.spend is not None and self.spend.total() >= budget:
                await self.stop(f"the session reached its {usd(budget)} budget")
                return
            await asyncio.sleep(self.timing.meter_s)

    async def stop(self, reason: str = "asked") -> str:
        """Delete the active sandbox's Space; one line saying what happened."""
        box = self.active
        if box is None or box.status in ("failed", "stopped"):
            return "No sandbox is active."
        was = box.status
        box.status = "stopped"
        box.error = f"stopped: {reason}"
        box.ready.set()
        self._unhold(box)
        await self._halt(box)
        line = await self._delete(box)
        self._lines(box, line)
        self.jobs.update(box.job_id, cost_usd=round(box.cost(), 6))
        self.jobs.finish(box.job_id, "cancelled" if was == "creating" else "completed")
        level: Literal["info", "warning"] = "info" if reason == "asked" else "warning"
        self.publish(Notice(level=level, text=f"Sandbox stopped ({reason}). {line}"))
        return line

    async def _halt(self, box: SpaceSandbox) -> None:
        """Stop creating (unless called from the creation itself), and let a Hub call
        that creates the Space finish, so the delete that follows finds it."""
        task = box.task
        if task is not None and task is not asyncio.current_task() and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if box.creating is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(asyncio.shield(box.creating), 120)

    async def _cancelled(self, box: SpaceSandbox) -> None:
        await self.stop("cancelled")

    async def _fail(self, box: SpaceSandbox, message: str) -> None:
        box.status = "failed"
        box.error = message
        self._unhold(box)
        self._lines(box, f"[failed] {message}")
        line = await self._delete(box)
        self._lines(box, line)
        self.jobs.update(box.job_id, cost_usd=round(box.cost(), 6))
        self.jobs.finish(box.job_id, "failed")
        box.ready.set()  # after the delete: whoever waited sees nothing left behind
        self.publish(Notice(level="error", text=f"Sandbox failed: {message}. {line}"))

    async def _delete(self, box: SpaceSandbox) -> str:
        if box.client is not None:
            with contextlib.suppress(Exception):
                await box.client.aclose()
        if not box.repo_id or box.repo_id in self._deleted:
            return "Nothing was left on the Hub."
        try:
            await self.space_hub.delete(box.repo_id, backoff_s=self.timing.delete_backoff_s)
        except SpaceError as exc:
            return f"{exc}; delete it with `ml-intern-tui sandboxes --delete`."
        self._deleted.add(box.repo_id)
        return f"Deleted the Space {box.repo_id}."

    def _lines(self, box: SpaceSandbox, *lines: str) -> None:
        with contextlib.suppress(Exception):  # a finished job takes no more lines
            self.jobs.add_lines(box.job_id, list(lines))

    # ------------------------------------------------------------ ops

    def handle_op(self, op: Any) -> bool:
        """Take ``space_sandbox_status`` and ``space_sandbox_stop`` (``/sandbox``); False for others."""
        from ml_intern_tui.core.space_ops import SpaceSandboxStatus, SpaceSandboxStop

        if isinstance(op, SpaceSandboxStatus):
            box = self.active
            if box is None:
                text = "No sandbox in this session (the agent creates one with sandbox_create)."
                self.publish(Notice(text=text))
            else:
                self.publish(Notice(text=f"Sandbox: {box.status_line()}"))
            return True
        if isinstance(op, SpaceSandboxStop):
            task = asyncio.create_task(self._stop_asked(), name="sandbox-stop")
            self._op_tasks.add(task)
            task.add_done_callback(self._op_tasks.discard)
            return True
        return False

    async def _stop_asked(self) -> None:
        box = self.active
        if box is None or box.status in ("failed", "stopped"):
            self.publish(Notice(text="No sandbox is active."))
            return
        await self.stop()  # its notice says what happened

    # ------------------------------------------------------- background service

    async def run(self) -> None:
        if self.autostart:
            try:
                await self.create(self.autostart)
            except SandboxApiError as exc:
                self.publish(Notice(level="error", text=f"Sandbox not created: {exc}"))
        await asyncio.Event().wait()

    async def aclose(self) -> None:
        """At exit: the Space goes (a creation still running is stopped first)."""
        box = self.active
        if box is not None and box.status in ("creating", "running"):
            await self.stop("the session ended")
