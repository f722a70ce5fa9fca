"""The real app on a scripted model: research searches the web and reads a page, and the
tool tree shows web_search and web_fetch nested under the research call."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fakes.web_site import FakeWeb

from ml_intern_tui.config.schema import AppConfig, SessionsConfig, TracesConfig, WebConfig
from ml_intern_tui.core.llm import ensure_litellm
from ml_intern_tui.demo import scripted
from ml_intern_tui.demo.scripted import register_scenario
from ml_intern_tui.demo.steps import Scenario, Step, find_in_history
from ml_intern_tui.tui.app import MLInternApp
from tui.conftest import wait_for


@pytest.fixture
def web() -> Iterator[FakeWeb]:
    site = FakeWeb()
    yield site
    site.close()


@pytest.mark.slow
async def test_web_calls_nest_under_research_in_the_tool_tree(
    tmp_path: Path, web: FakeWeb, wait_until: Callable[..., Awaitable[None]]
) -> None:
    from ml_intern_tui.runtime.agent import build_runtime

    prompts: list[str] = []

    def ask_research(messages: list[dict[str, Any]]) -> Step:
        prompts.append(str(messages[0]["content"]))
        return Step(tool_calls=[("research", {"task": "GRPO recipe for a 0.5B model"})])

    register_scenario(
        Scenario(
            name="web-tree",
            steps=[
                ask_research,
                Step(text="Research done: use learning_rate=1e-6."),
            ],
            research_steps=[
                Step(tool_calls=[("web_search", {"query": "GRPO recipe"})]),
                Step(
                    tool_calls=[
                        (
                            "web_fetch",
                            lambda m: {"url": find_in_history(m, r"(http://\S+/blog/grpo)")},
                        ),
                        ("web_fetch", {"url": web.url("/paper.pdf")}),  # refused: one line
                    ]
                ),
                Step(text=f"GRPO with lr 1e-6.\n\nSources:\n- {web.url('/blog/grpo')}"),
            ],
        )
    )
    scripted.install(await ensure_litellm())
    settings = AppConfig(
        model="scripted/web-tree",
        sessions=SessionsConfig(dir=tmp_path / "sessions"),
        traces=TracesConfig(upload=False),
        web=WebConfig(
            search_url=web.search_url, allow_private_networks=["127.0.0.1/32"], timeout_s=5
        ),
    )
    runtime = build_runtime(settings, cwd=tmp_path)
    app = MLInternApp(runtime)
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_for(pilot, lambda: app.header.session_id != "", tries=3000)
        await pilot.press(*"find a GRPO recipe", "enter")
        tree = app.tools

        def research_done() -> bool:
            records = [r for r in tree.records.values() if r.tool == "research"]
            return bool(records) and records[0].status == "ok"

        await wait_for(pilot, research_done, tries=3000)
        research = next(r for r in tree.records.values() if r.tool == "research")
        children = [child.data for child in tree.nodes[research.call_id].children if child.data]
        assert [(c.tool, c.status) for c in children] == [
            ("web_search", "ok"),
            ("web_fetch", "ok"),
            ("web_fetch", "failed"),
        ]
        assert all(c.parent_id == research.call_id for c in children)
        labels = [str(tree.nodes[c.call_id].label) for c in children]
        assert labels[0].startswith("✓ web_search") and "4 results" in labels[0]
        assert labels[1].startswith("✓ web_fetch") and "/blog/grpo" in labels[1]
        assert labels[2].startswith("✗ web_fetch")
        # The main agent's system prompt lists the web tools with the others.
        tools_line = next(line for line in prompts[0].splitlines() if "Tools (" in line)
        assert "web_search" in tools_line and "web_fetch" in tools_line
        assert "`web_search` finds pages" in prompts[0]
        assert "PDF document" in children[2].output and "\n" not in children[2].output.strip()
        # The session goes on: the main agent answered after the research call.
        await wait_for(
            pilot,
            lambda: not app.busy and any("Research done" in e for e in app.transcript.entries),
            tries=3000,
        )
        await pilot.press("ctrl+q")
        await wait_until(lambda: not app._serving, 10, "the runtime to stop")
