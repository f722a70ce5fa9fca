"""The job registry with real processes: events, logs on disk, wait, cancel, external jobs."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from ml_intern_tui.core.protocol import EventBase, JobLog, JobUpdated
from ml_intern_tui.jobs.registry import JobError, JobRecord, JobRegistry

Waiter = Callable[..., Awaitable[None]]


def job_events(events: list[EventBase], job_id: str) -> list[EventBase]:
    return [
        e
        for e in events
        if isinstance(e, JobLog | JobUpdated) and getattr(e, "job_id", "") == job_id
    ]


def log_lines(events: list[EventBase], job_id: str) -> list[str]:
    return [line for e in job_events(events, job_id) if isinstance(e, JobLog) for line in e.lines]


async def test_local_job_streams_logs_in_order_then_completes(
    registry: JobRegistry, events: list[EventBase], tmp_path: Path
) -> None:
    started = time.monotonic()
    record = await registry.start_local(
        "for i in 1 2 3; do echo line$i; done; echo oops >&2", tmp_path, title="count"
    )
    assert time.monotonic() - started < 1.0  # returns at once
    assert record.id.startswith("job-") and len(record.id) == 10
    assert record.status == "running"

    done = await registry.wait(record.id, timeout_s=5)
    assert done.status == "completed" and done.exit_code == 0
    assert done.ended_at is not None

    seq = job_events(events, record.id)
    assert isinstance(seq[0], JobUpdated) and seq[0].status == "running"
    assert isinstance(seq[-1], JobUpdated) and seq[-1].status == "completed"
    assert all(isinstance(e, JobLog) for e in seq[1:-1])
    assert log_lines(events, record.id) == ["line1", "line2", "line3", "oops"]
    assert all(e.session_id == "s1" for e in seq)
    assert record.log_path is not None
    assert record.log_path.read_text() == "line1\nline2\nline3\noops\n"
    assert registry.tail(record.id, 2) == ["line3", "oops"]
    assert registry.running() == [] and registry.list() == [record]


async def test_failed_job_reports_exit_code(registry: JobRegistry, tmp_path: Path) -> None:
    record = await registry.start_local("echo bad; exit 4", tmp_path, title="fail")
    await registry.wait(record.id, 5)
    assert record.status == "failed" and record.exit_code == 4


async def test_lines_are_batched_ansi_stripped_and_progress_collapsed(
    registry: JobRegistry, events: list[EventBase], tmp_path: Path
) -> None:
    command = (
        "i=0; while [ $i -lt 200 ]; do echo n$i; i=$((i+1)); done; "
        "printf '\\033[31mred\\033[0m\\n'; printf 'bar 10%%\\rbar 50%%\\rbar 100%%\\n'"
    )
    record = await registry.start_local(command, tmp_path, title="many")
    await registry.wait(record.id, 5)
    lines = log_lines(events, record.id)
    assert lines == [*(f"n{i}" for i in range(200)), "red", "bar 100%"]
    batches = [e for e in job_events(events, record.id) if isinstance(e, JobLog)]
    assert len(batches) < 50  # batched, not one event per line


async def test_env_is_added_to_the_inherited_environment(
    registry: JobRegistry, tmp_path: Path
) -> None:
    record = await registry.start_local(
        'echo "$MY_VAR/$PYTHONUNBUFFERED"', tmp_path, title="env", env={"MY_VAR": "hello"}
    )
    await registry.wait(record.id, 5)
    assert registry.tail(record.id, 1) == ["hello/1"]


async def test_memory_keeps_a_bounded_tail_and_the_file_keeps_everything(
    events: list[EventBase], tmp_path: Path
) -> None:
    registry = JobRegistry(events.append, tmp_path / "logs", max_lines_in_memory=5)
    record = await registry.start_local("seq 1 20", tmp_path, title="seq")
    await registry.wait(record.id, 5)
    assert list(record.tail) == [str(i) for i in range(16, 21)]
    assert registry.tail(record.id, 3) == ["18", "19", "20"]
    assert registry.tail(record.id, 8) == [str(i) for i in range(13, 21)]  # from disk
    assert record.lines_total == 20


async def test_wait_returns_on_timeout_with_the_job_still_running(
    registry: JobRegistry, tmp_path: Path
) -> None:
    record = await registry.start_local("sleep 30", tmp_path, title="slow")
    started = time.monotonic()
    result = await registry.wait(record.id, timeout_s=0.2)
    assert result.status == "running"
    assert time.monotonic() - started < 1.5


async def test_wait_can_be_cancelled(registry: JobRegistry, tmp_path: Path) -> None:
    record = await registry.start_local("sleep 30", tmp_path, title="slow")
    waiter = asyncio.create_task(registry.wait(record.id, timeout_s=60))
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert record.status == "running"  # cancelling a wait does not touch the job


async def test_cancel_kills_the_whole_process_group(
    registry: JobRegistry,
    events: list[EventBase],
    tmp_path: Path,
    wait_until: Waiter,
    pid_gone: Callable[[int], bool],
) -> None:
    pid_file = tmp_path / "child.pid"
    record = await registry.start_local(
        f"sleep 30 & echo $! > {pid_file}; echo started; wait", tmp_path, title="group"
    )
    await wait_until(lambda: pid_file.exists() and pid_file.read_text().strip() != "")
    child = int(pid_file.read_text())
    started = time.monotonic()
    assert await registry.cancel(record.id) is True
    assert time.monotonic() - started < 2.0
    assert record.status == "cancelled"
    assert pid_gone(child)
    last = job_events(events, record.id)[-1]
    assert isinstance(last, JobUpdated) and last.status == "cancelled"
    assert await registry.cancel(record.id) is False  # already finished
    assert await registry.cancel("job-nope") is False


async def test_shutdown_kills_running_local_jobs(
    events: list[EventBase], tmp_path: Path, pid_gone: Callable[[int], bool]
) -> None:
    registry = JobRegistry(events.append, tmp_path / "logs", kill_grace_s=1.0)
    record = await registry.start_local("sleep 30", tmp_path, title="left running")
    assert record.pid is not None
    await registry.shutdown()
    assert record.status == "cancelled"
    assert pid_gone(record.pid)


async def test_unknown_job_errors_name_the_known_jobs(
    registry: JobRegistry, tmp_path: Path
) -> None:
    record = await registry.start_local("true", tmp_path, title="t")
    with pytest.raises(JobError, match=f"known jobs: {record.id}"):
        registry.tail("job-000000", 5)
    with pytest.raises(JobError):
        await registry.wait("job-000000", 1)
    assert registry.get("job-000000") is None


async def test_start_in_a_missing_directory_raises_oserror(
    registry: JobRegistry, tmp_path: Path
) -> None:
    with pytest.raises(OSError):
        await registry.start_local("true", tmp_path / "missing", title="t")
    assert registry.list() == []


async def test_external_job_follower_feeds_lines_and_finishes(
    registry: JobRegistry, events: list[EventBase]
) -> None:
    record = JobRecord(id="hf-abc", kind="hf", title="train", flavor="a10g-small")

    async def follower() -> None:
        registry.add_lines("hf-abc", ["\x1b[1mstep 1\x1b[0m", "step 2"])
        registry.update("hf-abc", cost_usd=0.25, url="https://hf.co/jobs/x")
        registry.finish("hf-abc", "completed", 0)

    registry.register_external(record, follower())
    done = await registry.wait("hf-abc", 5)
    assert done.status == "completed" and done.cost_usd == 0.25
    assert log_lines(events, "hf-abc") == ["step 1", "step 2"]
    updates = [e for e in job_events(events, "hf-abc") if isinstance(e, JobUpdated)]
    assert [u.status for u in updates] == ["running", "running", "completed"]
    assert updates[0].kind == "hf" and updates[0].flavor == "a10g-small"
    assert updates[-1].url == "https://hf.co/jobs/x"
    with pytest.raises(JobError):
        registry.register_external(JobRecord(id="hf-abc", kind="hf", title="dup"))


async def test_external_job_cancel_calls_the_canceller(registry: JobRegistry) -> None:
    cancelled: list[str] = []
    record = JobRecord(id="hf-def", kind="hf", title="train")

    async def follower() -> None:
        await asyncio.sleep(30)

    async def canceller() -> None:
        cancelled.append("hf-def")
        registry.finish("hf-def", "cancelled")

    registry.register_external(record, follower(), canceller=canceller)
    assert await registry.cancel("hf-def") is True
    assert cancelled == ["hf-def"] and record.status == "cancelled"


async def test_failing_external_follower_is_reported_in_the_log(
    registry: JobRegistry, wait_until: Waiter
) -> None:
    async def follower() -> None:
        raise RuntimeError("connection reset")

    registry.register_external(JobRecord(id="hf-x", kind="hf", title="t"), follower())
    await wait_until(lambda: registry.tail("hf-x", 1) != [])
    assert registry.tail("hf-x", 1) == ["[log follower stopped: connection reset]"]
    assert registry.get("hf-x") is not None and registry.get("hf-x").status == "running"
