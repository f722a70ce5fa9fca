"""Short text for people, shared by the app and the command line: money, token counts,
one-line cuts of long text, the telling argument of a tool call (no UI library)."""

from __future__ import annotations

from typing import Any

from ml_intern_tui.core import protocol as p


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


def spend_figure(spend: p.Spend | None) -> str:
    """The spend in one short figure: ``$0.42``, ``~$0.42`` (estimated), ``unpriced``,
    ``$0.42+unpriced`` (some calls have no price)."""
    if spend is None:
        return format_usd(0.0)
    total = spend.llm_usd + spend.jobs_usd
    if spend.unpriced_calls:
        return "unpriced" if total <= 0 else f"{format_usd(total)}+unpriced"
    figure = format_usd(total)
    return f"~{figure}" if spend.estimated_calls else figure
