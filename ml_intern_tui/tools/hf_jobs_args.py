"""What ``hf_jobs`` takes and the pieces both its tool and its operations use: the
arguments model, script and secret resolution, the ``uv`` command, money and duration text."""

from __future__ import annotations

import base64
import difflib
import os
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from ml_intern_tui.core.cost import (
    known_flavors,
    parse_timeout,
)
from ml_intern_tui.core.tool import ToolError

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
LOADS_MODEL = re.compile(r"from_pretrained|Trainer\b|\.train\(")
DEFAULT_UV_IMAGE = "ghcr.io/astral-sh/uv:python3.12-bookworm"
MAX_INLINE_SCRIPT_BYTES = 90_000
"""Inline scripts travel base64-encoded in one command argument (Linux caps one at 128 KiB)."""
JOB_ENV_DEFAULTS = {
    "PYTHONUNBUFFERED": "1",  # lines reach the log as they are printed
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "UV_NO_PROGRESS": "1",
}
_VAR_REF = re.compile(r"^\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?$")


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
    origin: str = ""
    """Where the code was read, when not a local file (``sandbox:/app/train.py``)."""


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


SANDBOX_PREFIX = "sandbox:"


def sandbox_script_path(script: str | None) -> str | None:
    """The sandbox path of ``script="sandbox:/app/train.py"``; ``None`` for other scripts."""
    text = (script or "").strip()
    if not text.startswith(SANDBOX_PREFIX) or "\n" in text:
        return None
    return text[len(SANDBOX_PREFIX) :].strip()


def script_source(args: HfJobsArgs, cwd: Path) -> ScriptSource:
    """The code a script-mode job runs: for a sandbox file, the text read before the
    approval (never a second read: what was approved is what runs)."""
    assert args.script
    path = sandbox_script_path(args.script)
    if path is None:
        return resolve_script(args.script, cwd)
    if args._sandbox_code is None:
        raise ToolError(f"script {args.script}: it was not read from the sandbox; call again")
    return ScriptSource(code=args._sandbox_code, origin=f"{SANDBOX_PREFIX}{path}")


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
        description="Script mode: inline Python source, an http(s) URL to a .py file, a "
        "file in the working directory, or a file in the sandbox Space as "
        "'sandbox:/app/train.py'. Runs with uv and the given dependencies.",
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

    _sandbox_code: str | None = PrivateAttr(None)
    """A ``sandbox:`` script's text, read by ``prepare`` before the approval."""

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
