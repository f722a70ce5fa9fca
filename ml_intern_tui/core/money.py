"""The one way money is written for people: US dollars, cents, and sub-cent amounts with
enough digits not to read as free."""

from __future__ import annotations


def usd(amount: float | None, *, unknown: str = "unknown") -> str:
    """``$1,234.50``; ``$0.0042`` below a cent (a small cost is not ``$0.00``); ``unknown``
    for ``None`` (a price nobody knows is never shown as a number)."""
    if amount is None:
        return unknown
    if 0 < amount < 0.01:
        return f"${amount:.4f}"
    return f"${amount:,.2f}"
