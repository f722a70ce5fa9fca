"""Money is written one way everywhere: cents, sub-cent digits, never a made-up number."""

from __future__ import annotations

from ml_intern_tui.core.money import usd
from ml_intern_tui.core.protocol import Spend
from ml_intern_tui.headless import spend_line
from ml_intern_tui.tui.formatting import format_usd


def test_usd() -> None:
    assert usd(1234.5) == "$1,234.50"
    assert usd(0) == "$0.00"
    assert usd(0.0042) == "$0.0042"  # a small cost does not read as free
    assert usd(None) == "unknown"
    assert usd(None, unknown="no price") == "no price"


def test_the_front_ends_share_it() -> None:
    for amount in (0.0, 0.0042, 0.5, 1234.5):
        assert format_usd(amount) == usd(amount)
        assert spend_line(Spend(llm_usd=amount, jobs_usd=0.0)).startswith(usd(amount))
