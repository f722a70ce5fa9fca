"""``web_search`` and ``web_fetch``: find pages on the web and read one as Markdown.

Search reads the HTML results page of a configurable engine (``[web] search_url``,
DuckDuckGo's HTML page by default). Fetch reads a page through ``integrations/web_http``
(public addresses only, redirects capped, size and time limits) and converts it with
``integrations/web_page``; long pages are read in parts (``offset``) or by ``section``,
from a short-lived cache so paging does not download the page again.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote_plus, urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ml_intern_tui.core.tool import Tool, ToolContext, ToolError, ToolResult
from ml_intern_tui.integrations.doc_text import markdown_headings, section_of
from ml_intern_tui.integrations.web_http import (
    Resolver,
    WebError,
    fetch,
    guarded_client,
    parse_networks,
    system_resolve,
)
from ml_intern_tui.integrations.web_page import classify, decode, html_to_markdown
from ml_intern_tui.integrations.web_search import (
    SearchPage,
    filter_domains,
    normalize_domain,
    parse_results,
)

if TYPE_CHECKING:
    import httpx

    from ml_intern_tui.config.schema import WebConfig

SEARCH_PAGE_BYTES = 2_000_000
"""A results page larger than this is not a results page."""
CACHE_ENTRIES = 16
CACHE_TTL_S = 600.0
HEADER_RESERVE = 800
"""Characters of a fetch output kept for its header and footer lines."""


def web_config(explicit: WebConfig | None, ctx: ToolContext) -> WebConfig:
    """The ``[web]`` settings: given to the tool, else the session's, else the defaults."""
    from ml_intern_tui.config.schema import WebConfig

    if explicit is not None:
        return explicit
    found = getattr(ctx.services.get("settings"), "web", None)
    return found if isinstance(found, WebConfig) else WebConfig()


def _size(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f} MB"
    if n >= 1000:
        return f"{n / 1000:.0f} kB"
    return f"{n} bytes"


def _domains(values: list[str]) -> list[str]:
    return list(dict.fromkeys(normalize_domain(v) for v in values if v.strip()))


# ------------------------------------------------------------------ web_search


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
                                f"{_size(SEARCH_PAGE_BYTES)}; that is not a results page"
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


# ------------------------------------------------------------------ web_fetch


class WebFetchArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=4000, description="The http(s) URL of the page.")
    offset: int = Field(
        0, ge=0, description="Start at this character of the page's text (to read on)."
    )
    max_chars: int | None = Field(
        None, ge=500, description="At most this many characters (default: the output budget)."
    )
    section: str | None = Field(
        None, description="Return only the part under this heading (its text or anchor)."
    )


@dataclass
class _Doc:
    """A fetched page as text, kept a few minutes for paging."""

    url: str
    final_url: str
    title: str
    content_type: str
    kind: str
    text: str
    notes: list[str] = field(default_factory=list)
    over_limit: bool = False
    at: float = field(default_factory=time.monotonic)


class WebFetchTool(Tool):
    """Read a web page as Markdown (or a text file as it is), in parts when it is long."""

    name = "web_fetch"
    description = (
        "Read a web page as Markdown: HTML is converted (tables, code and links kept; "
        "scripts, menus and footers dropped); text, Markdown and JSON come as they are. "
        "Long pages come in parts: pass offset=<next offset> to read on, or section="
        "'<heading>' for one part. Public http(s) URLs only; PDFs and binary files are "
        "refused (arXiv papers: use hf_papers)."
    )
    Args = WebFetchArgs
    read_only = True

    def __init__(self, config: WebConfig | None = None, *, resolve: Resolver | None = None):
        self.config = config
        self.resolve = resolve or system_resolve
        self._client: httpx.AsyncClient | None = None
        self._client_key: tuple[Any, ...] = ()
        self._cache: OrderedDict[str, _Doc] = OrderedDict()

    def _http(self, config: WebConfig) -> httpx.AsyncClient:
        key = (tuple(config.allow_private_networks), config.timeout_s, config.user_agent)
        if self._client is None or key != self._client_key:
            self._client = guarded_client(
                allowed=parse_networks(config.allow_private_networks),
                timeout_s=config.timeout_s,
                user_agent=config.user_agent,
                resolve=self.resolve,
            )
            self._client_key = key
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def run(self, args: WebFetchArgs, ctx: ToolContext) -> ToolResult:
        config = web_config(self.config, ctx)
        url = args.url.strip()
        doc = self._cached(url)
        cached = doc is not None
        if doc is None:
            ctx.progress(f"fetching {url[:80]}")
            doc = await self._load(url, config, ctx)
            self._remember(doc)
        return _render(doc, args, ctx.output_budget, cached=cached)

    def _cached(self, url: str) -> _Doc | None:
        doc = self._cache.get(url)
        if doc is None or time.monotonic() - doc.at > CACHE_TTL_S:
            return None
        self._cache.move_to_end(url)
        return doc

    def _remember(self, doc: _Doc) -> None:
        self._cache[doc.url] = doc
        while len(self._cache) > CACHE_ENTRIES:
            self._cache.popitem(last=False)

    async def _load(self, url: str, config: WebConfig, ctx: ToolContext) -> _Doc:
        def decide(media_type: str, head: bytes | None) -> str | None:
            kind, what = classify(media_type, head)
            if kind != "binary":
                return None
            label = f" ({media_type})" if media_type and media_type not in what else ""
            hint = " For an arXiv paper use hf_papers." if "PDF" in what else ""
            return (
                f"{url[:200]} is {what}{label}; web_fetch reads web pages and text files "
                f"only.{hint}"
            )

        try:
            fetched = await fetch(
                self._http(config),
                url,
                max_bytes=config.max_page_bytes,
                max_redirects=config.max_redirects,
                timeout_s=config.timeout_s,
                decide=decide,
            )
        except WebError as exc:
            raise ToolError(f"web_fetch: {exc}") from None
        kind, _ = classify(fetched.content_type, fetched.body[:4096])
        notes: list[str] = []
        if fetched.over_limit:
            declared = (
                f" (it announced {_size(fetched.declared_length)})"
                if fetched.declared_length
                else ""
            )
            notes.append(
                f"The page is larger than the {_size(config.max_page_bytes)} limit{declared}: "
                f"only its first {_size(config.max_page_bytes)} were read."
            )
        text, _codec = decode(
            fetched.body, fetched.charset, html=kind == "html", complete=not fetched.over_limit
        )
        title = ""
        if kind == "html":
            ctx.progress(f"converting {_size(len(fetched.body))} of HTML")
            page = await asyncio.to_thread(html_to_markdown, text, fetched.final_url)
            title, text = page.title, page.markdown
            if page.note:
                notes.append(page.note[0].upper() + page.note[1:] + ".")
            if not text.strip():
                notes.append(
                    "The page has no readable text without JavaScript (a script-rendered "
                    "app); look for another source of the same content."
                )
        return _Doc(
            url=url,
            final_url=fetched.final_url,
            title=title,
            content_type=fetched.content_type or "unlabelled",
            kind=kind,
            text=text,
            notes=notes,
            over_limit=fetched.over_limit,
        )


def _headings(text: str) -> list[str]:
    return [h for _, level, h, _ in markdown_headings(text) if level <= 3]


def _render(doc: _Doc, args: WebFetchArgs, budget: int, *, cached: bool) -> ToolResult:
    body = doc.text
    if args.section:
        part = section_of(body, args.section)
        if part is None:
            names = ", ".join(repr(h) for h in _headings(body))[:1500] or "none"
            raise ToolError(
                f"web_fetch: no section {args.section!r} in {doc.url}; sections: {names}"
            )
        body = part
    total = len(body)
    if args.offset and args.offset >= total:
        raise ToolError(
            f"web_fetch: offset {args.offset:,} is past the end of the text ({total:,} characters)"
        )
    room = max(500, budget - HEADER_RESERVE)
    limit = min(args.max_chars or room, room)
    start = args.offset
    end = min(total, start + limit)
    if end < total:  # end the part at a line break when one is near
        cut = body.rfind("\n", start + limit // 2, end)
        end = cut if cut > start else end
    shown = body[start:end]
    header = [f"URL: {doc.final_url}"]
    if doc.final_url != doc.url:
        header[0] += f" (redirected from {doc.url})"
    if doc.title:
        header.append(f"Title: {doc.title}")
    converted = " → Markdown" if doc.kind == "html" else ""
    scope = f"section {args.section!r}: " if args.section else ""
    header.append(
        f"Content: {doc.content_type}{converted} · {scope}{total:,} characters · "
        f"showing {start:,}-{end:,}"
    )
    header.extend(f"Note: {note}" for note in doc.notes)
    parts = ["\n".join(header), "", shown]
    next_offset = end if end < total else None
    if next_offset is not None:
        left = total - end
        footer = (
            f"[{left:,} more characters: call web_fetch with the same url and "
            f"offset={next_offset} to read on"
        )
        headings = _headings(body) if not args.section else []
        if headings:
            footer += (
                ", or section='<heading>' for one part; sections: "
                + ", ".join(repr(h) for h in headings)[:1200]
            )
        parts += ["", footer + "]"]
    output = "\n".join(parts)
    host_path = (urlsplit(doc.final_url).netloc + urlsplit(doc.final_url).path)[:70]
    summary = f"{host_path} · " + (
        f"{total / 1000:.1f}k chars" if total >= 1000 else f"{total} chars"
    )
    if start or next_offset is not None:
        summary += f" · {start:,}-{end:,}"
    if doc.over_limit:
        summary += " · over size limit"
    data: dict[str, Any] = {
        "url": doc.url,
        "final_url": doc.final_url,
        "title": doc.title,
        "content_type": doc.content_type,
        "chars": total,
        "offset": start,
        "next_offset": next_offset,
        "over_limit": doc.over_limit,
        "cached": cached,
    }
    truncated = next_offset is not None or doc.over_limit
    return ToolResult(summary=summary, output=output, data=data, truncated=truncated)
