"""A scripted research run that searches the web and reads pages (fake engine and site).

The sub-agent gets the session's real tool set (``builtin_tools() + ecosystem_tools()``),
so this also proves research picks up web_search and web_fetch as read-only tools.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from fakes.web_site import FakeWeb

from ml_intern_tui.config.schema import AppConfig, WebConfig
from ml_intern_tui.core.cost import SpendTracker
from ml_intern_tui.core.llm import LLMClient, RetryPolicy, ensure_litellm
from ml_intern_tui.core.models import resolve_model
from ml_intern_tui.core.protocol import ToolCall, ToolResultEvent
from ml_intern_tui.core.tool import ToolContext, ToolRouter, parse_arguments
from ml_intern_tui.demo import scripted
from ml_intern_tui.demo.scripted import register_scenario
from ml_intern_tui.demo.steps import Scenario, Step, find_in_history
from ml_intern_tui.tools import builtin_tools, ecosystem_tools
from ml_intern_tui.tools.research import ResearchTool


@pytest.fixture
def web() -> Iterator[FakeWeb]:
    site = FakeWeb()
    yield site
    site.close()


async def test_research_searches_then_reads_and_its_calls_nest(
    ctx: ToolContext, web: FakeWeb, recorder: Any
) -> None:
    blog = web.url("/blog/grpo")
    seen: list[list[dict[str, Any]]] = []

    def final(messages: list[dict[str, Any]]) -> Step:
        seen.append(messages)
        return Step(
            text=f"Use learning_rate=1e-6 with 8 generations ({blog}).\n\nSources:\n- {blog}"
        )

    register_scenario(
        Scenario(
            name="research-web",
            steps=[
                Step(tool_calls=[("web_search", {"query": "GRPO recipe small model"})]),
                Step(
                    tool_calls=[
                        (
                            "web_fetch",
                            lambda m: {"url": find_in_history(m, r"(http://\S+/blog/grpo)")},
                        ),
                        ("web_fetch", {"url": web.url("/huge")}),
                    ]
                ),
                final,
            ],
        )
    )
    scripted.install(await ensure_litellm())
    router = ToolRouter(builtin_tools() + ecosystem_tools())
    settings = AppConfig(
        web=WebConfig(
            search_url=web.search_url,
            allow_private_networks=["127.0.0.1/32"],
            max_page_bytes=100_000,
            timeout_s=5,
        )
    )
    ctx.services = replace(
        ctx.services,
        router=router,
        spend=SpendTracker(),
        settings=settings,
        llm_factory=lambda: LLMClient(
            resolve_model("scripted/research-web"), retry=RetryPolicy(max_retries=0)
        ),
    )
    tool = ResearchTool()
    try:
        result = await tool.run(parse_arguments(tool, {"task": "GRPO recipe for 0.5B"}), ctx)
    finally:
        for name in ("web_search", "web_fetch"):
            await router.get(name).aclose()  # type: ignore[union-attr]

    assert result.ok and result.data is not None
    assert result.data["sources"] == [blog]
    calls = [e for e in recorder.events if isinstance(e, ToolCall)]
    assert [(c.tool, c.parent_id) for c in calls] == [
        ("web_search", "call-1"),
        ("web_fetch", "call-1"),
        ("web_fetch", "call-1"),
    ]
    assert calls[1].args == {"url": blog}
    results = {e.call_id: e for e in recorder.events if isinstance(e, ToolResultEvent)}
    search, page, huge = (results[c.call_id] for c in calls)
    assert all(r.ok and r.parent_id == "call-1" for r in (search, page, huge))
    assert search.summary.startswith("4 results · GRPO on a budget")
    assert "| Qwen2.5-0.5B | GRPO \\| LoRA | 45.8 |" in page.output
    assert huge.truncated and huge.summary.endswith("over size limit")

    messages = seen[0]
    tools_line = messages[0]["content"].split("Tools available to you: ")[1].split("\n")[0]
    assert "web_search" in tools_line.split(", ") and "web_fetch." in tools_line.split(", ")
    outputs = [m["content"] for m in messages if m["role"] == "tool"]
    assert any("GRPO \\| LoRA" in text for text in outputs)
    assert any("larger than the 100 kB limit" in text for text in outputs)
    # The sub-agent's tools get its own, smaller output budget.
    assert all(len(text) <= 8200 for text in outputs)
