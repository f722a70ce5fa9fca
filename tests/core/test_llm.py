"""The litellm adapter, through real litellm against the fake OpenAI server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fakes.openai_server import FakeOpenAI, Reply

from ml_intern_tui.core.llm import (
    ContextOverflowError,
    LLMClient,
    LLMError,
    RetryPolicy,
    classify_error,
    context_limit,
    count_tokens,
    load_litellm,
)
from ml_intern_tui.core.models import ModelRoute

FAST = RetryPolicy(max_retries=3, base_delay_s=0.01, max_delay_s=1.0, rate_limit_delay_s=0.01)
MESSAGES: list[dict[str, Any]] = [{"role": "user", "content": "hi"}]
TOOLS: list[dict[str, Any]] = [
    {
        "type": "function",
        "function": {
            "name": name,
            "description": f"{name} tool",
            "parameters": {"type": "object", "properties": {"x": {"type": "string"}}},
        },
    }
    for name in ("read", "bash")
]
PRICE_IN, PRICE_OUT = 1e-6, 2e-6


@pytest.fixture(scope="module", autouse=True)
def _litellm() -> Any:
    litellm = load_litellm()
    litellm.register_model(
        {
            "openai/fake": {
                "max_input_tokens": 8000,
                "max_output_tokens": 1000,
                "litellm_provider": "openai",
                "mode": "chat",
                "input_cost_per_token": PRICE_IN,
                "output_cost_per_token": PRICE_OUT,
                "supports_function_calling": True,
            }
        }
    )
    return litellm


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


def local_route(base_url: str) -> ModelRoute:
    return ModelRoute("vllm/fake", "openai/fake", base_url, "sk-fake", "local", False)


def native_route(base_url: str) -> ModelRoute:
    """``openai/fake`` as a paid model priced by litellm's map (served by the fake)."""
    return ModelRoute("openai/fake", "openai/fake", base_url, "sk-fake", "native", False)


def client(fake: FakeOpenAI, *, native: bool = False, **kwargs: Any) -> LLMClient:
    kwargs.setdefault("retry", FAST)
    route = native_route if native else local_route
    return LLMClient(route(fake.base_url), **kwargs)


class Recorder:
    """Collects callbacks in order: ("text", delta), ("reasoning", delta), ("retry", msg)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def kwargs(self) -> dict[str, Any]:
        return {
            "on_text": lambda t: self.events.append(("text", t)),
            "on_reasoning": lambda t: self.events.append(("reasoning", t)),
            "on_retry": lambda m: self.events.append(("retry", m)),
        }

    def of(self, kind: str) -> list[str]:
        return [value for k, value in self.events if k == kind]


# -- success paths ------------------------------------------------------------------------


async def test_streams_text_deltas_in_order_with_usage_and_cost(fake: FakeOpenAI) -> None:
    usage = {
        "prompt_tokens": 30,
        "completion_tokens": 7,
        "total_tokens": 37,
        "prompt_tokens_details": {"cached_tokens": 10},
    }
    fake.enqueue(
        Reply(text="Hello there, streaming world", chunks=4, reasoning="hmm ok", usage=usage)
    )
    rec = Recorder()
    response = await client(fake, native=True).complete(MESSAGES, None, **rec.kwargs())
    assert len(rec.of("text")) == 4
    assert "".join(rec.of("text")) == response.content == "Hello there, streaming world"
    assert "".join(rec.of("reasoning")) == response.reasoning == "hmm ok"
    assert rec.events.index(("reasoning", rec.of("reasoning")[0])) < rec.events.index(
        ("text", rec.of("text")[0])
    )
    assert response.finish_reason == "stop"
    assert (response.usage.prompt_tokens, response.usage.completion_tokens) == (30, 7)
    assert (response.usage.total_tokens, response.usage.cached_tokens) == (37, 10)
    assert response.cost_usd == pytest.approx(30 * PRICE_IN + 7 * PRICE_OUT)
    assert response.cost is not None and response.cost.priced
    assert response.model == "openai/fake"
    body = fake.requests[0].body
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert "tools" not in body and "reasoning_effort" not in body
    assert fake.requests[0].headers["authorization"] == "Bearer sk-fake"
    assert fake.requests[0].headers.get("x-stainless-retry-count") == "0"


async def test_parallel_tool_calls_are_assembled_from_fragments(fake: FakeOpenAI) -> None:
    calls = [("read", '{"path": "data/train.csv"}'), ("bash", '{"command": "ls -la /tmp"}')]
    fake.enqueue(Reply(text="Let me look.", tool_calls=calls, arg_fragments=4))
    response = await client(fake).complete(MESSAGES, TOOLS)
    assert response.content == "Let me look."
    assert [(c.id, c.name, c.arguments) for c in response.tool_calls] == [
        ("call_0", "read", '{"path": "data/train.csv"}'),
        ("call_1", "bash", '{"command": "ls -la /tmp"}'),
    ]
    assert response.finish_reason == "tool_calls"
    body = fake.requests[0].body
    assert [t["function"]["name"] for t in body["tools"]] == ["read", "bash"]
    assert body["tool_choice"] == "auto"


async def test_malformed_tool_arguments_are_kept_verbatim(fake: FakeOpenAI) -> None:
    fake.enqueue(Reply(text="", tool_calls=[("read", '{"path": "a.txt"')]))
    response = await client(fake).complete(MESSAGES, TOOLS)
    assert response.tool_calls[0].arguments == '{"path": "a.txt"'


async def test_non_streaming_answer(fake: FakeOpenAI) -> None:
    fake.enqueue(Reply(text="whole answer", tool_calls=[("bash", '{"command": "pwd"}')]))
    rec = Recorder()
    response = await client(fake, native=True).complete(
        MESSAGES, TOOLS, stream=False, **rec.kwargs()
    )
    assert response.content == "whole answer"
    assert rec.of("text") == ["whole answer"]
    assert [(c.name, c.arguments) for c in response.tool_calls] == [("bash", '{"command": "pwd"}')]
    assert response.finish_reason == "tool_calls"
    assert response.usage.total_tokens > 0 and response.cost_usd > 0
    assert not fake.requests[0].body.get("stream")
    assert "stream_options" not in fake.requests[0].body


# -- retries ------------------------------------------------------------------------------


async def test_rate_limit_then_success_honours_retry_after(fake: FakeOpenAI) -> None:
    fake.enqueue(Reply.rate_limited(retry_after=0.4), Reply(text="after the wait"))
    rec = Recorder()
    started = time.monotonic()
    response = await client(fake).complete(MESSAGES, None, **rec.kwargs())
    assert time.monotonic() - started >= 0.4
    assert response.content == "after the wait"
    assert fake.requests_count == 2
    [retry] = rec.of("retry")
    assert "rate limited" in retry and "retry 1 of 3" in retry


async def test_retry_after_is_capped_by_the_policy(fake: FakeOpenAI) -> None:
    fake.enqueue(Reply.rate_limited(retry_after=60))
    policy = RetryPolicy(
        max_retries=1, base_delay_s=0.01, max_delay_s=0.05, rate_limit_delay_s=0.01
    )
    started = time.monotonic()
    response = await client(fake, retry=policy).complete(MESSAGES, None)
    assert response.content == "ok"
    assert time.monotonic() - started < 5


async def test_server_error_then_success(fake: FakeOpenAI) -> None:
    fake.enqueue(Reply.server_error(500), Reply(text="recovered"))
    rec = Recorder()
    response = await client(fake).complete(MESSAGES, None, **rec.kwargs())
    assert response.content == "recovered"
    assert fake.requests_count == 2
    assert len(rec.of("retry")) == 1


async def test_timeout_then_success(fake: FakeOpenAI) -> None:
    fake.enqueue(Reply(delay_s=5), Reply(text="on time"))
    rec = Recorder()
    response = await client(fake, timeout_s=0.5).complete(MESSAGES, None, **rec.kwargs())
    assert response.content == "on time"
    assert fake.requests_count == 2
    assert "did not answer in time" in rec.of("retry")[0]


@pytest.mark.parametrize("cut_after", [2, 4])
async def test_stream_cut_midway_is_retried_without_duplicated_text(
    fake: FakeOpenAI, cut_after: int
) -> None:
    # cut_after=2: after the first text delta; 4: inside the tool call's arguments
    fake.enqueue(
        Reply(
            text="partial", chunks=1, tool_calls=[("read", '{"path": "x"}')], cut_after=cut_after
        ),
        Reply(text="complete answer", chunks=3),
    )
    rec = Recorder()
    response = await client(fake).complete(MESSAGES, TOOLS, **rec.kwargs())
    assert response.content == "complete answer"
    assert response.tool_calls == []
    assert fake.requests_count == 2
    kinds = [kind for kind, _ in rec.events]
    assert kinds == ["text", "retry", "text", "text", "text"]
    assert "stream ended before it finished" in rec.of("retry")[0]


async def test_stream_that_ends_quietly_twice_is_asked_once_without_streaming(
    fake: FakeOpenAI,
) -> None:
    fake.enqueue(*[Reply(text="again and again", cut_after=2) for _ in range(3)])
    policy = RetryPolicy(max_retries=2, base_delay_s=0.01, max_delay_s=0.05)
    rec = Recorder()
    response = await client(fake, retry=policy).complete(MESSAGES, None, **rec.kwargs())
    assert response.content == "again and again"
    assert [bool(r.body.get("stream")) for r in fake.requests] == [True, True, False]
    assert "without streaming" in rec.of("retry")[-1]


async def test_persistent_broken_stream_gives_up(fake: FakeOpenAI) -> None:
    fake.enqueue(
        Reply(text="again and again", cut_after=2),
        Reply(text="again and again", cut_after=2),
        Reply.server_error(500),  # the plain request fails too
        Reply(text="again and again", cut_after=2),
    )
    policy = RetryPolicy(max_retries=2, base_delay_s=0.01, max_delay_s=0.05)
    with pytest.raises(LLMError) as info:
        await client(fake, retry=policy).complete(MESSAGES, None)
    assert info.value.kind == "broken_stream"
    assert [bool(r.body.get("stream")) for r in fake.requests] == [True, True, False, True]


async def test_persistent_server_error_raises_after_max_retries(fake: FakeOpenAI) -> None:
    fake.enqueue(*[Reply.server_error(503) for _ in range(5)])
    rec = Recorder()
    with pytest.raises(LLMError) as info:
        await client(fake).complete(MESSAGES, None, **rec.kwargs())
    assert fake.requests_count == FAST.max_retries + 1
    assert len(rec.of("retry")) == FAST.max_retries
    assert info.value.kind == "server" and info.value.retryable
    assert "\n" not in str(info.value)


# -- errors that are not retried ----------------------------------------------------------


@pytest.mark.parametrize(
    "error",
    [
        "prompt is too long: 210000 tokens > 200000 maximum",
        "This model's maximum context length is 8192 tokens. However, you requested 9000 tokens.",
        "the request exceeds the available context size, try increasing it",
        {"error": {"message": "too many tokens", "code": "context_length_exceeded"}},
    ],
)
async def test_context_overflow_is_detected_and_not_retried(
    fake: FakeOpenAI, error: str | dict[str, Any]
) -> None:
    fake.enqueue(Reply(status=400, error=error))
    with pytest.raises(ContextOverflowError) as info:
        await client(fake).complete(MESSAGES, None)
    assert fake.requests_count == 1
    assert info.value.kind == "context_overflow" and not info.value.retryable
    assert "/compact" in str(info.value)


@pytest.mark.parametrize(
    ("status", "kind", "needle"),
    [
        (401, "auth", "VLLM_API_KEY"),
        (404, "not_found", "'vllm/fake'"),
        (400, "bad_request", "unknown field"),
        (402, "billing", "billing"),
    ],
)
async def test_client_errors_are_not_retried(
    fake: FakeOpenAI, status: int, kind: str, needle: str
) -> None:
    fake.enqueue(Reply(status=status, error="unknown field 'foo'"))
    with pytest.raises(LLMError) as info:
        await client(fake).complete(MESSAGES, None)
    assert (info.value.kind, info.value.retryable, info.value.status_code) == (kind, False, status)
    assert needle in str(info.value)
    assert fake.requests_count == 1


async def test_router_without_token_fails_before_sending_anything(
    fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-must-not-leak")
    router = ModelRoute("Qwen/Q", "openai/Qwen/Q", fake.base_url, None, "router", True)
    with pytest.raises(LLMError) as info:
        await LLMClient(router, retry=FAST).complete(MESSAGES, None)
    assert info.value.kind == "auth" and "HF_TOKEN" in str(info.value)
    assert fake.requests_count == 0


async def test_missing_native_credentials_are_an_auth_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    native = ModelRoute("gpt-4o", "gpt-4o", None, None, "native", True)
    with pytest.raises(LLMError) as info:
        await LLMClient(native, retry=FAST).complete(MESSAGES, None)
    assert (info.value.kind, info.value.retryable) == ("auth", False)


async def test_unreachable_local_server_says_how_to_fix_it() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    base = f"http://127.0.0.1:{port}/v1"
    rec = Recorder()
    policy = RetryPolicy(max_retries=1, base_delay_s=0.01)
    with pytest.raises(LLMError) as info:
        await LLMClient(local_route(base), retry=policy).complete(MESSAGES, None, **rec.kwargs())
    assert info.value.kind == "connection"
    assert (
        str(info.value) == f"cannot reach the model server at {base}: start it or set VLLM_BASE_URL"
    )
    assert len(rec.of("retry")) == 1


# -- cancellation -------------------------------------------------------------------------


async def test_cancel_mid_stream_ends_promptly_and_closes_the_connection(fake: FakeOpenAI) -> None:
    fake.enqueue(Reply(text="one two three four five six", chunks=6, hang_after=3))
    rec = Recorder()
    task = asyncio.create_task(client(fake).complete(MESSAGES, None, **rec.kwargs()))
    assert await asyncio.to_thread(fake.hanging.wait, 10)
    async with asyncio.timeout(5):
        while len(rec.of("text")) < 2:  # the deltas sent before the hang arrived
            await asyncio.sleep(0.01)
    started = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, timeout=2)
    assert time.monotonic() - started < 1.0
    assert await asyncio.to_thread(fake.disconnected.wait, 5)
    assert fake.requests_count == 1


# -- request shape, policy, classification ------------------------------------------------


def test_request_kwargs_per_route() -> None:
    router = ModelRoute("Qwen/Q", "openai/Qwen/Q", "https://r/v1", "hf_x", "router", True)
    kwargs = LLMClient(router, reasoning_effort="high", max_output_tokens=512).request_kwargs(
        MESSAGES, TOOLS, True
    )
    assert kwargs["model"] == "openai/Qwen/Q"
    assert (kwargs["api_base"], kwargs["api_key"]) == ("https://r/v1", "hf_x")
    assert kwargs["reasoning_effort"] == "high" and kwargs["max_tokens"] == 512
    assert kwargs["tool_choice"] == "auto"
    assert (kwargs["num_retries"], kwargs["max_retries"]) == (0, 0)
    local = LLMClient(local_route("http://x/v1"), reasoning_effort="high")
    plain = local.request_kwargs(MESSAGES, None, False)
    assert "reasoning_effort" not in plain and "tools" not in plain
    assert "stream_options" not in plain and "tool_choice" not in plain
    native = ModelRoute("gpt-4o", "gpt-4o", None, None, "native", True)
    assert "api_base" not in LLMClient(native).request_kwargs(MESSAGES, None, True)


def test_retry_policy_backoff() -> None:
    policy = RetryPolicy(max_retries=5, base_delay_s=1, max_delay_s=6, rate_limit_delay_s=4)
    server = LLMError("server", "x", retryable=True)
    assert 0.75 <= policy.delay_s(0, server) <= 1
    assert 1.5 <= policy.delay_s(1, server) <= 2
    assert policy.delay_s(5, server) <= 6
    limited = LLMError("rate_limit", "x", retryable=True)
    assert 3 <= policy.delay_s(0, limited) <= 4
    told = LLMError("rate_limit", "x", retryable=True, retry_after_s=2.5)
    assert policy.delay_s(3, told) == 2.5
    assert policy.delay_s(0, LLMError("rate_limit", "x", retry_after_s=99)) == 6


def test_classify_by_message_text_and_unwrapping(_litellm: Any) -> None:
    overflow = _litellm.BadRequestError("input is too long for this model", "openai", "m")
    assert isinstance(classify_error(overflow), ContextOverflowError)
    wrapped = _litellm.exceptions.MidStreamFallbackError(
        message="boom",
        model="m",
        llm_provider="openai",
        original_exception=_litellm.RateLimitError("slow down", "openai", "m"),
    )
    assert classify_error(wrapped).kind == "rate_limit"
    assert classify_error(ConnectionResetError("reset by peer")).kind == "connection"
    assert classify_error(RuntimeError("upstream overloaded, try later")).kind == "server"
    odd = classify_error(RuntimeError("something strange"))
    assert (odd.kind, odd.retryable) == ("server", False)


# -- tokens and limits --------------------------------------------------------------------


def test_count_tokens_includes_tool_calls_and_outputs() -> None:
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": "You are helpful."},
        {"role": "user", "content": "list files"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_0",
                    "type": "function",
                    "function": {"name": "bash", "arguments": '{"command": "ls"}'},
                }
            ],
        },
    ]
    before = count_tokens("openai/fake", messages, TOOLS)
    output = "file_%d.txt\n" * 1
    messages.append(
        {
            "role": "tool",
            "tool_call_id": "call_0",
            "content": "".join(output % i for i in range(200)),
        }
    )
    after = count_tokens("openai/fake", messages, TOOLS)
    assert after > before + 400
    assert count_tokens("openai/fake", messages) < after  # tool specs count too


def test_count_tokens_falls_back_to_chars(monkeypatch: pytest.MonkeyPatch, _litellm: Any) -> None:
    def broken(**_: Any) -> int:
        raise RuntimeError("no tokenizer")

    monkeypatch.setattr(_litellm, "token_counter", broken)
    assert count_tokens("x", [{"role": "user", "content": "a" * 400}]) >= 100


def test_context_limit_override_map_and_fallback() -> None:
    assert context_limit("openai/fake", override=5000) == 5000
    assert context_limit("openai/fake") == 8000
    assert context_limit("openai/gpt-4o") == 128_000
    assert context_limit("openai/gpt-4o:some-provider") == 128_000
    assert context_limit("openai/unknown-org/unknown-model", fallback=77_000) == 77_000


# -- import hygiene -----------------------------------------------------------------------


def test_importing_the_adapter_does_not_import_litellm() -> None:
    code = (
        "import sys, ml_intern_tui.core.llm, ml_intern_tui.core.models\n"
        "assert 'litellm' not in sys.modules, 'litellm imported eagerly'\n"
        "assert 'textual' not in sys.modules\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.slow  # a fresh interpreter imports litellm (~3-6 s)
def test_ensure_litellm_keeps_the_event_loop_running() -> None:
    code = """
import asyncio
from ml_intern_tui.core.llm import ensure_litellm

async def main():
    ticks = 0
    async def ticker():
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1
    task = asyncio.create_task(ticker())
    litellm = await ensure_litellm()
    task.cancel()
    assert litellm.suppress_debug_info and litellm.disable_hf_tokenizer_download
    assert litellm.drop_params
    assert await ensure_litellm() is litellm
    print(ticks)

asyncio.run(main())
"""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.strip()) >= 10  # the loop ticked while litellm was importing
    assert "Provider List" not in result.stdout
