"""Pricing one call: fresh, cached and cache-write tokens at their own rates; unpriced."""

from __future__ import annotations

import pytest

from ml_intern_tui.core.catalog import RouterCatalog
from ml_intern_tui.core.models import ModelRoute
from ml_intern_tui.core.pricing import (
    CallUsage,
    Pricer,
    TokenPrices,
    cache_ratios,
    catalog_prices,
    cost_of,
    model_family,
)


def test_each_kind_of_input_token_at_its_price() -> None:
    prices = TokenPrices(input=3.0, output=15.0, cache_read=0.3, cache_write=3.75)
    usage = CallUsage(prompt=10_000, completion=1_000, cached=8_000, cache_write=1_000)
    cost = cost_of(usage, prices)
    assert cost.usd == pytest.approx((1_000 * 3 + 8_000 * 0.3 + 1_000 * 3.75 + 1_000 * 15) / 1e6)
    assert cost.saved_usd == pytest.approx((8_000 * 2.7 - 1_000 * 0.75) / 1e6)


def test_odd_usage_is_clamped_not_trusted() -> None:
    prices = TokenPrices(1.0, 1.0, 0.1, 1.25)
    cost = cost_of(CallUsage(prompt=100, completion=0, cached=500, cache_write=50), prices)
    assert cost.usd == pytest.approx(100 * 0.1 / 1e6)  # cached capped at the prompt


def test_unpriced_is_none_with_a_reason() -> None:
    cost = cost_of(CallUsage(prompt=10, completion=5), None, "no price anywhere")
    assert cost.usd is None and not cost.priced and cost.reason == "no price anywhere"


def test_family_rules_for_router_cache_prices() -> None:
    assert model_family("anthropic/claude-opus-4.8:fal-ai") == "anthropic"
    assert model_family("openai/gpt-5.5:fal-ai") == "openai"
    assert model_family("moonshotai/Kimi-K2.6") == "other"
    assert cache_ratios("anthropic/claude-opus-4.8")[:2] == (0.1, 1.25)
    assert cache_ratios("openai/gpt-4.1")[:2] == (0.5, 1.0)
    assert cache_ratios("openai/gpt-5.5")[:2] == (0.1, 1.0)
    assert cache_ratios("moonshotai/Kimi-K2.6")[:2] == (1.0, 1.0)  # never under-report


def test_catalog_cache_prices_win_over_the_rule() -> None:
    catalog = RouterCatalog.parse(
        {
            "data": [
                {
                    "id": "moonshotai/Kimi-K2.6",
                    "providers": [
                        {
                            "provider": "novita",
                            "status": "live",
                            "pricing": {"input": 0.6, "output": 2.5, "input_cache_read": 0.15},
                        }
                    ],
                }
            ]
        }
    )
    prices = catalog_prices(catalog, "moonshotai/Kimi-K2.6")
    assert prices is not None and prices.cache_read == 0.15 and prices.cache_rule == "catalog"
    assert prices.cache_write == 0.6 and prices.basis == "cheapest" and prices.estimate


def test_local_and_scripted_models_are_free_native_ones_use_the_price_map() -> None:
    pricer = Pricer()
    local = ModelRoute("vllm/x", "openai/x", "http://127.0.0.1:1/v1", "k", "local", False)
    assert pricer.price(local, CallUsage(1000, 10)).usd == 0.0
    sonnet = ModelRoute(
        "anthropic/claude-sonnet-4-5", "anthropic/claude-sonnet-4-5", None, None, "native", True
    )
    prices = pricer.prices(sonnet)
    assert prices is not None and (
        prices.input,
        prices.cache_read,
        prices.cache_write,
    ) == pytest.approx((3.0, 0.3, 3.75))
    unknown = ModelRoute("mistral/nope-9", "mistral/nope-9", None, None, "native", True)
    cost = pricer.price(unknown, CallUsage(1000, 10))
    assert cost.usd is None and "price map" in cost.reason
    router = ModelRoute("a/b", "openai/a/b", "http://x/v1", "t", "router", True)
    assert pricer.price(router, CallUsage(10, 1)).usd is None  # no catalog at all
    assert pricer.status(router) == "unpriced"
