"""``sandbox_create``: a private GPU (or CPU) sandbox on a Hugging Face Space.

It returns at once: the Space is built in the background as a job (its build log in the
jobs pane) and the agent keeps working; ``bash``/``read``/``write``/``edit`` with
``target="sandbox"`` wait a little for it, then run there. Paid hardware asks with its
$/h and the worst case (price × the configured lifetime); free hardware asks as
contained work (it only makes a private Space on the user's account, deleted at exit).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ml_intern_tui.core.tool import (
    ApprovalRequest,
    Tool,
    ToolContext,
    ToolError,
    ToolResult,
    require,
)
from ml_intern_tui.spaces.prices import SPACE_HOURLY_USD, usd


class SandboxCreateArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hardware: str | None = Field(
        None,
        description="Spaces hardware: cpu-basic (free), cpu-upgrade, t4-small, t4-medium, "
        "l4x1, l4x4, l40sx1, a10g-small, a10g-large, a10g-largex2, a100-large, a100x4, "
        "a100x8, ... (default: the configured one).",
    )

    @field_validator("hardware")
    @classmethod
    def _known(cls, value: str | None) -> str | None:
        if value is None:
            return None
        name = value.strip().lower()
        if name not in SPACE_HOURLY_USD:
            raise ValueError(f"unknown hardware {value!r}; one of {', '.join(SPACE_HOURLY_USD)}")
        return name


class SandboxCreateTool(Tool):
    """Create the session's remote sandbox Space (in the background)."""

    name = "sandbox_create"
    description = (
        "Create a private sandbox on a Hugging Face Space with the given hardware (a GPU "
        "machine when this one has none). Returns at once: the build runs as a background "
        'job; then use bash/read/write/edit with target="sandbox" (work dir /app). It costs '
        "the hardware's hourly price until it is deleted (at the end of the session, after "
        "its lifetime, or over budget). One sandbox per session."
    )
    Args = SandboxCreateArgs

    def _manager(self, ctx: ToolContext) -> Any:
        return require(ctx.services.space_sandbox, "space_sandbox")

    def approval(self, args: SandboxCreateArgs, ctx: ToolContext) -> ApprovalRequest | None:
        manager = self._manager(ctx)
        hardware = args.hardware or manager.settings.hardware
        price = manager.price(hardware)
        worst = manager.worst_case(hardware)
        minutes = manager.settings.lifetime_minutes
        token = (
            "with your HF token as HF_TOKEN"
            if manager.settings.pass_hf_token
            else ("without your HF token")
        )
        details = (
            f"a private Space on {hardware}, {token}\nlifetime {minutes} min (deleted then, "
            f"at the end of the session, or when the budget is reached)\n"
            f"sleeps after {manager.settings.sleep_time_s}s idle"
        )
        if price == 0:
            return ApprovalRequest(
                kind="local",
                title=f"Create a sandbox Space on {hardware} (free)",
                details=details,
                risk="low",
                operation="create_free",
                scope_value=hardware,
                scope_pattern=hardware,
            )
        if price is not None:
            window_s = min(minutes * 60, manager.timing.window_s)
            details += (
                f"\nwhile it runs the budget holds {usd(price * window_s / 3600)} for the next "
                f"{window_s / 60:.0f} min, renewed near the end of each; it stops when a "
                "renewal would cross the budget"
            )
        if price is None:
            title = f"Create a sandbox Space on {hardware} (price unknown)"
            reason = f"the price of {hardware} is unknown"
        else:
            title = (
                f"Create a sandbox Space on {hardware}: {usd(price)}/h, worst case "
                f"{usd(worst or 0)} for {minutes} min"
            )
            reason = ""
        return ApprovalRequest(
            kind="spend",
            title=title,
            details=details,
            risk="medium",
            cost_estimate_usd=worst,
            operation="create",
            scope_value=hardware,
            scope_pattern=hardware,
            reason=reason,
        )

    async def run(self, args: SandboxCreateArgs, ctx: ToolContext) -> ToolResult:
        from ml_intern_tui.spaces.client import SandboxApiError

        manager = self._manager(ctx)
        hardware = args.hardware or manager.settings.hardware
        try:
            box = await manager.create(hardware, reservation=ctx.call_id)
        except SandboxApiError as exc:
            raise ToolError(str(exc)) from None
        price = "price unknown" if box.hourly_usd is None else f"{usd(box.hourly_usd)}/h"
        output = (
            f"Creating a private sandbox Space on {hardware} ({price}) as background job "
            f"{box.job_id}; it usually takes a few minutes. Keep working meanwhile. Then use "
            'bash/read/write/edit with target="sandbox" (they wait up to a minute for it); '
            f'jobs(operation="logs", job_id="{box.job_id}") shows the build.'
        )
        return ToolResult(
            summary=f"creating sandbox on {hardware} · {box.job_id}",
            output=output,
            data={"job_id": box.job_id, "hardware": hardware},
        )
