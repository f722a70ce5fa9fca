"""Search results out of an HTML results page (DuckDuckGo's HTML page and look-alikes).

DuckDuckGo's ``html.duckduckgo.com/html/`` page lists each result in a ``.result`` block
with a ``a.result__a`` title link and a ``.result__snippet``; its links go through
``/l/?uddg=<target>`` redirects, and ads are ``.result--ad`` blocks linking to ``y.js``.
Pages of other engines fall back to every outbound link. A bot check (a 202 answer, a
captcha form) is told apart from a page that merely has no results.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit, urlunsplit

SNIPPET_CHARS = 300
_BLOCK_MARKERS = (
    "anomaly-modal",
    "challenge-form",
    "g-recaptcha",
    "h-captcha",
    "cf-challenge",
    "captcha",
    "unusual traffic",
    "bots use duckduckgo",
)
_NO_RESULTS_MARKERS = ("no-results", "no results", "did not match any")


@dataclass(frozen=True)
class SearchResult:
    title: str
    url: str
    snippet: str = ""


@dataclass
class SearchPage:
    """What one results page held: results, and whether it was a bot check or empty."""

    results: list[SearchResult]
    blocked: bool = False
    says_no_results: bool = False


def _text(node: Any) -> str:
    return " ".join(node.text_content().split()) if node is not None else ""


def decode_link(href: str, page_url: str) -> str | None:
    """The target of a result link: ``/l/?uddg=`` redirects decoded; http(s) only; no ads."""
    href = href.strip()
    if not href:
        return None
    absolute = urljoin(page_url, href)
    parts = urlsplit(absolute)
    query = parse_qs(parts.query)
    if parts.path.rstrip("/").endswith("/l") and query.get("uddg"):
        absolute = query["uddg"][0].strip()
        parts = urlsplit(absolute)
    elif parts.path.endswith("/y.js"):
        return None  # an ad's click-tracking link
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return absolute


def url_key(url: str) -> str:
    """What makes two result URLs the same page (host case, fragment, trailing slash)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().removeprefix("www.")
    netloc = host + (f":{parts.port}" if parts.port else "")
    path = parts.path.rstrip("/") or "/"
    return urlunsplit((parts.scheme.lower(), netloc, path, parts.query, ""))


def _with_class(name: str) -> str:
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


def parse_results(html: str, page_url: str) -> SearchPage:
    """The results of a search page, in page order, deduplicated."""
    from ml_intern_tui.integrations.web_page import parse_html

    root = parse_html(html)
    found: list[SearchResult] = []
    titles = root.xpath(f"//a[{_with_class('result__a')}]")
    if titles:
        for anchor in titles:
            block = next(
                (a for a in anchor.iterancestors() if "result" in (a.get("class") or "").split()),
                None,
            )
            if block is not None and "result--ad" in (block.get("class") or "").split():
                continue
            url = decode_link(anchor.get("href") or "", page_url)
            if url is None:
                continue
            snippets = (
                block.xpath(f".//*[{_with_class('result__snippet')}]") if block is not None else []
            )
            snippet = _text(snippets[0]) if snippets else ""
            found.append(SearchResult(_text(anchor), url, _clip(snippet)))
    else:
        found = list(_outbound_links(root, page_url))
    lowered = html.lower()
    page = SearchPage(results=dedupe(found))
    if not page.results:
        page.blocked = any(marker in lowered for marker in _BLOCK_MARKERS)
        page.says_no_results = any(marker in lowered for marker in _NO_RESULTS_MARKERS)
    return page


def _outbound_links(root: Any, page_url: str) -> Iterable[SearchResult]:
    """Fallback for pages without DuckDuckGo's classes: links that leave the engine."""
    own_host = (urlsplit(page_url).hostname or "").lower()
    for anchor in root.iter("a"):
        url = decode_link(anchor.get("href") or "", page_url)
        title = _text(anchor)
        if url is None or len(title) < 3:
            continue
        host = (urlsplit(url).hostname or "").lower()
        if host == own_host or host.endswith("." + own_host):
            continue
        yield SearchResult(title, url, "")


def _clip(text: str) -> str:
    return text if len(text) <= SNIPPET_CHARS else text[: SNIPPET_CHARS - 1].rstrip() + "…"


def dedupe(results: Iterable[SearchResult]) -> list[SearchResult]:
    seen: set[str] = set()
    out: list[SearchResult] = []
    for result in results:
        key = url_key(result.url)
        if key not in seen:
            seen.add(key)
            out.append(result)
    return out


_DOMAIN = re.compile(
    r"^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,62}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,62}[a-z0-9_])?)*$"
)


def normalize_domain(entry: str) -> str:
    """``"https://Docs.Python.org/3/"`` → ``"docs.python.org"``; ``"*.github.io"`` → ``"github.io"``.

    Raises ``ValueError`` for something that is not a domain.
    """
    value = entry.strip().lower()
    if "://" in value:
        value = urlsplit(value).hostname or ""
    else:
        value = value.split("/", 1)[0].split(":", 1)[0]
    value = value.removeprefix("*.").removeprefix(".").rstrip(".")
    try:
        value = value.encode("idna").decode("ascii") if value else value
    except UnicodeError:
        value = ""
    if not _DOMAIN.match(value):
        raise ValueError(f"{entry!r} is not a domain (e.g. 'huggingface.co' or a URL)")
    return value


def host_matches(url: str, domains: Iterable[str]) -> bool:
    """Whether the URL's host is one of ``domains`` or a subdomain of one."""
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    return any(host == d or host.endswith("." + d) for d in domains)


def filter_domains(
    results: list[SearchResult], allowed: list[str], blocked: list[str]
) -> tuple[list[SearchResult], int]:
    """(results kept, how many were dropped) by the allowed and blocked domains."""
    kept = [
        r
        for r in results
        if (not allowed or host_matches(r.url, allowed)) and not host_matches(r.url, blocked)
    ]
    return kept, len(results) - len(kept)
