"""Money on the (fake) Hugging Face router: catalog prices, unpriced calls, budgets, caching.

The real loop and litellm's real OpenAI provider talk to ``FakeRouter`` on 127.0.0.1,
which lists a catalog like the router's and names the provider of each call in the
``x-inference-provider`` header.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fakes.http_server import FakeHTTPServer
from fakes.openai_server import Reply
from fakes.router_server import FakeRouter, model, offer

from ml_intern_tui.core.protocol import (
    Approval,
    ApprovalDecision,
    ListModels,
    SetModel,
    UserInput,
)

KIMI = "moonshotai/Kimi-K2.6"
NOVITA = (0.60, 2.50)
TOGETHER = (1.00, 3.00)


@pytest.fixture
def hub() -> Iterator[FakeHTTPServer]:
    """A Hub that knows nothing (whoami and the hardware listing answer 404)."""
    with FakeHTTPServer() as server:
        yield server


@pytest.fixture
def router(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeRouter]:
    with FakeRouter() as fake:
        monkeypatch.setenv("HF_TOKEN", "hf_fake_router_token")
        yield fake


def router_settings(router: FakeRouter, hub: FakeHTTPServer, **extra: Any) -> dict[str, Any]:
    llm = {
        "hf_router_base": router.base_url,
        "max_retries": 1,
        "retry_base_delay_s": 0.01,
        "retry_max_delay_s": 0.05,
    }
    return {"llm": llm, "hub": {"endpoint": hub.base_url}, **extra}


def notices(h: Any, after: int = 0) -> list[str]:
    return [e.text for e in h.events[after:] if e.type == "notice"]


def usage(prompt: int, completion: int, cached: int = 0) -> dict[str, Any]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": cached},
    }


def usd(prompt: int, completion: int, prices: tuple[float, float], cached: int = 0) -> float:
    price_in, price_out = prices
    return ((prompt - cached) * price_in + cached * price_in + completion * price_out) / 1e6


async def test_default_model_spend_is_tokens_times_the_serving_providers_price(
    router: FakeRouter, hub: FakeHTTPServer, harness_factory
) -> None:
    router.enqueue(
        Reply(text="", tool_calls=[("read", json.dumps({"path": "x.txt"}))], usage=usage(1200, 80)),
        Reply(text="done", usage=usage(1500, 40), headers={"x-inference-provider": "together"}),
    )
    h = await harness_factory(KIMI, **router_settings(router, hub))
    ready = h.of("ready")[-1]
    h.submit(UserInput(text="look"))
    done = await h.wait_for("turn_complete")
    assert done.reason == "done"
    spend = h.of("spend")[-1]
    # first call served by novita (first live provider), second named together
    expected = usd(1200, 80, NOVITA) + usd(1500, 40, TOGETHER)
    assert spend.llm_usd == pytest.approx(expected, rel=1e-6) and spend.llm_usd > 0
    assert spend.unpriced_calls == 0 and spend.estimated_calls == 0 and spend.llm_calls == 2
    # every router call carries the session header (cache affinity)
    assert {r.headers.get("x-hf-session-id") for r in router.requests} == {ready.session_id}
    assert router.requests[0].body["model"] == KIMI


async def test_pinned_provider_prices_by_that_provider(
    router: FakeRouter, hub: FakeHTTPServer, harness_factory
) -> None:
    router.name_provider = False  # only the pin can tell who served it
    router.enqueue(Reply(text="hi", usage=usage(10_000, 1000)))
    h = await harness_factory(f"{KIMI}:together", **router_settings(router, hub))
    h.submit(UserInput(text="hi"))
    await h.wait_for("turn_complete")
    spend = h.of("spend")[-1]
    assert spend.llm_usd == pytest.approx(usd(10_000, 1000, TOGETHER))
    assert spend.estimated_calls == 0
    assert router.requests[0].body["model"] == f"{KIMI}:together"


async def test_unnamed_provider_is_an_estimate_at_the_cheapest_live_one(
    router: FakeRouter, hub: FakeHTTPServer, harness_factory
) -> None:
    router.name_provider = False
    router.enqueue(Reply(text="hi", usage=usage(10_000, 1000)))
    h = await harness_factory(KIMI, **router_settings(router, hub))
    h.submit(UserInput(text="hi"))
    await h.wait_for("turn_complete")
    spend = h.of("spend")[-1]
    assert spend.llm_usd == pytest.approx(usd(10_000, 1000, NOVITA))  # novita is cheapest
    assert spend.estimated_calls == 1
    assert any("estimated" in n.text and "novita" in n.text for n in h.of("notice"))


async def test_the_gauge_uses_the_catalogs_window(
    router: FakeRouter, hub: FakeHTTPServer, harness_factory
) -> None:
    h = await harness_factory(KIMI, **router_settings(router, hub))
    # live providers: novita 262k, together 131k (groq is staging): the smaller one
    usage_event = await h.wait_for("context_usage", lambda e: e.limit == 131_072)
    assert usage_event.threshold == int(131_072 * 0.9)
    mark = h.mark()
    h.submit(SetModel(model=f"{KIMI}:novita"))
    ready = await h.wait_for("ready", after=mark)
    assert ready.context_limit == 262_144


async def test_model_missing_from_the_catalog_is_unpriced_and_the_budget_says_so(
    monkeypatch: pytest.MonkeyPatch, hub: FakeHTTPServer, harness_factory
) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_fake_router_token")
    unlisted = [model("acme/Unlisted-1", offer("novita", 1.0, 1.0))]
    with FakeRouter(unlisted=unlisted) as router:  # served, but not (yet) in the listing
        router.enqueue(Reply(text="hi", usage=usage(5000, 500)))
        h = await harness_factory("acme/Unlisted-1", budget_usd=1.0, **router_settings(router, hub))
        h.submit(UserInput(text="hi"))
        await h.wait_for("turn_complete")
    spend = h.of("spend")[-1]
    assert spend.unpriced_calls == 1 and spend.llm_usd == 0 and spend.prompt_tokens == 5000
    warnings = [n.text for n in h.of("notice") if n.level == "warning"]
    assert any("unpriced" in w and "$1.00 budget" in w for w in warnings)


async def test_yolo_with_a_budget_stops_and_asks_before_an_unpriced_model(
    router: FakeRouter, hub: FakeHTTPServer, harness_factory
) -> None:
    qwen = "Qwen/Qwen3-Coder-480B-A35B-Instruct"  # listed without prices
    router.enqueue(Reply(text="first"), Reply(text="second"))
    h = await harness_factory(qwen, mode="yolo", budget_usd=2.0, **router_settings(router, hub))
    await h.wait_for("notice", lambda n: "no known price" in n.text and "yolo" in n.text)
    h.submit(UserInput(text="go"))
    asked = await h.wait_for("approval_required")
    item = asked.items[0]
    assert item.tool == "model" and "no price" in item.title
    assert item.remember_scope == "" and "cannot check the $2.00 budget" in item.blocked_reason
    assert router.requests_count == 0  # nothing was spent before the person answered
    h.submit(Approval(decisions=[ApprovalDecision(call_id=item.call_id, approved=True)]))
    done = await h.wait_for("turn_complete", lambda e: e.reason == "done")
    assert done.final_text == "first" and router.requests_count == 1

    mark = h.mark()
    h.submit(UserInput(text="again"))  # the yes holds for this model: no second question
    await h.wait_for("turn_complete", after=mark)
    assert len(h.of("approval_required")) == 1


async def test_yolo_unpriced_question_rejected_stops_the_turn(
    router: FakeRouter, hub: FakeHTTPServer, harness_factory
) -> None:
    qwen = "Qwen/Qwen3-Coder-480B-A35B-Instruct"
    h = await harness_factory(qwen, mode="yolo", budget_usd=2.0, **router_settings(router, hub))
    h.submit(UserInput(text="go"))
    asked = await h.wait_for("approval_required")
    h.submit(Approval(decisions=[ApprovalDecision(call_id=asked.items[0].call_id, approved=False)]))
    done = await h.wait_for("turn_complete")
    assert done.reason == "budget" and router.requests_count == 0
    assert not any(m.get("role") == "tool" for m in h.messages)  # no fake tool message


async def test_model_switch_checks_the_catalog(
    router: FakeRouter, hub: FakeHTTPServer, harness_factory
) -> None:
    h = await harness_factory(KIMI, **router_settings(router, hub))
    h.submit(SetModel(model="moonshotai/Kimi-K2.7"))
    error = await h.wait_for("error", lambda e: e.kind == "model")
    assert "not in the Hugging Face router's catalog" in error.message
    assert KIMI in error.message  # the fuzzy suggestion
    assert h.runtime.loop.settings.model == KIMI  # no switch

    mark = h.mark()
    h.submit(SetModel(model="zai-org/GLM-5.1:novita"))  # novita serves GLM without tools
    await h.wait_for("ready", after=mark)
    assert any("does not support tool calls" in n for n in notices(h, mark))

    mark = h.mark()
    h.submit(SetModel(model="deepseek-ai/DeepSeek-V4-Pro"))  # its only provider is down
    await h.wait_for("ready", after=mark)
    assert any("no provider serves" in n for n in notices(h, mark))

    mark = h.mark()
    h.submit(SetModel(model=f"{KIMI}:cerebras"))
    await h.wait_for("ready", after=mark)
    assert any("'cerebras' does not serve" in n for n in notices(h, mark))


SUGGESTED = [
    KIMI,
    "MiniMaxAI/MiniMax-M2.7",
    "zai-org/GLM-5.1",
    "deepseek-ai/DeepSeek-V4-Pro",
    "openai/gpt-5.5:fal-ai",
    "anthropic/claude-opus-4.8:fal-ai",
]


async def test_list_models_answers_the_catalog_rows(
    router: FakeRouter, hub: FakeHTTPServer, harness_factory
) -> None:
    h = await harness_factory(KIMI, suggested_models=SUGGESTED, **router_settings(router, hub))
    h.submit(ListModels())
    listing = await h.wait_for("model_catalog")
    rows = {m.id: m for m in listing.models}
    kimi = rows[KIMI]
    assert kimi.current and kimi.providers == ["novita", "together"]
    assert (kimi.provider, kimi.price_in, kimi.price_out) == ("novita", 0.60, 2.50)
    assert kimi.context == 131_072 and kimi.tools is True
    assert rows["deepseek-ai/DeepSeek-V4-Pro"].providers == []
    assert any("no provider" in w for w in rows["deepseek-ai/DeepSeek-V4-Pro"].warnings)
    assert rows["anthropic/claude-opus-4.8:fal-ai"].price_in == 5.0
    assert "router catalog" in listing.source


async def test_catalog_outage_leaves_calls_unpriced_not_free(
    router: FakeRouter, hub: FakeHTTPServer, harness_factory
) -> None:
    router.fail_models(5)
    router.enqueue(Reply(text="hi", usage=usage(3000, 100)))
    h = await harness_factory(KIMI, budget_usd=5.0, **router_settings(router, hub))
    h.submit(UserInput(text="hi"))
    await h.wait_for("turn_complete")
    spend = h.of("spend")[-1]
    assert spend.unpriced_calls == 1 and spend.llm_usd == 0
    assert any("could not be loaded" in n.text for n in h.of("notice"))


async def test_turn_stops_after_the_call_that_crosses_the_budget(
    router: FakeRouter, hub: FakeHTTPServer, harness_factory
) -> None:
    read = ("read", json.dumps({"path": "nothing.txt"}))
    # each call: 5000 x $0.60/M + 1000 x $2.50/M = $0.0055
    router.enqueue(*[Reply(text="", tool_calls=[read], usage=usage(5000, 1000)) for _ in range(4)])
    h = await harness_factory(KIMI, budget_usd=0.01, **router_settings(router, hub))
    h.submit(UserInput(text="spend"))
    done = await h.wait_for("turn_complete")
    assert done.reason == "budget" and done.iterations == 2
    assert router.requests_count == 2
    assert h.of("spend")[-1].llm_usd == pytest.approx(0.011)
    assert any("reached the budget" in n for n in notices(h))


async def test_a_provider_suffix_on_the_answered_model_names_the_provider(
    router: FakeRouter, hub: FakeHTTPServer, harness_factory
) -> None:
    router.name_provider = False  # no header: the answer's model says who served it
    router.enqueue(Reply(text="hi", usage=usage(10_000, 1000), model=f"{KIMI}:together"))
    h = await harness_factory(KIMI, **router_settings(router, hub))
    h.submit(UserInput(text="hi"))
    await h.wait_for("turn_complete")
    spend = h.of("spend")[-1]
    assert spend.llm_usd == pytest.approx(usd(10_000, 1000, TOGETHER))
    assert spend.estimated_calls == 0
