"""``hf_jobs``: run, watch and manage Hugging Face Jobs (and scheduled jobs).

Unlike the retired CLI, ``run`` returns as soon as the Hub accepts the job: the job joins
the session's job registry, where a follower streams its logs into the jobs pane, tracks
its stage and accrues its cost. Read-only operations (``ps``, ``logs``, ``inspect``,
``wait``, ``scheduled ps``, ``scheduled inspect``) and ``cancel`` never ask; a paid
``run`` asks with the flavor, $/h, timeout and worst-case cost; scheduled jobs that are
created or changed always need a person. The HF token travels as the job secret
``HF_TOKEN`` and is never shown.
"""

from __future__ import annotations

from ml_intern_tui.core.cost import (
    hourly_price,
    parse_timeout,
    price_source,
    worst_case_job_cost,
)
from ml_intern_tui.core.money import usd
from ml_intern_tui.core.tool import (
    ApprovalRequest,
    Tool,
    ToolContext,
    ToolError,
    ToolResult,
    require,
)
from ml_intern_tui.tools.hf_jobs_args import (
    LOADS_MODEL,
    PREVIEW_LINES,
    READ_ONLY_OPERATIONS,
    HfJobsArgs,
    describe_duration,
    sandbox_script_path,
    script_source,
)
from ml_intern_tui.tools.hf_jobs_ops import JobsOps


class HfJobsTool(Tool):
    """Hugging Face Jobs: submit, list, tail, inspect, cancel, wait; scheduled jobs."""

    name = "hf_jobs"
    description = (
        "Run Python scripts (with uv dependencies) or Docker commands on Hugging Face "
        "hardware (CPU or GPU), and manage those jobs. `run` returns as soon as the job is "
        "accepted; its logs stream into the jobs pane while you keep working; use `logs`, "
        "`inspect` or `wait` (or the jobs tool) to follow it. Before a paid run: find "
        "reference code, verify the dataset columns, smoke-test small, call push_to_hub "
        "(the job's disk is lost when it ends), and choose the timeout deliberately. "
        "HF_TOKEN is passed to the job as a secret automatically."
    )
    Args = HfJobsArgs

    def __init__(self, *, poll_interval_s: float = 10.0) -> None:
        self.poll_interval_s = poll_interval_s

    # -------------------------------------------------------------- approval

    async def prepare(self, args: HfJobsArgs, ctx: ToolContext) -> None:
        """A ``sandbox:`` script is read now, so the approval shows the code that runs
        and ``run`` submits that same text, even if the file changes meanwhile."""
        path = sandbox_script_path(args.script)
        if path is None or args.operation not in ("run", "scheduled run"):
            return
        from ml_intern_tui.spaces.remote import read_whole

        try:
            args._sandbox_code = await read_whole(path, ctx)
        except ToolError as exc:
            raise ToolError(f"script {args.script}: {exc}") from None

    def approval(self, args: HfJobsArgs, ctx: ToolContext) -> ApprovalRequest | None:
        op = args.operation
        if op in READ_ONLY_OPERATIONS or op == "cancel":
            return None
        hub = ctx.services.hub
        if hub is not None:
            hub.require_token()  # no token: fail now rather than after a person said yes
        if op in ("run", "scheduled run"):
            return self._run_request(args, ctx)
        return ApprovalRequest(
            kind="manual",
            title=f"{op} {args.job_id}",
            details=f"operation: {op}\nscheduled job: {args.job_id}\n"
            "Scheduled jobs always need a person to approve changes.",
            risk="high" if op == "scheduled delete" else "medium",
            operation=op,
            scope_value=args.job_id or "",
        )

    def _run_request(self, args: HfJobsArgs, ctx: ToolContext) -> ApprovalRequest:
        price = hourly_price(args.flavor)
        worst = worst_case_job_cost(args.flavor, args.timeout)
        timeout_s = parse_timeout(args.timeout) or 0.0
        rate = f"{usd(price)}/h" if price is not None else "price unknown"
        cost = f" ≈ {usd(worst)}" if worst is not None else ""
        scheduled = args.operation == "scheduled run"
        what = "Scheduled HF job" if scheduled else "HF job"
        title = f"{what} on {args.flavor} · {rate} · {describe_duration(timeout_s)} max{cost}"
        if scheduled:
            title += f" per run · {args.schedule}"
        gpu = not args.flavor.startswith("cpu-")
        return ApprovalRequest(
            kind="manual" if scheduled else "spend",
            title=title,
            details=self._run_details(args, ctx, price, worst, timeout_s),
            risk="high" if gpu or scheduled else "medium",
            cost_estimate_usd=worst,
            operation=args.operation,
            scope_value=args.flavor,
            scope_pattern=args.flavor,
        )

    def _run_details(
        self, args: HfJobsArgs, ctx: ToolContext, price: float | None, worst: float | None, t: float
    ) -> str:
        lines = [f"schedule: {args.schedule}"] if args.schedule else []
        checked = ""
        if args.script:
            source = script_source(args, ctx.cwd)
            lines.append(f"mode: script (uv, Python {args.python})")
            if source.url:
                lines.append(f"script: {source.url}")
            else:
                code = source.code.splitlines()
                where = source.origin or source.path
                origin = f" from {where}" if where else ""
                lines.append(f"script{origin} ({len(code)} lines):")
                lines += [f"  {line}" for line in code[:PREVIEW_LINES]]
                if len(code) > PREVIEW_LINES:
                    lines.append(f"  ... {len(code) - PREVIEW_LINES} more lines")
                checked = source.code
            if args.image:
                lines.append(f"image: {args.image}")
            if args.dependencies:
                lines.append(f"dependencies: {', '.join(args.dependencies)}")
        else:
            checked = " ".join(args.command or [])
            lines += ["mode: docker", f"image: {args.image}", f"command: {checked}"]
        per_run = " per run" if args.schedule else ""
        secrets = ["HF_TOKEN", *(name for name in args.secrets if name != "HF_TOKEN")]
        lines += [
            f"flavor: {args.flavor}",
            f"price: {usd(price) + '/h (' + price_source(args.flavor) + ')' if price is not None else 'unknown'}",
            f"timeout: {describe_duration(t)}",
            f"worst-case cost: {usd(worst) if worst is not None else 'unknown (no price for this flavor)'}{per_run}",
            f"env: {', '.join(args.env) or '(none)'}",
            f"secrets: {', '.join(secrets)}",
        ]
        lines += self._budget_lines(ctx, worst)
        if checked and LOADS_MODEL.search(checked) and "push_to_hub" not in checked:
            lines.append(
                "⚠ the script loads or trains a model but never calls push_to_hub: "
                "its results are lost when the job ends"
            )
        return "\n".join(lines)

    @staticmethod
    def _budget_lines(ctx: ToolContext, worst: float | None) -> list[str]:
        spend = ctx.services.spend
        settings = ctx.services.settings
        budget = getattr(settings, "budget_usd", None) if settings is not None else None
        lines: list[str] = []
        spent = reserved = 0.0
        if spend is not None:
            spent, reserved = spend.total(), spend.reserved()
            extra = f" (+{usd(reserved)} reserved)" if reserved else ""
            lines.append(f"session spend so far: {usd(spent)}{extra}")
        if budget is None:
            lines.append("budget: none set")
        else:
            remaining = budget - spent - reserved
            lines.append(f"budget: {usd(budget)} · remaining {usd(max(remaining, 0.0))}")
            if worst is not None and worst > remaining:
                lines.append("⚠ the worst case exceeds the remaining budget")
        return lines

    # ------------------------------------------------------------------- run

    async def run(self, args: HfJobsArgs, ctx: ToolContext) -> ToolResult:

        ops = JobsOps(require(ctx.services.hub, "hub"), ctx, poll_interval_s=self.poll_interval_s)
        return await ops.dispatch(args)
