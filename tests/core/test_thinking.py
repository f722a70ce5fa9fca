"""Thinking blocks: gathered from stream pieces, and what each request carries back."""

from __future__ import annotations

from typing import Any

from ml_intern_tui.core.llm import LLMClient
from ml_intern_tui.core.models import ModelRoute
from ml_intern_tui.core.thinking import ThinkingCollector, strip, takes_thinking_blocks, wire

CLAUDE = ModelRoute(
    "anthropic/claude-sonnet-4-5", "anthropic/claude-sonnet-4-5", None, None, "native", True
)
ROUTER_CLAUDE = ModelRoute(
    "anthropic/claude-opus-4.8:fal-ai",
    "openai/anthropic/claude-opus-4.8:fal-ai",
    "http://r/v1",
    "hf_x",
    "router",
    True,
)
LOCAL = ModelRoute("vllm/x", "openai/x", "http://127.0.0.1:8000/v1", "k", "local", False)
SIGNED = {
    "type": "thinking",
    "thinking": "Read it first.",
    "signature": "EqQBCkgIARABGAIiQL2U+/x==",
}
CALL = [{"id": "t1", "type": "function", "function": {"name": "read", "arguments": "{}"}}]


def tool_loop(*blocks: dict[str, Any]) -> list[dict[str, Any]]:
    assistant: dict[str, Any] = {"role": "assistant", "content": None, "tool_calls": CALL}
    if blocks:
        assistant["thinking_blocks"] = list(blocks)
    return [
        {"role": "system", "content": "s"},
        {"role": "user", "content": "go"},
        assistant,
        {"role": "tool", "tool_call_id": "t1", "content": "file"},
    ]


def test_stream_pieces_become_one_signed_block_per_thinking_block() -> None:
    collector = ThinkingCollector()
    for piece in ("I should ", "read the ", "notes."):
        collector.add([{"type": "thinking", "thinking": piece}])
    collector.add([{"type": "thinking", "thinking": "", "signature": "sig-1"}])
    collector.add(None)  # a text delta
    collector.add([{"type": "redacted_thinking", "data": "opaque=="}])
    collector.add([{"type": "thinking", "thinking": "Then answer."}])
    collector.add([{"type": "thinking", "thinking": "", "signature": "sig-2"}])
    collector.add([{"type": "thinking", "thinking": "cut off before its signature"}])
    assert collector.result() == [
        {"type": "thinking", "thinking": "I should read the notes.", "signature": "sig-1"},
        {"type": "redacted_thinking", "data": "opaque=="},
        {"type": "thinking", "thinking": "Then answer.", "signature": "sig-2"},
    ]


def test_whole_message_blocks_are_taken_as_they_are() -> None:
    collector = ThinkingCollector()
    collector.add([SIGNED, {"type": "thinking", "thinking": "", "signature": "omitted-display"}])
    assert collector.result() == [
        SIGNED,
        {"type": "thinking", "thinking": "", "signature": "omitted-display"},
    ]


def test_only_claude_on_its_own_api_takes_blocks_back() -> None:
    assert takes_thinking_blocks(CLAUDE)
    bedrock = ModelRoute(
        "bedrock/anthropic.claude-3-7", "bedrock/anthropic.claude-3-7", None, None, "native", True
    )
    assert takes_thinking_blocks(bedrock)
    assert not takes_thinking_blocks(ROUTER_CLAUDE) and not takes_thinking_blocks(LOCAL)


def test_the_tool_loops_blocks_go_back_with_thinking_on() -> None:
    messages, effort = wire(CLAUDE, tool_loop(SIGNED), "high")
    assert effort == "high" and messages[2]["thinking_blocks"] == [SIGNED]


def test_no_blocks_go_back_with_thinking_off_or_to_other_models() -> None:
    for route, effort in ((CLAUDE, None), (ROUTER_CLAUDE, "high"), (LOCAL, None)):
        messages, sent = wire(route, tool_loop(SIGNED), effort)
        assert sent == effort
        assert not any("thinking_blocks" in m for m in messages)


def test_a_tool_loop_without_its_block_goes_without_thinking() -> None:
    """The API refuses thinking when the loop's assistant message has no block."""
    messages, effort = wire(CLAUDE, tool_loop(), "high")
    assert effort is None and "thinking_blocks" not in messages[2]
    history = tool_loop()
    history[2]["thinking_blocks"] = [{"type": "thinking", "thinking": "x"}]  # unsigned
    assert wire(CLAUDE, history, "high")[1] is None


def test_a_signature_redaction_replaced_is_never_sent() -> None:
    broken = dict(SIGNED, signature="EqQBCk[REDACTED_HF_TOKEN]x==")
    messages, effort = wire(CLAUDE, tool_loop(broken), "high")
    assert effort is None and not any("thinking_blocks" in m for m in messages)
    kept = wire(CLAUDE, tool_loop(broken, {"type": "redacted_thinking", "data": "opaque"}), "low")
    assert kept[1] == "low" and kept[0][2]["thinking_blocks"] == [
        {"type": "redacted_thinking", "data": "opaque"}
    ]


def test_a_finished_tool_loop_needs_no_block() -> None:
    history = tool_loop()
    history.append({"role": "assistant", "content": "done"})
    history.append({"role": "user", "content": "next"})
    assert wire(CLAUDE, history, "high")[1] == "high"


def test_strip_leaves_the_stored_history_alone() -> None:
    history = tool_loop(SIGNED)
    history[2]["reasoning_content"] = "Read it first."
    stripped = strip(history)
    assert "thinking_blocks" not in stripped[2] and "reasoning_content" not in stripped[2]
    assert history[2]["thinking_blocks"] == [SIGNED]


def test_the_client_sends_blocks_and_effort_only_where_they_belong() -> None:
    claude = LLMClient(CLAUDE, reasoning_effort="high", prompt_caching=False)
    kwargs = claude.request_kwargs(tool_loop(SIGNED), None, stream=True)
    assert kwargs["reasoning_effort"] == "high" and kwargs["messages"][2]["thinking_blocks"]
    local = LLMClient(LOCAL, reasoning_effort="high", prompt_caching=False)
    kwargs = local.request_kwargs(tool_loop(SIGNED), None, stream=True)
    assert "reasoning_effort" not in kwargs and "thinking_blocks" not in kwargs["messages"][2]
