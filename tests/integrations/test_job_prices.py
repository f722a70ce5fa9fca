"""Live job prices: huggingface_hub's hardware listing against the fake Hub, cached on disk."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from fakes.http_server import FakeHTTPServer
from fakes.hub_jobs import TOKEN, hardware_entry, install_hardware

from ml_intern_tui.core.cost import JOB_PRICES, JobPrices, hourly_price, known_flavors
from ml_intern_tui.integrations.hub import HubClient
from ml_intern_tui.integrations.job_prices import JobPriceLoader, hourly_prices
from ml_intern_tui.tools.hf_jobs_args import HfJobsArgs

LISTING = [
    hardware_entry("cpu-basic", 0.0001),
    hardware_entry("a10g-small", 0.025, gpu="A10G"),  # $1.50/h, the static table says $1.00
    hardware_entry("h100x1", 0.075, gpu="H100"),  # not in the static table at all
]


async def test_the_hubs_listing_replaces_the_static_prices_and_is_cached(tmp_path: Path) -> None:
    table = JobPrices()
    with FakeHTTPServer() as hub:
        install_hardware(hub, LISTING)
        client = HubClient(hub.base_url, token=TOKEN)
        await JobPriceLoader(client, tmp_path, table=table).run()
        assert table.hourly("a10g-small") == pytest.approx(1.5)
        assert table.hourly("h100x1") == pytest.approx(4.5) and "h100x1" in table.flavors()
        assert table.hourly("a100-large") == 4.0  # not listed: the static price stays
        assert len(hub.calls("GET", r"/api/jobs/hardware")) == 1

        again = JobPrices()
        await JobPriceLoader(client, tmp_path, table=again).run()  # fresh copy on disk
        assert again.hourly("a10g-small") == pytest.approx(1.5)
        assert len(hub.calls("GET", r"/api/jobs/hardware")) == 1


async def test_offline_or_without_a_token_the_static_table_stays(tmp_path: Path) -> None:
    table = JobPrices()
    with FakeHTTPServer() as hub:  # no hardware route: 404
        loader = JobPriceLoader(HubClient(hub.base_url, token=TOKEN), tmp_path, table=table)
        await loader.run()
        assert loader.error and table.hourly("a10g-small") == 1.0
        install_hardware(hub, LISTING)
        asked = len(hub.requests)
        anonymous = HubClient(hub.base_url, token=None, token_from_env=False)
        await JobPriceLoader(anonymous, tmp_path / "other", table=table).run()
        assert table.hourly("a10g-small") == 1.0 and len(hub.requests) == asked


def test_odd_listing_entries_are_skipped() -> None:
    hostile = [
        {"name": "neg", "unitCostUSD": -1, "unitLabel": "minute"},
        {"name": "nan", "unitCostUSD": math.nan, "unitLabel": "minute"},
        {"name": "bool", "unitCostUSD": True, "unitLabel": "minute"},
        {"name": "fortnight", "unitCostUSD": 1.0, "unitLabel": "fortnight"},
        {"name": 5, "unitCostUSD": 1.0, "unitLabel": "hour"},
        {"name": "ok", "unitCostUSD": 2.0, "unitLabel": "hours"},
    ]
    assert hourly_prices(hostile) == {"ok": 2.0}


def test_live_prices_reach_the_job_tool() -> None:
    JOB_PRICES.update({"a10g-small": 1.5, "h100x1": 4.5})
    assert hourly_price("A10G-Small") == 1.5
    assert "h100x1" in known_flavors()
    args = HfJobsArgs(operation="run", script="print(1)", flavor="h100x1", timeout="2h")
    assert args.flavor == "h100x1"
    with pytest.raises(ValueError, match="unknown flavor"):
        HfJobsArgs(operation="run", script="print(1)", flavor="h100x9")
