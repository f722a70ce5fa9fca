"""web_search against a fake DuckDuckGo HTML page on 127.0.0.1, through real httpx."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from typing import Any

import pytest
from fakes.web_site import FakeResult, FakeWeb

from ml_intern_tui.config.schema import AppConfig, WebConfig
from ml_intern_tui.core.tool import BadArguments, ToolContext, ToolError, parse_arguments
from ml_intern_tui.tools.web_search import WebSearchTool


@pytest.fixture
def web() -> Iterator[FakeWeb]:
    site = FakeWeb()
    yield site
    site.close()


@pytest.fixture
def web_ctx(ctx: ToolContext, web: FakeWeb) -> ToolContext:
    """The session's settings point ``[web] search_url`` at the fake engine."""
    ctx.services = replace(
        ctx.services, settings=AppConfig(web=WebConfig(search_url=web.search_url, timeout_s=5))
    )
    return ctx


@pytest.fixture
async def search() -> AsyncIterator[WebSearchTool]:
    tool = WebSearchTool()
    yield tool
    await tool.aclose()


async def call(tool: Any, ctx: ToolContext, **raw: Any) -> Any:
    return await tool.run(parse_arguments(tool, raw), ctx)


async def test_results_have_title_url_snippet_decoded_and_deduplicated(
    search: WebSearchTool, web_ctx: ToolContext, web: FakeWeb, recorder: Any
) -> None:
    result = await call(search, web_ctx, query="grpo recipe")
    assert result.ok and web.queries == ["grpo recipe"]
    blog = web.url("/blog/grpo")
    assert result.output.splitlines()[0] == "Web results for 'grpo recipe' (via 127.0.0.1):"
    assert (
        f"1. GRPO on a budget — Fake ML blog\n   {blog}\n"
        "   We trained Qwen2.5-0.5B with GRPO on GSM8K & got 45.8."
    ) in result.output
    urls = [r["url"] for r in result.data["results"]]
    # The ad, the duplicate (fragment, trailing slash) and the ftp link are gone.
    assert urls == [
        blog,
        "https://huggingface.co/docs/trl/grpo_trainer",
        "https://github.com/huggingface/trl/issues/2",
        "https://notes.example.org/grpo",
    ]
    assert "Sponsored" not in result.output and "ftp://" not in result.output
    assert "web_fetch" in result.output  # tells the model how to read on
    assert result.summary == "4 results · GRPO on a budget — Fake ML blog"
    assert recorder.progress == ["searching 127.0.0.1: grpo recipe"]
    request = web.server.calls("GET", r"/html/?")[0]
    assert "ml-intern-tui" in request.headers["user-agent"]


async def test_domain_filters_keep_subdomains_accept_urls_and_reach_the_query(
    search: WebSearchTool, web_ctx: ToolContext, web: FakeWeb
) -> None:
    result = await call(
        search, web_ctx, query="grpo", allowed_domains=["https://Example.ORG/some/page"]
    )
    assert [r["url"] for r in result.data["results"]] == ["https://notes.example.org/grpo"]
    assert result.data["dropped"] == 3
    assert "3 results outside the domain filters were left out" in result.output
    assert web.queries[-1] == "grpo site:example.org"

    result = await call(
        search, web_ctx, query="grpo", blocked_domains=["github.com", "*.example.org"]
    )
    urls = [r["url"] for r in result.data["results"]]
    assert urls == [web.url("/blog/grpo"), "https://huggingface.co/docs/trl/grpo_trainer"]
    assert web.queries[-1] == "grpo -site:github.com -site:example.org"

    result = await call(search, web_ctx, query="grpo", allowed_domains=["arxiv.org"])
    assert result.ok and result.summary == "no results"
    assert "No results left: 4 were outside allowed_domains" in result.output


async def test_max_results_and_a_bad_domain(search: WebSearchTool, web_ctx: ToolContext) -> None:
    result = await call(search, web_ctx, query="grpo", max_results=2)
    assert len(result.data["results"]) == 2
    with pytest.raises(BadArguments, match="'not a domain!' is not a domain"):
        parse_arguments(search, {"query": "grpo", "blocked_domains": ["not a domain!"]})
    with pytest.raises(BadArguments, match="query"):
        parse_arguments(search, {"query": "x"})


async def test_no_results_page_is_a_normal_answer(
    search: WebSearchTool, web_ctx: ToolContext
) -> None:
    result = await call(search, web_ctx, query="nothing matches this")
    assert result.ok and result.summary == "no results"
    assert "No results." in result.output and "Try other or fewer keywords." in result.output


async def test_bot_check_is_one_clear_line(search: WebSearchTool, web_ctx: ToolContext) -> None:
    with pytest.raises(ToolError) as caught:
        await call(search, web_ctx, query="captcha please")
    message = str(caught.value)
    assert "\n" not in message
    assert "bot check (HTTP 202)" in message and "[web] search_url" in message


async def test_engine_errors_are_one_line(
    search: WebSearchTool, ctx: ToolContext, web: FakeWeb
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        dead = probe.getsockname()[1]
    ctx.services = replace(
        ctx.services,
        settings=AppConfig(web=WebConfig(search_url=f"http://127.0.0.1:{dead}/html/", timeout_s=5)),
    )
    with pytest.raises(ToolError, match=r"^web_search: could not reach 127\.0\.0\.1: Connect"):
        await call(search, ctx, query="grpo")
    ctx.services = replace(
        ctx.services,
        settings=AppConfig(web=WebConfig(search_url=web.url("/status/500"), timeout_s=5)),
    )
    with pytest.raises(ToolError, match=r"^web_search: 127\.0\.0\.1 answered HTTP 500$"):
        await call(search, ctx, query="grpo")


async def test_query_placeholder_and_an_explicit_config(ctx: ToolContext, web: FakeWeb) -> None:
    web.results = [FakeResult("Only one", "https://one.example/", "x")]
    tool = WebSearchTool(WebConfig(search_url=web.search_url + "?q={query}&kl=us-en"))
    try:
        result = await call(tool, ctx, query="lora rank & alpha")
    finally:
        await tool.aclose()
    assert web.queries == ["lora rank & alpha"]
    assert web.server.calls("GET", r"/html/?")[0].query["kl"] == ["us-en"]
    assert result.summary == "1 result · Only one"


async def test_a_slow_engine_times_out_in_one_line(ctx: ToolContext, web: FakeWeb) -> None:
    tool = WebSearchTool(WebConfig(search_url=web.url("/slow"), timeout_s=1))
    try:
        with pytest.raises(ToolError) as caught:
            await call(tool, ctx, query="grpo")
    finally:
        await tool.aclose()
    assert str(caught.value) == "web_search: 127.0.0.1 did not answer within 1 s; try again"
