"""The bash tool with real subprocesses: output, exit codes, timeouts, cancellation, jobs."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from ml_intern_tui.core.protocol import JobLog, JobUpdated
from ml_intern_tui.core.tool import BadArguments, ToolContext, ToolError, parse_arguments
from ml_intern_tui.jobs.registry import JobRegistry
from ml_intern_tui.tools.bash import BashArgs, BashTool
from ml_intern_tui.tools.files import ReadTool

Waiter = Callable[..., Awaitable[None]]


async def run(tool: BashTool, ctx: ToolContext, **raw: object):  # type: ignore[no-untyped-def]
    args = parse_arguments(tool, raw)
    assert isinstance(args, BashArgs)
    return await tool.run(args, ctx)


async def test_success_merges_stderr_and_summarises(ctx: ToolContext) -> None:
    result = await run(BashTool(), ctx, command="echo out; echo err >&2; pwd")
    assert result.ok
    assert result.output.splitlines() == ["out", "err", str(ctx.cwd)]
    assert result.summary.startswith("exit 0 · 3 lines · ")
    assert not result.truncated


async def test_nonzero_exit_fails_and_says_the_code(ctx: ToolContext) -> None:
    result = await run(BashTool(), ctx, command="echo nope; exit 3")
    assert not result.ok
    assert result.output.startswith("nope")
    assert "[exit code 3]" in result.output
    assert result.summary.startswith("exit 3 ·")


async def test_empty_output_and_ansi_stripping(ctx: ToolContext) -> None:
    assert (await run(BashTool(), ctx, command="true")).output == "(no output)"
    coloured = await run(BashTool(), ctx, command="printf '\\033[1;31mred\\033[0m\\n'")
    assert coloured.output == "red"


async def test_work_dir_is_relative_to_the_project(ctx: ToolContext) -> None:
    (ctx.cwd / "sub").mkdir()
    result = await run(BashTool(), ctx, command="pwd", work_dir="sub")
    assert result.output == str(ctx.cwd / "sub")
    with pytest.raises(ToolError, match="not a directory"):
        await run(BashTool(), ctx, command="pwd", work_dir="missing")


async def test_progress_reports_output_lines(ctx: ToolContext, recorder: Any) -> None:
    await run(BashTool(), ctx, command="echo first-line")
    assert recorder.progress == ["first-line"]


async def test_timeout_kills_the_process_group(
    ctx: ToolContext, tmp_path: Path, pid_gone: Callable[[int], bool]
) -> None:
    pid_file = tmp_path / "child.pid"
    tool = BashTool(kill_grace_s=1.0)
    started = time.monotonic()
    result = await run(
        tool, ctx, command=f"echo begin; sleep 30 & echo $! > {pid_file}; wait", timeout=1
    )
    assert time.monotonic() - started < 4.0
    assert not result.ok
    assert result.summary.startswith("timed out after 1s")
    assert "begin" in result.output and "background=true" in result.output
    assert pid_gone(int(pid_file.read_text()))


async def test_timeout_above_the_limit_is_refused(ctx: ToolContext) -> None:
    with pytest.raises(ToolError, match="above the limit of 60s"):
        await run(BashTool(max_timeout_s=60), ctx, command="true", timeout=61)


async def test_cancelling_the_call_kills_the_group_promptly(
    ctx: ToolContext, tmp_path: Path, wait_until: Waiter, pid_gone: Callable[[int], bool]
) -> None:
    pid_file = tmp_path / "child.pid"
    task = asyncio.create_task(
        run(BashTool(), ctx, command=f"sleep 30 & echo $! > {pid_file}; wait", timeout=60)
    )
    await wait_until(lambda: pid_file.exists() and pid_file.read_text().strip() != "")
    child = int(pid_file.read_text())
    started = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.monotonic() - started < 2.0
    await wait_until(lambda: pid_gone(child), timeout=2.0, what="child to die")


async def test_long_output_is_cut_and_spilled_to_a_readable_file(ctx: ToolContext) -> None:
    ctx.output_budget = 2000
    result = await run(BashTool(), ctx, command="seq 1 5000")
    assert result.ok and result.truncated
    assert result.output.startswith("1\n2\n")
    assert result.output.endswith("5000")
    assert "characters cut here" in result.output
    assert result.data is not None
    spill = Path(result.data["spill_path"])
    assert spill.parent == ctx.services.spill_dir
    assert str(spill) in result.output
    assert (await asyncio.to_thread(spill.read_text)).splitlines() == [
        str(i) for i in range(1, 5001)
    ]
    read = ReadTool()
    page = await read.run(read.Args(path=str(spill), offset=4999, limit=5), ctx)
    assert page.output.splitlines()[:2] == ["  4999\t4999", "  5000\t5000"]


async def test_a_backgrounded_child_holding_the_pipe_does_not_hang_the_call(
    ctx: ToolContext, tmp_path: Path, wait_until: Waiter
) -> None:
    pid_file = tmp_path / "child.pid"
    result = await run(BashTool(), ctx, command=f"sleep 30 & echo $! > {pid_file}; echo done")
    try:
        assert result.ok and result.output.startswith("done")
        assert "still holds its output" in result.output
    finally:
        os.kill(int(pid_file.read_text()), signal.SIGKILL)


async def test_background_starts_a_job_and_returns_at_once(
    ctx: ToolContext, registry: JobRegistry, recorder: Any
) -> None:
    ctx.services = replace(ctx.services, jobs=registry)
    started = time.monotonic()
    result = await run(
        BashTool(),
        ctx,
        command="echo one; echo two; echo three",
        description="count to three",
        background=True,
    )
    assert time.monotonic() - started < 1.0
    assert result.ok and result.data is not None
    job_id = result.data["job_id"]
    assert job_id in result.output and 'operation="logs"' in result.output
    assert result.data["log_path"] in result.output
    record = await registry.wait(job_id, 5)
    assert record.status == "completed" and record.title == "count to three"
    mine = [e for e in recorder.events if getattr(e, "job_id", None) == job_id]
    lines = [line for e in mine if isinstance(e, JobLog) for line in e.lines]
    assert lines == ["one", "two", "three"]
    assert isinstance(mine[-1], JobUpdated) and mine[-1].status == "completed"


async def test_background_without_a_jobs_service_is_a_clear_error(ctx: ToolContext) -> None:
    with pytest.raises(ToolError, match="'jobs' service is not available"):
        await run(BashTool(), ctx, command="sleep 1", background=True)


def test_bad_arguments_are_explained() -> None:
    tool = BashTool()
    with pytest.raises(BadArguments, match="command: Field required"):
        parse_arguments(tool, {})
    with pytest.raises(BadArguments, match="bogus: Extra inputs are not permitted"):
        parse_arguments(tool, {"command": "ls", "bogus": 1})
    with pytest.raises(BadArguments, match="timeout: Input should be greater than or equal to 1"):
        parse_arguments(tool, {"command": "ls", "timeout": 0})
    with pytest.raises(BadArguments, match="not valid JSON"):
        parse_arguments(tool, "{command: ls")
