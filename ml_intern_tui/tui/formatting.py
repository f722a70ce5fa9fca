"""Small text helpers shared by the widgets: durations, money, tokens, ANSI, diffs."""

from __future__ import annotations

import json
import re
from typing import Any

from ml_intern_tui.core.protocol import JOB_FINISHED_STATUSES

_ANSI = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"  # OSC
    r"|\x1b[@-Z\\-_]"  # other two-byte escapes
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def strip_ansi(line: str) -> str:
    """Plain text of one log line: escapes removed, ``\\r`` progress redraws collapsed."""
    line = _ANSI.sub("", line)
    if "\r" in line:
        parts = [p for p in line.split("\r") if p]
        line = parts[-1] if parts else ""
    if "\t" in line:
        line = line.expandtabs(4)
    return _CONTROL.sub("", line)


def format_duration(seconds: float) -> str:
    """``3.2s``, ``42s``, ``3m05s``, ``1h02m``."""
    seconds = max(0.0, seconds)
    if seconds < 10:
        return f"{seconds:.1f}s"
    if seconds < 60:
        return f"{int(seconds)}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def format_usd(amount: float) -> str:
    """Dollars with cents, or more precision for sub-cent amounts."""
    if 0 < amount < 0.01:
        return f"${amount:.4f}"
    return f"${amount:,.2f}"


def format_tokens(count: int) -> str:
    """``812``, ``12.3k``, ``1.2M``."""
    if count < 1000:
        return str(count)
    if count < 1_000_000:
        return f"{count / 1000:.1f}k".replace(".0k", "k")
    return f"{count / 1_000_000:.1f}M"


def one_line(text: str, width: int = 60) -> str:
    """First non-empty line of ``text``, cut to ``width`` with an ellipsis."""
    for line in text.splitlines():
        line = line.strip()
        if line:
            return line if len(line) <= width else line[: width - 1] + "…"
    return ""


_ARG_KEYS = ("command", "path", "query", "repo_id", "repo", "job_id", "url", "operation")


def short_args(args: dict[str, Any], width: int = 40) -> str:
    """The most telling argument of a tool call, on one line."""
    for key in _ARG_KEYS:
        value = args.get(key)
        if isinstance(value, str) and value.strip():
            return one_line(value, width)
    for value in args.values():
        if isinstance(value, str) and value.strip():
            return one_line(value, width)
    return ""


def pretty_args(args: dict[str, Any]) -> str:
    """Arguments as indented JSON; long string values stay as they are."""
    try:
        return json.dumps(args, indent=2, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return repr(args)


def looks_like_diff(text: str) -> bool:
    """Whether ``text`` is a unified diff (``---``/``+++`` headers or ``@@`` hunks)."""
    head = text.lstrip()[:2000]
    return (
        (head.startswith("--- ") and "\n+++ " in head)
        or head.startswith("@@ ")
        or (head.startswith("diff --git "))
    )


JOB_TERMINAL_STATUSES = JOB_FINISHED_STATUSES


def job_is_running(status: str) -> bool:
    """Whether a job status (local or HF) means the job has not finished."""
    return status.lower() not in JOB_TERMINAL_STATUSES
