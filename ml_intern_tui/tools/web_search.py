"""``web_search``: find pages on the web through an HTML search page.

Search reads the HTML results page of a configurable engine (``[web] search_url``,
DuckDuckGo's HTML page by default) and lists title, URL and snippet of each result, with
``allowed_domains`` / ``blocked_domains`` applied. The engine is the user's choice
(config), so the environment's proxies apply here, unlike ``web_fetch``.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any
from urllib.parse import quote_plus, urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ml_intern_tui.core.tool import Tool, ToolContext, ToolError, ToolResult
from ml_intern_tui.integrations.web_page import decode
from ml_intern_tui.integrations.web_search import (
    SearchPage,
    filter_domains,
    normalize_domain,
    parse_results,
)
from ml_intern_tui.tools.web_common import size_text, web_config

if TYPE_CHECKING:
    import httpx

    from ml_intern_tui.config.schema import WebConfig

SEARCH_PAGE_BYTES = 2_000_000
"""A results page larger than this is not a results page."""


def _domains(values: list[str]) -> list[str]:
    return list(dict.fromkeys(normalize_domain(v) for v in values if v.strip()))


class WebSearchArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str = Field(min_length=2, max_length=500, description="What to search the web for.")
    allowed_domains: list[str] = Field(
        default_factory=list,
        description="Only results from these sites (subdomains included; URLs accepted), "
        "e.g. ['github.com', 'arxiv.org'].",
    )
    blocked_domains: list[str] = Field(
        default_factory=list, description="Never results from these sites (subdomains included)."
    )
    max_results: int = Field(8, ge=1, le=20, description="How many results to return (1-20).")

    @field_validator("allowed_domains", "blocked_domains")
    @classmethod
    def _normalize(cls, values: list[str]) -> list[str]:
        return _domains(values)


class WebSearchTool(Tool):
    """Search the web through an HTML search page and list title, URL and snippet."""

    name = "web_search"
    description = (
        "Search the web (blog posts, GitHub issues, forum answers, library docs outside "
        "Hugging Face). Returns title, URL and snippet of each result; read one with "
        "web_fetch. allowed_domains / blocked_domains keep or drop sites (subdomains too)."
    )
    Args = WebSearchArgs
    read_only = True

    def __init__(self, config: WebConfig | None = None) -> None:
        self.config = config
        self._client: httpx.AsyncClient | None = None
        self._client_key: tuple[Any, ...] = ()

    def _http(self, config: WebConfig) -> httpx.AsyncClient:
        import httpx

        key = (config.timeout_s, config.user_agent)
        if self._client is None or key != self._client_key:
            # The engine is the user's own choice (config), so proxies from the environment
            # apply here, unlike web_fetch whose URLs come from the model.
            self._client = httpx.AsyncClient(
                timeout=config.timeout_s,
                follow_redirects=True,
                max_redirects=5,
                headers={"User-Agent": config.user_agent, "Accept": "text/html"},
            )
            self._client_key = key
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def run(self, args: WebSearchArgs, ctx: ToolContext) -> ToolResult:
        config = web_config(self.config, ctx)
        engine = urlsplit(config.search_url).hostname or config.search_url
        query = _engine_query(args)
        ctx.progress(f"searching {engine}: {args.query[:60]}")
        status, page = await self._search(config, query, engine)
        results, dropped = filter_domains(page.results, args.allowed_domains, args.blocked_domains)
        results = results[: args.max_results]
        if not results:
            if page.blocked or (not page.results and status in (202, 403, 429, 503)):
                raise ToolError(
                    f"web_search: {engine} answered with a bot check (HTTP {status}) instead "
                    "of results; try again in a minute, or set [web] search_url to another "
                    "search page"
                )
            if status >= 400:
                raise ToolError(f"web_search: {engine} answered HTTP {status}")
        lines = [f"Web results for {args.query!r} (via {engine}):"]
        if not results:
            lines.append(
                "No results."
                if not dropped
                else f"No results left: {dropped} were outside allowed_domains or in "
                "blocked_domains."
            )
            lines.append("Try other or fewer keywords.")
        for n, result in enumerate(results, 1):
            lines.append(f"\n{n}. {result.title or result.url}\n   {result.url}")
            if result.snippet:
                lines.append(f"   {result.snippet}")
        if results:
            if dropped:
                lines.append(f"\n({dropped} results outside the domain filters were left out.)")
            lines.append(
                "\nRead a page with web_fetch; cite the URLs you rely on in a Sources section."
            )
        output = "\n".join(lines)
        truncated = len(output) > ctx.output_budget
        if truncated:
            output = output[: ctx.output_budget - 100].rsplit("\n", 1)[0] + "\n[results cut]"
        summary = (
            f"{len(results)} result{'s' if len(results) != 1 else ''} · {results[0].title[:60]}"
            if results
            else "no results"
        )
        data = {
            "query": args.query,
            "engine": engine,
            "results": [{"title": r.title, "url": r.url, "snippet": r.snippet} for r in results],
            "dropped": dropped,
        }
        return ToolResult(summary=summary, output=output, data=data, truncated=truncated)

    async def _search(self, config: WebConfig, query: str, engine: str) -> tuple[int, SearchPage]:
        import httpx

        if "{query}" in config.search_url:
            url, params = config.search_url.replace("{query}", quote_plus(query)), None
        else:
            url, params = config.search_url, {"q": query}
        client = self._http(config)
        try:
            async with asyncio.timeout(config.timeout_s):
                async with client.stream("GET", url, params=params) as response:
                    body = bytearray()
                    async for chunk in response.aiter_bytes():
                        body += chunk
                        if len(body) > SEARCH_PAGE_BYTES:
                            raise ToolError(
                                f"web_search: {engine} sent more than "
                                f"{size_text(SEARCH_PAGE_BYTES)}; that is not a results page"
                            )
                    status = response.status_code
                    final_url = str(response.url)
                    charset = response.charset_encoding
        except TimeoutError:
            raise ToolError(
                f"web_search: {engine} did not answer within {config.timeout_s:g} s; try again"
            ) from None
        except httpx.HTTPError as exc:
            raise ToolError(f"web_search: could not reach {engine}: {type(exc).__name__}") from None
        text, _ = decode(bytes(body), charset, html=True)
        page = await asyncio.to_thread(parse_results, text, final_url)
        return status, page


def _engine_query(args: WebSearchArgs) -> str:
    """The query with ``site:`` operators the engines understand (results are filtered too)."""
    query = args.query.strip()
    if len(args.allowed_domains) == 1:
        query += f" site:{args.allowed_domains[0]}"
    for domain in args.blocked_domains:
        query += f" -site:{domain}"
    return query
