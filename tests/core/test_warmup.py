"""Warming the model call path: nothing is sent, and the real calls work as before."""

from __future__ import annotations

import io
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakes.openai_server import FakeOpenAI, Reply

from ml_intern_tui.config.schema import AppConfig
from ml_intern_tui.core.llm import LLMClient, RetryPolicy
from ml_intern_tui.core.models import ModelRoute, resolve_model
from ml_intern_tui.core.warmup import warm_provider
from ml_intern_tui.headless import _run
from ml_intern_tui.runtime.agent import build_runtime


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


def local(base: str) -> ModelRoute:
    return ModelRoute("vllm/fake", "openai/fake", base, "sk-local", "local", False)


async def test_warming_sends_nothing_and_the_first_call_goes_out_as_usual(
    fake: FakeOpenAI,
) -> None:
    route = local(fake.base_url)
    thread = threading.Thread(target=warm_provider, args=(route,))
    thread.start()
    thread.join(60)
    assert not thread.is_alive()
    assert fake.requests_count == 0  # the warm-up spoke to its own stub, not the server
    assert "litellm.litellm_core_utils.default_encoding" in sys.modules  # the tokenizer
    fake.enqueue(Reply(text="hello there"))
    answer = await LLMClient(route, retry=RetryPolicy(max_retries=0)).complete(
        [{"role": "user", "content": "hi"}], None
    )
    assert answer.content == "hello there"
    assert fake.requests_count == 1
    assert fake.requests[0].body["messages"] == [{"role": "user", "content": "hi"}]


@pytest.mark.parametrize(
    "route",
    [
        None,  # a bad model id: litellm and a tokenizer all the same
        ModelRoute("scripted/demo", "scripted/demo", None, None, "scripted", False),
        # A router model without a token, a server that is not there: still nothing sent,
        # nothing raised (the real call says what is wrong).
        resolve_model("Qwen/Qwen3-Coder-480B-A35B-Instruct", hf_token=None),
        ModelRoute("vllm/x", "openai/x", "http://127.0.0.1:9/v1", None, "local", False),
    ],
    ids=["none", "scripted", "router-no-token", "no-server"],
)
def test_warming_never_fails(route: ModelRoute | None) -> None:
    warm_provider(route)


async def test_headless_warms_up_while_the_session_starts(
    fake: FakeOpenAI, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("VLLM_BASE_URL", fake.base_url)
    settings = AppConfig.model_validate({"model": "vllm/fake", "llm": {"max_retries": 0}})
    runtime = build_runtime(settings, cwd=tmp_path)
    warmed: list[str] = []
    real = runtime.warm_up

    async def warm_up() -> Any:
        warmed.append("started")
        return await real()

    monkeypatch.setattr(runtime, "warm_up", warm_up)
    fake.enqueue(Reply(text="done"))
    out, err = io.StringIO(), io.StringIO()
    assert await _run(runtime, "hello", False, out, err) == 0
    assert warmed == ["started"]
    assert "done" in out.getvalue()
    assert fake.requests_count == 1  # the warm-up sent nothing
