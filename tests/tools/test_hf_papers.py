"""hf_papers against a fake Hub (papers, models, datasets, collections) and Semantic Scholar."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from typing import Any

import pytest
from fakes.http_server import FakeHTTPServer
from fakes.hub_papers import BARE_PAPER, HTML_PAPER, MD_PAPER, install_papers
from fakes.semantic_scholar import KNOWN_PAPER, FakeSemanticScholar

from ml_intern_tui.core.tool import (
    BadArguments,
    ToolContext,
    ToolError,
    ToolResult,
    parse_arguments,
)
from ml_intern_tui.integrations.doc_text import find_section, paper_sections
from ml_intern_tui.integrations.hub import HubClient
from ml_intern_tui.integrations.semantic_scholar import SemanticScholarClient, SemanticScholarError
from ml_intern_tui.tools.hf_papers import HfPapersTool, PapersArgs, normalize_arxiv_id


class Sleeps:
    """Records the waits the client asks for instead of sleeping."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
def server() -> Iterator[FakeHTTPServer]:
    with FakeHTTPServer() as srv:
        install_papers(srv)
        yield srv


@pytest.fixture
def s2(server: FakeHTTPServer) -> FakeSemanticScholar:
    return FakeSemanticScholar.install(server)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
async def tool(
    server: FakeHTTPServer, s2: FakeSemanticScholar, sleeps: Sleeps
) -> AsyncIterator[HfPapersTool]:
    client = SemanticScholarClient(
        s2.base_url, min_interval_s=0, backoff_s=1.0, jitter=0, sleep=sleeps
    )
    papers = HfPapersTool(papers_text_base=server.base_url + "/html", semantic_scholar=client)
    yield papers
    await papers.aclose()


@pytest.fixture
def hub_ctx(ctx: ToolContext, server: FakeHTTPServer) -> ToolContext:
    ctx.services = replace(ctx.services, hub=HubClient(server.base_url, token="hf_fake"))
    return ctx


async def call(tool: HfPapersTool, ctx: ToolContext, **raw: Any) -> ToolResult:
    args = parse_arguments(tool, raw)
    assert isinstance(args, PapersArgs)
    return await tool.run(args, ctx)


async def test_search(tool: HfPapersTool, hub_ctx: ToolContext, server: FakeHTTPServer) -> None:
    result = await call(tool, hub_ctx, operation="search", query="policy optimization", limit=5)
    assert result.output.startswith("Papers matching 'policy optimization':\n1. [")
    assert (
        f"[{HTML_PAPER}] Group Relative Policy Optimization at Scale (2024-01-02 · 42 upvotes)"
        in result.output
    )
    assert "Ada Lovelace, Alan Turing" in result.output
    assert f"{server.base_url}/papers/{MD_PAPER}" in result.output
    assert [p["id"] for p in result.data["papers"]] == [MD_PAPER, HTML_PAPER]  # type: ignore[index]
    assert server.calls("GET", "/api/papers/search")[0].query["q"] == ["policy optimization"]


async def test_search_without_matches(tool: HfPapersTool, hub_ctx: ToolContext) -> None:
    result = await call(tool, hub_ctx, operation="search", query="quantum knitting")
    assert result.ok and result.output == "Papers matching 'quantum knitting': no papers found."


async def test_trending_with_date_and_keyword_filter(
    tool: HfPapersTool, hub_ctx: ToolContext, server: FakeHTTPServer
) -> None:
    result = await call(tool, hub_ctx, operation="trending", date="2024-03-01", query="reasoning")
    assert result.output.startswith("Daily papers (2024-03-01) matching 'reasoning':")
    assert HTML_PAPER in result.output and MD_PAPER not in result.output
    request = server.calls("GET", "/api/daily_papers")[0]
    assert request.query["date"] == ["2024-03-01"] and request.query["limit"] == ["30"]
    everything = await call(tool, hub_ctx, operation="trending", limit=2)
    assert everything.summary.startswith("trending: 2 papers")


async def test_details(tool: HfPapersTool, hub_ctx: ToolContext) -> None:
    result = await call(
        tool, hub_ctx, operation="details", arxiv_id=f"https://arxiv.org/abs/{MD_PAPER}v2"
    )
    lines = result.output.splitlines()
    assert lines[0] == f"Direct Preference Optimization Revisited  [arXiv {MD_PAPER}]"
    assert "Code: https://github.com/example/dpo-revisited" in lines
    assert "Keywords: preference optimization, alignment" in lines
    assert "We revisit DPO and show that a reference-free variant matches PPO." in lines
    assert f"arXiv: https://arxiv.org/abs/{MD_PAPER}" in lines


async def test_read_markdown_table_of_contents_and_sections(
    tool: HfPapersTool, hub_ctx: ToolContext
) -> None:
    toc = await call(tool, hub_ctx, operation="read", arxiv_id=MD_PAPER)
    assert toc.data["sections"] == [  # type: ignore[index]
        "Abstract",
        "1 Introduction",
        "2 Method",
        "2.1 Objective",
        "2.2 Reference-free variant",
        "3 Experiments",
        "References",
    ]
    assert toc.output.startswith("Direct Preference Optimization Revisited\nSource: ")
    assert "Read one with section='<number or title>'." in toc.output
    by_number = await call(tool, hub_ctx, operation="read", arxiv_id=MD_PAPER, section="2.2")
    assert by_number.output.endswith(
        "We drop the reference model and regularise with length normalisation."
    )
    assert by_number.summary == f"{MD_PAPER} § 2.2 Reference-free variant"
    by_title = await call(tool, hub_ctx, operation="read", arxiv_id=MD_PAPER, section="experiments")
    assert "a tenth of the cost" in by_title.output
    parent = await call(tool, hub_ctx, operation="read", arxiv_id=MD_PAPER, section="2")
    assert "### 2.1 Objective" in parent.output and "### 2.2 Reference-free" in parent.output
    assert "a tenth of the cost" not in parent.output


async def test_read_arxiv_html_when_the_hub_has_no_markdown(
    tool: HfPapersTool, hub_ctx: ToolContext, server: FakeHTTPServer
) -> None:
    toc = await call(tool, hub_ctx, operation="read", arxiv_id=HTML_PAPER)
    assert toc.data["source"] == f"{server.base_url}/html/{HTML_PAPER}"  # type: ignore[index]
    assert toc.data["sections"] == [  # type: ignore[index]
        "Abstract",
        "1 Introduction",
        "2 Group Sampling",
        "2.1 Group size",
        "3 Results",
    ]
    assert "not a section" not in toc.output and "color: red" not in toc.output
    intro = await call(tool, hub_ctx, operation="read", arxiv_id=HTML_PAPER, section="Introduction")
    assert "the advantage is $A_i = r_i - \\bar{r}$ for each sample." in intro.output
    prefix = await call(tool, hub_ctx, operation="read", arxiv_id=HTML_PAPER, section="group size")
    assert "reduce the variance" in prefix.output


async def test_read_without_full_text_gives_the_abstract(
    tool: HfPapersTool, hub_ctx: ToolContext
) -> None:
    result = await call(tool, hub_ctx, operation="read", arxiv_id=BARE_PAPER)
    assert "Only an abstract exists." in result.output
    assert result.output.endswith(f"PDF: https://arxiv.org/pdf/{BARE_PAPER}")


async def test_read_unknown_section_lists_the_sections(
    tool: HfPapersTool, hub_ctx: ToolContext
) -> None:
    with pytest.raises(
        ToolError, match=r"no section 'Appendix Z' in 2401.00001; sections: Abstract; 1 Intro"
    ):
        await call(tool, hub_ctx, operation="read", arxiv_id=MD_PAPER, section="Appendix Z")


async def test_find_models_datasets_collections(
    tool: HfPapersTool, hub_ctx: ToolContext, server: FakeHTTPServer
) -> None:
    models = await call(tool, hub_ctx, operation="find_models", arxiv_id=MD_PAPER)
    assert models.output.splitlines()[:3] == [
        f"2 models citing arXiv {MD_PAPER}:",
        "- example/dpo-model (900 downloads, 90 likes)",
        f"  {server.base_url}/example/dpo-model",
    ]
    assert server.calls("GET", "/api/models")[0].query["filter"] == [f"arxiv:{MD_PAPER}"]
    datasets = await call(tool, hub_ctx, operation="find_datasets", arxiv_id=MD_PAPER)
    assert f"{server.base_url}/datasets/example/preferences" in datasets.output
    collections = await call(tool, hub_ctx, operation="find_collections", arxiv_id=MD_PAPER)
    assert "- Alignment papers (7 upvotes, 1 items)" in collections.output
    assert "/collections/alice/alignment-papers-" in collections.output
    none = await call(tool, hub_ctx, operation="find_models", arxiv_id=HTML_PAPER)
    assert none.output == f"No models on the Hub cite arXiv {HTML_PAPER}."


async def test_citations_both_directions_with_pagination(
    tool: HfPapersTool, hub_ctx: ToolContext, s2: FakeSemanticScholar
) -> None:
    result = await call(tool, hub_ctx, operation="citations", arxiv_id=KNOWN_PAPER, limit=5)
    assert result.data == {"citations": 5, "references": 3}
    assert "Cited by (5):" in result.output and "References (3):" in result.output
    assert (
        "1. Citing paper 0 (2024; 100 citations; arXiv 2405.00000) ★ influential" in result.output
    )
    assert "2. Citing paper 1 (2024; 99 citations; NeurIPS)" in result.output
    assert s2.calls() == 3  # two pages of citations (3 + 2), one of references
    only = await call(
        tool, hub_ctx, operation="citations", arxiv_id=KNOWN_PAPER, direction="references"
    )
    assert only.data == {"references": 3}


async def test_citations_retry_after_429_honours_retry_after(
    tool: HfPapersTool, hub_ctx: ToolContext, s2: FakeSemanticScholar, sleeps: Sleeps
) -> None:
    s2.rate_limit(2, retry_after="7")
    result = await call(
        tool, hub_ctx, operation="citations", arxiv_id=KNOWN_PAPER, direction="references"
    )
    assert result.data == {"references": 3}
    assert sleeps.waits == [7.0, 7.0]


async def test_citations_give_up_after_bounded_retries(
    s2: FakeSemanticScholar, sleeps: Sleeps
) -> None:
    s2.rate_limit(10, retry_after="not-a-number")
    client = SemanticScholarClient(
        s2.base_url, min_interval_s=0, max_retries=2, backoff_s=1.5, jitter=0, sleep=sleeps
    )
    with pytest.raises(SemanticScholarError, match="rate limit after 3 attempts"):
        await client.related(KNOWN_PAPER, "citations", 5)
    await client.aclose()
    assert sleeps.waits == [1.5, 3.0] and s2.calls() == 3


async def test_semantic_scholar_key_rate_limit_and_env(
    s2: FakeSemanticScholar, sleeps: Sleeps, server: FakeHTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEMANTIC_SCHOLAR_API_BASE", s2.base_url)
    monkeypatch.setenv("S2_API_KEY", "s2-secret")
    client = SemanticScholarClient(min_interval_s=30, sleep=sleeps)
    assert client.base_url == s2.base_url
    await client.related(KNOWN_PAPER, "references", 3)
    await client.related(KNOWN_PAPER, "references", 3)
    await client.aclose()
    assert server.calls("GET", r"/graph/v1/.+")[0].headers["x-api-key"] == "s2-secret"
    assert len(sleeps.waits) == 1 and 29 < sleeps.waits[0] <= 30  # the second call waited its turn


async def test_citations_server_error_and_not_found_are_one_line(
    tool: HfPapersTool, hub_ctx: ToolContext, server: FakeHTTPServer
) -> None:
    with pytest.raises(
        ToolError, match=r"^citations of 2499.99999: paper not found on Semantic Scholar$"
    ):
        await call(tool, hub_ctx, operation="citations", arxiv_id="2499.99999")
    for _ in range(4):
        server.fail_next("GET", r"/graph/v1/.+", 502)
    with pytest.raises(
        ToolError, match=r"server error HTTP 502 after 4 attempts; try again later$"
    ):
        await call(
            tool, hub_ctx, operation="citations", arxiv_id=KNOWN_PAPER, direction="citations"
        )


async def test_bad_arguments_are_clear(tool: HfPapersTool, hub_ctx: ToolContext) -> None:
    with pytest.raises(ToolError, match=r"^details needs arxiv_id"):
        await call(tool, hub_ctx, operation="details")
    with pytest.raises(ToolError, match=r"^search needs a query"):
        await call(tool, hub_ctx, operation="search")
    with pytest.raises(ToolError, match=r"is not an arXiv id"):
        await call(tool, hub_ctx, operation="details", arxiv_id="not an id")
    with pytest.raises(BadArguments, match="operation"):
        parse_arguments(tool, {"operation": "summarize"})
    with pytest.raises(BadArguments, match="date"):
        parse_arguments(tool, {"operation": "trending", "date": "March 1st"})
    with pytest.raises(BadArguments, match="limit"):
        parse_arguments(tool, {"operation": "search", "query": "x", "limit": 0})


async def test_hub_errors_are_one_line(
    tool: HfPapersTool, hub_ctx: ToolContext, server: FakeHTTPServer
) -> None:
    with pytest.raises(ToolError, match=r"^paper 2499.99999 not found on the Hub$"):
        await call(tool, hub_ctx, operation="details", arxiv_id="2499.99999")
    server.fail_next("GET", r"/api/papers/search", 500)
    with pytest.raises(ToolError) as err:
        await call(tool, hub_ctx, operation="search", query="dpo")
    assert str(err.value).startswith("Hub request failed (500)") and "\n" not in str(err.value)
    server.fail_next("GET", r"/api/daily_papers", 503)
    with pytest.raises(ToolError, match=r"^Hub request failed \(503\): daily papers$"):
        await call(tool, hub_ctx, operation="trending")


async def test_hub_operations_need_the_hub_service(tool: HfPapersTool, ctx: ToolContext) -> None:
    with pytest.raises(ToolError, match="'hub' service is not available"):
        await call(tool, ctx, operation="search", query="x")


def test_arxiv_ids_are_normalised() -> None:
    assert normalize_arxiv_id("arXiv:2401.00001v3") == "2401.00001"
    assert normalize_arxiv_id("https://huggingface.co/papers/2401.12345") == "2401.12345"
    assert normalize_arxiv_id("hep-th/9901001") == "hep-th/9901001"


def test_unnumbered_papers_get_numbers_and_prefix_matching_works() -> None:
    title, sections = paper_sections(
        "# T\n\n## Intro\n\nx\n\n## Body\n\n### Part\n\ny\n\n## End\n\nz"
    )
    assert title == "T"
    assert [s.label for s in sections] == ["1 Intro", "2 Body", "2.1 Part", "3 End"]
    found = find_section(sections, "section 2.1")
    assert found is not None and found.text == "y"


def test_numbered_headings_keep_their_numbers_and_unnumbered_ones_none() -> None:
    _, sections = paper_sections(
        "# T\n\n## Abstract\n\na\n\n## 1. A Simple Method\n\nb\n\n## A Note\n\nc"
    )
    assert [(s.number, s.title) for s in sections] == [
        ("", "Abstract"),
        ("1", "A Simple Method"),
        ("", "A Note"),
    ]


def test_spec_is_generated_and_described() -> None:
    tool = HfPapersTool(semantic_scholar=SemanticScholarClient("http://127.0.0.1:9"))
    params = tool.spec()["function"]["parameters"]
    assert params["additionalProperties"] is False and params["required"] == ["operation"]
    assert all(prop.get("description") for prop in params["properties"].values())
    assert "citations" in params["properties"]["operation"]["enum"] and tool.read_only
