"""What things cost: HF Jobs hardware prices, timeouts, LLM calls, and the session's spend.

Job prices: the Hub's live hardware listing when it could be read (``JOB_PRICES.update``,
fed by ``integrations/job_prices.py`` in the background), else the static $/hour table
the retired ml-intern shipped (offline fallback). A flavor we know of but cannot price
(``rtx-pro-6000`` without a live price) is "unknown": callers must treat it as such,
never as free.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from ml_intern_tui.core.pricing import CallCost
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
"""Flavors of the static table (``known_flavors()`` adds the live listing's)."""


class JobPrices:
    """Job hardware $/hour: the live listing over the static table."""

    def __init__(self) -> None:
        self.live: dict[str, float] = {}
        self.source = "static table"

    def update(self, prices: dict[str, float], source: str = "Hub hardware listing") -> None:
        """Take live prices (flavor → $/hour); non-finite, negative and zero ones are
        dropped: no flavor is free, and a job is never assumed to cost nothing."""
        clean = {
            _normalise_flavor(name): float(price)
            for name, price in prices.items()
            if isinstance(price, int | float)
            and not isinstance(price, bool)
            and math.isfinite(price)
            and price > 0
        }
        if clean:
            self.live = clean
            self.source = source

    def clear(self) -> None:
        self.live = {}
        self.source = "static table"

    def hourly(self, flavor: str | None) -> float | None:
        name = _normalise_flavor(flavor)
        if name in self.live:
            return self.live[name]
        return JOB_HOURLY_USD.get(name)

    def flavors(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys([*KNOWN_FLAVORS, *self.live]))


JOB_PRICES = JobPrices()
"""The process's job price table (one Hub account's prices for the whole app run)."""


def price_source(flavor: str | None) -> str:
    """Where a flavor's price comes from, for the approval details."""
    return JOB_PRICES.source if _normalise_flavor(flavor) in JOB_PRICES.live else "static table"


def known_flavors() -> tuple[str, ...]:
    """Every flavor we know of: the static table's and the live listing's."""
    return JOB_PRICES.flavors()


_TIMEOUT_RE = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhd]?)$", re.IGNORECASE)
_UNIT_SECONDS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def _normalise_flavor(flavor: str | None) -> str:
    return (flavor or "").strip().lower()


def hourly_price(flavor: str | None) -> float | None:
    """$/hour of an HF Jobs flavor, or ``None`` when we do not know its price."""
    return JOB_PRICES.hourly(flavor)


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
    llm_calls: int = 0
    unpriced_calls: int = 0
    """Model calls with no known price: ``llm_usd`` leaves them out, the UI says so."""
    estimated_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    cache_write_tokens: int = 0
    cache_saved_usd: float = 0.0

    @property
    def jobs_usd(self) -> float:
        return sum(self.job_costs.values())

    def total(self) -> float:
        """Money spent so far (reservations not included)."""
        return self.llm_usd + self.jobs_usd

    def add_llm(self, usd: float) -> None:
        if usd > 0 and math.isfinite(usd):
            self.llm_usd += usd

    def add_call(self, cost: CallCost | None, usd: float = 0.0) -> None:
        """Count one model call: its price (or that it has none) and its tokens.

        ``cost`` is ``None`` only for answers built by hand (tests); ``usd`` is used then.
        """
        self.llm_calls += 1
        if cost is None:
            self.add_llm(usd)
            return
        usage = cost.usage
        self.prompt_tokens += usage.prompt
        self.completion_tokens += usage.completion
        self.cached_tokens += usage.cached
        self.cache_write_tokens += usage.cache_write
        if cost.usd is None:
            self.unpriced_calls += 1
            return
        self.add_llm(cost.usd)
        if math.isfinite(cost.saved_usd):
            self.cache_saved_usd += cost.saved_usd
        if cost.estimate:
            self.estimated_calls += 1

    @property
    def unpriced(self) -> bool:
        """Some model spend is unknown, so ``total()`` is a lower bound."""
        return self.unpriced_calls > 0

    def restore(self, event: Spend, *, job_costs: dict[str, float] | None = None) -> None:
        """Take the figures of a resumed session: its last ``spend`` event, and each of its
        jobs' last cost (``job_costs``; the jobs of the session left behind go)."""
        if job_costs is not None:
            self.job_costs = {}
            for job_id, usd in job_costs.items():
                self.set_job_cost(job_id, usd)
        self.llm_usd = event.llm_usd
        self.llm_calls = event.llm_calls
        self.unpriced_calls = event.unpriced_calls
        self.estimated_calls = event.estimated_calls
        self.prompt_tokens = event.prompt_tokens
        self.completion_tokens = event.completion_tokens
        self.cached_tokens = event.cached_tokens
        self.cache_write_tokens = event.cache_write_tokens
        self.cache_saved_usd = event.cache_saved_usd

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
        return Spend(
            llm_usd=round(self.llm_usd, 6),
            jobs_usd=round(self.jobs_usd, 6),
            budget_usd=budget_usd,
            unpriced_calls=self.unpriced_calls,
            estimated_calls=self.estimated_calls,
            llm_calls=self.llm_calls,
            prompt_tokens=self.prompt_tokens,
            completion_tokens=self.completion_tokens,
            cached_tokens=self.cached_tokens,
            cache_write_tokens=self.cache_write_tokens,
            cache_saved_usd=round(self.cache_saved_usd, 6),
        )
