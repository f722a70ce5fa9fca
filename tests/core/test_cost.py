"""Prices, timeouts, worst-case job costs, LLM call costs and the spend tracker."""

from __future__ import annotations

import pytest

from ml_intern_tui.core.cost import (
    DEFAULT_JOB_TIMEOUT_S,
    KNOWN_FLAVORS,
    SpendTracker,
    hourly_price,
    job_cost_so_far,
    parse_timeout,
    worst_case_job_cost,
)


@pytest.mark.parametrize(
    ("flavor", "price"),
    [
        ("cpu-basic", 0.05),
        ("cpu-upgrade", 0.25),
        ("t4-small", 0.60),
        ("a10g-large", 2.00),
        ("a100-large", 4.00),
        ("l40sx8", 16.00),
        ("h200x8", 80.00),
        ("inf2x6", 6.00),
        (" A10G-Small ", 1.00),
    ],
)
def test_hourly_price_known(flavor: str, price: float) -> None:
    assert hourly_price(flavor) == pytest.approx(price)


@pytest.mark.parametrize("flavor", ["rtx-pro-6000", "rtx-pro-6000x8", "tpu-v9", "", None])
def test_hourly_price_unknown_is_none(flavor: str | None) -> None:
    assert hourly_price(flavor) is None


def test_known_flavors_include_unpriced_ones() -> None:
    assert "rtx-pro-6000" in KNOWN_FLAVORS and "a100x8" in KNOWN_FLAVORS


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (None, DEFAULT_JOB_TIMEOUT_S),
        ("", DEFAULT_JOB_TIMEOUT_S),
        ("  ", DEFAULT_JOB_TIMEOUT_S),
        ("30m", 1800.0),
        ("2h", 7200.0),
        ("1.5h", 5400.0),
        ("90s", 90.0),
        ("1d", 86400.0),
        ("2H", 7200.0),
        ("600", 600.0),
        (600, 600.0),
        (12.5, 12.5),
        ("0", None),
        (0, None),
        (-5, None),
        ("-1h", None),
        ("soon", None),
        ("1w", None),
        ("1h30m", None),
        (True, None),
        (float("inf"), None),
        (float("nan"), None),
    ],
)
def test_parse_timeout(value: str | int | float | None, seconds: float | None) -> None:
    assert parse_timeout(value) == seconds


def test_worst_case_job_cost() -> None:
    assert worst_case_job_cost("a100-large", "2h") == pytest.approx(8.0)
    assert worst_case_job_cost("t4-small", None) == pytest.approx(0.30)
    assert worst_case_job_cost("h200x8", 90 * 60) == pytest.approx(120.0)
    assert worst_case_job_cost("rtx-pro-6000", "1h") is None
    assert worst_case_job_cost("a100-large", "forever") is None


def test_job_cost_so_far() -> None:
    assert job_cost_so_far("a10g-large", 1800) == pytest.approx(1.0)
    assert job_cost_so_far("unknown-gpu", 3600) == 0.0
    assert job_cost_so_far("a10g-large", -3) == 0.0


def test_spend_tracker_totals_and_reservations() -> None:
    spend = SpendTracker()
    assert spend.total() == 0.0
    spend.add_llm(0.25)
    spend.add_llm(-1.0)  # ignored
    spend.set_job_cost("job-a", 1.0)
    spend.set_job_cost("job-a", 1.5)  # replaces, not adds
    spend.set_job_cost("job-b", 0.5)
    assert spend.jobs_usd == pytest.approx(2.0)
    assert spend.total() == pytest.approx(2.25)

    spend.reserve("call-1", 3.0)
    spend.reserve("call-2", 1.0)
    assert spend.reserved() == pytest.approx(4.0)
    assert spend.total() == pytest.approx(2.25)  # reservations are not spend
    assert spend.release("call-1") == pytest.approx(3.0)
    assert spend.release("call-1") == 0.0
    assert spend.reserved() == pytest.approx(1.0)

    event = spend.event(budget_usd=5.0)
    assert (event.llm_usd, event.jobs_usd, event.budget_usd) == (0.25, 2.0, 5.0)
