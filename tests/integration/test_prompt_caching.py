"""Prompt caching on the wire: what each provider's requests carry, and what it saves.

Real loop and real litellm providers against fakes on 127.0.0.1: the Anthropic Messages
API (native ``anthropic/``), the router (Claude and other models), and an OpenAI server.
The fakes simulate provider caching, so cached tokens and their price are measured, not
assumed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fakes.anthropic_server import AnthropicReply, FakeAnthropic
from fakes.http_server import FakeHTTPServer
from fakes.openai_server import FakeOpenAI, Reply
from fakes.router_server import FakeRouter

from ml_intern_tui.core.prompt_cache import count_breakpoints
from ml_intern_tui.core.protocol import UserInput
from ml_intern_tui.tui.money import cost_report

SONNET = "anthropic/claude-sonnet-4-5"
"""litellm's price map: $3/M input, $0.30 cache read, $3.75 cache write, $15 output."""
READ = ("read", json.dumps({"path": "notes.txt"}))


@pytest.fixture
def hub() -> Iterator[FakeHTTPServer]:
    with FakeHTTPServer() as server:
        yield server


@pytest.fixture
def anthropic(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as fake:
        monkeypatch.setenv("ANTHROPIC_API_BASE", fake.base_url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-fake")
        yield fake


@pytest.fixture
def router(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeRouter]:
    with FakeRouter() as fake:
        monkeypatch.setenv("HF_TOKEN", "hf_fake_router_token")
        yield fake


def settings(hub: FakeHTTPServer, router: FakeRouter | None = None, **llm: Any) -> dict[str, Any]:
    values: dict[str, Any] = {"max_retries": 1, "retry_base_delay_s": 0.01, **llm}
    if router is not None:
        values["hf_router_base"] = router.base_url
    return {"llm": values, "hub": {"endpoint": hub.base_url}}


def marked_blocks(messages: list[dict[str, Any]]) -> list[tuple[int, str]]:
    """(message index, role) of every message carrying a cache_control block."""
    found = []
    for index, message in enumerate(messages):
        content = message.get("content")
        if (
            isinstance(content, list)
            and any(isinstance(b, dict) and "cache_control" in b for b in content)
        ) or "cache_control" in message:
            found.append((index, str(message.get("role"))))
    return found


async def run_tool_turn(h: Any, workspace: Any) -> None:
    (workspace / "notes.txt").write_text("alpha\n" * 50)
    h.submit(UserInput(text="read the notes"))
    done = await h.wait_for("turn_complete")
    assert done.reason == "done", h.of("error")


async def test_native_anthropic_gets_breakpoints_and_bills_cache_reads(
    anthropic: FakeAnthropic, hub: FakeHTTPServer, harness_factory, workspace
) -> None:
    anthropic.enqueue(
        AnthropicReply(text="Reading.", tool_calls=[READ]), AnthropicReply(text="Done.")
    )
    h = await harness_factory(SONNET, **settings(hub))
    await run_tool_turn(h, workspace)
    first, second = (r.body for r in anthropic.requests)
    for body in (first, second):
        assert "cache_control" in body["tools"][-1]
        assert all("cache_control" not in t for t in body["tools"][:-1])
        assert "cache_control" in body["system"][-1]
        assert count_breakpoints(body["messages"], body["tools"]) + 1 <= 4  # + system
    # second call: breakpoints on the user message (end of the first prompt) and on the
    # tool result (newest), so it reads what the first call wrote
    marks = marked_blocks(second["messages"])
    assert [role for _, role in marks] == ["user", "user"] and marks[0][0] == 0
    tool_result = second["messages"][-1]["content"][0]
    assert tool_result["type"] == "tool_result" and "cache_control" in tool_result
    # the stored history never carries the markers
    assert "cache_control" not in json.dumps(h.messages)

    spend = h.of("spend")[-1]
    assert spend.cached_tokens > 1000 and spend.cache_write_tokens > 0
    assert spend.cache_saved_usd > 0 and spend.unpriced_calls == 0
    # priced at litellm's Sonnet rates, each kind of token at its own price
    fresh = spend.prompt_tokens - spend.cached_tokens - spend.cache_write_tokens
    expected = (
        fresh * 3.0
        + spend.cached_tokens * 0.30
        + spend.cache_write_tokens * 3.75
        + spend.completion_tokens * 15.0
    ) / 1e6
    assert spend.llm_usd == pytest.approx(expected, abs=1e-6)


async def test_router_claude_gets_breakpoints_and_the_session_header(
    router: FakeRouter, hub: FakeHTTPServer, harness_factory, workspace
) -> None:
    claude = "anthropic/claude-opus-4.8:fal-ai"
    router.enqueue(Reply(text="Reading.", tool_calls=[READ]), Reply(text="Done."))
    h = await harness_factory(claude, **settings(hub, router))
    await run_tool_turn(h, workspace)
    session_id = h.of("ready")[-1].session_id
    for request in router.requests:
        assert request.headers["x-hf-session-id"] == session_id
        body = request.body
        assert body["model"] == claude
        assert "cache_control" in body["tools"][-1]
        assert body["messages"][0]["content"][-1]["cache_control"] == {"type": "ephemeral"}
        assert count_breakpoints(body["messages"], body["tools"]) <= 4
    spend = h.of("spend")[-1]
    assert spend.cached_tokens > 1000
    report = cost_report(spend)  # what /cost says
    assert "% hits" in report and "saved $" in report
    # no cache prices in the catalog: the Anthropic rule (reads 10 %, writes 125 % of $5)
    fresh = spend.prompt_tokens - spend.cached_tokens - spend.cache_write_tokens
    expected = (
        fresh * 5.0
        + spend.cached_tokens * 0.5
        + spend.cache_write_tokens * 6.25
        + spend.completion_tokens * 25.0
    ) / 1e6
    assert spend.llm_usd == pytest.approx(expected, abs=1e-6)


async def test_router_caches_other_models_only_with_the_session_header(
    router: FakeRouter, hub: FakeHTTPServer, harness_factory, workspace
) -> None:
    router.enqueue(Reply(text="Reading.", tool_calls=[READ]), Reply(text="Done."))
    h = await harness_factory("moonshotai/Kimi-K2.6", **settings(hub, router))
    await run_tool_turn(h, workspace)
    assert all("x-hf-session-id" in r.headers for r in router.requests)
    assert "cache_control" not in json.dumps(router.requests[1].body)  # not a Claude model
    assert h.of("spend")[-1].cached_tokens > 1000

    router.requests.clear()
    router.enqueue(Reply(text="Reading.", tool_calls=[READ]), Reply(text="Done."))
    off = await harness_factory(
        "moonshotai/Kimi-K2.6", **settings(hub, router, prompt_caching=False)
    )
    await run_tool_turn(off, workspace)
    assert not any("x-hf-session-id" in r.headers for r in router.requests)
    assert off.of("spend")[-1].cached_tokens == 0


async def test_native_openai_gets_a_stable_prompt_cache_key(
    monkeypatch: pytest.MonkeyPatch, hub: FakeHTTPServer, harness_factory, workspace
) -> None:
    with FakeOpenAI() as fake:
        monkeypatch.setenv("OPENAI_API_BASE", fake.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-openai-fake")
        fake.enqueue(Reply(text="Reading.", tool_calls=[READ]), Reply(text="Done."))
        h = await harness_factory("openai/gpt-5", **settings(hub))
        await run_tool_turn(h, workspace)
        session_id = h.of("ready")[-1].session_id
        keys = {r.body.get("prompt_cache_key") for r in fake.requests}
        assert keys == {session_id}
        assert "cache_control" not in json.dumps(fake.requests[1].body)
        assert not any("x-hf-session-id" in r.headers for r in fake.requests)
