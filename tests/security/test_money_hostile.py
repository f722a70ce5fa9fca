"""A hostile router, catalog or usage report cannot make spend lie or reach the terminal.

The attacker controls the router's answers (catalog, headers, usage). They may try to
make paid calls read as free, inject escape sequences through names, or crash pricing.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakes.openai_server import FakeOpenAI, Reply
from fakes.router_server import FakeRouter, model, offer

from ml_intern_tui.core.catalog import RouterCatalog
from ml_intern_tui.core.llm import LLMClient, RetryPolicy, load_litellm
from ml_intern_tui.core.models import resolve_model
from ml_intern_tui.core.pricing import Pricer
from ml_intern_tui.integrations.router_catalog import RouterCatalogClient

ESC = "\x1b]52;c;cHduZWQ=\x07\x1b[2J"
"""An OSC 52 clipboard write and a screen clear."""
FAST = RetryPolicy(max_retries=0)


@pytest.fixture(autouse=True)
def _litellm() -> None:
    load_litellm()


def test_names_with_escape_sequences_never_enter_the_catalog() -> None:
    catalog = RouterCatalog.parse(
        {
            "data": [
                {"id": f"evil/model{ESC}", "providers": [offer("novita", 1, 1)]},
                {
                    "id": "ok/model",
                    "providers": [
                        offer(f"nov{ESC}ita", 0.01, 0.01),
                        {**offer("fine", 1, 2), "status": f"live{ESC}"},
                        offer("good", 1, 2),
                    ],
                },
                "not an object",
                {"id": 42},
            ]
        }
    )
    text = catalog.model_dump_json()
    assert "\x1b" not in text and "\x07" not in text
    assert [m.id for m in catalog.data] == ["ok/model"]
    entry = catalog.find("ok/model")
    assert entry is not None and [o.provider for o in entry.live] == ["good"]


@pytest.mark.parametrize(
    "pricing",
    [
        {"input": 0, "output": 0},  # "free": a placeholder, never $0.00
        {"input": -5, "output": -5},
        {"input": "NaN", "output": 2},
        {"input": math.inf, "output": 1},
        {"input": True, "output": True},
        {"input": "cheap", "output": None},
        "free",
    ],
)
def test_prices_that_are_not_prices_leave_calls_unpriced(pricing: Any) -> None:
    provider = {"provider": "novita", "status": "live", "pricing": pricing}
    catalog = RouterCatalog.parse({"data": [{"id": "a/b", "providers": [provider]}]})

    class Source:
        def current(self) -> RouterCatalog:
            return catalog

        def pending(self) -> bool:
            return False

        async def wait(self, timeout_s: float) -> None:
            return None

    route = resolve_model("a/b", env={}, hf_token="t")
    from ml_intern_tui.core.pricing import CallUsage

    cost = Pricer(Source()).price(route, CallUsage(prompt=1_000_000, completion=1_000_000))
    assert cost.usd is None and not cost.priced


@pytest.fixture
def router() -> Iterator[FakeRouter]:
    catalog = [model("moonshotai/Kimi-K2.6", offer("novita", 0.6, 2.5), offer("cheapo", 0.1, 0.1))]
    with FakeRouter(catalog) as fake:
        yield fake


async def router_client(router: FakeRouter, cache: Path) -> LLMClient:
    source = RouterCatalogClient(router.base_url, cache)
    await source.ready()
    route = resolve_model("moonshotai/Kimi-K2.6", env={}, hf_token="t", router_base=router.base_url)
    return LLMClient(route, retry=FAST, pricer=Pricer(source))


async def test_a_provider_header_that_is_not_a_name_is_ignored_and_never_shown(
    router: FakeRouter, tmp_path: Path
) -> None:
    llm = await router_client(router, tmp_path)
    router.enqueue(Reply(text="x", headers={"x-inference-provider": f"cheapo{ESC}"}))
    response = await llm.complete([{"role": "user", "content": "hi"}], None)
    assert response.served_by is None  # not a provider name: ignored
    cost = response.cost
    assert cost is not None and cost.provider == "cheapo" and cost.estimate  # said as a guess
    router.enqueue(Reply(text="x", headers={"x-inference-provider": "novita"}))
    named = await llm.complete([{"role": "user", "content": "hi"}], None)
    assert named.served_by == "novita" and named.cost is not None and not named.cost.estimate


@pytest.mark.parametrize(
    "usage",
    [
        {"prompt_tokens": 1000, "completion_tokens": -50, "total_tokens": 950},
        {
            "prompt_tokens": 1000,
            "completion_tokens": 10,
            "total_tokens": 1010,
            "prompt_tokens_details": {"cached_tokens": 10**9},
        },
        {
            "prompt_tokens": 1000,
            "completion_tokens": 10,
            "total_tokens": 1010,
            "cache_creation_input_tokens": 10**9,
        },
    ],
)
async def test_odd_usage_never_makes_spend_negative_or_larger_than_the_prompt(
    router: FakeRouter, tmp_path: Path, usage: dict[str, Any]
) -> None:
    llm = await router_client(router, tmp_path)
    router.enqueue(Reply(text="x", usage=usage, headers={"x-inference-provider": "novita"}))
    response = await llm.complete([{"role": "user", "content": "hi"}], None)
    cost = response.cost
    assert cost is not None and cost.usd is not None
    assert 0 <= cost.usd <= (1000 * 0.6 * 1.25 + 10 * 2.5) / 1e6 + 1e-12
    assert response.usage.cached_tokens <= 1000 and response.usage.cache_write_tokens <= 1000
    assert response.usage.completion_tokens >= 0


async def test_a_tampered_cache_file_is_ignored_and_refetched(
    router: FakeRouter, tmp_path: Path
) -> None:
    source = RouterCatalogClient(router.base_url, tmp_path)
    source.path.parent.mkdir(parents=True, exist_ok=True)
    source.path.write_text(
        json.dumps({"base": router.base_url, "fetched_at": "soon", "payload": 7})
    )
    catalog = await source.ready()
    assert catalog is not None and catalog.find("moonshotai/Kimi-K2.6") is not None
    assert router.model_listings == 1


async def test_a_local_server_cannot_bill_itself(tmp_path: Path) -> None:
    """Local models run here: their usage reports never turn into spend."""
    with FakeOpenAI() as fake:
        route = resolve_model("vllm/m", env={"VLLM_BASE_URL": fake.base_url})
        fake.enqueue(Reply(text="x", usage={"prompt_tokens": 10**7, "completion_tokens": 10**7}))
        response = await LLMClient(route, retry=FAST).complete(
            [{"role": "user", "content": "hi"}], None
        )
        assert response.cost is not None and response.cost.usd == 0.0
