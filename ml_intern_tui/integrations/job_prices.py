"""Live HF Jobs hardware prices: ``HfApi.list_jobs_hardware()``, cached on disk.

huggingface_hub (1.x) lists the Jobs hardware with a price per unit
(``unit_cost_usd`` per ``unit_label``, e.g. $0.000167 per minute); we turn that into
$/hour and hand it to ``core.cost.JOB_PRICES``, over the static table. The listing is
kept for ``TTL_S`` (6 h) in ``$XDG_CACHE_HOME/ml-intern-tui/job-hardware-<hash>.json``;
offline, or without a token (no jobs can run then anyway), the static table stays.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ml_intern_tui.core.cost import JOB_PRICES, JobPrices

log = logging.getLogger(__name__)

TTL_S = 6 * 3600.0
UNIT_HOURS = {"second": 1 / 3600, "minute": 1 / 60, "hour": 1.0, "day": 24.0}


def _field(item: Any, *names: str) -> Any:
    for name in names:
        value = item.get(name) if isinstance(item, dict) else getattr(item, name, None)
        if value is not None:
            return value
    return None


def hourly_prices(hardware: list[Any]) -> dict[str, float]:
    """flavor → $/hour from ``JobHardwareInfo`` objects (or the raw dicts); odd ones skipped."""
    prices: dict[str, float] = {}
    for item in hardware:
        name = _field(item, "name")
        cost = _field(item, "unit_cost_usd", "unitCostUSD")
        unit = str(_field(item, "unit_label", "unitLabel") or "").strip().lower().rstrip("s")
        hours = UNIT_HOURS.get(unit)
        if not isinstance(name, str) or not name.strip() or hours is None:
            continue
        if isinstance(cost, bool) or not isinstance(cost, int | float):
            continue
        if math.isfinite(cost) and cost > 0:  # $0 is not a price: the static one stays
            prices[name.strip().lower()] = round(float(cost) / hours, 6)
    return prices


FUTURE_SLACK_S = 300.0
"""A cache timestamp this far ahead of the clock is a clock skew; further, a forgery."""


class JobPriceLoader:
    """Background service: read the cached listing, refresh it when old."""

    name = "job-prices"

    def __init__(
        self,
        hub: Any,
        cache_dir: Path,
        *,
        table: JobPrices = JOB_PRICES,
        ttl_s: float = TTL_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.hub = hub
        digest = hashlib.sha256(str(getattr(hub, "endpoint", "")).encode()).hexdigest()[:12]
        self.path = cache_dir / f"job-hardware-{digest}.json"
        self.table = table
        self.ttl_s = ttl_s
        self.clock = clock
        self.error: str | None = None

    async def run(self) -> None:
        try:
            fetched_at = await asyncio.to_thread(self._read_disk)
            if fetched_at is not None and self.clock() - fetched_at < self.ttl_s:
                return
            # huggingface_hub loads on first use of the token or the API: in a thread, so
            # the app's event loop (the UI) never waits for the import.
            if not await asyncio.to_thread(lambda: getattr(self.hub, "token", None)):
                return  # no token, no jobs: the static table is enough
            api = await asyncio.to_thread(lambda: self.hub.api)
            hardware = await self.hub.run(api.list_jobs_hardware)
            prices = hourly_prices(list(hardware))
            if not prices:
                self.error = "the Hub listed no priced hardware"
                return
            self.table.update(prices)
            await asyncio.to_thread(self._write_disk, prices)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # offline, bad token: keep the static table
            self.error = f"{type(exc).__name__}: {exc}"
            log.info("job prices: %s", self.error)

    async def aclose(self) -> None:
        return None

    def _read_disk(self) -> float | None:
        try:
            record = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        prices = record.get("prices") if isinstance(record, dict) else None
        fetched_at = record.get("fetched_at") if isinstance(record, dict) else None
        if not isinstance(prices, dict) or not isinstance(fetched_at, int | float):
            return None
        self.table.update(
            {str(k): v for k, v in prices.items() if isinstance(v, int | float)},
            source="Hub hardware listing (cached)",
        )
        # A copy "fetched" in the future would never be refreshed: it is stale.
        return float(fetched_at) if fetched_at <= self.clock() + FUTURE_SLACK_S else 0.0

    def _write_disk(self, prices: dict[str, float]) -> None:
        with contextlib.suppress(OSError):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            record = {"fetched_at": self.clock(), "prices": prices}
            self.path.write_text(json.dumps(record), encoding="utf-8")
