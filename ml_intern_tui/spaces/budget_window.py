"""The session budget's hold on a paid sandbox, one window of running time at a time.

A paid sandbox is billed by the second for as long as its Space lives, so the budget
cannot wait for the bill: while it runs, the session's spend tracker holds a
reservation (the same ``reserve``/``release`` a yolo approval makes for a paid call)
covering the sandbox up to the end of its current window. The window is the
configured lifetime or an hour, whichever is shorter. At 95 % of a window the hold is
renewed for a new window from then (never past the lifetime); when that renewal would
cross the budget the sandbox must stop, while the time it runs is still paid for.

The reservation shrinks as the metered cost grows, so spent + reserved stays at what
the current window commits the session to (the cost is never counted twice).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ml_intern_tui.spaces.prices import usd

RENEW_AT = 0.95
"""Fraction of a window after which the next one is reserved."""
MAX_WINDOW_S = 3600.0


@dataclass
class BudgetWindow:
    """The reservation of one paid sandbox (times are seconds since its creation)."""

    spend: Any
    """The session's ``SpendTracker``."""
    budget_usd: Callable[[], float | None]
    job_id: str
    hourly_usd: float
    lifetime_s: float
    window_s: float
    start_s: float = 0.0
    until_s: float = 0.0
    """Running time paid for by the reservation (the current window's end)."""

    @property
    def key(self) -> str:
        return f"sandbox-{self.job_id}"

    def committed(self, until_s: float) -> float:
        """What running up to ``until_s`` costs in all."""
        return self.hourly_usd * until_s / 3600

    def renew_at(self) -> float | None:
        """When the next window is due; ``None`` once the window reaches the lifetime."""
        if self.until_s >= self.lifetime_s - 1e-9:
            return None
        return self.start_s + RENEW_AT * (self.until_s - self.start_s)

    def take(self, now_s: float, cost: float) -> str | None:
        """Reserve a window from ``now_s``; ``None`` when it fits the budget, else the
        one line saying why not (nothing is reserved then, the old hold is kept)."""
        until = min(now_s + self.window_s, self.lifetime_s)
        need = max(self.committed(until) - cost, 0.0)
        budget = self.budget_usd()
        if budget is not None:
            # The meter may not have reported the latest cost yet: count it here.
            spent = self.spend.total() - self.spend.job_costs.get(self.job_id, 0.0) + cost
            others = self.spend.reserved() - self.spend.reservations.get(self.key, 0.0)
            if spent + others + need > budget + 1e-9:
                minutes = (until - now_s) / 60
                return (
                    f"the next {minutes:.0f} min ({usd(need)}) would cross the {usd(budget)} "
                    f"budget (spent {usd(spent)}, reserved {usd(others)} elsewhere)"
                )
        self.start_s, self.until_s = now_s, until
        self.spend.reserve(self.key, need)
        return None

    def refresh(self, cost: float) -> None:
        """Shrink the hold to what the window still has to run."""
        if self.key in self.spend.reservations:
            self.spend.reserve(self.key, max(self.committed(self.until_s) - cost, 0.0))

    def release(self) -> None:
        self.spend.release(self.key)
