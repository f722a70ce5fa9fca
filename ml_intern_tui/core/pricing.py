"""What one model call cost: token prices per model and provider, cache reads and writes.

Prices come from three places:

- router models: the router catalog (``core/catalog.py``), priced by the provider that
  served the call, else the pinned ``:provider``, else the cheapest live provider (an
  estimate, said as such);
- native models (``anthropic/…``, ``gpt-5``): litellm's price map;
- local and scripted models run on this machine: free.

A call we cannot price is *unpriced* (``CallCost.usd is None``), never $0.00.

Cached input tokens bill at their own rate. The catalog's cache prices win when it gives
them; otherwise, for router models, this rule applies (documented in the README):

- Anthropic models (``anthropic/…`` or a Claude name): reads at 10 % of the input price,
  writes at 125 % (Anthropic's own ratios);
- OpenAI models (``openai/…``): reads at 10 % for GPT-5 and later, 50 % for GPT-4 models;
  writes at the input price (OpenAI charges nothing extra to write);
- every other model: cached tokens bill at the full input price, because we do not know
  the provider's discount and spend must never be under-reported.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

from ml_intern_tui.core.catalog import RouterCatalog, split_model_id

if TYPE_CHECKING:
    from ml_intern_tui.core.models import ModelRoute

PER_MILLION = 1_000_000.0

PriceStatus = Literal["priced", "unpriced", "pending"]


@dataclass(frozen=True)
class TokenPrices:
    """USD per million tokens for one model (and provider)."""

    input: float
    output: float
    cache_read: float
    cache_write: float
    provider: str | None = None
    basis: str = "price map"
    """Where the prices come from: served / pinned / cheapest (router), price map, free."""
    cache_rule: str = "catalog"
    """How the cache prices were found: catalog, price map, or the family rule used."""

    @property
    def estimate(self) -> bool:
        return self.basis == "cheapest"


@dataclass(frozen=True)
class CallUsage:
    """The token counts pricing needs (``prompt`` includes cached and written tokens)."""

    prompt: int = 0
    completion: int = 0
    cached: int = 0
    cache_write: int = 0


@dataclass(frozen=True)
class CallCost:
    """The price of one call; ``usd`` is ``None`` when nobody knows it."""

    usd: float | None
    prices: TokenPrices | None = None
    usage: CallUsage = CallUsage()
    saved_usd: float = 0.0
    """Caching's effect on this call against paying the input price for every token
    (negative when writing the cache cost more than reading it saved)."""
    reason: str = ""
    """For an unpriced call: why (one line)."""

    @property
    def priced(self) -> bool:
        return self.usd is not None

    @property
    def estimate(self) -> bool:
        return self.prices is not None and self.prices.estimate

    @property
    def provider(self) -> str | None:
        return self.prices.provider if self.prices is not None else None


FREE = TokenPrices(0.0, 0.0, 0.0, 0.0, basis="free", cache_rule="free")


def cost_of(usage: CallUsage, prices: TokenPrices | None, reason: str = "") -> CallCost:
    """Price ``usage`` at ``prices`` (unpriced when ``prices`` is ``None``)."""
    if prices is None:
        return CallCost(None, None, usage, reason=reason or "no known price")
    cached = max(0, min(usage.cached, usage.prompt))
    written = max(0, min(usage.cache_write, usage.prompt - cached))
    fresh = usage.prompt - cached - written
    usd = (
        fresh * prices.input
        + cached * prices.cache_read
        + written * prices.cache_write
        + usage.completion * prices.output
    ) / PER_MILLION
    saved = (
        cached * (prices.input - prices.cache_read) + written * (prices.input - prices.cache_write)
    ) / PER_MILLION
    return CallCost(usd, prices, usage, saved_usd=saved)


# -- cache prices for router models without catalog cache prices ---------------------------


def model_family(model_id: str) -> Literal["anthropic", "openai", "other"]:
    """The model maker as far as caching goes, from the id."""
    name, _ = split_model_id(model_id)
    lowered = name.lower()
    org = lowered.split("/", 1)[0] if "/" in lowered else ""
    if org == "anthropic" or "claude" in lowered:
        return "anthropic"
    if org == "openai" or lowered.startswith(("gpt-", "o1", "o3", "o4")):
        return "openai"
    return "other"


def cache_ratios(model_id: str) -> tuple[float, float, str]:
    """(read ratio, write ratio, rule name) of the input price, by the documented rule."""
    family = model_family(model_id)
    if family == "anthropic":
        return 0.1, 1.25, "Anthropic rule (reads 10%, writes 125% of input)"
    if family == "openai":
        name = split_model_id(model_id)[0].lower().rsplit("/", 1)[-1]
        if name.startswith("gpt-4"):
            return 0.5, 1.0, "OpenAI rule (reads 50% of input)"
        return 0.1, 1.0, "OpenAI rule (reads 10% of input)"
    return 1.0, 1.0, "no cache discount known (cached tokens at the input price)"


def catalog_prices(
    catalog: RouterCatalog, model_id: str, served_by: str | None = None
) -> TokenPrices | None:
    """A router model's prices from the catalog (``None`` when it cannot price it)."""
    choice = catalog.choose_offer(model_id, served_by)
    if choice is None:
        return None
    pricing = choice.offer.pricing
    assert pricing.input is not None and pricing.output is not None
    read_ratio, write_ratio, rule = cache_ratios(model_id)
    read = pricing.cache_read if pricing.cache_read is not None else pricing.input * read_ratio
    write = pricing.cache_write if pricing.cache_write is not None else pricing.input * write_ratio
    if pricing.cache_read is not None or pricing.cache_write is not None:
        rule = "catalog"
    return TokenPrices(
        pricing.input,
        pricing.output,
        read,
        write,
        provider=choice.offer.provider,
        basis=choice.basis,
        cache_rule=rule,
    )


def price_map_prices(litellm: Any, model: str) -> TokenPrices | None:
    """A native model's prices from litellm's price map (``None``: not in it, or 0/0)."""
    bare = model.removeprefix("openai/")
    for name in dict.fromkeys((model, bare)):
        try:
            info = litellm.get_model_info(name)
        except Exception:
            continue
        per_token = [info.get(key) for key in ("input_cost_per_token", "output_cost_per_token")]
        if not all(isinstance(v, int | float) and math.isfinite(v) for v in per_token):
            continue
        price_in, price_out = (float(v) * PER_MILLION for v in per_token)
        if price_in <= 0 and price_out <= 0:
            continue  # a placeholder entry, not a free model
        read = info.get("cache_read_input_token_cost")
        write = info.get("cache_creation_input_token_cost")
        return TokenPrices(
            price_in,
            price_out,
            float(read) * PER_MILLION if isinstance(read, int | float) else price_in,
            float(write) * PER_MILLION if isinstance(write, int | float) else price_in,
            basis="price map",
            cache_rule="price map",
        )
    return None


# -- the pricer the LLM client uses ---------------------------------------------------------


class CatalogSource(Protocol):
    """Where the router catalog comes from (the integration fetches it in the background)."""

    def current(self) -> RouterCatalog | None:
        """The catalog as known now (fresh or stale), ``None`` before the first load."""

    def pending(self) -> bool:
        """Whether a fetch is under way that may still bring a catalog."""

    async def wait(self, timeout_s: float) -> None:
        """Until the fetch under way has finished (or ``timeout_s`` passed)."""


class Pricer:
    """Prices calls for any route: catalog for router models, price map for native ones."""

    def __init__(self, catalog: CatalogSource | None = None, settle_s: float = 10.0) -> None:
        self.catalog = catalog
        self.settle_s = settle_s

    def prices(self, route: ModelRoute, served_by: str | None = None) -> TokenPrices | None:
        if route.kind in ("local", "scripted"):
            return FREE
        if route.kind == "router":
            current = self.catalog.current() if self.catalog is not None else None
            return catalog_prices(current, route.model_id, served_by) if current else None
        from ml_intern_tui.core.llm import load_litellm

        try:
            litellm = load_litellm()
        except Exception:
            return None
        return price_map_prices(litellm, route.litellm_model)

    def status(self, route: ModelRoute) -> PriceStatus:
        """Whether calls of ``route`` can be priced (``pending`` while the catalog loads)."""
        if self.prices(route) is not None:
            return "priced"
        if route.kind == "router" and self.catalog is not None and self.catalog.pending():
            return "pending"
        return "unpriced"

    async def settle(self, route: ModelRoute) -> None:
        """Before pricing a router call with no catalog yet: wait (bounded) for the fetch
        under way. A stale copy on disk needs no wait."""
        source = self.catalog
        if route.kind != "router" or source is None or source.current() is not None:
            return
        if source.pending():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(source.wait(self.settle_s), self.settle_s + 1)

    def price(self, route: ModelRoute, usage: CallUsage, served_by: str | None = None) -> CallCost:
        prices = self.prices(route, served_by)
        if prices is not None:
            return cost_of(usage, prices)
        if route.kind == "router":
            if self.catalog is None or self.catalog.current() is None:
                why = "the router catalog could not be loaded"
            else:
                why = f"the router catalog has no price for {route.model_id}"
        else:
            why = f"litellm's price map has no price for {route.litellm_model}"
        return cost_of(usage, None, why)
