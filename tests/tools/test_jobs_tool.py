"""jobs: list, status, logs, wait (with progress) and cancel through the registry."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from ml_intern_tui.core.tool import BadArguments, ToolContext, ToolError, parse_arguments
from ml_intern_tui.jobs.registry import JobRegistry
from ml_intern_tui.tools import jobs as jobs_module
from ml_intern_tui.tools.jobs import JobsArgs, JobsTool

Waiter = Callable[..., Awaitable[None]]


async def call(ctx: ToolContext, **raw: Any):  # type: ignore[no-untyped-def]
    args = parse_arguments(JobsTool(), raw)
    assert isinstance(args, JobsArgs)
    return await JobsTool().run(args, ctx)


@pytest.fixture
def jobs_ctx(ctx: ToolContext, registry: JobRegistry) -> ToolContext:
    ctx.services = replace(ctx.services, jobs=registry)
    return ctx


async def test_list_status_and_logs(jobs_ctx: ToolContext, registry: JobRegistry) -> None:
    assert (await call(jobs_ctx, operation="list")).output == "No jobs in this session."
    record = await registry.start_local("seq 1 100", jobs_ctx.cwd, title="count")
    await registry.wait(record.id, 5)
    listing = await call(jobs_ctx, operation="list")
    assert record.id in listing.output and "completed (exit 0)" in listing.output
    assert listing.summary == "1 jobs · 0 running"
    status = await call(jobs_ctx, operation="status", job_id=record.id)
    assert "command: seq 1 100" in status.output and f"log: {record.log_path}" in status.output
    assert status.output.endswith("\n".join(str(i) for i in range(91, 101)))
    logs = await call(jobs_ctx, operation="logs", job_id=record.id, lines=3)
    assert logs.output.splitlines()[1:] == ["98", "99", "100"]
    assert "last 3 of 100 lines" in logs.output


async def test_wait_reports_progress_and_the_result(
    jobs_ctx: ToolContext,
    registry: JobRegistry,
    recorder: Any,
    tmp_path: Path,
    monkeypatch: Any,
    wait_until: Waiter,
) -> None:
    monkeypatch.setattr(jobs_module, "WAIT_PROGRESS_S", 0.1)
    gate = tmp_path / "gate"
    record = await registry.start_local(
        f"echo working; while [ ! -e {gate} ]; do sleep 0.05; done; echo finished; exit 2",
        jobs_ctx.cwd,
        title="gated",
    )

    async def open_gate_after_progress() -> None:
        await wait_until(lambda: any("working" in line for line in recorder.progress))
        gate.touch()

    opener = asyncio.create_task(open_gate_after_progress())
    result = await call(jobs_ctx, operation="wait", job_id=record.id, timeout_s=10)
    await opener
    assert result.summary == f"{record.id} failed (exit 2)"
    assert result.output.endswith("working\nfinished")
    assert any(p.startswith("waiting ") and "working" in p for p in recorder.progress)


async def test_wait_timeout_leaves_the_job_running(
    jobs_ctx: ToolContext, registry: JobRegistry
) -> None:
    record = await registry.start_local("sleep 30", jobs_ctx.cwd, title="slow")
    result = await call(jobs_ctx, operation="wait", job_id=record.id, timeout_s=1)
    assert result.ok and "still running after waiting 1s" in result.output
    assert record.status == "running"


async def test_cancel(
    jobs_ctx: ToolContext, registry: JobRegistry, pid_gone: Callable[[int], bool]
) -> None:
    record = await registry.start_local("sleep 30", jobs_ctx.cwd, title="slow")
    result = await call(jobs_ctx, operation="cancel", job_id=record.id)
    assert result.summary == f"{record.id} cancelled"
    assert record.pid is not None and pid_gone(record.pid)
    again = await call(jobs_ctx, operation="cancel", job_id=record.id)
    assert "already finished (cancelled)" in again.output


async def test_errors_are_one_clear_line(jobs_ctx: ToolContext) -> None:
    with pytest.raises(ToolError, match="job_id is required for logs"):
        await call(jobs_ctx, operation="logs")
    with pytest.raises(ToolError, match="no job 'job-zzz' in this session \\(known jobs: none\\)"):
        await call(jobs_ctx, operation="status", job_id="job-zzz")


async def test_without_a_registry(ctx: ToolContext) -> None:
    with pytest.raises(ToolError, match="'jobs' service is not available"):
        await call(ctx, operation="list")


def test_bad_arguments() -> None:
    with pytest.raises(BadArguments, match="operation: Input should be 'list', 'status'"):
        parse_arguments(JobsTool(), {"operation": "delete"})
    with pytest.raises(BadArguments, match="timeout_s: Input should be less than or equal to 3600"):
        parse_arguments(JobsTool(), {"operation": "wait", "job_id": "j", "timeout_s": 5000})


# ----------------------------------------------------------------- metrics for the model


async def test_status_summarises_the_metrics_read_from_the_log(
    jobs_ctx: ToolContext, registry: JobRegistry
) -> None:
    script = "; ".join(
        f"echo 'step={s} loss={2.0 / s:.4f} eval_accuracy={0.5 + s / 400:.3f} lr=0.0003'"
        for s in range(10, 210, 10)
    )
    record = await registry.start_local(
        script + "; echo 'thousands of lines later'", jobs_ctx.cwd, title="t"
    )
    await registry.wait(record.id, 5)
    status = await call(jobs_ctx, operation="status", job_id=record.id)
    text = status.output
    assert "--- metrics read from the log" in text
    loss_line = next(line for line in text.splitlines() if line.startswith("loss:"))
    assert (
        "last 0.01 at step 200" in loss_line and "min 0.01" in loss_line and "max 0.2" in loss_line
    )
    assert "falling" in loss_line and "20 points" in loss_line
    order = [line.split(":")[0] for line in text.splitlines() if ": last " in line]
    assert order == ["loss", "eval_accuracy", "lr"]  # losses first, learning rate last
    assert "rising" in next(line for line in text.splitlines() if line.startswith("eval_accuracy"))
    curve = await call(jobs_ctx, operation="metrics", job_id=record.id, metric="eval_accuracy")
    lines = curve.output.splitlines()
    assert lines[0] == "eval_accuracy against step: 20 of 20 points"
    assert lines[1] == "10\t0.525" and lines[-1] == "200\t1"
    unknown = await call(jobs_ctx, operation="metrics", job_id=record.id, metric="bleu")
    assert "No metric 'bleu'" in unknown.output and "loss, eval_accuracy, lr" in unknown.output


async def test_a_job_without_metrics_says_nothing_about_them(
    jobs_ctx: ToolContext, registry: JobRegistry
) -> None:
    record = await registry.start_local(
        "echo hello; echo 'url http://host:80/x'", jobs_ctx.cwd, title="t"
    )
    await registry.wait(record.id, 5)
    status = await call(jobs_ctx, operation="status", job_id=record.id)
    assert "--- metrics" not in status.output and "progress:" not in status.output
    curve = await call(jobs_ctx, operation="metrics", job_id=record.id)
    assert curve.output == "No metrics were read from this job's log (yet)."
