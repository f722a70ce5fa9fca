"""The fake Anthropic Messages API through litellm's real anthropic provider.

Streams with thinking (and its signature), text and tool_use blocks; non-streamed
messages; overloaded errors (529 and mid-stream); the 400s the real API gives for a
forged thinking signature or too many cache breakpoints. A later helper builds reasoning
and thinking-signature handling on this fake, so it is checked here on its own.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fakes.anthropic_server import AnthropicReply, FakeAnthropic

from ml_intern_tui.core.llm import LLMClient, LLMError, RetryPolicy, load_litellm
from ml_intern_tui.core.models import ModelRoute

MODEL = "anthropic/claude-sonnet-4-5"
FAST = RetryPolicy(max_retries=2, base_delay_s=0.01, max_delay_s=0.05, rate_limit_delay_s=0.01)
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "bash",
            "description": "run a command",
            "parameters": {"type": "object", "properties": {"command": {"type": "string"}}},
        },
    }
]
USER = [{"role": "user", "content": "list the files"}]


@pytest.fixture
def fake() -> Iterator[FakeAnthropic]:
    load_litellm()
    with FakeAnthropic() as server:
        yield server


def client(fake: FakeAnthropic, **kwargs: Any) -> LLMClient:
    route = ModelRoute(MODEL, MODEL, fake.base_url, "sk-ant-fake", "native", True)
    kwargs.setdefault("max_output_tokens", 2000)  # above the thinking budget of "low"
    return LLMClient(route, retry=FAST, **kwargs)


@pytest.mark.parametrize("stream", [True, False])
async def test_thinking_text_and_tool_use_come_through(fake: FakeAnthropic, stream: bool) -> None:
    fake.enqueue(
        AnthropicReply(
            thinking="The user wants a listing.",
            text="Listing.",
            tool_calls=[("bash", json.dumps({"command": "ls -la"}))],
        )
    )
    reasoning: list[str] = []
    response = await client(fake).complete(
        USER, TOOLS, stream=stream, on_reasoning=reasoning.append
    )
    assert response.content == "Listing." and response.finish_reason == "tool_calls"
    assert response.reasoning == "The user wants a listing." == "".join(reasoning)
    assert [(c.name, json.loads(c.arguments)) for c in response.tool_calls] == [
        ("bash", {"command": "ls -la"})
    ]
    request = fake.requests[0]
    assert request.headers["x-api-key"] == "sk-ant-fake" and "anthropic-version" in request.headers
    assert request.body["tools"][0]["name"] == "bash"
    assert len(fake.issued_signatures) == 1
    assert response.usage.prompt_tokens > 0 and response.usage.completion_tokens > 0


async def test_overloaded_is_retried_before_and_during_the_stream(fake: FakeAnthropic) -> None:
    fake.enqueue(
        AnthropicReply.overloaded(),
        AnthropicReply.overloaded(mid_stream=True),
        AnthropicReply(text="made it"),
    )
    retries: list[str] = []
    response = await client(fake).complete(USER, None, on_retry=retries.append)
    assert response.content == "made it" and len(fake.requests) == 3
    assert len(retries) == 2


async def test_a_forged_thinking_signature_gets_the_apis_400(fake: FakeAnthropic) -> None:
    fake.enqueue(
        AnthropicReply(thinking="hmm", text="", tool_calls=[("bash", '{"command": "ls"}')])
    )
    first = await client(fake).complete(USER, TOOLS)
    signature = next(iter(fake.issued_signatures))

    def history(sig: str) -> list[dict[str, Any]]:
        call = first.tool_calls[0]
        return [
            *USER,
            {
                "role": "assistant",
                "content": None,
                "thinking_blocks": [{"type": "thinking", "thinking": "hmm", "signature": sig}],
                "tool_calls": [
                    {
                        "id": call.id,
                        "type": "function",
                        "function": {"name": call.name, "arguments": call.arguments},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": call.id, "content": "a.txt"},
        ]

    # Thinking blocks go back only with thinking on (the API refuses them otherwise).
    thinking_on = client(fake, reasoning_effort="low")
    fake.enqueue(AnthropicReply(text="one file"))
    ok = await thinking_on.complete(history(signature), TOOLS)
    assert ok.content == "one file"
    sent = fake.requests[-1].body["messages"][1]["content"][0]
    assert sent == {"type": "thinking", "thinking": "hmm", "signature": signature}

    with pytest.raises(LLMError) as caught:
        await thinking_on.complete(history("forged"), TOOLS)
    assert "Invalid `signature` in `thinking` block" in str(caught.value)


async def test_more_than_four_breakpoints_get_the_apis_400(fake: FakeAnthropic) -> None:
    marked = {"type": "text", "text": "x", "cache_control": {"type": "ephemeral"}}
    messages = [{"role": "user", "content": [dict(marked) for _ in range(5)]}]
    with pytest.raises(LLMError) as caught:
        await client(fake).complete(messages, None)
    assert "A maximum of 4 blocks with cache_control" in str(caught.value)


async def test_the_fake_refuses_reasoning_settings_as_the_api_words_it(
    fake: FakeAnthropic,
) -> None:
    """Each refusal reaches us through litellm and reads as its kind of problem."""
    from ml_intern_tui.core.reasoning_errors import classify_error

    async def refused(c: LLMClient, messages: list[dict[str, Any]]) -> str | None:
        with pytest.raises(LLMError) as caught:
            await c.complete(messages, TOOLS)
        problem = classify_error(caught.value)
        return problem.kind if problem else None

    # a thinking budget the output cap cannot hold
    assert await refused(client(fake, reasoning_effort="high"), USER) == "effort_level"
    # a model without effort (Claude 4.6+ sends it as output_config.effort)
    fake.takes_effort = False
    adaptive = ModelRoute(MODEL, "anthropic/claude-sonnet-4-6", fake.base_url, "k", "native", True)
    plain = LLMClient(adaptive, retry=FAST, reasoning_effort="low")
    assert await refused(plain, USER) == "effort_param"
    fake.takes_effort = True
    # an adaptive-only model asked for a budget
    fake.adaptive_only = True
    assert await refused(client(fake, reasoning_effort="low"), USER) == "effort_param"
    fake.adaptive_only = False
    # a tool loop without its thinking block, thinking on (our own client never sends
    # this: the request is built by hand, as another client would)
    loop = [
        *USER,
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "t1", "type": "function", "function": {"name": "bash", "arguments": "{}"}}
            ],
        },
        {"role": "tool", "tool_call_id": "t1", "content": "a.txt"},
    ]
    litellm = load_litellm()
    with pytest.raises(Exception) as caught:
        await litellm.acompletion(
            model=MODEL,
            api_base=fake.base_url,
            api_key="k",
            messages=loop,
            tools=TOOLS,
            reasoning_effort="low",
            max_tokens=2000,
        )
    assert "Expected `thinking` or `redacted_thinking`, but found `tool_use`" in str(caught.value)
