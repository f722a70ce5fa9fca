"""web_fetch against a fake web site on 127.0.0.1, through real httpx.

The site is on loopback, which web_fetch refuses by default; these tests allow exactly
127.0.0.1 in their config (``tests/security/test_web_addresses.py`` tests the refusals).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from fakes.web_site import HUGE_BYTES, FakeWeb

from ml_intern_tui.config.schema import WebConfig
from ml_intern_tui.core.tool import ToolContext, ToolError, parse_arguments
from ml_intern_tui.tools.web_fetch import WebFetchTool, with_scheme

LIMIT = 200_000


@pytest.fixture
def web() -> Iterator[FakeWeb]:
    site = FakeWeb()
    yield site
    site.close()


def config(**changes: Any) -> WebConfig:
    values: dict[str, Any] = {
        "allow_private_networks": ["127.0.0.1/32"],
        "max_page_bytes": LIMIT,
        "timeout_s": 5,
    }
    return WebConfig(**{**values, **changes})


@pytest.fixture
async def fetch() -> AsyncIterator[WebFetchTool]:
    tool = WebFetchTool(config())
    yield tool
    await tool.aclose()


async def call(tool: Any, ctx: ToolContext, **raw: Any) -> Any:
    return await tool.run(parse_arguments(tool, raw), ctx)


async def refused(tool: Any, ctx: ToolContext, **raw: Any) -> str:
    with pytest.raises(ToolError) as caught:
        await call(tool, ctx, **raw)
    message = str(caught.value)
    assert "\n" not in message and message.startswith("web_fetch: ")
    return message


async def test_article_as_markdown_with_table_code_and_links(
    fetch: WebFetchTool, ctx: ToolContext, web: FakeWeb, recorder: Any
) -> None:
    url = web.url("/blog/grpo")
    result = await call(fetch, ctx, url=url)
    assert result.ok and not result.truncated
    head, body = result.output.split("\n\n", 1)
    assert head.splitlines() == [
        f"URL: {url}",
        "Title: GRPO on a budget — Fake ML blog",
        f"Content: text/html → Markdown · {result.data['chars']:,} characters · "
        f"showing 0-{result.data['chars']:,}",
    ]
    assert body.startswith("# GRPO on a budget\n\nWe trained **Qwen2.5-0.5B** with GRPO")
    assert f"[the TRL trainer]({web.url('/docs/trl/grpo')})" in body
    assert "| Qwen2.5-0.5B | GRPO \\| LoRA | 45.8 |" in body
    assert "```python\nfrom trl import GRPOConfig, GRPOTrainer" in body
    assert "- reward: exact match\n  - plus a format bonus\n- epochs: 1" in body
    for chrome in ("Home", "Popular posts", "Privacy", "window.track", "ignore previous"):
        assert chrome not in body
    assert result.summary == f"127.0.0.1:{web.port}/blog/grpo · {len(body)} chars"
    assert recorder.progress[0] == f"fetching {url}"


async def test_redirects_are_followed_and_said(
    fetch: WebFetchTool, ctx: ToolContext, web: FakeWeb
) -> None:
    start = web.url("/redirect/hop1")
    result = await call(fetch, ctx, url=start)
    assert result.output.startswith(f"URL: {web.url('/blog/grpo')} (redirected from {start})")
    assert result.data["final_url"] == web.url("/blog/grpo")
    assert web.paths() == ["/redirect/hop1", "/redirect/hop2", "/blog/grpo"]


async def test_redirect_loop_cap_and_bad_scheme_are_one_line(
    fetch: WebFetchTool, ctx: ToolContext, web: FakeWeb
) -> None:
    message = await refused(fetch, ctx, url=web.url("/loop/a"))
    assert message == (
        f"web_fetch: redirect loop: {web.url('/loop/a')} → {web.url('/loop/b')} → "
        f"{web.url('/loop/a')}"
    )
    message = await refused(fetch, ctx, url=web.url("/chain/9"))
    assert message == f"web_fetch: too many redirects (more than 5) from {web.url('/chain/9')}"
    assert len(web.server.calls("GET", r"/chain/\d+")) == 6
    ok = await call(fetch, ctx, url=web.url("/chain/4"))  # 5 redirects are fine
    assert ok.data["final_url"] == web.url("/notes.txt")
    message = await refused(fetch, ctx, url=web.url("/redirect/file"))
    assert "redirects to file:///etc/passwd, which is not an http(s) URL" in message
    before = web.paths().count("/notes.txt")
    message = await refused(fetch, ctx, url=web.url("/redirect/credentials"))
    assert message == "web_fetch: URLs with a user name or password are not fetched"
    assert web.paths().count("/notes.txt") == before  # the redirect was not followed


async def test_text_json_and_markdown_come_as_they_are(
    fetch: WebFetchTool, ctx: ToolContext, web: FakeWeb
) -> None:
    text = await call(fetch, ctx, url=web.url("/notes.txt"))
    assert text.output.endswith("\n\nline one\n  indented <b>not html</b>\n")
    assert "Content: text/plain · " in text.output and "Title:" not in text.output
    data = await call(fetch, ctx, url=web.url("/data.json"))
    assert data.output.endswith('\n\n{"lr": 1e-06, "tags": ["grpo"]}')
    md = await call(fetch, ctx, url=web.url("/readme.md"))
    assert md.output.endswith("\n\n# Title\n\n| a | b |\n|---|---|\n| 1 | 2 |\n")
    sniffed = await call(fetch, ctx, url=web.url("/sniffed"))  # no Content-Type: sniffed
    assert "Content: unlabelled → Markdown" in sniffed.output
    assert sniffed.output.endswith("\n\n# Sniffed")


async def test_charsets_from_meta_header_and_bad_bytes(
    fetch: WebFetchTool, ctx: ToolContext, web: FakeWeb
) -> None:
    latin = await call(fetch, ctx, url=web.url("/latin1"))
    assert "Title: Résultats" in latin.output
    assert "| modèle | précision |" in latin.output and "| Größe | 0,91 |" in latin.output
    assert "Ça marche — « déjà vu »." in latin.output
    cyrillic = await call(fetch, ctx, url=web.url("/cyrillic"))  # header beats the meta
    assert "Обучение модели с подкреплением." in cyrillic.output
    broken = await call(fetch, ctx, url=web.url("/broken.txt"))
    assert broken.output.endswith("valid start \ufffd\ufffd\ufffd end")


@pytest.mark.parametrize(
    ("path", "what"),
    [
        (
            "/paper.pdf",
            "is a PDF document (application/pdf); web_fetch reads web pages and "
            "text files only. For an arXiv paper use hf_papers.",
        ),
        ("/image.png", "is an image (image/png); web_fetch reads web pages and text files only."),
        ("/blob", "is binary data (application/octet-stream); web_fetch reads web pages"),
    ],
)
async def test_pdfs_and_binaries_are_refused_in_one_line(
    fetch: WebFetchTool, ctx: ToolContext, web: FakeWeb, path: str, what: str
) -> None:
    message = await refused(fetch, ctx, url=web.url(path))
    assert message.startswith(f"web_fetch: {web.url(path)} {what}")


@pytest.mark.parametrize("path", ["/huge", "/huge-declared"])
async def test_a_page_over_the_size_limit_is_cut_said_and_never_downloaded(
    fetch: WebFetchTool, ctx: ToolContext, web: FakeWeb, path: str
) -> None:
    result = await call(fetch, ctx, url=web.url(path))
    assert result.ok and result.truncated and result.data["over_limit"]
    notes = [line for line in result.output.splitlines() if line.startswith("Note:")]
    announced = " (it announced 209.7 MB)" if path.endswith("declared") else ""
    assert notes == [
        f"Note: The page is larger than the 200 kB limit{announced}: only its first 200 kB "
        "were read."
    ]
    assert result.summary.endswith(" · over size limit")
    assert len(result.output) <= ctx.output_budget
    # The server was stopped long before the end of its 200 MB body.
    assert web.huge_sent < HUGE_BYTES // 4
    # And the session goes on: the next fetch works.
    assert (await call(fetch, ctx, url=web.url("/notes.txt"))).ok


async def test_a_slow_page_times_out_in_one_line(ctx: ToolContext, web: FakeWeb) -> None:
    tool = WebFetchTool(config(timeout_s=1))
    started = time.monotonic()
    try:
        message = await refused(tool, ctx, url=web.url("/slow"))
    finally:
        await tool.aclose()
    assert message == (
        f"web_fetch: {web.url('/slow')} did not answer in full within 1 s; try again later "
        "or use another source"
    )
    assert time.monotonic() - started < 4


async def test_http_errors_and_unreachable_hosts(
    fetch: WebFetchTool, ctx: ToolContext, web: FakeWeb
) -> None:
    message = await refused(fetch, ctx, url=web.url("/status/404"))
    assert message == f"web_fetch: {web.url('/status/404')} answered HTTP 404 Not Found"
    message = await refused(fetch, ctx, url="http://no-such-host.invalid/page")
    assert message.startswith("web_fetch: cannot resolve host 'no-such-host.invalid'")
    message = await refused(fetch, ctx, url="ftp://example.com/file")
    assert "only http and https URLs can be fetched (got ftp scheme" in message
    message = await refused(fetch, ctx, url="https://user:secret@example.com/")
    assert "user name or password" in message


async def test_long_pages_come_in_parts_from_one_download(
    fetch: WebFetchTool, ctx: ToolContext, web: FakeWeb
) -> None:
    ctx.output_budget = 8000  # what a research sub-agent's tools get
    first = await call(fetch, ctx, url=web.url("/long"))
    total = first.data["chars"]
    assert total > 50_000 and first.truncated and not first.data["cached"]
    assert len(first.output) <= 8000
    next_offset = first.data["next_offset"]
    footer = first.output.rsplit("\n", 1)[1]
    assert footer.startswith(
        f"[{total - next_offset:,} more characters: call web_fetch with the same url and "
        f"offset={next_offset} to read on, or section='<heading>' for one part; sections: "
        "'Part 1', 'Part 2'"
    )
    assert first.output.split("\n\n", 1)[1].startswith("## Part 1\n\nParagraph 0 of part 1")

    second = await call(fetch, ctx, url=web.url("/long"), offset=next_offset, max_chars=2000)
    assert second.data["cached"] and second.data["offset"] == next_offset
    assert f"showing {next_offset:,}-" in second.output
    shown = second.output.split("\n\n", 1)[1].rsplit("\n\n[", 1)[0]
    assert len(shown) <= 2000
    assert len(web.server.calls("GET", "/long")) == 1  # paging did not download again

    part = await call(fetch, ctx, url=web.url("/long"), section="Part 17")
    assert "section 'Part 17': " in part.output
    assert "Paragraph 11 of part 17" in part.output and "part 18" not in part.output

    message = await refused(fetch, ctx, url=web.url("/long"), section="Conclusion")
    assert message.startswith("web_fetch: no section 'Conclusion' in ")
    assert "'Part 1', 'Part 2'" in message
    message = await refused(fetch, ctx, url=web.url("/long"), offset=total + 5)
    assert f"offset {total + 5:,} is past the end of the text ({total:,} characters)" in message


async def test_script_only_pages_and_hostile_nesting_say_what_happened(
    fetch: WebFetchTool, ctx: ToolContext, web: FakeWeb
) -> None:
    spa = await call(fetch, ctx, url=web.url("/spa"))
    assert "Note: The page has no readable text without JavaScript" in spa.output
    deep = await call(fetch, ctx, url=web.url("/deep"))
    assert "Note: The page nests elements over 255 deep: the deepest parts are left out." in (
        deep.output
    )


@pytest.mark.parametrize(
    ("given", "url"),
    [
        ("huggingface.co/docs/trl", "https://huggingface.co/docs/trl"),
        (" arxiv.org ", "https://arxiv.org"),
        ("docs.example.com:8443/x?y=1", "https://docs.example.com:8443/x?y=1"),
        ("http://example.com/", "http://example.com/"),
        ("file:///etc/passwd", "file:///etc/passwd"),  # refused later, not rewritten
        ("javascript:alert(1)", "javascript:alert(1)"),
        ("GRPO paper", "GRPO paper"),
    ],
)
def test_a_bare_host_gets_https(given: str, url: str) -> None:
    assert with_scheme(given) == url


async def test_the_paging_cache_is_bounded(
    ctx: ToolContext, web: FakeWeb, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ml_intern_tui.tools import web_fetch

    monkeypatch.setattr(web_fetch, "CACHE_CHARS", 70_000)  # room for one long page
    tool = WebFetchTool(config())
    try:
        await call(tool, ctx, url=web.url("/long"))
        await call(tool, ctx, url=web.url("/notes.txt"))
        await call(tool, ctx, url=web.url("/long?again=1"))
        await call(tool, ctx, url=web.url("/notes.txt"))
        again = await call(tool, ctx, url=web.url("/long"), offset=100)
    finally:
        await tool.aclose()
    assert again.data["cached"] is False  # pushed out by the second long page
    assert len(web.server.calls("GET", "/long")) == 3
    assert len(web.server.calls("GET", "/notes.txt")) == 1
