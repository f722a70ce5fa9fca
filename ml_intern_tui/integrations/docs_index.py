"""A search index over one Hugging Face documentation set: crawl, chunk, rank, cache.

``DocsIndexStore.get(doc_set, base_url)`` returns a ``DocIndex``: it reads the doc set's
main page, takes the page links from its sidebar, fetches every page as Markdown
(``<url>.md``, bounded concurrency), splits pages into sections at their headings and
ranks sections with BM25F (title and headings weigh more than body text). Built indexes
are kept in memory and on disk (``cache_dir()/docs/<set>.json``) with an age limit, so a
new session does not crawl the docs again.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit, urlunsplit

from ml_intern_tui.integrations.doc_text import SidebarParser, markdown_headings
from ml_intern_tui.integrations.http import LazyHttp
from ml_intern_tui.paths import cache_dir

if TYPE_CHECKING:
    import httpx

CACHE_VERSION = 1
DEFAULT_MAX_AGE_S = 24 * 3600.0
DEFAULT_CONCURRENCY = 8
TITLE_BOOST = 2.0
EXCERPT_CHARS = 200

_STOPWORDS = frozenset(
    {"a", "an", "and", "are", "as", "at", "be", "by", "can", "do", "for", "from", "how", "i"}
    | {"in", "is", "it", "of", "on", "or", "that", "the", "this", "to", "use", "using", "what"}
    | {"when", "which", "with", "you", "your"}
)
_WORD = re.compile(r"[a-z0-9]+")


class DocsError(Exception):
    """The docs could not be fetched or indexed (the message is one line for the model)."""


# -- text processing ---------------------------------------------------------------------


def _stem(word: str) -> str:
    """A light suffix stripper so "training", "trained" and "trains" meet at "train"."""
    if len(word) <= 4 or word.isdigit():
        return word
    if word.endswith("ies"):
        return word[:-3] + "y"
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and not word.endswith("ss") and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def tokenize(text: str) -> list[str]:
    """Lower-cased, stemmed words without stopwords (``from_pretrained`` → from, pretrain)."""
    return [_stem(w) for w in _WORD.findall(text.lower()) if w not in _STOPWORDS]


# -- pages and sections ------------------------------------------------------------------


@dataclass
class DocPage:
    title: str
    url: str


@dataclass
class DocChunk:
    """One section of one page: what a search hit points at."""

    page_title: str
    url: str
    heading: str = ""
    anchor: str = ""
    text: str = ""

    @property
    def link(self) -> str:
        return f"{self.url}#{self.anchor}" if self.anchor else self.url

    @property
    def title(self) -> str:
        if self.heading and self.heading != self.page_title:
            return f"{self.page_title} › {self.heading}"
        return self.page_title


def chunk_page(page: DocPage, markdown: str, max_level: int = 3) -> tuple[str, list[DocChunk]]:
    """Split a page at headings of ``max_level`` or higher; returns (page title, chunks)."""
    lines = markdown.splitlines()
    cuts = [h for h in markdown_headings(markdown) if h[1] <= max_level]
    title = next((h[2] for h in cuts if h[1] == 1), "") or page.title
    chunks: list[DocChunk] = []
    bounds = [(0, "", "")] + [(i, heading, anchor) for i, level, heading, anchor in cuts]
    for n, (start, heading, anchor) in enumerate(bounds):
        end = bounds[n + 1][0] if n + 1 < len(bounds) else len(lines)
        body = " ".join(" ".join(lines[start + (1 if heading else 0) : end]).split())
        if not body and not heading:
            continue
        is_top = heading == title and n <= 1
        chunks.append(
            DocChunk(title, page.url, heading, "" if is_top else anchor, body),
        )
    return title, chunks


def sidebar_pages(html: str, base_url: str) -> list[DocPage]:
    """The doc set's pages from its main page: sidebar links, else every link under the set."""
    parser = SidebarParser()
    parser.feed(html)
    root = urlsplit(base_url)
    prefix = root.path.rstrip("/") + "/"
    pages: dict[str, DocPage] = {}
    for links in (parser.nav_links, parser.all_links):
        for href, text in links:
            parts = urlsplit(urljoin(base_url.rstrip("/") + "/", href))
            if parts.netloc != root.netloc or not parts.path.startswith(prefix):
                continue
            url = urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))
            url = url.removesuffix(".md")
            if url not in pages:
                pages[url] = DocPage(text or url.rsplit("/", 1)[-1], url)
        if pages:
            break
    return list(pages.values())


# -- ranking -----------------------------------------------------------------------------


@dataclass
class SearchHit:
    chunk: DocChunk
    score: float
    excerpt: str


@dataclass
class DocIndex:
    """The sections of one doc set and a BM25F ranker over them."""

    doc_set: str
    base_url: str
    built_at: float
    pages: list[DocPage]
    chunks: list[DocChunk]
    failed_pages: int = 0
    _postings: dict[str, list[tuple[int, int, int]]] = field(default_factory=dict, repr=False)
    _lengths: list[tuple[int, int]] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        for n, chunk in enumerate(self.chunks):
            title = Counter(tokenize(f"{chunk.page_title} {chunk.heading}"))
            body = Counter(tokenize(chunk.text))
            self._lengths.append((sum(title.values()), sum(body.values())))
            for term in title.keys() | body.keys():
                self._postings.setdefault(term, []).append((n, title[term], body[term]))

    def search(self, query: str, limit: int, *, per_page: int = 2) -> list[SearchHit]:
        """The best sections for ``query`` (at most ``per_page`` from any one page)."""
        terms = list(dict.fromkeys(tokenize(query)))
        if not terms or not self.chunks:
            return []
        k1, b, n_docs = 1.2, 0.75, len(self.chunks)
        avg_title = max(1.0, sum(t for t, _ in self._lengths) / n_docs)
        avg_body = max(1.0, sum(x for _, x in self._lengths) / n_docs)
        scores: dict[int, float] = {}
        idfs: dict[str, float] = {}
        for term in terms:
            postings = self._postings.get(term, [])
            idf = math.log(1 + (n_docs - len(postings) + 0.5) / (len(postings) + 0.5))
            idfs[term] = idf
            for n, tf_title, tf_body in postings:
                len_title, len_body = self._lengths[n]
                weighted = TITLE_BOOST * tf_title / (1 - b + b * len_title / avg_title)
                weighted += tf_body / (1 - b + b * len_body / avg_body)
                scores[n] = scores.get(n, 0.0) + idf * weighted / (k1 + weighted)
        ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
        hits: list[SearchHit] = []
        seen: Counter[str] = Counter()
        for n, score in ranked:
            chunk = self.chunks[n]
            if seen[chunk.url] >= per_page:
                continue
            seen[chunk.url] += 1
            hits.append(SearchHit(chunk, score, excerpt(chunk.text, terms, idfs)))
            if len(hits) >= limit:
                break
        return hits

    def to_json(self) -> dict[str, Any]:
        return {
            "version": CACHE_VERSION,
            "doc_set": self.doc_set,
            "base_url": self.base_url,
            "built_at": self.built_at,
            "failed_pages": self.failed_pages,
            "pages": [asdict(p) for p in self.pages],
            "chunks": [asdict(c) for c in self.chunks],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DocIndex:
        if data.get("version") != CACHE_VERSION:
            raise ValueError("cache version mismatch")
        return cls(
            doc_set=str(data["doc_set"]),
            base_url=str(data["base_url"]),
            built_at=float(data["built_at"]),
            pages=[DocPage(**p) for p in data["pages"]],
            chunks=[DocChunk(**c) for c in data["chunks"]],
            failed_pages=int(data.get("failed_pages", 0)),
        )


def excerpt(text: str, terms: list[str], idfs: dict[str, float] | None = None) -> str:
    """About 200 characters of ``text`` around the rarest query term it contains."""
    lower = text.lower()
    best: tuple[float, int] | None = None
    for term in terms:
        match = re.search(rf"\b{re.escape(term)}", lower)
        if match:
            weight = (idfs or {}).get(term, 1.0)
            if best is None or weight > best[0]:
                best = (weight, match.start())
    start = max(0, (best[1] if best else 0) - EXCERPT_CHARS // 3)
    if start:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < start + 20 else start
    end = min(len(text), start + EXCERPT_CHARS)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > start + EXCERPT_CHARS // 2 else end
    return ("…" if start else "") + text[start:end].strip() + ("…" if end < len(text) else "")


# -- building and caching ----------------------------------------------------------------


class DocsIndexStore:
    """Builds doc-set indexes on demand; keeps them in memory and on disk with an age limit."""

    def __init__(
        self,
        *,
        cache_root: Path | None = None,
        max_age_s: float = DEFAULT_MAX_AGE_S,
        concurrency: int = DEFAULT_CONCURRENCY,
        timeout_s: float = 30.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._cache_root = cache_root
        self.max_age_s = max_age_s
        self.concurrency = max(1, concurrency)
        self.timeout_s = timeout_s
        self.clock = clock
        self._memory: dict[str, DocIndex] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._http = LazyHttp(timeout_s)

    def cache_path(self, doc_set: str) -> Path:
        root = self._cache_root if self._cache_root is not None else cache_dir() / "docs"
        return root / f"{doc_set}.json"

    @property
    def client(self) -> httpx.AsyncClient:
        return self._http.client

    async def aclose(self) -> None:
        await self._http.aclose()

    def _fresh(self, index: DocIndex | None, base_url: str) -> bool:
        return (
            index is not None
            and index.base_url == base_url
            and self.clock() - index.built_at < self.max_age_s
        )

    async def get(
        self,
        doc_set: str,
        base_url: str,
        *,
        token: str | None = None,
        progress: Callable[[str], None] = lambda _text: None,
    ) -> DocIndex:
        """The index of ``doc_set`` at ``base_url``: from memory, from disk, or crawled now."""
        base_url = base_url.rstrip("/")
        async with self._locks.setdefault(doc_set, asyncio.Lock()):
            index: DocIndex | None = self._memory.get(doc_set)
            if not self._fresh(index, base_url):
                index = await asyncio.to_thread(self._load, doc_set)
            if not self._fresh(index, base_url):
                index = await self.build(doc_set, base_url, token=token, progress=progress)
                await asyncio.to_thread(self._save, index)
            assert index is not None
            self._memory[doc_set] = index
            return index

    def _load(self, doc_set: str) -> DocIndex | None:
        try:
            return DocIndex.from_json(json.loads(self.cache_path(doc_set).read_text("utf-8")))
        except (OSError, ValueError, KeyError, TypeError):
            return None  # missing or unreadable cache: crawl again

    def _save(self, index: DocIndex) -> None:
        path = self.cache_path(index.doc_set)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(index.to_json()), "utf-8")
            tmp.replace(path)
        except OSError:
            pass  # a read-only cache only costs a crawl next time

    async def build(
        self,
        doc_set: str,
        base_url: str,
        *,
        token: str | None = None,
        progress: Callable[[str], None] = lambda _text: None,
    ) -> DocIndex:
        """Crawl the doc set now: main page → sidebar → every page's Markdown."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        main = await self._get(base_url, headers)
        pages = sidebar_pages(main, base_url)
        if not pages:
            raise DocsError(f"no documentation pages found in the sidebar of {base_url}")
        progress(f"indexing {doc_set} docs: {len(pages)} pages")
        limiter = asyncio.Semaphore(self.concurrency)

        async def fetch(page: DocPage) -> str | None:
            async with limiter:
                try:
                    return await self._get(page.url + ".md", headers)
                except DocsError:
                    return None

        texts = await asyncio.gather(*(fetch(page) for page in pages))
        chunks: list[DocChunk] = []
        kept: list[DocPage] = []
        for page, text in zip(pages, texts, strict=True):
            if text is None:
                continue
            title, page_chunks = chunk_page(page, text)
            kept.append(DocPage(title, page.url))
            chunks.extend(page_chunks)
        if not kept:
            raise DocsError(f"none of the {len(pages)} pages of {base_url} could be fetched")
        return DocIndex(doc_set, base_url, self.clock(), kept, chunks, len(pages) - len(kept))

    async def _get(self, url: str, headers: dict[str, str]) -> str:
        import httpx

        try:
            response = await self.client.get(url, headers=headers)
        except httpx.HTTPError as exc:
            raise DocsError(f"could not reach {url}: {type(exc).__name__}") from exc
        if response.status_code >= 400:
            raise DocsError(f"{url} answered HTTP {response.status_code}")
        return response.text
