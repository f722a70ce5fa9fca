"""Answers read from the OpenAI SDK's own stream: what litellm's wrapper gave is kept."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fakes.openai_server import FakeOpenAI, RecordedRequest, Reply, _Handler

from ml_intern_tui.core.llm import LLMClient, RetryPolicy
from ml_intern_tui.core.models import ModelRoute

MESSAGES = [{"role": "user", "content": "count the words in this sentence please"}]


class NoUsageServer(FakeOpenAI):
    """A server that ignores ``stream_options.include_usage`` (some local servers do)."""

    def _handler_class(self) -> type[Any]:
        fake = self

        class Handler(_Handler):
            server_fake = fake

            def _stream(self, reply: Reply, include_usage: bool) -> None:
                super()._stream(reply, False)

        return Handler


class ProviderModelServer(FakeOpenAI):
    """A router that names the provider only as a ``:provider`` suffix on the model."""

    def prepare(self, reply: Reply, request: RecordedRequest) -> Reply:
        reply.model = "org/model:fastprov"
        return reply


@pytest.fixture
def no_usage() -> Iterator[FakeOpenAI]:
    with NoUsageServer() as server:
        yield server


def local(base: str) -> ModelRoute:
    return ModelRoute("vllm/fake", "openai/fake", base, "sk-local", "local", False)


async def test_a_server_without_usage_gets_estimated_counts(no_usage: FakeOpenAI) -> None:
    no_usage.enqueue(Reply(text="one two three four five", tool_calls=[("read", '{"path": "a"}')]))
    answer = await LLMClient(local(no_usage.base_url), retry=RetryPolicy(max_retries=0)).complete(
        MESSAGES, None
    )
    assert answer.content == "one two three four five"
    assert [(c.name, c.arguments) for c in answer.tool_calls] == [("read", '{"path": "a"}')]
    # Estimated as litellm did: the prompt and the answer are both counted, never zero.
    assert answer.usage.prompt_tokens >= 8
    assert answer.usage.completion_tokens >= 5
    assert answer.usage.total_tokens == answer.usage.prompt_tokens + answer.usage.completion_tokens


async def test_the_provider_named_in_the_chunks_model_is_kept() -> None:
    with ProviderModelServer() as server:
        server.enqueue(Reply(text="hello"))
        answer = await LLMClient(local(server.base_url), retry=RetryPolicy(max_retries=0)).complete(
            MESSAGES, None
        )
    assert answer.content == "hello"
    assert answer.served_by == "fastprov"


async def test_reasoning_deltas_reach_the_callback(no_usage: FakeOpenAI) -> None:
    no_usage.enqueue(Reply(text="answer", reasoning="let me think about it"))
    seen: list[str] = []
    answer = await LLMClient(local(no_usage.base_url), retry=RetryPolicy(max_retries=0)).complete(
        MESSAGES, None, on_reasoning=seen.append
    )
    assert "".join(seen) == "let me think about it" == answer.reasoning
    assert answer.content == "answer"
