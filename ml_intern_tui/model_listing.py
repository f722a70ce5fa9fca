"""The rows ``/model`` shows: each suggested model with providers, prices, window, tools.

Part of the composition root (the backend calls it): router models are described from
the router catalog, native models from litellm's price map, local and scripted models
as free.
"""

from __future__ import annotations

from typing import Any

from ml_intern_tui.core.catalog import ROUTING_POLICIES, RouterCatalog, check_model, split_model_id
from ml_intern_tui.core.protocol import ModelInfo


def _ago(seconds: float) -> str:
    if seconds < 90:
        return "just now"
    if seconds < 5400:
        return f"{round(seconds / 60)} min ago"
    return f"{round(seconds / 3600)} h ago"


def catalog_source(client: Any, catalog: RouterCatalog | None) -> str:
    """One line: where the router facts come from, and how old they are."""
    if client is None:
        return "no router catalog"
    error = getattr(client, "error", None)
    if catalog is None:
        return f"router catalog unavailable ({error or 'not loaded'})"
    age = client.age_s()
    text = f"router catalog, fetched {_ago(age)}" if age is not None else "router catalog"
    if error:
        text += f"; refresh failed ({error}), using this copy"
    return text


def _router_row(info: ModelInfo, catalog: RouterCatalog | None, model_id: str) -> None:
    if catalog is None:
        info.warnings.append("router catalog unavailable: providers and prices unknown")
        return
    check = check_model(catalog, model_id)
    info.in_catalog = check.found
    info.warnings.extend([check.problem] if check.problem else list(check.warnings))
    entry = catalog.find(model_id)
    if entry is None:
        return
    info.providers = [o.provider for o in entry.live]
    _, pinned = split_model_id(model_id)
    pinned = pinned if pinned and pinned.lower() not in ROUTING_POLICIES else None
    offer = entry.offer(pinned) if pinned else entry.cheapest_live()
    if offer is not None:
        info.provider = offer.provider
        info.price_in, info.price_out = offer.pricing.input, offer.pricing.output
        info.tools = offer.supports_tools
    elif not pinned:
        flags = [o.supports_tools for o in entry.live if o.supports_tools is not None]
        info.tools = any(flags) if flags else None
    info.context = catalog.context_window(model_id)


def describe_models(
    backend: Any, models: list[str], current: str, catalog: RouterCatalog | None
) -> tuple[list[ModelInfo], str]:
    """ModelInfo rows for ``models`` and the catalog's source line."""
    rows: list[ModelInfo] = []
    for model_id in models:
        if not model_id:
            continue
        try:
            route = backend.route(model_id)
        except ValueError as exc:
            rows.append(ModelInfo(id=model_id, current=model_id == current, warnings=[str(exc)]))
            continue
        info = ModelInfo(id=model_id, current=model_id == current, kind=route.kind)
        if route.kind == "router":
            _router_row(info, catalog, model_id)
        elif route.kind == "native":
            prices = backend.pricer.prices(route)
            if prices is not None:
                info.price_in, info.price_out = prices.input, prices.output
            else:
                info.warnings.append("no price in litellm's price map: calls will be unpriced")
            info.context = backend.context_limit(model_id)
        else:
            info.price_in = info.price_out = 0.0
        rows.append(info)
    return rows, catalog_source(getattr(backend, "catalog", None), catalog)
