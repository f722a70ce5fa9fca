"""``jobs``: list, inspect, follow, wait for and cancel the session's background jobs."""

from __future__ import annotations

import time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ml_intern_tui.core.services import JobsService
from ml_intern_tui.core.tool import Tool, ToolContext, ToolError, ToolResult, require
from ml_intern_tui.jobs.metric_summary import progress_line, series_lines, summary_lines
from ml_intern_tui.jobs.registry import JobError, JobRecord

WAIT_PROGRESS_S = 5.0
"""How often ``wait`` reports the job's latest line while it waits."""


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def _describe(job: JobRecord) -> str:
    state = job.status
    if job.exit_code is not None and job.status != "running":
        state += f" (exit {job.exit_code})"
    extra = f" · ${job.cost_usd:.2f}" if job.cost_usd else ""
    return (
        f"{job.id}  {job.kind:<5}  {state:<16} {_duration(job.duration_s()):>7}{extra}  {job.title}"
    )


class JobsArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    operation: Literal["list", "status", "logs", "metrics", "wait", "cancel"] = Field(
        description="list: all jobs; status: one job's state, its training metrics "
        "(latest, min/max, trend, progress) and last lines; logs: the tail of its log; "
        "metrics: one metric's curve read from the log; wait: block until it finishes or "
        "timeout_s passes; cancel: stop it."
    )
    job_id: str | None = Field(None, description="The job (e.g. job-1a2b3c); all but list.")
    metric: str | None = Field(
        None, description="For metrics: the metric whose curve to return (e.g. loss)."
    )
    lines: int = Field(50, ge=1, le=2000, description="How many log lines logs returns.")
    timeout_s: int = Field(
        300, ge=1, le=3600, description="For wait: give up waiting after this many seconds."
    )


class JobsTool(Tool):
    """Follow the session's jobs (local background commands and HF Jobs)."""

    name = "jobs"
    description = (
        "Follow background jobs started in this session (bash background=true, HF Jobs): "
        "list them, get a job's status with its training metrics, read the tail of its "
        "log or a metric's curve, wait for it to finish, or cancel it. The full log of "
        "each job is on disk (its path is in status)."
    )
    Args = JobsArgs
    read_only = True

    async def run(self, args: JobsArgs, ctx: ToolContext) -> ToolResult:
        registry: JobsService = require(ctx.services.jobs, "jobs")
        if args.operation == "list":
            return self._list(registry)
        if not args.job_id:
            raise ToolError(f"job_id is required for {args.operation}")
        try:
            job = registry.require(args.job_id)
        except JobError as exc:
            raise ToolError(str(exc)) from exc
        if args.operation == "metrics":
            lines = series_lines(job.metrics, args.metric)
            return ToolResult(
                summary=f"{job.id} · {args.metric or 'metrics'}", output="\n".join(lines)
            )
        if args.operation == "cancel":
            return await self._cancel(registry, job)
        if args.operation == "status":
            result = self._status(registry, job)
        elif args.operation == "logs":
            result = self._logs(registry, job, args.lines)
        else:
            result = await self._wait(registry, job, args.timeout_s, ctx)
        registry.acknowledge(job.id)  # what the agent just read needs no note later
        return result

    def _list(self, registry: JobsService) -> ToolResult:
        jobs = registry.list()
        if not jobs:
            return ToolResult(summary="no jobs", output="No jobs in this session.")
        running = sum(not job.finished for job in jobs)
        return ToolResult(
            summary=f"{len(jobs)} jobs · {running} running",
            output="\n".join(_describe(job) for job in jobs),
        )

    def _status(self, registry: JobsService, job: JobRecord, tail_lines: int = 10) -> ToolResult:
        lines = [_describe(job)]
        if job.command:
            lines.append(f"command: {job.command}")
        for label, value in (("flavor", job.flavor), ("url", job.url), ("log", job.log_path)):
            if value:
                lines.append(f"{label}: {value}")
        lines.append(f"log lines so far: {job.lines_total}")
        metrics = summary_lines(job.metrics)
        if metrics:
            lines += ["--- metrics read from the log", *metrics]
        if logged := summary_lines(job.trackio_metrics):
            lines += ["--- metrics the job logged to trackio", *logged]
        tail = registry.tail(job.id, tail_lines)
        if tail:
            lines += [f"--- last {len(tail)} lines", *tail]
        return ToolResult(
            summary=f"{job.id} {job.status}",
            output="\n".join(lines),
            data={"job_id": job.id, "status": job.status},
        )

    def _logs(self, registry: JobsService, job: JobRecord, n: int) -> ToolResult:
        tail = registry.tail(job.id, n)
        header = (
            f"{job.id} ({job.status}): last {len(tail)} of {job.lines_total} lines; "
            f"full log: {job.log_path}"
        )
        body = "\n".join(tail) if tail else "(no output yet)"
        return ToolResult(
            summary=f"{job.id} · {len(tail)} lines", output=f"{header}\n{body}", data=None
        )

    async def _wait(
        self, registry: JobsService, job: JobRecord, timeout_s: int, ctx: ToolContext
    ) -> ToolResult:
        started = time.monotonic()
        deadline = started + timeout_s
        while not job.finished:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            await registry.wait(job.id, min(WAIT_PROGRESS_S, remaining))
            if not job.finished:
                last = next((line for line in reversed(job.tail) if line.strip()), "")
                if job.metrics is not None and (where := progress_line(job.metrics)):
                    last = where.removeprefix("progress: ")
                waited = _duration(time.monotonic() - started)
                ctx.progress(f"waiting {waited} · {last[:160]}" if last else f"waiting {waited}")
        tail = registry.tail(job.id, 20)
        body = "\n".join(tail) if tail else "(no output)"
        metrics = summary_lines(job.metrics)
        if metrics:
            body = "\n".join(
                ["--- metrics read from the log", *metrics, f"--- last {len(tail)} lines", body]
            )
        if job.finished:
            head = _describe(job) + ("" if metrics else f"\n--- last {len(tail)} lines")
            summary = f"{job.id} {job.status}"
            if job.exit_code is not None:
                summary += f" (exit {job.exit_code})"
        else:
            head = (
                f"{job.id} is still running after waiting {timeout_s}s; wait again, check "
                "its logs, or cancel it." + ("" if metrics else f"\n--- last {len(tail)} lines")
            )
            summary = f"{job.id} still running"
        return ToolResult(
            summary=summary,
            output=f"{head}\n{body}",
            data={"job_id": job.id, "status": job.status},
        )

    async def _cancel(self, registry: JobsService, job: JobRecord) -> ToolResult:
        if job.finished:
            return ToolResult(
                summary=f"{job.id} already {job.status}",
                output=f"{job.id} had already finished ({job.status}); nothing to cancel.",
            )
        await registry.cancel(job.id)
        return ToolResult(
            summary=f"{job.id} {job.status}",
            output=f"{job.id} was stopped; status: {job.status}.",
            data={"job_id": job.id, "status": job.status},
        )
