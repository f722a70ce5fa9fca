"""The router catalog as data: lookup, which provider prices a call, window, /model checks."""

from __future__ import annotations

from typing import Any

import pytest

from ml_intern_tui.core.catalog import RouterCatalog, check_model, split_model_id


def entry(provider: str, price: tuple[Any, Any] | None, **kw: Any) -> dict[str, Any]:
    item: dict[str, Any] = {"provider": provider, "status": kw.pop("status", "live"), **kw}
    if price is not None:
        item["pricing"] = {"input": price[0], "output": price[1]}
    return item


CATALOG = RouterCatalog.parse(
    {
        "object": "list",
        "data": [
            {
                "id": "org/Model-A",
                "providers": [
                    entry("slow", (2.0, 8.0), context_length=64_000),
                    entry("cheap", (0.5, 1.0), context_length=32_000),
                    entry("down", (0.1, 0.1), status="error", context_length=8_000),
                    entry("noprice", None, context_length=128_000),
                ],
            },
            {"id": "org/Model-B", "providers": [entry("only", None)]},
        ],
    }
)


def test_split_model_id() -> None:
    assert split_model_id("org/m:novita") == ("org/m", "novita")
    assert split_model_id("hf/org/m") == ("org/m", None)
    assert split_model_id("org/m") == ("org/m", None)


def test_the_provider_that_served_wins_then_the_pin_then_the_cheapest_live() -> None:
    served = CATALOG.choose_offer("org/Model-A", served_by="slow")
    assert served is not None and (served.offer.provider, served.basis) == ("slow", "served")
    pinned = CATALOG.choose_offer("org/model-a:slow")  # ids are case-insensitive
    assert pinned is not None and (pinned.offer.provider, pinned.basis) == ("slow", "pinned")
    guess = CATALOG.choose_offer("org/Model-A")
    assert guess is not None and guess.offer.provider == "cheap" and guess.estimate
    # a served provider the catalog cannot price falls back to the estimate
    assert CATALOG.choose_offer("org/Model-A", served_by="noprice").basis == "cheapest"  # type: ignore[union-attr]
    # a pinned provider without a price is not guessed from another one
    assert CATALOG.choose_offer("org/Model-A:noprice") is None
    assert CATALOG.choose_offer("org/Model-A:fastest").offer.provider == "cheap"  # type: ignore[union-attr]
    assert CATALOG.choose_offer("org/Model-B") is None
    assert CATALOG.choose_offer("org/Missing") is None


def test_context_window_is_the_pinned_or_the_smallest_live_one() -> None:
    assert CATALOG.context_window("org/Model-A") == 32_000
    assert CATALOG.context_window("org/Model-A:noprice") == 128_000
    assert CATALOG.context_window("org/Missing") is None


def test_checks_before_a_switch() -> None:
    typo = check_model(CATALOG, "org/Model-C")
    assert not typo.found and typo.problem and "did you mean org/Model-" in typo.problem
    assert check_model(CATALOG, "org/Model-A").warnings == ()
    gone = check_model(CATALOG, "org/Model-A:down")
    assert "'down' is not live" in gone.warnings[0]
    none = check_model(CATALOG, "org/Model-A:nobody")
    assert "'nobody' does not serve org/Model-A" in none.warnings[0]


@pytest.mark.parametrize("payload", [None, [], {"data": "x"}, {"models": []}, "catalog"])
def test_not_a_catalog_raises(payload: Any) -> None:
    with pytest.raises(ValueError):
        RouterCatalog.parse(payload)
