"""Sandboxed processes still stop as a whole: timeouts, Esc (cancel), job cancel, shutdown.

Inside the sandbox a command has its own PID namespace and session, out of reach of the
old process-group signal; these tests prove every process inside is gone afterwards, and
that a command still gets SIGTERM first (a training script can save a checkpoint).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from pathlib import Path

import pytest
from sandboxing import bash
from support import pids_with

from ml_intern_tui.core.protocol import EventBase
from ml_intern_tui.core.tool import ToolContext
from ml_intern_tui.jobs.registry import JobRegistry
from ml_intern_tui.tools.bash import BashTool

Waiter = Callable[..., Awaitable[None]]


def _seconds() -> str:
    """A sleep length no other process uses, so /proc finds exactly ours."""
    return str(900_000 + uuid.uuid4().int % 99_999)


@pytest.fixture
async def jobs(ctx: ToolContext, tmp_path: Path) -> AsyncIterator[JobRegistry]:
    events: list[EventBase] = []
    registry = JobRegistry(events.append, tmp_path / "logs", batch_interval_s=0.05, kill_grace_s=1)
    ctx.services = replace(ctx.services, jobs=registry)
    yield registry
    await registry.shutdown()


async def test_timeout_kills_everything_inside(ctx: ToolContext, wait_until: Waiter) -> None:
    a, b = _seconds(), _seconds()
    started = time.monotonic()
    result = await bash(
        ctx, BashTool(kill_grace_s=1.0), command=f"sleep {a} & sleep {b}; wait", timeout=1
    )
    assert time.monotonic() - started < 4.0
    assert result.summary.startswith("timed out after 1s")
    await wait_until(lambda: not pids_with(a) and not pids_with(b), timeout=3, what="sleeps gone")


async def test_cancel_sends_sigterm_inside_then_nothing_is_left(
    ctx: ToolContext, wait_until: Waiter
) -> None:
    a = _seconds()
    command = f"trap 'echo bye > stopped.txt; exit 0' TERM; sleep {a} & echo up; wait"
    task = asyncio.create_task(bash(ctx, BashTool(kill_grace_s=2.0), command=command, timeout=60))
    await wait_until(lambda: bool(pids_with(a)), what="the sandboxed sleep to start")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await wait_until(lambda: not pids_with(a), timeout=4, what="the sleep to die")
    # The shell's TERM trap ran: the signal reached inside the sandbox, not just bwrap.
    assert (ctx.cwd / "stopped.txt").read_text() == "bye\n"


async def test_a_backgrounded_child_dies_with_the_sandbox(
    ctx: ToolContext, wait_until: Waiter
) -> None:
    a = _seconds()
    started = time.monotonic()
    result = await bash(ctx, command=f"sleep {a} & echo done")
    assert result.ok and result.output.startswith("done")
    assert time.monotonic() - started < 3.0
    await wait_until(lambda: not pids_with(a), timeout=3, what="the orphan to die")


async def test_background_jobs_run_in_the_sandbox_and_cancel_kills_them(
    ctx: ToolContext, jobs: JobRegistry, outside: Path, wait_until: Waiter
) -> None:
    a = _seconds()
    target = outside / "from-job.txt"
    result = await bash(
        ctx,
        command=f"touch {target}; echo status=$?; touch in-project.txt; sleep {a}",
        background=True,
    )
    assert "in the sandbox · no network" in result.output
    assert result.data is not None
    job_id = result.data["job_id"]
    # The shell's own command line holds the sleep's number before it ran the touches.
    in_project = ctx.cwd / "in-project.txt"
    await wait_until(lambda: bool(pids_with(a)) and in_project.exists(), what="the job's sleep")
    assert not target.exists()
    assert await jobs.cancel(job_id)
    record = jobs.require(job_id)
    assert record.status == "cancelled"
    await wait_until(lambda: not pids_with(a), timeout=3, what="the job's sleep to die")
    assert any("Read-only file system" in line for line in jobs.tail(job_id, 10))


async def test_shutdown_kills_sandboxed_jobs(
    ctx: ToolContext, jobs: JobRegistry, wait_until: Waiter
) -> None:
    a = _seconds()
    await bash(ctx, command=f"sleep {a}", background=True)
    await wait_until(lambda: bool(pids_with(a)), what="the job's sleep")
    await jobs.shutdown()
    await wait_until(lambda: not pids_with(a), timeout=4, what="the job's sleep to die")
