"""The operations of ``hf_jobs``: the Hub calls and how their answers read for the model.

Every call goes through :class:`~ml_intern_tui.integrations.hub.HubClient` (a thread per
blocking call) with an explicit namespace: huggingface_hub's ``list_jobs`` would otherwise
ask the default endpoint who the user is.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import Any

from ml_intern_tui.core.cost import hourly_price, job_cost_so_far, parse_timeout
from ml_intern_tui.core.cost import worst_case_job_cost as worst_case
from ml_intern_tui.core.money import usd
from ml_intern_tui.core.services import HubService, JobsService
from ml_intern_tui.core.tool import ToolContext, ToolError, ToolResult, cut_text, require
from ml_intern_tui.jobs.hf import FINAL_STAGES, HfJobFollower, running_seconds, stage_of
from ml_intern_tui.jobs.registry import JobRecord
from ml_intern_tui.tools.hf_jobs_args import (
    DEFAULT_UV_IMAGE,
    JOB_ENV_DEFAULTS,
    HfJobsArgs,
    describe_duration,
    resolve_secrets,
    script_source,
    uv_command,
)

PS_ROWS = 30
SCHEDULED_ACTIONS = {
    "scheduled delete": ("delete_scheduled_job", "deleted"),
    "scheduled suspend": ("suspend_scheduled_job", "suspended"),
    "scheduled resume": ("resume_scheduled_job", "resumed"),
}


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else "-"


def describe_error(exc: BaseException, job_id: str | None = None) -> str:
    """One line for a failed Jobs call."""
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    said = getattr(exc, "server_message", None) or ""
    if not said:
        lines = [line for line in str(exc).splitlines() if line.strip()]
        said = lines[-1] if lines else type(exc).__name__
    said = " ".join(str(said).split())[:300]
    if status == 402:
        return f"HF Jobs refused the job: payment required (402); add a payment method or credits, then retry ({said})"
    if status == 401:
        return "the Hub rejected the token (401): check HF_TOKEN or run `hf auth login`"
    if status == 404 and job_id:
        return f"no job {job_id!r} on the Hub in this namespace (404)"
    if status:
        return f"HF Jobs request failed ({status}): {said}"
    return f"HF Jobs request failed: {said}"


def scrub(text: str, secrets: list[str]) -> str:
    """``text`` with every secret value (four characters or more) masked."""
    for value in (v for v in secrets if len(v) >= 4):
        text = text.replace(value, "***")
    return text


def _names(mapping: Any) -> str:
    return ", ".join(sorted(mapping or {})) or "(none)"


class JobsOps:
    """One ``hf_jobs`` call: the Hub client, the call's context and the operations."""

    def __init__(self, hub: HubService, ctx: ToolContext, *, poll_interval_s: float) -> None:
        self.hub = hub
        self.ctx = ctx
        self.poll_interval_s = poll_interval_s
        self.secret_values: list[str] = []

    async def dispatch(self, args: HfJobsArgs) -> ToolResult:
        token = self.hub.require_token()
        self.secret_values = [token]
        try:
            if args.operation in SCHEDULED_ACTIONS:
                result = await self._scheduled_action(args, *SCHEDULED_ACTIONS[args.operation])
            else:
                result = await getattr(self, "op_" + args.operation.replace(" ", "_"))(args)
        except ToolError as exc:
            raise ToolError(scrub(str(exc), self.secret_values)) from None
        except Exception as exc:
            raise ToolError(scrub(describe_error(exc, args.job_id), self.secret_values)) from None
        result.output = scrub(result.output, self.secret_values)
        result.summary = scrub(result.summary, self.secret_values)
        return result

    async def namespace(self, requested: str | None) -> str:
        user = await self.hub.whoami()
        if not requested or requested == user.name:
            return user.name
        if requested in user.orgs:
            return requested
        orgs = f" or one of your orgs ({', '.join(user.orgs)})" if user.orgs else ""
        raise ToolError(f"namespace {requested!r} is not yours: use {user.name}{orgs}")

    def _tracked(self, job_id: str | None) -> tuple[JobsService, JobRecord] | None:
        """The session's registry and record when this session follows ``job_id``."""
        registry: JobsService | None = self.ctx.services.jobs
        record = registry.get(job_id) if registry is not None and job_id else None
        if registry is None or record is None or record.kind != "hf":
            return None
        return registry, record

    # ------------------------------------------------------------------- run

    def _job_spec(self, args: HfJobsArgs) -> tuple[str, list[str], str]:
        """Image, command and a short human description of what runs."""
        if args.script:
            source = script_source(args, self.ctx.cwd)
            command = uv_command(source, args.dependencies, args.python)
            if source.url:
                what = source.url.rsplit("/", 1)[-1] or source.url
            elif source.origin:
                what = source.origin
            elif source.path:
                what = source.path.name
            else:
                what = f"inline script ({len(source.code.splitlines())} lines)"
            return args.image or DEFAULT_UV_IMAGE, command, what
        assert args.image and args.command
        return args.image, list(args.command), f"{args.image}: {' '.join(args.command)}"[:120]

    async def _submission(self, args: HfJobsArgs) -> dict[str, Any]:
        image, command, what = self._job_spec(args)
        secrets = resolve_secrets(args.secrets, self.secret_values[0])
        self.secret_values += [v for k, v in secrets.items() if k != "HF_TOKEN"]
        timeout_s = parse_timeout(args.timeout)
        assert timeout_s is not None  # validated with the arguments
        return {
            "image": image,
            "command": command,
            "env": {**JOB_ENV_DEFAULTS, **args.env},
            "secrets": secrets,
            "flavor": args.flavor,
            "timeout": int(timeout_s),
            "namespace": await self.namespace(args.namespace),
            "labels": {"created-by": "ml-intern-tui"},
            "_what": what,
        }

    async def op_run(self, args: HfJobsArgs) -> ToolResult:
        registry = require(self.ctx.services.jobs, "jobs")
        spec = await self._submission(args)
        what = spec.pop("_what")
        info = await self.hub.run(self.hub.api.run_job, **spec)
        stage, namespace = stage_of(info), spec["namespace"]
        status = stage.lower()
        follower = HfJobFollower(
            self.hub,
            registry,
            info.id,
            namespace=namespace,
            flavor=args.flavor,
            poll_interval_s=self.poll_interval_s,
            notify=self.ctx.publish,
        )
        record = JobRecord(
            id=info.id,
            kind="hf",
            title=f"{what} · {args.flavor}",
            status=status,
            flavor=args.flavor,
            url=info.url,
            command=what,
        )
        registry.register_external(record, follower.run(), canceller=follower.cancel)
        price = hourly_price(args.flavor)
        worst = worst_case(args.flavor, args.timeout)
        rate = f"{usd(price)}/h" if price is not None else "price unknown"
        output = [
            f"HF job {info.id} accepted ({stage}) on {args.flavor} under {namespace}.",
            f"URL: {info.url}",
            f"Timeout: {describe_duration(spec['timeout'])} · {rate} · worst case {usd(worst)}",
            "It runs in the background and its logs stream into the jobs pane. Follow it with "
            f"hf_jobs logs / inspect / wait (job_id={info.id}) or the jobs tool; stop it with "
            "hf_jobs cancel.",
        ]
        return ToolResult(
            summary=f"{info.id} {status} · {args.flavor}",
            output="\n".join(output),
            data={"job_id": info.id, "url": info.url, "flavor": args.flavor, "status": status},
        )

    # ----------------------------------------------------------- read-only

    async def op_ps(self, args: HfJobsArgs) -> ToolResult:
        namespace = await self.namespace(args.namespace)
        jobs = await self.hub.run(lambda: list(self.hub.api.list_jobs(namespace=namespace)))
        if not jobs:
            return ToolResult(summary="no jobs", output=f"No HF jobs under {namespace}.")
        jobs.sort(key=lambda j: j.created_at.timestamp() if j.created_at else 0.0, reverse=True)
        active = sum(stage_of(j) not in FINAL_STAGES for j in jobs)
        rows = [f"{'JOB ID':<26} {'STAGE':<11} {'FLAVOR':<14} {'CREATED':<17} IMAGE / COMMAND"]
        for job in jobs[:PS_ROWS]:
            what = f"{job.docker_image or job.space_id or '-'} {' '.join(job.command or [])}"
            rows.append(
                f"{job.id:<26} {stage_of(job):<11} {job.flavor or '-':<14} "
                f"{_when(job.created_at):<17} {what[:70]}"
            )
        if len(jobs) > PS_ROWS:
            rows.append(f"... {len(jobs) - PS_ROWS} older jobs not shown")
        return ToolResult(
            summary=f"{len(jobs)} jobs · {active} active",
            output=f"HF jobs under {namespace}:\n" + "\n".join(rows),
        )

    async def op_logs(self, args: HfJobsArgs) -> ToolResult:
        assert args.job_id
        if tracked := self._tracked(args.job_id):
            registry, record = tracked
            tail = registry.tail(args.job_id, args.lines)
            head = (
                f"{args.job_id} ({record.status}): last {len(tail)} of {record.lines_total} "
                f"lines; full log: {record.log_path}"
            )
        else:
            namespace = await self.namespace(args.namespace)
            tail = await self.hub.run(
                lambda: list(
                    self.hub.api.fetch_job_logs(
                        job_id=args.job_id, namespace=namespace, follow=False, tail=args.lines
                    )
                )
            )
            tail = tail[-args.lines :]
            head = f"{args.job_id}: last {len(tail)} lines"
        body = "\n".join(tail) if tail else "(no output yet)"
        text, cut = cut_text(f"{head}\n{body}", self.ctx.output_budget, hint="ask for fewer lines")
        return ToolResult(summary=f"{args.job_id} · {len(tail)} lines", output=text, truncated=cut)

    async def _inspect(self, job_id: str, namespace: str) -> Any:
        return await self.hub.run(self.hub.api.inspect_job, job_id=job_id, namespace=namespace)

    async def op_inspect(self, args: HfJobsArgs) -> ToolResult:
        assert args.job_id
        info = await self._inspect(args.job_id, await self.namespace(args.namespace))
        stage = stage_of(info)
        message, running = getattr(info.status, "message", None), running_seconds(info, 0.0)
        lines = [
            f"job: {info.id}",
            f"stage: {stage}" + (f" ({message})" if message else ""),
            f"flavor: {info.flavor or '-'}",
            f"image: {info.docker_image or info.space_id or '-'}",
            f"command: {' '.join(info.command or [])[:500] or '-'}",
            f"created: {_when(info.created_at)} · started: {_when(info.started_at)} · "
            f"finished: {_when(info.finished_at)}",
            f"ran for: {describe_duration(running)} · cost so far: "
            f"{usd(job_cost_so_far(info.flavor, running))}",
            f"env: {_names(info.environment)}",
            f"secrets: {_names(info.secrets)}",
            f"url: {info.url}",
        ]
        return ToolResult(
            summary=f"{info.id} {stage.lower()}",
            output="\n".join(lines),
            data={"job_id": info.id, "status": stage.lower(), "url": info.url},
        )

    async def op_wait(self, args: HfJobsArgs) -> ToolResult:
        assert args.job_id
        started = time.monotonic()
        deadline = started + args.wait_timeout_s
        if tracked := self._tracked(args.job_id):
            registry, record = tracked
            while not record.finished and (remaining := deadline - time.monotonic()) > 0:
                await registry.wait(args.job_id, min(self.poll_interval_s, remaining))
                if not record.finished:
                    last = next((ln for ln in reversed(record.tail) if ln.strip()), "")
                    self._progress(started, record.status, last)
            status, done = record.status, record.finished
            tail = registry.tail(args.job_id, 20)
            cost = record.cost_usd
        else:
            namespace = await self.namespace(args.namespace)
            info = await self._inspect(args.job_id, namespace)
            while (
                stage_of(info) not in FINAL_STAGES
                and (remaining := deadline - time.monotonic()) > 0
            ):
                self._progress(started, stage_of(info).lower(), "")
                await asyncio.sleep(min(self.poll_interval_s, remaining))
                info = await self._inspect(args.job_id, namespace)
            stage = stage_of(info)
            status, done = FINAL_STAGES.get(stage, stage.lower()), stage in FINAL_STAGES
            tail = []
            cost = job_cost_so_far(info.flavor, running_seconds(info, 0.0))
        waited = describe_duration(time.monotonic() - started)
        if done:
            head = f"{args.job_id} {status} (waited {waited}; cost {usd(cost)})"
        else:
            head = f"{args.job_id} is still {status} after waiting {waited}; wait again, read its logs, or cancel it."
        body = f"\n--- last {len(tail)} lines\n" + "\n".join(tail) if tail else ""
        return ToolResult(
            summary=f"{args.job_id} {status}" if done else f"{args.job_id} still {status}",
            output=head + body,
            data={"job_id": args.job_id, "status": status},
        )

    def _progress(self, started: float, status: str, last: str) -> None:
        waited = describe_duration(time.monotonic() - started)
        text = f"waiting {waited} · {status}"
        self.ctx.progress(f"{text} · {last[:160]}" if last else text)

    # -------------------------------------------------------------- cancel

    async def op_cancel(self, args: HfJobsArgs) -> ToolResult:
        assert args.job_id
        if tracked := self._tracked(args.job_id):
            registry, record = tracked
            if record.finished:
                return ToolResult(
                    summary=f"{args.job_id} already {record.status}",
                    output=f"{args.job_id} had already finished ({record.status}).",
                )
            await registry.cancel(args.job_id)
            status = record.status
        else:
            namespace = await self.namespace(args.namespace)
            await self.hub.run(self.hub.api.cancel_job, job_id=args.job_id, namespace=namespace)
            status = "cancel requested"
        return ToolResult(
            summary=f"{args.job_id} {status}",
            output=f"{args.job_id}: {status}.",
            data={"job_id": args.job_id, "status": status},
        )

    # ------------------------------------------------------------ scheduled

    async def op_scheduled_run(self, args: HfJobsArgs) -> ToolResult:
        spec = await self._submission(args)
        spec.pop("_what")
        info = await self.hub.run(
            self.hub.api.create_scheduled_job, schedule=(args.schedule or "").strip(), **spec
        )
        return ToolResult(
            summary=f"scheduled {info.id} · {info.schedule}",
            output=f"Scheduled job {info.id} created ({info.schedule}, {args.flavor}); next run: "
            f"{_when(info.status.next_job_run_at)}.\n"
            "Manage it with hf_jobs scheduled inspect / suspend / resume / delete.",
            data={"scheduled_job_id": info.id},
        )

    async def op_scheduled_ps(self, args: HfJobsArgs) -> ToolResult:
        namespace = await self.namespace(args.namespace)
        items = await self.hub.run(self.hub.api.list_scheduled_jobs, namespace=namespace)
        if not items:
            return ToolResult(
                summary="no scheduled jobs", output=f"No scheduled jobs under {namespace}."
            )
        rows = [f"{'ID':<26} {'SCHEDULE':<14} {'STATE':<10} {'FLAVOR':<14} {'NEXT RUN':<17} IMAGE"]
        for item in items:
            spec = item.job_spec
            state = "suspended" if item.suspend else "active"
            rows.append(
                f"{item.id:<26} {item.schedule or '-':<14} {state:<10} {spec.flavor or '-':<14} "
                f"{_when(item.status.next_job_run_at):<17} {spec.docker_image or spec.space_id or '-'}"
            )
        return ToolResult(summary=f"{len(items)} scheduled jobs", output="\n".join(rows))

    async def op_scheduled_inspect(self, args: HfJobsArgs) -> ToolResult:
        namespace = await self.namespace(args.namespace)
        item = await self.hub.run(
            self.hub.api.inspect_scheduled_job, scheduled_job_id=args.job_id, namespace=namespace
        )
        spec = item.job_spec
        last = item.status.last_job
        lines = [
            f"scheduled job: {item.id}",
            f"schedule: {item.schedule} · {'suspended' if item.suspend else 'active'}",
            f"flavor: {spec.flavor or '-'} · timeout: "
            f"{describe_duration(spec.timeout) if spec.timeout else '-'}",
            f"image: {spec.docker_image or spec.space_id or '-'}",
            f"command: {' '.join(spec.command or [])[:500] or '-'}",
            f"next run: {_when(item.status.next_job_run_at)}",
            f"last job: {f'{last.id} at {_when(last.at)}' if last else '-'}",
            f"env: {_names(spec.environment)}",
            f"secrets: {_names(spec.secrets)}",
        ]
        return ToolResult(summary=f"{item.id} {item.schedule}", output="\n".join(lines))

    async def _scheduled_action(self, args: HfJobsArgs, method: str, done: str) -> ToolResult:
        namespace = await self.namespace(args.namespace)
        await self.hub.run(
            getattr(self.hub.api, method), scheduled_job_id=args.job_id, namespace=namespace
        )
        return ToolResult(
            summary=f"{args.job_id} {done}", output=f"Scheduled job {args.job_id} {done}."
        )
