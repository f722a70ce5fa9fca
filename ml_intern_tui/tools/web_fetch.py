"""``web_fetch``: read a web page as Markdown, in parts when it is long.

The page is read through ``integrations/web_http`` (public addresses only, redirects
capped, size and time limits) and converted by ``integrations/web_page``; long pages are
read in parts (``offset``) or by ``section``, from a short-lived cache so paging does not
download the page again.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field

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
from ml_intern_tui.tools.web_common import size_text, web_config

if TYPE_CHECKING:
    import httpx

    from ml_intern_tui.config.schema import WebConfig

CACHE_ENTRIES = 16
CACHE_TTL_S = 600.0
CACHE_CHARS = 20_000_000
"""Characters of page text kept for paging, all pages together (the newest always stays)."""
HEADER_RESERVE = 800
"""Characters of a fetch output kept for its header and footer lines."""


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
        url = with_scheme(args.url)
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
        while len(self._cache) > 1 and (
            len(self._cache) > CACHE_ENTRIES
            or sum(len(d.text) for d in self._cache.values()) > CACHE_CHARS
        ):
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
                f" (it announced {size_text(fetched.declared_length)})"
                if fetched.declared_length
                else ""
            )
            notes.append(
                f"The page is larger than the {size_text(config.max_page_bytes)} limit{declared}: "
                f"only its first {size_text(config.max_page_bytes)} were read."
            )
        text, _codec = decode(
            fetched.body, fetched.charset, html=kind == "html", complete=not fetched.over_limit
        )
        title = ""
        if kind == "html":
            ctx.progress(f"converting {size_text(len(fetched.body))} of HTML")
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


_BARE_HOST = re.compile(r"^(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}(?::\d+)?(?:[/?#]|$)")


def with_scheme(url: str) -> str:
    """``huggingface.co/docs`` → ``https://huggingface.co/docs`` (models often leave it out)."""
    url = url.strip()
    return f"https://{url}" if _BARE_HOST.match(url) else url


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
