"""The effort probe: litellm's dry run, and tiny calls against the fake Anthropic API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fakes.anthropic_server import AnthropicReply, FakeAnthropic

from ml_intern_tui.core.effort import LEVELS, LevelBook
from ml_intern_tui.core.effort_probe import dry_run_params, probe, thinking_budget, unsendable
from ml_intern_tui.core.llm import LLMClient, load_litellm
from ml_intern_tui.core.models import ModelRoute, resolve_model


@pytest.fixture
def fake() -> Iterator[FakeAnthropic]:
    load_litellm()
    with FakeAnthropic() as server:
        yield server


def claude(fake: FakeAnthropic, model: str, **kwargs: object) -> LLMClient:
    route = ModelRoute(model, model, fake.base_url, "sk-ant-fake", "native", True)
    return LLMClient(route, prompt_caching=False, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("model", "dropped"),
    [
        ("openai/gpt-5", {"xhigh"}),  # litellm's map: gpt-5 has no xhigh
        ("openai/gpt-4o", set(LEVELS)),  # not a reasoning model: all dropped silently
        ("anthropic/claude-3-5-sonnet-20241022", set(LEVELS)),
        ("anthropic/claude-sonnet-4-5", set()),  # thinking budgets for every level
        ("moonshotai/Kimi-K2.6", set()),  # the router: the provider decides
        ("vllm/some-model", set(LEVELS)),  # local: never sent
    ],
)
def test_litellms_dry_run_tells_which_levels_it_would_drop(model: str, dropped: set[str]) -> None:
    litellm = load_litellm()
    route = resolve_model(model, env={}, hf_token="hf_x", router_base="http://127.0.0.1:9/v1")
    assert set(unsendable(litellm, route)) == dropped


async def test_levels_whose_thinking_budget_the_output_cap_cannot_hold_are_refused(
    fake: FakeAnthropic,
) -> None:
    """Claude before 4.6 takes effort as a thinking budget, which must stay under
    max_tokens: with a 6,000-token cap, max (16,384) and xhigh (8,192) are refused."""
    book = LevelBook()
    outcome = await probe(
        claude(fake, "anthropic/claude-sonnet-4-5", max_output_tokens=6000), "max", book
    )
    assert outcome.settled and outcome.level == "high"
    budgets = [r.body["thinking"]["budget_tokens"] for r in fake.requests]
    assert budgets == [16384, 8192, 4096]
    assert book.refused() == ["xhigh", "max"] and book.accepted() == ["high"]
    assert len(outcome.responses) == 1 and outcome.responses[0].usage.prompt_tokens > 0


async def test_without_an_output_cap_the_probe_leaves_room_for_the_budget(
    fake: FakeAnthropic,
) -> None:
    outcome = await probe(claude(fake, "anthropic/claude-sonnet-4-5"), "max", LevelBook())
    assert outcome.level == "max" and len(fake.requests) == 1
    body = fake.requests[0].body
    assert body["max_tokens"] > body["thinking"]["budget_tokens"] == 16384
    assert (
        body["messages"]
        == [
            {
                "role": "user",
                "content": [{"type": "text", "text": "Reply with the single word: ok"}],
            }
        ]
        or body["messages"][0]["role"] == "user"
    )


async def test_a_level_litellm_refuses_itself_costs_no_request(fake: FakeAnthropic) -> None:
    """Sonnet 4.6 has no xhigh: litellm refuses it before sending; high goes out."""
    book = LevelBook()
    outcome = await probe(claude(fake, "anthropic/claude-sonnet-4-6"), "xhigh", book)
    assert outcome.level == "high" and book.get("xhigh") is False
    assert [r.body["output_config"]["effort"] for r in fake.requests] == ["high"]


async def test_a_model_without_effort_gets_none(fake: FakeAnthropic) -> None:
    fake.takes_effort = False
    book = LevelBook()
    outcome = await probe(claude(fake, "anthropic/claude-sonnet-4-6"), "high", book)
    assert outcome.settled and outcome.level is None and book.takes_none()
    assert len(fake.requests) == 1  # "does not support the effort parameter": no cascade


async def test_a_transient_failure_leaves_it_unsettled(fake: FakeAnthropic) -> None:
    fake.enqueue(AnthropicReply.overloaded())
    book = LevelBook()
    outcome = await probe(claude(fake, "anthropic/claude-sonnet-4-5"), "high", book)
    assert not outcome.settled and outcome.level == "high"  # sent as asked
    assert "overloaded" in outcome.note.lower() and book.known == {}
    assert len(fake.requests) == 1  # no retries: a probe is a quick question


async def test_another_error_leaves_it_unsettled_too(fake: FakeAnthropic) -> None:
    fake.enqueue(AnthropicReply.error(401, "authentication_error", "invalid x-api-key"))
    outcome = await probe(claude(fake, "anthropic/claude-sonnet-4-5"), "low", LevelBook())
    assert not outcome.settled and "api key" in outcome.note.lower()


def test_what_litellm_sends_claude_for_each_level() -> None:
    """litellm 1.106: Claude before 4.6 gets a thinking budget per level; 4.6 and later
    adaptive thinking with ``output_config.effort`` (``minimal`` sent as ``low``)."""
    litellm = load_litellm()
    legacy = resolve_model("anthropic/claude-sonnet-4-5", env={})
    budgets = {level: thinking_budget(litellm, legacy, level) for level in LEVELS}
    assert budgets == {
        "minimal": 1024,
        "low": 1024,
        "medium": 2048,
        "high": 4096,
        "xhigh": 8192,
        "max": 16384,
    }
    adaptive = resolve_model("anthropic/claude-opus-4-7", env={})
    for level, sent in (("minimal", "low"), ("high", "high"), ("xhigh", "xhigh"), ("max", "max")):
        params = dry_run_params(litellm, adaptive, level)
        assert params["thinking"]["type"] == "adaptive"
        assert params["output_config"] == {"effort": sent}
    assert thinking_budget(litellm, adaptive, "high") is None
