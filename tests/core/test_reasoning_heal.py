"""The runtime heal: each kind of reasoning refusal fixed at most once per model call."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from ml_intern_tui.core.context import ContextManager
from ml_intern_tui.core.llm import LLMClient, LLMError
from ml_intern_tui.core.models import ModelRoute
from ml_intern_tui.core.protocol import EventBase, Notice
from ml_intern_tui.core.reasoning_heal import ReasoningHeal

ROUTER = ModelRoute("org/model", "openai/org/model", "http://r/v1", "hf_x", "router", True)
CLAUDE = ModelRoute(
    "anthropic/claude-sonnet-4-5", "anthropic/claude-sonnet-4-5", None, None, "native", True
)
CALL = [{"id": "t1", "type": "function", "function": {"name": "read", "arguments": "{}"}}]
SIGNED = {"type": "thinking", "thinking": "hm", "signature": "EqQB"}


def session(route: ModelRoute, effort: str | None) -> Any:
    records: list[dict[str, Any]] = []
    context = ContextManager("system", limit=100_000, counter=lambda m: 10 * len(m))
    context.on_change = records.append
    events: list[EventBase] = []
    return SimpleNamespace(
        model=route.model_id,
        llm=LLMClient(route, reasoning_effort=effort),
        context=context,
        publish=events.append,
        events=events,
        records=records,
    )


def refusal(message: str) -> LLMError:
    return LLMError("bad_request", f"the provider rejected the request (HTTP 400: {message})")


OPENAI_XHIGH = (
    "Unsupported value: 'reasoning_effort' does not support 'xhigh' with this model. "
    "Supported values are: 'low', 'medium', and 'high'."
)
SIGNATURE = "messages.1.content.0: Invalid `signature` in `thinking` block"


def notices(s: Any) -> list[str]:
    return [e.text for e in s.events if isinstance(e, Notice)]


async def test_an_effort_refusal_heals_once_per_call() -> None:
    s = session(ROUTER, "xhigh")
    heal = ReasoningHeal()
    assert await heal.heal(s, refusal(OPENAI_XHIGH), None)
    assert s.llm.reasoning_effort == "high"  # the highest level it listed below xhigh
    assert notices(s) == ["Reasoning effort: org/model refused 'xhigh'; using 'high'; retrying."]
    # refused again in the same call: the turn ends with the error
    assert not await heal.heal(s, refusal(OPENAI_XHIGH.replace("xhigh", "high")), None)
    heal.after_call(s)  # a call went through: the next one may heal again
    assert await heal.heal(s, refusal(OPENAI_XHIGH.replace("xhigh", "high")), None)


async def test_a_refusal_of_an_effort_we_did_not_send_is_not_ours_to_heal() -> None:
    local = ModelRoute("vllm/x", "openai/x", "http://127.0.0.1:1/v1", "k", "local", False)
    for s in (session(ROUTER, None), session(local, "high")):
        assert not await ReasoningHeal().heal(s, refusal(OPENAI_XHIGH), None)
        assert notices(s) == []


async def test_other_errors_are_left_alone() -> None:
    s = session(ROUTER, "high")
    error = LLMError("rate_limit", "rate limited by the Hugging Face router", retryable=True)
    assert not await ReasoningHeal().heal(s, error, None)


async def test_a_refused_signature_drops_the_stored_blocks_journaled() -> None:
    s = session(CLAUDE, "low")
    s.context.start_turn("go")
    s.context.add(
        {"role": "assistant", "content": None, "tool_calls": CALL, "thinking_blocks": [SIGNED]}
    )
    s.context.add({"role": "tool", "tool_call_id": "t1", "content": "x"})
    heal = ReasoningHeal()
    assert await heal.heal(s, refusal(SIGNATURE), None)
    assert not any("thinking_blocks" in m for m in s.context.messages)
    assert s.records[-1]["kind"] == "replace"  # a resume sees the history without them
    assert notices(s)[0].startswith("Thinking blocks: the provider refused the stored ones")
    assert "dropped them from 1 message," in notices(s)[0]
    # nothing left to drop: a second refusal is an error
    assert not await heal.heal(s, refusal(SIGNATURE), None)


async def test_a_missing_loop_block_sends_one_call_without_thinking() -> None:
    s = session(CLAUDE, "low")
    s.context.add({"role": "assistant", "content": "hm", "tool_calls": CALL})
    wants = (
        "messages.1.content.0.type: Expected `thinking` or `redacted_thinking`, but found "
        "`tool_use`. When `thinking` is enabled, a final `assistant` message must start "
        "with a thinking block"
    )
    heal = ReasoningHeal()
    # (the wire rule already sends such a loop without thinking; a provider that still
    # complains gets the same answer)
    s.llm.route = ModelRoute("anthropic-proxy", "openai/x", "http://p/v1", "k", "native", True)
    assert await heal.heal(s, refusal(wants), None)
    await heal.before_call(s, None)
    assert s.llm.reasoning_effort is None
    heal.after_call(s)
    assert s.llm.reasoning_effort == "low"
