"""The Hugging Face router's model catalog: which providers serve a model, at what price.

The router answers ``GET {base}/models`` (the base ends in ``/v1``) with every model it
serves and, per model, the providers behind it::

    {"object": "list", "data": [{"id": "moonshotai/Kimi-K2.6", "providers": [
        {"provider": "novita", "status": "live", "context_length": 262144,
         "pricing": {"input": 0.6, "output": 2.5}, "supports_tools": true}]}]}

Prices are US dollars per million tokens. This module only reads that data (pydantic at
the boundary, unknown fields ignored, a malformed provider entry skipped rather than
failing the whole catalog); fetching and caching it is ``integrations/router_catalog.py``.
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

ROUTING_POLICIES = frozenset({"fastest", "cheapest", "preferred", "auto"})
"""``:suffix`` values that choose a routing policy rather than naming a provider."""

HF_PREFIXES = ("huggingface/", "hf/")

MIN_CATALOG_WINDOW = 4096
"""Smaller ``context_length`` values are ignored (the window is then unknown)."""
MAX_CATALOG_WINDOW = 50_000_000

_MODEL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,199}")
_PROVIDER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def _checked(pattern: re.Pattern[str], what: str, value: Any) -> str:
    """Names from the server reach the terminal: only plain id characters are accepted
    (an entry with anything else, escape sequences included, is skipped)."""
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise ValueError(f"not a {what}")
    return value


def _finite_price(value: Any) -> float | None:
    """A price in $/M tokens: a finite number ≥ 0, else ``None`` (unknown, never 0)."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and number >= 0 else None


class ProviderPricing(BaseModel):
    """One provider's prices for one model, USD per million tokens."""

    model_config = ConfigDict(extra="ignore")

    input: float | None = None
    output: float | None = None
    cache_read: float | None = None
    cache_write: float | None = None

    @field_validator("input", "output", "cache_read", "cache_write", mode="before")
    @classmethod
    def _price(cls, value: Any) -> float | None:
        return _finite_price(value)

    @classmethod
    def parse(cls, raw: Any) -> ProviderPricing:
        """Read the pricing object; other spellings of the cache prices are accepted too."""
        if not isinstance(raw, dict):
            return cls()
        data = dict(raw)
        for ours, theirs in (
            ("cache_read", ("input_cache_read", "cached_input", "cache_read_input")),
            ("cache_write", ("input_cache_write", "cache_creation_input", "cache_write_input")),
        ):
            if data.get(ours) is None:
                data[ours] = next((data[k] for k in theirs if data.get(k) is not None), None)
        return cls.model_validate(data)


class ProviderOffer(BaseModel):
    """One provider serving one model."""

    model_config = ConfigDict(extra="ignore")

    provider: str
    status: str = "unknown"
    context_length: int | None = None
    pricing: ProviderPricing = Field(default_factory=ProviderPricing)
    supports_tools: bool | None = None

    @field_validator("provider", mode="before")
    @classmethod
    def _provider(cls, value: Any) -> str:
        return _checked(_PROVIDER, "provider name", value)

    @field_validator("status", mode="before")
    @classmethod
    def _status(cls, value: Any) -> str:
        return value if isinstance(value, str) and _PROVIDER.fullmatch(value) else "unknown"

    @field_validator("supports_tools", mode="before")
    @classmethod
    def _tools(cls, value: Any) -> bool | None:
        return value if isinstance(value, bool) else None

    @field_validator("pricing", mode="before")
    @classmethod
    def _pricing(cls, value: Any) -> ProviderPricing:
        return value if isinstance(value, ProviderPricing) else ProviderPricing.parse(value)

    @field_validator("context_length", mode="before")
    @classmethod
    def _context(cls, value: Any) -> int | None:
        # A window the system prompt and the tools do not fit in is no window: taken at
        # its word (the smallest live provider's counts), one such entry made every
        # call pay for a compaction that could not succeed.
        if not isinstance(value, int) or isinstance(value, bool):
            return None
        return value if MIN_CATALOG_WINDOW <= value <= MAX_CATALOG_WINDOW else None

    @property
    def live(self) -> bool:
        return self.status.lower() == "live"

    @property
    def priced(self) -> bool:
        """Both prices known; 0/0 reads as a placeholder, not as free (never show $0.00
        for a call that costs money)."""
        price_in, price_out = self.pricing.input, self.pricing.output
        return price_in is not None and price_out is not None and (price_in > 0 or price_out > 0)


class CatalogModel(BaseModel):
    """One model of the catalog with the providers that serve it."""

    model_config = ConfigDict(extra="ignore")

    id: str
    providers: list[ProviderOffer] = Field(default_factory=list)

    @field_validator("id", mode="before")
    @classmethod
    def _id(cls, value: Any) -> str:
        return _checked(_MODEL_ID, "model id", value)

    @field_validator("providers", mode="before")
    @classmethod
    def _providers(cls, value: Any) -> list[ProviderOffer]:
        offers: list[ProviderOffer] = []
        for item in value if isinstance(value, list) else []:
            try:
                offers.append(ProviderOffer.model_validate(item))
            except ValidationError:
                continue  # one odd provider entry must not hide the model
        return offers

    @property
    def live(self) -> list[ProviderOffer]:
        return [offer for offer in self.providers if offer.live]

    def offer(self, provider: str) -> ProviderOffer | None:
        wanted = provider.lower()
        return next((o for o in self.providers if o.provider.lower() == wanted), None)

    def cheapest_live(self) -> ProviderOffer | None:
        """The live priced provider with the lowest input + output price."""
        priced = [o for o in self.live if o.priced]
        if not priced:
            return None
        return min(priced, key=lambda o: (o.pricing.input or 0.0) + (o.pricing.output or 0.0))


PriceBasis = Literal["served", "pinned", "cheapest"]


@dataclass(frozen=True)
class OfferChoice:
    """The provider a call is priced by, and why that one."""

    offer: ProviderOffer
    basis: PriceBasis

    @property
    def estimate(self) -> bool:
        """Priced by a guess (the cheapest live provider), not by who served the call."""
        return self.basis == "cheapest"


def split_model_id(model_id: str) -> tuple[str, str | None]:
    """``org/model:provider`` → (``org/model``, ``provider``); prefixes ``hf/`` dropped."""
    bare = model_id
    for prefix in HF_PREFIXES:
        if bare.startswith(prefix):
            bare = bare[len(prefix) :]
    name, sep, suffix = bare.rpartition(":")
    if sep and name and suffix and "/" not in suffix:
        return name, suffix
    return bare, None


class RouterCatalog(BaseModel):
    """The whole catalog, looked up by model id (case-insensitive)."""

    model_config = ConfigDict(extra="ignore")

    data: list[CatalogModel] = Field(default_factory=list)

    @field_validator("data", mode="before")
    @classmethod
    def _models(cls, value: Any) -> list[CatalogModel]:
        models: list[CatalogModel] = []
        for item in value if isinstance(value, list) else []:
            try:
                models.append(CatalogModel.model_validate(item))
            except ValidationError:
                continue
        return models

    @classmethod
    def parse(cls, payload: Any) -> RouterCatalog:
        """Read a ``/models`` answer; raises ``ValueError`` when it is not a catalog at all."""
        if not isinstance(payload, dict) or not isinstance(payload.get("data"), list):
            raise ValueError("the router's /models answer has no 'data' list")
        return cls.model_validate({"data": payload["data"]})

    def __len__(self) -> int:
        return len(self.data)

    def find(self, model_id: str) -> CatalogModel | None:
        """The catalog entry of ``model_id`` (its ``:provider`` suffix ignored)."""
        name, _ = split_model_id(model_id)
        wanted = name.lower()
        return next((m for m in self.data if m.id.lower() == wanted), None)

    def suggest(self, model_id: str, limit: int = 3) -> list[str]:
        """Catalog ids that look like a mistyped ``model_id`` (best first)."""
        name, _ = split_model_id(model_id)
        ids = [m.id for m in self.data]
        lowered = {i.lower(): i for i in ids}
        close = difflib.get_close_matches(name.lower(), list(lowered), n=limit, cutoff=0.4)
        tail = name.rsplit("/", 1)[-1].lower()
        by_tail = [i for i in ids if i.rsplit("/", 1)[-1].lower() == tail]
        return list(dict.fromkeys([*by_tail, *(lowered[c] for c in close)]))[:limit]

    def choose_offer(self, model_id: str, served_by: str | None = None) -> OfferChoice | None:
        """Who to price a call by: who served it, else the pinned provider, else the
        cheapest live one (an estimate). ``None`` when the catalog cannot price it."""
        model = self.find(model_id)
        if model is None:
            return None
        _, pinned = split_model_id(model_id)
        if served_by:
            offer = model.offer(served_by)
            if offer is not None and offer.priced:
                return OfferChoice(offer, "served")
        if pinned and pinned.lower() not in ROUTING_POLICIES:
            offer = model.offer(pinned)
            if offer is not None and offer.priced:
                return OfferChoice(offer, "pinned")
            return None  # a pinned provider we cannot price: do not guess another's price
        cheapest = model.cheapest_live()
        return OfferChoice(cheapest, "cheapest") if cheapest is not None else None

    def context_window(self, model_id: str) -> int | None:
        """Input window for ``model_id``: the pinned provider's, else the smallest of the
        live providers' (the router may send a call to any of them)."""
        model = self.find(model_id)
        if model is None:
            return None
        _, pinned = split_model_id(model_id)
        if pinned and pinned.lower() not in ROUTING_POLICIES:
            offer = model.offer(pinned)
            return offer.context_length if offer is not None else None
        windows = [o.context_length for o in model.live if o.context_length]
        return min(windows) if windows else None


@dataclass
class ModelCheck:
    """What the catalog says about a model id before switching to it."""

    found: bool
    problem: str | None = None
    """Why the switch is refused (an id the router does not know), with suggestions."""
    warnings: tuple[str, ...] = ()


def check_model(catalog: RouterCatalog, model_id: str) -> ModelCheck:
    """Typos (with suggestions), no live provider, a pinned provider that does not serve
    the model, no tool support."""
    name, pinned = split_model_id(model_id)
    model = catalog.find(model_id)
    if model is None:
        hint = catalog.suggest(model_id)
        problem = f"{name} is not in the Hugging Face router's catalog"
        problem += (
            f"; did you mean {', '.join(hint)}?" if hint else "; /model lists the suggested ones"
        )
        return ModelCheck(False, problem)
    warnings: list[str] = []
    live = model.live
    if not live:
        warnings.append(f"no provider serves {model.id} right now (none is live)")
    offers = live
    if pinned and pinned.lower() not in ROUTING_POLICIES:
        offer = model.offer(pinned)
        names = ", ".join(o.provider for o in live) or "none live"
        if offer is None:
            warnings.append(f"provider {pinned!r} does not serve {model.id} (live: {names})")
            offers = []
        elif not offer.live:
            warnings.append(f"provider {pinned!r} is not live for {model.id} (live: {names})")
            offers = [offer]
        else:
            offers = [offer]
    if offers and all(o.supports_tools is False for o in offers):
        warnings.append(
            f"{model.id} does not support tool calls there: the agent cannot use its tools"
        )
    return ModelCheck(True, None, tuple(warnings))
