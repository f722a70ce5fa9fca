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

import base64
import difflib
import os
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ml_intern_tui.core.cost import (
    hourly_price,
    known_flavors,
    parse_timeout,
    price_source,
    worst_case_job_cost,
)
from ml_intern_tui.core.tool import ApprovalRequest, Tool, ToolContext, ToolError, ToolResult

Operation = Literal[
    "run", "ps", "logs", "inspect", "cancel", "wait",
    "scheduled run", "scheduled ps", "scheduled inspect",
    "scheduled delete", "scheduled suspend", "scheduled resume",
]  # fmt: skip

READ_ONLY_OPERATIONS = frozenset(
    {"ps", "logs", "inspect", "wait", "scheduled ps", "scheduled inspect"}
)
NEEDS_JOB_ID = frozenset(
    {"logs", "inspect", "cancel", "wait", "scheduled inspect", "scheduled delete",
     "scheduled suspend", "scheduled resume"}
)  # fmt: skip
PREVIEW_LINES = 40
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_LOADS_MODEL = re.compile(r"from_pretrained|Trainer\b|\.train\(")
DEFAULT_UV_IMAGE = "ghcr.io/astral-sh/uv:python3.12-bookworm"
MAX_INLINE_SCRIPT_BYTES = 90_000
"""Inline scripts travel base64-encoded in one command argument (Linux caps one at 128 KiB)."""
JOB_ENV_DEFAULTS = {
    "PYTHONUNBUFFERED": "1",  # lines reach the log as they are printed
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "UV_NO_PROGRESS": "1",
}
_VAR_REF = re.compile(r"^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$")


def usd(value: float | None) -> str:
    return "unknown" if value is None else f"${value:,.2f}"


def describe_duration(seconds: float) -> str:
    """``2h``, ``30m``, ``1h30m``, ``45s`` (as a person would write a timeout)."""
    seconds = int(seconds)
    if seconds >= 86400 and seconds % 86400 == 0:
        return f"{seconds // 86400}d"
    parts = zip((seconds // 3600, seconds % 3600 // 60, seconds % 60), "hms", strict=True)
    return "".join(f"{n}{unit}" for n, unit in parts if n) or "0s"


@dataclass
class ScriptSource:
    """Where a script-mode job's code comes from."""

    code: str = ""
    url: str | None = None
    path: Path | None = None


def _refuse_credentials(path: Path, cwd: Path) -> None:
    """A credential store or a protected file (``~/.bashrc`` with its exported keys,
    ``.git/config`` with a token in a remote URL) is never a job's script: its text
    would be uploaded with the job's command, where the job, its logs and the Hub keep
    it -- in yolo without anyone asked."""
    from ml_intern_tui.safety.credentials import credential_reason
    from ml_intern_tui.safety.protected import protected_reason

    reason = credential_reason(path) or protected_reason(path, project=cwd)
    if reason is not None:
        raise ToolError(
            f"{reason}; it is not sent to a job as a script (put the job's code in a "
            "project file, or pass it inline)"
        )


def resolve_script(script: str, cwd: Path) -> ScriptSource:
    """Inline code, an http(s) URL, or a file in the working directory (read here)."""
    text = script.strip()
    if re.match(r"^https?://\S+$", text):
        return ScriptSource(url=text)
    if "\n" not in text and len(text) < 1024:
        candidate = (cwd / text).expanduser()
        if candidate.is_file():
            _refuse_credentials(candidate, cwd)
            try:
                return ScriptSource(code=candidate.read_text(encoding="utf-8"), path=candidate)
            except (OSError, UnicodeDecodeError) as exc:
                raise ToolError(f"cannot read script {text}: {exc}") from exc
        if re.match(r"^[\w./~-]+\.py$", text):
            raise ToolError(
                f"script {text!r} is not a file in {cwd}; pass the code inline or an http(s) URL"
            )
    return ScriptSource(code=script)


def uv_command(source: ScriptSource, dependencies: list[str], python: str) -> list[str]:
    """The job command that runs ``source`` with uv (``uv run --with dep ... script``)."""
    uv_args: list[str] = []
    for dependency in dependencies:
        uv_args += ["--with", dependency]
    uv_args += ["--python", python]
    if source.url:
        return ["uv", "run", *uv_args, source.url]
    encoded = base64.b64encode(source.code.encode()).decode()
    if len(encoded) > MAX_INLINE_SCRIPT_BYTES:
        raise ToolError(
            "the script is too long to send inline; upload it to a Hub repo and pass its URL"
        )
    quoted = " ".join(shlex.quote(arg) for arg in uv_args)
    shell = (
        f"echo {encoded} | base64 -d > /tmp/ml_intern_job.py && "
        f"exec uv run {quoted} /tmp/ml_intern_job.py"
    )
    return ["/bin/sh", "-c", shell]


def resolve_secrets(wanted: dict[str, str], token: str) -> dict[str, str]:
    """Secret values by name: ``''``/``$VAR`` from the local environment, else as given."""
    out: dict[str, str] = {}
    for name, value in wanted.items():
        if name == "HF_TOKEN":
            continue  # always the session's own token
        ref = value.strip()
        match = _VAR_REF.match(ref)
        var = name if not ref else match.group(1) if match else None
        if var is None:
            out[name] = value
            continue
        local = os.environ.get(var)
        if not local:
            raise ToolError(f"secret {name}: the local environment has no {var}")
        out[name] = local
    out["HF_TOKEN"] = token
    return out


def close_flavors(flavor: str) -> list[str]:
    """Known flavors that look like ``flavor`` (prefix matches first)."""
    flavors = known_flavors()
    prefix = [f for f in flavors if f.startswith(flavor) or flavor.startswith(f)]
    fuzzy = difflib.get_close_matches(flavor, flavors, n=4, cutoff=0.5)
    return list(dict.fromkeys([*prefix, *fuzzy]))[:6]


class HfJobsArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    operation: Operation = Field(
        description="run: submit a job (returns at once; logs stream into the jobs pane); "
        "ps: list your jobs; logs: tail of a job's log; inspect: a job's details; "
        "cancel: stop a job; wait: block until a job ends or wait_timeout_s passes; "
        "scheduled run/ps/inspect/delete/suspend/resume: cron-style recurring jobs."
    )
    script: str | None = Field(
        None,
        description="Script mode: inline Python source, an http(s) URL to a .py file, or a "
        "file in the working directory. Runs with uv and the given dependencies.",
    )
    dependencies: list[str] = Field(
        default_factory=list,
        description="Script mode: pip requirements installed with uv (e.g. ['trl', 'peft']).",
    )
    python: str = Field("3.12", description="Script mode: Python version.")
    image: str | None = Field(
        None,
        description="Docker mode: the image (e.g. 'pytorch/pytorch:2.6.0-cuda12.4-cudnn9-devel'). "
        "In script mode, an optional image that has uv installed.",
    )
    command: list[str] | None = Field(
        None, description="Docker mode: the command, as a list (['python', 'train.py'])."
    )
    flavor: str = Field(
        "cpu-basic",
        description="Hardware: cpu-basic, cpu-upgrade, t4-small, t4-medium, l4x1, l4x4, "
        "a10g-small, a10g-large, a10g-largex2, a10g-largex4, a100-large, a100x4, a100x8, "
        "l40sx1, l40sx4, l40sx8, h200, h200x2, ...",
    )
    timeout: str | int = Field(
        "30m",
        description="Maximum run time; the job is stopped after it ('30m', '2h', '1d'; a "
        "bare number is seconds). Choose it deliberately: it bounds the cost.",
    )
    env: dict[str, str] = Field(
        default_factory=dict, description="Environment variables for the job (not secret)."
    )
    secrets: dict[str, str] = Field(
        default_factory=dict,
        description="Secret variables for the job, by NAME. The value '' (or '$VAR') takes it "
        "from the local environment; any other value is used as is. HF_TOKEN is always "
        "passed for you.",
    )
    job_id: str | None = Field(
        None, description="The job (or scheduled job) id for logs/inspect/cancel/wait/scheduled *."
    )
    lines: int = Field(50, ge=1, le=2000, description="logs: how many of the last lines.")
    schedule: str | None = Field(
        None,
        description="scheduled run: '@hourly', '@daily', '@weekly', '@monthly' or a cron "
        "expression ('0 9 * * 1').",
    )
    wait_timeout_s: int = Field(
        600, ge=1, le=4 * 3600, description="wait: give up waiting after this many seconds."
    )
    namespace: str | None = Field(
        None, description="Run under this org instead of your own account (must be yours)."
    )

    @field_validator("operation", mode="before")
    @classmethod
    def _normalise_operation(cls, value: Any) -> Any:
        if isinstance(value, str):
            return " ".join(value.replace("_", " ").lower().split())
        return value

    @field_validator("flavor")
    @classmethod
    def _known_flavor(cls, value: str) -> str:
        flavor = value.strip().lower()
        if flavor not in known_flavors():
            close = close_flavors(flavor)
            hint = (
                f"close matches: {', '.join(close)}"
                if close
                else "known flavors: " + ", ".join(known_flavors())
            )
            raise ValueError(f"unknown flavor {value!r}; {hint}")
        return flavor

    @field_validator("timeout")
    @classmethod
    def _valid_timeout(cls, value: str | int) -> str | int:
        if parse_timeout(value) is None:
            raise ValueError(
                f"timeout {value!r} is not a duration: use e.g. '30m', '2h', '90s', '1d' or seconds"
            )
        return value

    @field_validator("env", "secrets")
    @classmethod
    def _variable_names(cls, value: dict[str, str]) -> dict[str, str]:
        bad = [name for name in value if not _ENV_NAME.match(name)]
        if bad:
            raise ValueError(f"not valid variable names: {', '.join(bad)}")
        return value

    @model_validator(mode="after")
    def _operation_needs(self) -> HfJobsArgs:
        op = self.operation
        if op in NEEDS_JOB_ID and not self.job_id:
            raise ValueError(f"{op} needs job_id")
        if op in ("run", "scheduled run"):
            if self.script and self.command:
                raise ValueError(
                    "give either script (script mode) or image + command (docker mode), not both"
                )
            if not self.script and not self.command:
                raise ValueError(
                    f"{op} needs script (inline Python or an http(s) URL) or image + command"
                )
            if self.command and not self.image:
                raise ValueError("docker mode needs image (e.g. 'python:3.12') with command")
        if op == "scheduled run" and not (self.schedule or "").strip():
            raise ValueError("scheduled run needs schedule ('@daily' or a cron expression)")
        return self


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

    def approval(self, args: HfJobsArgs, ctx: ToolContext) -> ApprovalRequest | None:
        op = args.operation
        if op in READ_ONLY_OPERATIONS or op == "cancel":
            return None
        hub = ctx.services.get("hub")
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
            source = resolve_script(args.script, ctx.cwd)
            lines.append(f"mode: script (uv, Python {args.python})")
            if source.url:
                lines.append(f"script: {source.url}")
            else:
                code = source.code.splitlines()
                origin = f" from {source.path}" if source.path else ""
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
        if checked and _LOADS_MODEL.search(checked) and "push_to_hub" not in checked:
            lines.append(
                "⚠ the script loads or trains a model but never calls push_to_hub: "
                "its results are lost when the job ends"
            )
        return "\n".join(lines)

    @staticmethod
    def _budget_lines(ctx: ToolContext, worst: float | None) -> list[str]:
        spend = ctx.services.get("spend")
        settings = ctx.services.get("settings")
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
        from ml_intern_tui.tools.hf_jobs_ops import JobsOps  # it imports this module

        ops = JobsOps(ctx.service("hub"), ctx, poll_interval_s=self.poll_interval_s)
        return await ops.dispatch(args)
