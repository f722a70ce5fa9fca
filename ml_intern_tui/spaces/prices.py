"""What Spaces hardware costs per hour: the Hub's live listing over a static table."""

from __future__ import annotations

from typing import Any

SPACE_HOURLY_USD: dict[str, float] = {
    "cpu-basic": 0.0,
    "cpu-upgrade": 0.03,
    "zero-a10g": 0.0,
    "t4-small": 0.40,
    "t4-medium": 0.60,
    "l4x1": 0.80,
    "l4x4": 3.80,
    "l40sx1": 1.80,
    "l40sx4": 8.30,
    "l40sx8": 23.50,
    "a10g-small": 1.00,
    "a10g-large": 1.50,
    "a10g-largex2": 3.00,
    "a10g-largex4": 5.00,
    "a100-large": 2.50,
    "a100x4": 10.00,
    "a100x8": 20.00,
}
"""Spaces hardware, US dollars per hour (the Hub's pricing page; offline fallback)."""

FREE_HARDWARE = frozenset({"cpu-basic"})


def live_prices(items: list[Any]) -> dict[str, float]:
    """hardware → $/hour from ``list_spaces_hardware()`` (odd entries skipped)."""
    from ml_intern_tui.integrations.job_prices import hourly_prices

    return hourly_prices(items)


def hourly(hardware: str, live: dict[str, float] | None = None) -> float | None:
    """$/hour of ``hardware``; ``None`` when unknown (never read as free)."""
    name = hardware.strip().lower()
    if live and name in live:
        return live[name]
    return SPACE_HOURLY_USD.get(name)


def usd(value: float) -> str:
    return f"${value:,.2f}" if value >= 0.1 or value == 0 else f"${value:,.4f}"
