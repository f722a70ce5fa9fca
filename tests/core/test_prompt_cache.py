"""Cache markers: where the breakpoints go, at most four, and the history left untouched."""

from __future__ import annotations

import copy
from typing import Any

from ml_intern_tui.core.models import resolve_model
from ml_intern_tui.core.prompt_cache import (
    breakpoint_positions,
    cache_kwargs,
    count_breakpoints,
    mark_anthropic,
    strategy,
)

TOOLS = [{"type": "function", "function": {"name": n, "parameters": {}}} for n in ("a", "b")]


def call(i: int) -> dict[str, Any]:
    return {"id": f"c{i}", "type": "function", "function": {"name": "a", "arguments": "{}"}}


def history(turns: int) -> list[dict[str, Any]]:
    """system, user, then ``turns`` rounds of assistant tool call + tool result."""
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": "sys"},
        {"role": "user", "content": "do it"},
    ]
    for i in range(turns):
        messages.append({"role": "assistant", "content": None, "tool_calls": [call(i)]})
        messages.append({"role": "tool", "tool_call_id": f"c{i}", "content": f"out {i}"})
    return messages


def test_breakpoints_on_system_previous_prompt_end_and_newest() -> None:
    assert breakpoint_positions(history(0)) == [0, 1]
    assert breakpoint_positions(history(1)) == [0, 1, 3]
    assert breakpoint_positions(history(3)) == [0, 5, 7]
    # parallel tool results: the previous prompt ended before the last assistant message
    many = history(1)
    many.append({"role": "assistant", "content": "x", "tool_calls": [call(8), call(9)]})
    many += [{"role": "tool", "tool_call_id": f"c{i}", "content": "r"} for i in (8, 9)]
    assert breakpoint_positions(many) == [0, 3, 6]


def test_marks_copies_within_four_breakpoints() -> None:
    messages = history(4)
    before = copy.deepcopy(messages)
    marked, tools = mark_anthropic(messages, TOOLS)
    assert messages == before and "cache_control" not in TOOLS[-1]  # originals untouched
    assert tools is not None and "cache_control" in tools[-1] and "cache_control" not in tools[0]
    assert count_breakpoints(marked, tools) == 4
    assert marked[0]["content"] == [
        {"type": "text", "text": "sys", "cache_control": {"type": "ephemeral"}}
    ]
    assert marked[-1]["cache_control"] == {"type": "ephemeral"}  # the newest tool result
    assert marked[-1]["content"] == "out 3"


def test_strategy_and_kwargs_per_route() -> None:
    kimi = resolve_model("moonshotai/Kimi-K2.6", env={}, hf_token="t")
    claude_router = resolve_model("anthropic/claude-opus-4.8:fal-ai", env={}, hf_token="t")
    gpt = resolve_model("openai/gpt-5", env={})
    local = resolve_model("vllm/m", env={})
    assert [strategy(r) for r in (kimi, claude_router, gpt, local)] == [
        "none",
        "anthropic",
        "openai",
        "none",
    ]
    extra = cache_kwargs(kimi, history(1), TOOLS, "sess-1")
    assert extra == {"extra_headers": {"X-HF-Session-id": "sess-1"}}
    extra = cache_kwargs(claude_router, history(1), TOOLS, "sess-1")
    assert extra["extra_headers"] == {"X-HF-Session-id": "sess-1"}
    assert count_breakpoints(extra["messages"], extra["tools"]) == 4
    assert cache_kwargs(gpt, history(1), TOOLS, "sess-1") == {"prompt_cache_key": "sess-1"}
    assert cache_kwargs(local, history(1), TOOLS, "sess-1") == {}
    assert cache_kwargs(kimi, [], None, "x" * 400)["extra_headers"]["X-HF-Session-id"] == "x" * 256
