"""hf_docs_search and hf_docs_fetch against a fake docs site on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from typing import Any

import pytest
from fakes.http_server import FakeHTTPServer
from fakes.hub_docs import FakeDocs

from ml_intern_tui.core.tool import BadArguments, ToolContext, ToolError, parse_arguments
from ml_intern_tui.integrations.doc_text import section_of
from ml_intern_tui.integrations.hub import HubClient
from ml_intern_tui.paths import cache_dir
from ml_intern_tui.tools.hf_docs import DOC_SETS, HfDocsFetchTool, HfDocsSearchTool


@pytest.fixture
def server() -> Iterator[FakeHTTPServer]:
    with FakeHTTPServer() as srv:
        yield srv


@pytest.fixture
def docs(server: FakeHTTPServer) -> FakeDocs:
    return FakeDocs.install(server)


@pytest.fixture
def hub_ctx(ctx: ToolContext, server: FakeHTTPServer) -> ToolContext:
    ctx.services = replace(ctx.services, hub=HubClient(server.base_url, token="hf_fake"))
    return ctx


@pytest.fixture
async def search() -> AsyncIterator[HfDocsSearchTool]:
    tool = HfDocsSearchTool()
    yield tool
    await tool.aclose()


@pytest.fixture
async def fetch() -> AsyncIterator[HfDocsFetchTool]:
    tool = HfDocsFetchTool()
    yield tool
    await tool.aclose()


async def call(tool: Any, ctx: ToolContext, **raw: Any) -> Any:
    return await tool.run(parse_arguments(tool, raw), ctx)


async def test_search_returns_ranked_hits_with_anchor_and_excerpt(
    search: HfDocsSearchTool, hub_ctx: ToolContext, docs: FakeDocs, recorder: Any
) -> None:
    result = await call(search, hub_ctx, doc_set="trl", query="reward functions", max_results=3)
    assert result.ok
    lines = result.output.splitlines()
    assert lines[0] == f"Documentation: {docs.server.base_url}/docs/trl (6 pages)"
    assert lines[2].startswith("1. GRPO Trainer › Reward functions  (score ")
    assert lines[3].strip() == f"{docs.server.base_url}/docs/trl/grpo_trainer#reward-functions"
    assert "returns one float per completion" in lines[4]
    assert len(result.data["hits"]) <= 3
    assert result.summary.startswith("trl: ") and "Reward functions" in result.summary
    assert recorder.progress == ["indexing trl docs: 6 pages"]
    page_calls = docs.server.calls("GET", r"/docs/trl/.+\.md")
    assert page_calls and page_calls[0].headers["authorization"] == "Bearer hf_fake"


async def test_no_query_lists_first_pages_in_sidebar_order(
    search: HfDocsSearchTool, hub_ctx: ToolContext, docs: FakeDocs
) -> None:
    result = await call(search, hub_ctx, doc_set="trl", max_results=2)
    assert "No query given; the first pages in sidebar order:" in result.output
    assert "1. TRL - Transformer Reinforcement Learning" in result.output
    assert "2. SFT Trainer" in result.output and "DPO" not in result.output


async def test_query_without_hits_falls_back_to_pages_with_a_note(
    search: HfDocsSearchTool, hub_ctx: ToolContext, docs: FakeDocs
) -> None:
    result = await call(search, hub_ctx, doc_set="trl", query="xylophone")
    assert "No section matches 'xylophone'" in result.output
    assert result.summary == "trl: no hits"


async def test_second_tool_instance_uses_the_disk_cache(
    hub_ctx: ToolContext, docs: FakeDocs
) -> None:
    for _ in range(2):  # two sessions
        tool = HfDocsSearchTool()
        result = await call(tool, hub_ctx, doc_set="trl", query="LoRA")
        await tool.aclose()
        assert "peft_integration#lora" in result.output
    assert docs.crawls() == 1
    assert (cache_dir() / "docs" / "trl.json").is_file()


async def test_output_is_cut_to_the_budget_with_a_note(
    search: HfDocsSearchTool, hub_ctx: ToolContext, docs: FakeDocs
) -> None:
    hub_ctx.output_budget = 400
    result = await call(
        search, hub_ctx, doc_set="trl", query="trainer model dataset", max_results=10
    )
    assert result.truncated and len(result.output) <= 400
    assert result.output.endswith("ask for fewer with max_results]")


async def test_search_bad_arguments_are_rejected_clearly(search: HfDocsSearchTool) -> None:
    with pytest.raises(BadArguments, match="doc_set"):
        parse_arguments(search, {"doc_set": "nope", "query": "x"})
    with pytest.raises(BadArguments, match="max_results"):
        parse_arguments(search, {"doc_set": "trl", "max_results": 31})
    assert {"transformers", "trl", "hub", "dataset-viewer"} <= set(DOC_SETS)


async def test_search_server_error_is_one_line(
    search: HfDocsSearchTool, hub_ctx: ToolContext, server: FakeHTTPServer, docs: FakeDocs
) -> None:
    server.fail_next("GET", r"/docs/trl/?", 503)
    with pytest.raises(ToolError) as err:
        await call(search, hub_ctx, doc_set="trl", query="x")
    assert str(err.value) == f"hf_docs_search: {server.base_url}/docs/trl answered HTTP 503"


async def test_search_without_hub_service_says_so(
    search: HfDocsSearchTool, ctx: ToolContext
) -> None:
    with pytest.raises(ToolError, match="'hub' service is not available"):
        await call(search, ctx, doc_set="trl", query="x")


async def test_fetch_returns_the_page_markdown(
    fetch: HfDocsFetchTool, hub_ctx: ToolContext, docs: FakeDocs
) -> None:
    url = f"{docs.server.base_url}/docs/trl/dpo_trainer"
    result = await call(fetch, hub_ctx, url=url)
    assert result.output.startswith(f"Documentation from: {url}\n\n# DPO Trainer")
    assert "## Loss functions" in result.output and not result.truncated
    assert result.summary == "trl/dpo_trainer"


async def test_fetch_one_section_by_heading_or_anchor(
    fetch: HfDocsFetchTool, hub_ctx: ToolContext, docs: FakeDocs
) -> None:
    base = f"{docs.server.base_url}/docs/trl/sft_trainer"
    by_name = await call(fetch, hub_ctx, url=base + ".md", section="dataset formats")
    assert "## Dataset formats" in by_name.output
    assert "Quick start" not in by_name.output and "completion_only_loss" not in by_name.output
    by_anchor = await call(fetch, hub_ctx, url=base + "#completion-only")
    assert "completion_only_loss=True" in by_anchor.output and "Packing" not in by_anchor.output
    relative = await call(fetch, hub_ctx, url="/docs/trl/sft_trainer", section="Quick start")
    assert "# Not a heading" in relative.output  # code stays inside its section


async def test_fetch_long_page_is_cut_with_how_to_read_the_rest(
    fetch: HfDocsFetchTool, hub_ctx: ToolContext, docs: FakeDocs
) -> None:
    docs.pages["big"] = "# Big\n\n" + "".join(
        f"## Part {n}\n\n" + "word " * 400 + "\n\n" for n in range(10)
    )
    hub_ctx.output_budget = 3000
    result = await call(fetch, hub_ctx, url=f"{docs.server.base_url}/docs/trl/big")
    assert result.truncated and len(result.output) <= 3000
    assert "Read the rest one part at a time with section=..." in result.output
    assert "'Part 9'" in result.output


async def test_fetch_refuses_urls_outside_the_docs(
    fetch: HfDocsFetchTool, hub_ctx: ToolContext
) -> None:
    for url in (
        "https://evil.example.com/docs/trl/x",
        "https://huggingface.co/models",
        "file:///etc/passwd",
    ):
        with pytest.raises(ToolError, match="only reads documentation pages under"):
            await call(fetch, hub_ctx, url=url)


async def test_fetch_errors_are_one_line(
    fetch: HfDocsFetchTool, hub_ctx: ToolContext, docs: FakeDocs, server: FakeHTTPServer
) -> None:
    with pytest.raises(ToolError, match=r"no documentation page at .*/docs/trl/missing \(404\)"):
        await call(fetch, hub_ctx, url=f"{server.base_url}/docs/trl/missing")
    server.fail_next("GET", r"/docs/trl/index\.md", 500)
    with pytest.raises(ToolError, match=r"answered HTTP 500$"):
        await call(fetch, hub_ctx, url=f"{server.base_url}/docs/trl/index")
    with pytest.raises(ToolError, match=r"no section 'Nope' in .*; sections: TRL - Transformer"):
        await call(fetch, hub_ctx, url=f"{server.base_url}/docs/trl/index", section="Nope")
    with pytest.raises(BadArguments, match="url"):
        parse_arguments(fetch, {})


def test_section_of_stops_at_the_next_heading_of_the_same_level() -> None:
    text = "# T\n\n## A\n\na\n\n### A.1\n\nsub\n\n## B\n\nb"
    assert section_of(text, "A") == "## A\n\na\n\n### A.1\n\nsub"
    assert section_of(text, "a.1") == "### A.1\n\nsub"
    assert section_of(text, "zzz") is None


@pytest.mark.parametrize(
    ("tool", "required"),
    [(HfDocsSearchTool(), ["doc_set"]), (HfDocsFetchTool(), ["url"])],
    ids=["hf_docs_search", "hf_docs_fetch"],
)
def test_specs_are_generated_and_described(tool: Any, required: list[str]) -> None:
    params = tool.spec()["function"]["parameters"]
    assert params["additionalProperties"] is False and params["required"] == required
    assert all(prop.get("description") for prop in params["properties"].values())
    assert tool.read_only
