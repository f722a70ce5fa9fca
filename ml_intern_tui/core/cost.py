"""What things cost: HF Jobs hardware prices, timeouts, LLM calls, and the session's spend.

Prices are the static $/hour table the retired ml-intern shipped (no live lookup: it
needs the network and the table is what a user budgets against). A flavor we know of
but cannot price (``rtx-pro-6000``) is "unknown": callers must treat it as such, never
as free.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from ml_intern_tui.core.protocol import Spend

DEFAULT_JOB_TIMEOUT_S = 30 * 60.0
"""HF Jobs' own default timeout, used when a call gives none."""

JOB_HOURLY_USD: dict[str, float] = {
    "cpu-basic": 0.05,
    "cpu-upgrade": 0.25,
    "cpu-performance": 0.50,
    "cpu-xl": 1.00,
    "t4-small": 0.60,
    "t4-medium": 0.90,
    "l4x1": 1.00,
    "l4x4": 4.00,
    "l40sx1": 2.00,
    "l40sx4": 8.00,
    "l40sx8": 16.00,
    "a10g-small": 1.00,
    "a10g-large": 2.00,
    "a10g-largex2": 4.00,
    "a10g-largex4": 8.00,
    "a100-large": 4.00,
    "a100x4": 16.00,
    "a100x8": 32.00,
    "h200": 10.00,
    "h200x2": 20.00,
    "h200x4": 40.00,
    "h200x8": 80.00,
    "inf2x6": 6.00,
}
"""HF Jobs hardware, US dollars per hour."""

UNPRICED_FLAVORS: tuple[str, ...] = (
    "rtx-pro-6000",
    "rtx-pro-6000x2",
    "rtx-pro-6000x4",
    "rtx-pro-6000x8",
)
"""Flavors the Jobs API offers whose price we do not know."""

KNOWN_FLAVORS: tuple[str, ...] = (*JOB_HOURLY_USD, *UNPRICED_FLAVORS)

_TIMEOUT_RE = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhd]?)$", re.IGNORECASE)
_UNIT_SECONDS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def _normalise_flavor(flavor: str | None) -> str:
    return (flavor or "").strip().lower()


def hourly_price(flavor: str | None) -> float | None:
    """$/hour of an HF Jobs flavor, or ``None`` when we do not know its price."""
    return JOB_HOURLY_USD.get(_normalise_flavor(flavor))


def parse_timeout(value: str | int | float | None) -> float | None:
    """A job timeout in seconds: ``"30m"``, ``"2h"``, ``"1.5h"``, ``"90s"``, ``"1d"``, ``600``.

    ``None`` or ``""`` means the default (30 minutes). A bare number is seconds.
    Anything unparsable, zero or negative gives ``None`` ("unknown"), which callers
    treat as an unknown cost.
    """
    if value is None:
        return DEFAULT_JOB_TIMEOUT_S
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        text = value.strip()
        if not text:
            return DEFAULT_JOB_TIMEOUT_S
        match = _TIMEOUT_RE.match(text)
        if not match:
            return None
        seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2).lower()]
    if not math.isfinite(seconds) or seconds <= 0:
        return None
    return seconds


def worst_case_job_cost(flavor: str | None, timeout: str | int | float | None) -> float | None:
    """Price × timeout: what a job can cost at most, or ``None`` when either is unknown."""
    price = hourly_price(flavor)
    seconds = parse_timeout(timeout)
    if price is None or seconds is None:
        return None
    return price * seconds / 3600.0


def job_cost_so_far(flavor: str | None, elapsed_s: float) -> float:
    """What a job has cost after ``elapsed_s`` seconds (0 for an unpriced flavor)."""
    price = hourly_price(flavor)
    if price is None or elapsed_s <= 0 or not math.isfinite(elapsed_s):
        return 0.0
    return price * elapsed_s / 3600.0


def llm_call_cost(model: str, prompt_tokens: int, completion_tokens: int) -> float:
    """USD of one LLM call from litellm's price map; 0.0 when the model is not priced."""
    try:
        import litellm

        # Unknown models make litellm print a "Provider List" banner to stdout.
        litellm.suppress_debug_info = True
        prompt_usd, completion_usd = litellm.cost_per_token(
            model=model,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
        )
        total = float(prompt_usd) + float(completion_usd)
    except Exception:
        return 0.0
    return total if math.isfinite(total) and total > 0 else 0.0


@dataclass
class SpendTracker:
    """Money this session has spent (LLM calls, jobs) and money promised to approved calls.

    A reservation holds a spend call's worst-case estimate from the moment the policy
    approves it until the call ends (``release``), so several calls approved in one batch
    cannot together exceed the budget. Once a job runs, its accrued cost arrives through
    ``set_job_cost``.
    """

    llm_usd: float = 0.0
    job_costs: dict[str, float] = field(default_factory=dict)
    reservations: dict[str, float] = field(default_factory=dict)

    @property
    def jobs_usd(self) -> float:
        return sum(self.job_costs.values())

    def total(self) -> float:
        """Money spent so far (reservations not included)."""
        return self.llm_usd + self.jobs_usd

    def add_llm(self, usd: float) -> None:
        if usd > 0 and math.isfinite(usd):
            self.llm_usd += usd

    def set_job_cost(self, job_id: str, usd: float) -> None:
        """The job's cost so far (replaces the previous figure for that job)."""
        if math.isfinite(usd):
            self.job_costs[job_id] = max(usd, 0.0)

    def reserve(self, call_id: str, usd: float) -> None:
        self.reservations[call_id] = max(usd, 0.0)

    def release(self, call_id: str) -> float:
        """Drop a reservation (the call ended or was rejected); returns what it held."""
        return self.reservations.pop(call_id, 0.0)

    def reserved(self) -> float:
        return sum(self.reservations.values())

    def event(self, budget_usd: float | None = None) -> Spend:
        """The ``spend`` event for the status bar."""
        return Spend(llm_usd=self.llm_usd, jobs_usd=self.jobs_usd, budget_usd=budget_usd)
