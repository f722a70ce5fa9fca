"""The LLM client on a llama.cpp-like server: an empty 200 stream is asked again plainly."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fakes.llama_server import FakeLlamaCpp
from fakes.openai_server import FakeOpenAI, Reply

from ml_intern_tui.core.llm import ContextOverflowError, LLMClient, LLMError, RetryPolicy
from ml_intern_tui.core.models import ModelRoute

FAST = RetryPolicy(max_retries=2, base_delay_s=0.01, max_delay_s=0.05)


@pytest.fixture
def llama() -> Iterator[FakeLlamaCpp]:
    with FakeLlamaCpp(n_ctx=1000) as fake:
        yield fake


def client(base_url: str, **kwargs: Any) -> LLMClient:
    route = ModelRoute("llamacpp/local-model", "openai/local-model", base_url, "k", "local", False)
    return LLMClient(route, retry=kwargs.pop("retry", FAST), **kwargs)


async def test_empty_stream_then_the_real_overflow_error(llama: FakeLlamaCpp) -> None:
    retries: list[str] = []
    with pytest.raises(ContextOverflowError) as info:
        await client(llama.base_url).complete(
            [{"role": "user", "content": "word " * 2000}], None, on_retry=retries.append
        )
    error = info.value
    assert error.window == 1000 and error.prompt_tokens == llama.prompt_counts[0]
    assert [bool(r.body.get("stream")) for r in llama.requests] == [True, False]
    assert retries == ["the model's answer stream sent nothing; asking again without streaming"]
    assert "maximum context length is 1000" in str(error) and "\n" not in str(error)


async def test_a_prompt_that_fits_streams_and_reports_the_servers_count(
    llama: FakeLlamaCpp,
) -> None:
    llama.enqueue(Reply(text="fits fine"))
    response = await client(llama.base_url).complete([{"role": "user", "content": "hi"}], None)
    assert response.content == "fits fine"
    assert response.usage.prompt_tokens == llama.prompt_counts[0]
    assert llama.requests_count == 1 and llama.requests[0].body["stream"] is True


async def test_empty_stream_then_a_good_plain_answer_is_the_answer() -> None:
    with FakeOpenAI() as fake:
        fake.enqueue(Reply(empty_stream=True), Reply(text="plain answer"))
        texts: list[str] = []
        response = await client(fake.base_url, retry=RetryPolicy(max_retries=0)).complete(
            [{"role": "user", "content": "hi"}], None, on_text=texts.append
        )
    assert response.content == "plain answer" and texts == ["plain answer"]


async def test_the_plain_retry_happens_once_per_call() -> None:
    with FakeOpenAI() as fake:
        fake.enqueue(
            Reply(empty_stream=True),
            Reply.server_error(503),  # the plain request fails too: normal retries follow
            Reply(empty_stream=True),
            Reply(empty_stream=True),
        )
        with pytest.raises(LLMError) as info:
            await client(
                fake.base_url, retry=RetryPolicy(max_retries=2, base_delay_s=0.01)
            ).complete([{"role": "user", "content": "hi"}], None)
    assert info.value.kind == "broken_stream"
    assert [bool(r.body.get("stream")) for r in fake.requests] == [True, False, True, True]
