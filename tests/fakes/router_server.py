"""A fake Hugging Face inference router: the catalog plus OpenAI-compatible chat.

Built on :class:`fakes.openai_server.FakeOpenAI` (same replies, faults and recording);
on top of it, like the real router at ``https://router.huggingface.co/v1``:

- ``GET /v1/models`` answers the catalog: per model, ``providers[]`` with ``provider``,
  ``status``, ``context_length``, ``pricing.input`` / ``pricing.output`` (USD per million
  tokens) and ``supports_tools``;
- each chat request is served by a provider: the pinned one (``org/model:provider``),
  else the first live one in the catalog's order; the response names it in the
  ``x-inference-provider`` header (``name_provider=False`` leaves the header out);
- a model the catalog does not have gets a 400 like the router's (``unlisted`` models
  are served without being listed, as when the listing lags behind);
- usage comes from a prompt-cache simulation (``prompt_cache_sim.py``): Claude models
  cache up to their ``cache_control`` breakpoints (reads in ``cached_tokens``, writes in
  ``cache_creation_input_tokens``), other models cache automatically but only for calls
  that carry the same ``X-HF-Session-id`` (the header is what keeps a session on one
  replica).
"""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

from fakes.openai_server import FakeOpenAI, RecordedRequest, Reply
from fakes.prompt_cache_sim import PromptCacheSim, blocks_of_openai

SESSION_HEADER = "x-hf-session-id"


def offer(
    provider: str,
    price_in: float | None,
    price_out: float | None,
    *,
    status: str = "live",
    context: int = 131_072,
    tools: bool = True,
    **pricing_extra: float,
) -> dict[str, Any]:
    """One ``providers[]`` entry as the router lists it."""
    pricing: dict[str, Any] = {}
    if price_in is not None:
        pricing["input"] = price_in
    if price_out is not None:
        pricing["output"] = price_out
    pricing.update(pricing_extra)
    entry: dict[str, Any] = {
        "provider": provider,
        "status": status,
        "context_length": context,
        "supports_tools": tools,
        "supports_structured_output": True,
    }
    if pricing:
        entry["pricing"] = pricing
    return entry


def model(model_id: str, *offers: dict[str, Any]) -> dict[str, Any]:
    """One catalog model."""
    return {
        "id": model_id,
        "object": "model",
        "created": 1_760_000_000,
        "owned_by": model_id.split("/", 1)[0],
        "architecture": {"input_modalities": ["text"], "output_modalities": ["text"]},
        "providers": list(offers),
    }


def default_catalog() -> list[dict[str, Any]]:
    """The suggested models with realistic shapes (prices invented for the tests)."""
    return [
        model(
            "moonshotai/Kimi-K2.6",
            offer("novita", 0.60, 2.50, context=262_144),
            offer("together", 1.00, 3.00, context=131_072),
            offer("groq", 1.00, 3.00, status="staging"),
        ),
        model("MiniMaxAI/MiniMax-M2.7", offer("novita", 0.30, 1.20, context=196_608)),
        model(
            "zai-org/GLM-5.1",
            offer("zai-org", 0.60, 2.20, context=202_752),
            offer("novita", 0.55, 2.00, context=131_072, tools=False),
        ),
        model("deepseek-ai/DeepSeek-V4-Pro", offer("fireworks-ai", 1.20, 4.80, status="error")),
        model("openai/gpt-5.5", offer("fal-ai", 5.00, 30.00, context=400_000)),
        model("anthropic/claude-opus-4.8", offer("fal-ai", 5.00, 25.00, context=200_000)),
        model("Qwen/Qwen3-Coder-480B-A35B-Instruct", offer("hyperbolic", None, None)),
    ]


class FakeRouter(FakeOpenAI):
    """``base_url`` is ``http://127.0.0.1:PORT/v1``, as the router's."""

    def __init__(
        self,
        catalog: list[dict[str, Any]] | None = None,
        *,
        name_provider: bool = True,
        min_cache_tokens: int = 1024,
        unlisted: list[dict[str, Any]] | None = None,
    ) -> None:
        self.catalog = catalog if catalog is not None else default_catalog()
        self.unlisted = unlisted or []
        """Models served but missing from the listing (a catalog that lags behind)."""
        self.name_provider = name_provider
        self.breakpoint_cache = PromptCacheSim("breakpoints", min_tokens=min_cache_tokens)
        self.auto_cache = PromptCacheSim("automatic", min_tokens=min_cache_tokens)
        super().__init__(models=[m["id"] for m in self.catalog])

    def models_payload(self) -> dict[str, Any]:
        return {"object": "list", "data": copy.deepcopy(self.catalog)}

    def find(self, model_id: str) -> dict[str, Any] | None:
        name = model_id.rpartition(":")[0] if ":" in model_id else model_id
        served = [*self.catalog, *self.unlisted]
        return next((m for m in served if m["id"].lower() == name.lower()), None)

    def serving_provider(self, entry: dict[str, Any], model_id: str) -> str | None:
        pinned = model_id.rpartition(":")[2] if ":" in model_id else None
        live = [p for p in entry["providers"] if p.get("status") == "live"]
        if pinned and pinned not in ("fastest", "cheapest", "preferred"):
            match = [p for p in live if p["provider"] == pinned]
            return match[0]["provider"] if match else None
        return live[0]["provider"] if live else None

    def prepare(self, reply: Reply, request: RecordedRequest) -> Reply:
        if reply.status >= 400:
            return reply
        model_id = str(request.body.get("model", ""))
        entry = self.find(model_id)
        provider = self.serving_provider(entry, model_id) if entry else None
        if entry is None or provider is None:
            message = f"The requested model '{model_id}' is not supported by any provider you have enabled."
            return Reply(
                status=400, error={"error": {"message": message, "type": "invalid_request_error"}}
            )
        headers = dict(reply.headers)
        if self.name_provider:
            headers.setdefault("x-inference-provider", provider)
        usage = reply.usage if reply.usage is not None else self._usage(entry, request, reply)
        model_name = entry["id"] if reply.model == "fake" else reply.model
        return replace(reply, headers=headers, usage=usage, model=model_name)

    def _usage(
        self, entry: dict[str, Any], request: RecordedRequest, reply: Reply
    ) -> dict[str, Any]:
        blocks = blocks_of_openai(request.body)
        if "claude" in entry["id"].lower():
            use = self.breakpoint_cache.account(blocks)
        else:
            use = self.auto_cache.account(blocks, request.headers.get(SESSION_HEADER))
        completion = reply.resolved_usage()["completion_tokens"]
        usage: dict[str, Any] = {
            "prompt_tokens": use.prompt,
            "completion_tokens": completion,
            "total_tokens": use.prompt + completion,
            "prompt_tokens_details": {"cached_tokens": use.read},
        }
        if use.written:
            usage["cache_creation_input_tokens"] = use.written
        return usage
