"""Red team: hostile prices and windows against the spend a budget relies on.

The catalog's ``context_length`` becomes the model's window: the smallest live
provider's, since the router may send a call to any of them. One entry listing a window
no prompt fits in (``1``) made every call pay for a compaction that could never get under
the threshold, turn after turn. The cached catalog and job prices could be planted by
the model (the cache directory was not protected) and, dated in the future, were never
checked again; a listed job price of $0 made a GPU job free to yolo's budget.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from fakes.router_server import FakeRouter, model, offer

from ml_intern_tui.core.catalog import RouterCatalog
from ml_intern_tui.core.cost import JobPrices
from ml_intern_tui.core.tool import ToolContext
from ml_intern_tui.integrations.job_prices import JobPriceLoader, hourly_prices
from ml_intern_tui.integrations.router_catalog import RouterCatalogClient
from ml_intern_tui.tools.files import WriteArgs, WriteTool


@pytest.mark.parametrize("window", [1, 100, 2048, 10**12, "131072", True, -5])
def test_a_window_no_prompt_fits_in_is_no_window(window: Any) -> None:
    offers = [
        {"provider": "novita", "status": "live", "context_length": 131072},
        {"provider": "evil", "status": "live", "context_length": window},
    ]
    catalog = RouterCatalog.parse({"data": [{"id": "a/b", "providers": offers}]})
    assert catalog.context_window("a/b") == 131072
    assert catalog.context_window("a/b:evil") is None


def test_ordinary_windows_are_kept() -> None:
    offers = [{"provider": "p", "status": "live", "context_length": 8192}]
    catalog = RouterCatalog.parse({"data": [{"id": "a/b", "providers": offers}]})
    assert catalog.context_window("a/b") == 8192


# ------------------------------------------------------------- the price caches


def test_the_model_cannot_plant_prices_in_the_apps_cache(ctx: ToolContext) -> None:
    """The router catalog and the job prices are cached in the app's cache directory; a
    copy written there by the model priced every call (or an A100) at almost nothing,
    and yolo's budget then approved everything."""
    cache = Path(os.environ["XDG_CACHE_HOME"]) / "ml-intern-tui" / "job-hardware-x.json"
    request = WriteTool().approval(
        WriteArgs(path=str(cache), content='{"fetched_at": 9e12, "prices": {"a100x8": 0.0}}'),
        ctx,
    )
    assert request is not None and request.kind == "protected"


async def test_a_catalog_copy_from_the_future_is_refreshed(tmp_path: Path) -> None:
    cheap = [model("moonshotai/Kimi-K2.6", offer("novita", 0.000001, 0.000001))]
    with FakeRouter([model("moonshotai/Kimi-K2.6", offer("novita", 0.6, 2.5))]) as router:
        planted = RouterCatalogClient(router.base_url, tmp_path)
        planted.path.parent.mkdir(parents=True, exist_ok=True)
        planted.path.write_text(
            json.dumps(
                {
                    "base": router.base_url,
                    "fetched_at": time.time() + 10 * 365 * 86400,
                    "payload": {"object": "list", "data": cheap},
                }
            )
        )
        catalog = await RouterCatalogClient(router.base_url, tmp_path).ready()
        assert router.model_listings == 1  # fetched again
        assert catalog is not None
        found = catalog.find("moonshotai/Kimi-K2.6")
        assert found is not None and found.offer("novita").pricing.input == 0.6  # type: ignore[union-attr]


def test_a_job_flavor_is_never_free() -> None:
    table = JobPrices()
    table.update({"a100x8": 0.0, "h200": 0, "t4-small": 0.6})
    assert table.hourly("a100x8") == 32.0  # the static price, not $0
    assert table.hourly("t4-small") == 0.6
    assert hourly_prices([{"name": "h200x8", "unitCostUSD": 0, "unitLabel": "hour"}]) == {}


def test_a_job_price_copy_from_the_future_is_stale(tmp_path: Path) -> None:
    table = JobPrices()
    loader = JobPriceLoader(hub=None, cache_dir=tmp_path, table=table, clock=lambda: 1000.0)
    loader.path.write_text(json.dumps({"fetched_at": 9e12, "prices": {"a100x8": 31.0}}))
    assert loader._read_disk() == 0.0  # so run() fetches the listing again
