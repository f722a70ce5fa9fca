"""Small text helpers shared by the widgets: durations, money, tokens, ANSI, diffs."""

from __future__ import annotations

import json
import re
from typing import Any

from ml_intern_tui.core.protocol import JOB_FINISHED_STATUSES
from ml_intern_tui.core.text_format import format_tokens, format_usd, one_line, short_args

__all__ = ["format_tokens", "format_usd", "one_line", "short_args"]

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
