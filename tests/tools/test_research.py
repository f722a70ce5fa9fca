"""The research sub-agent: nesting, read-only tools only, budgets, spend and cancellation.

Most tests drive it with the scripted model through real litellm (``scripted/<name>``);
the budget test uses a small fake client to control token counts and cost.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
from fakes.github_api import FakeGithub
from pydantic import BaseModel, ConfigDict

from ml_intern_tui.core.cost import SpendTracker
from ml_intern_tui.core.llm import (
    LLMClient,
    LLMError,
    LLMResponse,
    RetryPolicy,
    ToolCallRequest,
    Usage,
    ensure_litellm,
)
from ml_intern_tui.core.models import resolve_model
from ml_intern_tui.core.protocol import AssistantMessage, ToolCall, ToolResultEvent
from ml_intern_tui.core.tool import (
    BadArguments,
    Tool,
    ToolContext,
    ToolError,
    ToolResult,
    ToolRouter,
    parse_arguments,
)
from ml_intern_tui.demo import scripted
from ml_intern_tui.demo.scripted import register_scenario
from ml_intern_tui.demo.steps import Scenario, Step
from ml_intern_tui.tools.bash import BashTool
from ml_intern_tui.tools.files import ReadTool, WriteTool
from ml_intern_tui.tools.github import GithubReadFileTool
from ml_intern_tui.tools.plan import PlanTool
from ml_intern_tui.tools.research import (
    BUDGET_TAG,
    WRAP_UP_PROMPT,
    ResearchArgs,
    ResearchTool,
    activity,
    extract_sources,
)

GRPO_URL_PATH = "huggingface/trl/blob/main/examples/scripts/grpo.py"
FINAL = (
    "Use TRL's GRPOTrainer with a length reward, as in the official example "
    f"(https://github.com/{GRPO_URL_PATH}); the notes agree (notes.md).\n\n"
    f"Sources:\n- https://github.com/{GRPO_URL_PATH}\n- notes.md"
)


class SlowArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    topic: str = "x"


class SlowLookupTool(Tool):
    """A read-only tool that waits until cancelled (for the interrupt test)."""

    name = "slow_lookup"
    description = "Look something up very slowly (test tool)."
    Args = SlowArgs
    read_only = True

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.cancelled = False

    async def run(self, args: SlowArgs, ctx: ToolContext) -> ToolResult:
        self.started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        return ToolResult(summary="never", output="never")


@pytest.fixture
def github(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGithub]:
    fake = FakeGithub()
    monkeypatch.setenv("GITHUB_API_BASE", fake.base_url)
    fake.add_repo(
        "huggingface/trl",
        {"examples/scripts/grpo.py": "from trl import GRPOTrainer\ntrainer = GRPOTrainer()\n"},
    )
    yield fake
    fake.close()


@pytest.fixture
async def use_scenario() -> AsyncIterator[Callable[..., Callable[[], LLMClient]]]:
    """Register a scenario and return a factory of clients for ``scripted/<name>``."""
    litellm = await ensure_litellm()

    def register(name: str, steps: list[Any]) -> Callable[[], LLMClient]:
        register_scenario(Scenario(name=name, steps=steps))
        scripted.install(litellm)  # registers the new scenario's model info too
        return lambda: LLMClient(
            resolve_model(f"scripted/{name}"), retry=RetryPolicy(max_retries=0)
        )

    yield register


@pytest.fixture
def slow() -> SlowLookupTool:
    return SlowLookupTool()


@pytest.fixture
def research_ctx(ctx: ToolContext, slow: SlowLookupTool) -> ToolContext:
    (ctx.cwd / "notes.md").write_text("GRPO needs a reward function.\nline two\nline three\n")
    router = ToolRouter(
        [
            BashTool(),
            ReadTool(),
            WriteTool(),
            PlanTool(),
            GithubReadFileTool(),
            slow,
            ResearchTool(),
        ]
    )
    ctx.services = replace(ctx.services, router=router, spend=SpendTracker())
    return ctx


async def research(ctx: ToolContext, tool: ResearchTool | None = None, **raw: Any) -> ToolResult:
    tool = tool or ResearchTool()
    args = parse_arguments(tool, raw)
    assert isinstance(args, ResearchArgs)
    return await tool.run(args, ctx)


def nested(events: list[Any], kind: type, parent: str = "call-1") -> list[Any]:
    return [e for e in events if isinstance(e, kind) and getattr(e, "parent_id", None) == parent]


# ----------------------------------------------------------------- scripted


async def test_research_nests_calls_refuses_writes_and_returns_a_sourced_summary(
    github: FakeGithub, research_ctx: ToolContext, recorder: Any, use_scenario: Any
) -> None:
    seen: list[list[dict[str, Any]]] = []

    def final(messages: list[dict[str, Any]]) -> Step:
        seen.append(messages)
        return Step(text=FINAL)

    research_ctx.services = replace(
        research_ctx.services,
        llm_factory=use_scenario(
            "research-happy",
            [
                Step(
                    text="Reading the official GRPO example and the local notes.",
                    tool_calls=[
                        (
                            "github_read_file",
                            {"repo": "huggingface/trl", "path": "examples/scripts/grpo.py"},
                        ),
                        ("read", {"path": "notes.md"}),
                    ],
                ),
                Step(
                    tool_calls=[
                        ("bash", {"command": "touch hacked.txt"}),
                        ("write", {"path": "hacked.txt", "content": "x"}),
                        ("plan", {"todos": []}),
                    ]
                ),
                final,
            ],
        ),
    )
    result = await research(research_ctx, task="Find a GRPO recipe", context="tiny model")

    assert result.ok
    assert result.output == FINAL
    assert result.summary == "researched: Find a GRPO recipe · 5 calls · $0.00"
    assert result.data is not None
    assert result.data["sources"] == [f"https://github.com/{GRPO_URL_PATH}", "notes.md"]
    assert result.data["calls"] == 5 and result.data["iterations"] == 3

    calls = nested(recorder.events, ToolCall)
    assert [c.tool for c in calls] == ["github_read_file", "read", "bash", "write", "plan"]
    assert all(c.call_id.startswith("call-1/") for c in calls)
    results = {e.call_id: e for e in nested(recorder.events, ToolResultEvent)}
    assert set(results) == {c.call_id for c in calls}
    by_tool = {c.tool: results[c.call_id] for c in calls}
    assert by_tool["github_read_file"].ok and "GRPOTrainer" in by_tool["github_read_file"].output
    assert by_tool["read"].ok and "reward function" in by_tool["read"].output
    for refused in ("bash", "write", "plan"):
        assert not by_tool[refused].ok
        assert "not available to research" in by_tool[refused].output
    assert not (research_ctx.cwd / "hacked.txt").exists()
    assert nested(recorder.events, AssistantMessage)[0].text.startswith("Reading the official")

    # The sub-agent's own model saw the outputs, the refusals and only read-only tools.
    messages = seen[0]
    tools_line = messages[0]["content"].split("Tools available to you: ")[1].split("\n")[0]
    assert tools_line == "read, github_read_file, slow_lookup."
    assert "tiny model" in messages[1]["content"]
    outputs = [m["content"] for m in messages if m["role"] == "tool"]
    assert any("GRPOTrainer" in text for text in outputs)
    assert sum("not available to research" in text for text in outputs) == 3

    assert recorder.progress[0] == "researching: Find a GRPO recipe"
    assert "calling github_read_file, read…" in recorder.progress
    assert any(line.endswith("k tokens · 2 tool calls") for line in recorder.progress)


async def test_iteration_cap_forces_a_final_answer_without_tools(
    research_ctx: ToolContext, use_scenario: Any
) -> None:
    last_prompts: list[str] = []

    def step(messages: list[dict[str, Any]]) -> Step:
        last = str(messages[-1].get("content") or "")
        if last.startswith(BUDGET_TAG):
            last_prompts.append(last)
            return Step(text="Forced summary.\n\nSources:\n- notes.md")
        offset = sum(1 for m in messages if m["role"] == "assistant") + 1
        return Step(tool_calls=[("read", {"path": "notes.md", "offset": offset})])

    research_ctx.services = replace(
        research_ctx.services, llm_factory=use_scenario("research-cap", [step] * 10)
    )
    result = await research(research_ctx, task="keep reading", max_iterations=3)
    assert result.ok and result.data is not None
    assert result.output.startswith("Forced summary.")
    assert "(Research stopped at its iteration limit (3)" in result.output
    assert result.data["stopped"] == "iteration limit (3)"
    assert result.data["calls"] == 3 and result.data["iterations"] == 4
    assert result.data["sources"] == ["notes.md"]
    assert "Do not call tools" in last_prompts[0]


async def test_repeating_the_same_call_trips_the_loop_guard(
    research_ctx: ToolContext, recorder: Any, use_scenario: Any
) -> None:
    def step(messages: list[dict[str, Any]]) -> Step:
        if str(messages[-1].get("content") or "").startswith(BUDGET_TAG):
            return Step(text="Stopped looping. Sources:\n- notes.md")
        return Step(tool_calls=[("read", {"path": "notes.md"})])

    research_ctx.services = replace(
        research_ctx.services, llm_factory=use_scenario("research-loop", [step] * 30)
    )
    result = await research(research_ctx, task="loop", max_iterations=30)
    assert result.data is not None and result.data["stopped"] == "repetition guard"
    assert result.data["calls"] < 8
    assert any(line.startswith("loop warning: read called") for line in recorder.progress)


async def test_cancellation_stops_research_promptly(
    research_ctx: ToolContext, recorder: Any, slow: SlowLookupTool, use_scenario: Any
) -> None:
    research_ctx.services = replace(
        research_ctx.services,
        llm_factory=use_scenario(
            "research-slow", [Step(tool_calls=[("slow_lookup", {"topic": "grpo"})])]
        ),
    )
    task = asyncio.create_task(research(research_ctx, task="slow"))
    await asyncio.wait_for(slow.started.wait(), 20)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 2)
    assert slow.cancelled
    (event,) = nested(recorder.events, ToolResultEvent)
    assert event.status == "cancelled" and event.call_id == "call-1/call_s0_0"


# ----------------------------------------------------------- budget, spend, errors


class FakeLLM:
    """A client whose answers, token counts and cost the test controls."""

    def __init__(self, totals: list[int], cost: float = 0.25) -> None:
        self.totals = totals
        self.cost = cost
        self.requests: list[tuple[list[dict[str, Any]], Any]] = []

    async def complete(self, messages: list[dict[str, Any]], tools: Any, **_: Any) -> LLMResponse:
        n = len(self.requests)
        self.requests.append((list(messages), tools))
        calls = (
            []
            if tools is None
            else [ToolCallRequest(f"c{n}", "read", f'{{"path": "notes.md", "offset": {n + 1}}}')]
        )
        text = "Budget summary. Sources:\n- notes.md" if tools is None else ""
        usage = Usage(total_tokens=self.totals[min(n, len(self.totals) - 1)])
        return LLMResponse(text, "", calls, "stop", usage, self.cost, "fake")


async def test_token_budget_nudges_then_forces_and_cost_reaches_the_session_spend(
    research_ctx: ToolContext,
) -> None:
    llm = FakeLLM([600, 900, 1200])
    research_ctx.services = replace(research_ctx.services, llm_factory=lambda: llm)
    result = await research(research_ctx, ResearchTool(token_budget=1000), task="budget")
    assert result.ok and result.data is not None
    assert result.data["stopped"] == "token budget (1,000)"
    assert [tools is None for _, tools in llm.requests] == [False, False, False, True]
    third_request = llm.requests[2][0]
    assert any(m.get("content") == WRAP_UP_PROMPT for m in third_request)
    assert research_ctx.services.spend.llm_usd == pytest.approx(1.0)
    assert result.data["cost_usd"] == pytest.approx(1.0)
    assert result.summary == "researched: budget · 3 calls · $1.00"


async def test_model_failure_and_missing_services_are_clear(research_ctx: ToolContext) -> None:
    class Broken:
        async def complete(self, *_: Any, **__: Any) -> LLMResponse:
            raise LLMError("server", "the model server answered 500")

    with pytest.raises(ToolError, match="'llm_factory' service is not available"):
        await research(research_ctx, task="x")
    research_ctx.services = replace(research_ctx.services, llm_factory=Broken)
    with pytest.raises(
        ToolError, match="research stopped after 0 tool calls: the model call failed"
    ):
        await research(research_ctx, task="x")


def test_bad_arguments_and_helpers() -> None:
    tool = ResearchTool()
    assert tool.read_only
    with pytest.raises(BadArguments, match="max_iterations"):
        parse_arguments(tool, {"task": "x", "max_iterations": 61})
    with pytest.raises(BadArguments, match="task"):
        parse_arguments(tool, {"task": ""})
    assert parse_arguments(tool, {"task": "x"}).max_iterations == 20  # type: ignore[attr-defined]
    calls = [ToolCallRequest("a", "read", "{}"), ToolCallRequest("b", "read", "{}")]
    assert activity(calls) == "calling read ×2…"
    assert extract_sources("See https://a.org/x. and https://b.org/y") == [
        "https://a.org/x",
        "https://b.org/y",
    ]
    assert extract_sources("text\n## Sources\n1. paper A\n2. https://b.org\n") == [
        "paper A",
        "https://b.org",
    ]
