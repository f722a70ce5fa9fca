"""The OpenAI SDK fast path: the same bytes on the wire, without the SDK's history walk.

Every request is made twice through the real client (litellm → OpenAI SDK → the fake
server on 127.0.0.1): once with the SDK's own transform, once with the fast path. The
bodies must be byte-for-byte the same, for every kind of message and every field this
app sends to OpenAI-compatible servers.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import typing_extensions
from fakes.openai_server import FakeOpenAI, RecordedRequest, Reply

from ml_intern_tui.core import openai_body
from ml_intern_tui.core.llm import LLMClient, RetryPolicy, load_litellm
from ml_intern_tui.core.models import ModelRoute

NO_RETRY = RetryPolicy(max_retries=0)
SIGNED = {"type": "thinking", "thinking": "Check the shape first.", "signature": "sig-abc"}


def history() -> list[dict[str, Any]]:
    """Text, tool calls (two in one message), tool results, unicode, nested JSON, thinking."""
    return [
        {"role": "system", "content": "You are a careful ML engineer. Ünïcödé ✓ \u2028 ok"},
        {"role": "user", "content": "Train a classifier on imdb and tell me the accuracy."},
        {
            "role": "assistant",
            "content": "Let me look at the data first.",
            "thinking_blocks": [SIGNED],
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "read", "arguments": json.dumps({"path": "data.csv"})},
                },
                {
                    "id": "call_2",
                    "type": "function",
                    "function": {"name": "bash", "arguments": '{"command": "wc -l data.csv"}'},
                },
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": 'text,label\n"great",1\n'},
        {"role": "tool", "tool_call_id": "call_2", "content": "25001 data.csv"},
        {"role": "assistant", "content": "Accuracy: 0.91 (±0.01).", "reasoning_content": "x"},
        {"role": "user", "content": [{"type": "text", "text": "And the F1?"}]},
    ]


TOOLS: list[dict[str, Any]] = [
    {
        "type": "function",
        "function": {
            "name": name,
            "description": f"The {name} tool.",
            "parameters": {
                "type": "object",
                "properties": {"path": {"type": "string", "description": "A path."}},
                "required": ["path"],
            },
        },
    }
    for name in ("read", "bash")
]


def local(base: str) -> ModelRoute:
    return ModelRoute("vllm/qwen3", "openai/qwen3", base, "sk-local", "local", False)


def router_claude(base: str) -> ModelRoute:
    """Claude on the HF router: cache markers, session header, reasoning effort."""
    model = "anthropic/claude-sonnet-4.5:fal-ai"
    return ModelRoute(model, f"openai/{model}", base, "hf_test", "router", True)


def router_gpt(base: str) -> ModelRoute:
    """An OpenAI model on the router: ``prompt_cache_key`` and the session header."""
    model = "openai/gpt-oss-120b:groq"
    return ModelRoute(model, f"openai/{model}", base, "hf_test", "router", True)


def native_openai(base: str) -> ModelRoute:
    return ModelRoute("openai/gpt-5", "openai/gpt-5", base, "sk-openai", "native", True)


@pytest.fixture(scope="module", autouse=True)
def _litellm() -> None:
    load_litellm()
    assert openai_body.installed()


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


async def send_twice(
    fake: FakeOpenAI,
    route: ModelRoute,
    messages: list[dict[str, Any]],
    *,
    stream: bool = True,
    effort: str | None = None,
) -> tuple[RecordedRequest, RecordedRequest]:
    """The request as the SDK's own path sends it, and as the fast path does."""
    client = LLMClient(route, retry=NO_RETRY, reasoning_effort=effort, session_key="sess-42")
    fake.enqueue(Reply(text="ok"), Reply(text="ok"))
    with openai_body.sdk_transform():
        await client.complete(messages, TOOLS, stream=stream)
    await client.complete(messages, TOOLS, stream=stream)
    assert fake.requests_count == 2
    return fake.requests[0], fake.requests[1]


@pytest.mark.parametrize("stream", [True, False])
async def test_local_server_bodies_are_the_same_bytes(fake: FakeOpenAI, stream: bool) -> None:
    sdk, fast = await send_twice(fake, local(fake.base_url), history(), stream=stream)
    assert fast.raw == sdk.raw
    assert fast.headers["content-length"] == sdk.headers["content-length"]
    body = json.loads(fast.raw)
    assert [m["role"] for m in body["messages"]] == [m["role"] for m in history()]
    assert body["messages"][2]["tool_calls"][1]["function"]["name"] == "bash"
    assert body["messages"][3] == {
        "role": "tool",
        "tool_call_id": "call_1",
        "content": 'text,label\n"great",1\n',
    }
    assert "thinking_blocks" not in body["messages"][2]  # never to an OpenAI-shaped server
    assert [t["function"]["name"] for t in body["tools"]] == ["read", "bash"]


async def test_router_claude_bodies_with_cache_markers_and_effort(fake: FakeOpenAI) -> None:
    sdk, fast = await send_twice(fake, router_claude(fake.base_url), history(), effort="high")
    assert fast.raw == sdk.raw
    body = json.loads(fast.raw)
    assert body["reasoning_effort"] == "high"
    assert b'"cache_control":{"type":"ephemeral"}' in fast.raw
    assert "cache_control" in body["tools"][-1]
    assert fast.headers["x-hf-session-id"] == sdk.headers["x-hf-session-id"] == "sess-42"


async def test_openai_bodies_with_prompt_cache_key(fake: FakeOpenAI) -> None:
    for route in (router_gpt(fake.base_url), native_openai(fake.base_url)):
        fake.requests.clear()
        sdk, fast = await send_twice(fake, route, history(), effort="low")
        assert fast.raw == sdk.raw, route.model_id
        body = json.loads(fast.raw)
        assert body["prompt_cache_key"] == "sess-42"
        assert body["reasoning_effort"] == "low"


async def test_the_sdk_never_walks_a_plain_history(
    fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the SDK's own transform gets: the body with empty messages and tools."""
    seen: list[tuple[int, int]] = []
    original = openai_body._originals[openai_body._ASYNC]

    async def spy(data: Any, expected_type: Any) -> Any:
        if isinstance(data, dict) and "messages" in data:
            seen.append((len(data["messages"]), len(data.get("tools") or [])))
        return await original(data, expected_type)

    monkeypatch.setitem(openai_body._originals, openai_body._ASYNC, spy)
    monkeypatch.setattr(
        "openai.resources.chat.completions.completions.async_maybe_transform",
        openai_body._async_wrapper(spy, openai_body._chat_params()),
    )
    fake.enqueue(Reply(text="ok"))
    client = LLMClient(local(fake.base_url), retry=NO_RETRY)
    await client.complete(history(), TOOLS)
    assert seen == [(0, 0)]
    body = json.loads(fake.requests[0].raw)
    assert len(body["messages"]) == len(history())
    assert len(body["tools"]) == len(TOOLS)


async def test_data_that_is_not_plain_json_goes_the_sdks_way() -> None:
    """A body holding something else than plain JSON (here a pydantic object, as a
    provider's own types could put there) is transformed by the SDK, as before."""
    from openai.resources.chat.completions import completions as sdk
    from openai.types.chat.completion_create_params import CompletionCreateParamsStreaming
    from pydantic import BaseModel

    class Part(BaseModel):
        type: str = "text"
        text: str = "from a model object"

    messages = [
        *history()[:2],
        {"role": "user", "content": [Part(type="text", text="from a model object")]},
    ]
    assert not openai_body.is_plain_json(messages)
    body = {"messages": messages, "model": "m", "stream": True, "tools": TOOLS}
    fast = await sdk.async_maybe_transform(body, CompletionCreateParamsStreaming)
    with openai_body.sdk_transform():
        own = await sdk.async_maybe_transform(body, CompletionCreateParamsStreaming)
    assert fast == own
    assert list(fast) == list(own)
    assert fast["messages"][2]["content"] == [{"type": "text", "text": "from a model object"}]


def test_is_plain_json() -> None:
    assert openai_body.is_plain_json(history())
    assert openai_body.is_plain_json([{"a": [1, 2.5, True, None, {"b": "c"}]}])
    assert not openai_body.is_plain_json([{"a": (1, 2)}])  # a tuple is not a list
    assert not openai_body.is_plain_json([{"a": b"bytes"}])

    class Text(str):
        pass

    assert not openai_body.is_plain_json([{"content": Text("a str subclass")}])


def test_the_chat_parameter_types_rename_and_format_nothing() -> None:
    """The fast path is exact only while no chat parameter type carries an alias or a
    format (``PropertyInfo``): an SDK upgrade that adds one must fail here."""
    from openai._utils._transform import PropertyInfo

    seen: set[int] = set()
    found: list[str] = []

    def walk(annotation: Any, where: str) -> None:
        if id(annotation) in seen:
            return
        seen.add(id(annotation))
        for extra in getattr(annotation, "__metadata__", ()):
            if isinstance(extra, PropertyInfo) and (extra.alias or extra.format):
                found.append(where)
        if typing_extensions.is_typeddict(annotation):
            for key, hint in typing_extensions.get_type_hints(
                annotation, include_extras=True
            ).items():
                walk(hint, f"{where}.{key}")
        for arg in typing_extensions.get_args(annotation):
            walk(arg, where)

    for params in openai_body._chat_params():
        walk(params, params.__name__)
    assert len(seen) > 100  # the walk reached the message and tool types
    assert found == []
