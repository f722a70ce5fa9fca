"""Money as the screen says it: spend that never shows $0.00 for calls nobody priced.

One ``spend`` event carries priced model spend, job spend, the count of unpriced and
estimated calls, and the token and cache figures; these helpers turn it into the status
line's figure, ``/cost``'s report and ``/model``'s rows.
"""

from __future__ import annotations

from ml_intern_tui.core import protocol as p
from ml_intern_tui.core.text_format import spend_figure
from ml_intern_tui.tui.formatting import format_tokens, format_usd

__all__ = ["spend_figure"]


def _calls(count: int) -> str:
    return f"{count} call" if count == 1 else f"{count} calls"


def cost_report(spend: p.Spend | None) -> str:
    """What ``/cost`` says: spend by kind, budget, tokens, cache hits and savings."""
    if spend is None:
        return "Nothing spent yet."
    total = spend.llm_usd + spend.jobs_usd
    model = f"model calls {format_usd(spend.llm_usd)}"
    if spend.llm_calls:
        model += f" ({_calls(spend.llm_calls)})"
    lines = [f"Spent {spend_figure(spend)}: {model}, jobs {format_usd(spend.jobs_usd)}."]
    if spend.unpriced_calls:
        lines.append(
            f"Unpriced: {_calls(spend.unpriced_calls)} with no known price, not in the "
            "figure above (the model is in no price list)."
        )
    if spend.estimated_calls:
        lines.append(
            f"Estimated: {_calls(spend.estimated_calls)} priced at the cheapest live router "
            "provider (the router did not say who served them)."
        )
    if spend.budget_usd is not None:
        left = max(0.0, spend.budget_usd - total)
        budget = f"Budget {format_usd(spend.budget_usd)}, {format_usd(left)} left"
        if spend.unpriced_calls:
            budget += " of priced spend (unpriced calls cannot be counted)"
        lines.append(budget + ".")
    if spend.prompt_tokens:
        lines.append(cache_line(spend))
    return "\n".join(lines)


def cache_line(spend: p.Spend) -> str:
    """Tokens in and out, the share read from the prompt cache, and what it saved."""
    text = (
        f"Tokens: {format_tokens(spend.prompt_tokens)} in, "
        f"{format_tokens(spend.completion_tokens)} out"
    )
    if not spend.cached_tokens and not spend.cache_write_tokens:
        return text + "; no prompt-cache hits."
    ratio = spend.cached_tokens / spend.prompt_tokens if spend.prompt_tokens else 0.0
    text += (
        f"; prompt cache: {ratio:.0%} hits ({format_tokens(spend.cached_tokens)} read, "
        f"{format_tokens(spend.cache_write_tokens)} written)"
    )
    saved = spend.cache_saved_usd
    if saved > 0:
        text += f", saved {format_usd(saved)}"
    elif saved < 0:
        text += f", cache writes cost {format_usd(-saved)} more than they saved so far"
    return text + "."


def format_window(tokens: int) -> str:
    """A context window as people say it: 131072 → ``128k``, 200000 → ``200k``."""
    if tokens >= 1024 and tokens % 1024 == 0:
        return f"{tokens // 1024}k"
    return format_tokens(tokens) if tokens < 1000 else f"{round(tokens / 1000)}k"


def _per_million(value: float | None) -> str:
    if value is None:
        return "?"
    return "0" if value == 0 else f"{value:g}"


def model_row(info: p.ModelInfo) -> str:
    """One ``/model`` picker line: id, providers, $/M in/out, window, tools, warnings."""
    parts = [info.id]
    if info.kind in ("local", "scripted"):
        parts.append("free (runs here)" if info.kind == "local" else "demo")
    elif info.kind == "native":
        parts.append(f"${_per_million(info.price_in)}/${_per_million(info.price_out)} per M")
    elif info.in_catalog is not False:
        count = len(info.providers)
        if info.providers:
            parts.append(f"{count} live: {', '.join(info.providers[:3])}{'…' if count > 3 else ''}")
        if info.price_in is not None or info.price_out is not None:
            where = f" ({info.provider})" if info.provider else ""
            prices = f"${_per_million(info.price_in)}/${_per_million(info.price_out)}"
            parts.append(f"{prices} per M{where}")
        elif info.in_catalog:
            parts.append("unpriced")
    if info.context:
        parts.append(f"{format_window(info.context)} ctx")
    if info.tools is not None:
        parts.append("tools" if info.tools else "no tools")
    text = " · ".join(parts)
    if info.warnings:
        text += f"  ⚠ {info.warnings[0]}"
    return text
