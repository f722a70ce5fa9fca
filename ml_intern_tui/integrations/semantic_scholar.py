"""A small async client for the Semantic Scholar Graph API (citations and references).

Polite by default: calls are spaced by a minimum interval, and 429 / 5xx / network
errors are retried a bounded number of times with backoff (``Retry-After`` is honoured,
capped). The base URL comes from ``SEMANTIC_SCHOLAR_API_BASE`` and the optional API key
from ``S2_API_KEY`` unless given to the constructor.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Literal

from ml_intern_tui.core.retry import RetryPolicy, Transient, retry_after_seconds, with_retries

if TYPE_CHECKING:
    import httpx


DEFAULT_BASE = "https://api.semanticscholar.org/graph/v1"
BASE_ENV = "SEMANTIC_SCHOLAR_API_BASE"
KEY_ENV = "S2_API_KEY"
PAPER_FIELDS = "title,year,venue,citationCount,externalIds,authors"
PAGE_SIZE = 100

Direction = Literal["citations", "references"]


class SemanticScholarError(Exception):
    """A failed Semantic Scholar call (one line for the model)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class _Busy(Transient):
    """A rate limit or server error: worth another try."""

    def __init__(self, what: str, status: int, retry_after: float | None) -> None:
        super().__init__(what, retry_after=retry_after)
        self.status = status


class SemanticScholarClient:
    """Rate-limited, retrying GETs against the Graph API."""

    def __init__(
        self,
        base_url: str | None = None,
        api_key: str | None = None,
        *,
        min_interval_s: float | None = None,
        max_retries: int = 3,
        backoff_s: float = 2.0,
        max_backoff_s: float = 60.0,
        jitter: float = 0.1,
        timeout_s: float = 30.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.base_url = (base_url or os.environ.get(BASE_ENV) or DEFAULT_BASE).rstrip("/")
        self.api_key = api_key if api_key is not None else (os.environ.get(KEY_ENV) or None)
        # Without a key the public pool is shared and strict: stay near 1 request/second.
        self.min_interval_s = (
            min_interval_s if min_interval_s is not None else (0.1 if self.api_key else 1.0)
        )
        self.retry = RetryPolicy(
            attempts=max_retries + 1,
            base_delay_s=backoff_s,
            max_delay_s=max_backoff_s,
            max_retry_after_s=max_backoff_s,
            jitter=jitter,
        )
        self.timeout_s = timeout_s
        self._sleep = sleep
        self._lock = asyncio.Lock()
        self._last_call = float("-inf")
        self._client: httpx.AsyncClient | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        import httpx

        if self._client is None:
            headers = {"x-api-key": self.api_key} if self.api_key else {}
            self._client = httpx.AsyncClient(timeout=self.timeout_s, headers=headers)
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _wait_turn(self) -> None:
        async with self._lock:
            wait = self._last_call + self.min_interval_s - time.monotonic()
            if wait > 0:
                await self._sleep(wait)
            self._last_call = time.monotonic()

    async def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """GET ``base_url + path`` as JSON, retrying 429 / 5xx / network errors with backoff."""
        import httpx

        url = f"{self.base_url}/{path.lstrip('/')}"

        async def once() -> Any:
            await self._wait_turn()
            try:
                response = await self.client.get(url, params=params)
            except httpx.HTTPError as exc:
                raise Transient(f"Semantic Scholar unreachable: {type(exc).__name__}") from exc
            status = response.status_code
            if status < 400:
                return response.json()
            if status == 404:
                raise SemanticScholarError("paper not found on Semantic Scholar", 404)
            if status != 429 and status < 500:
                raise SemanticScholarError(
                    f"Semantic Scholar rejected the request (HTTP {status}): {_message(response)}",
                    status,
                )
            what = "rate limit" if status == 429 else f"server error HTTP {status}"
            raise _Busy(what, status, retry_after_seconds(response.headers.get("retry-after")))

        def give_up(last: Transient, attempts: int) -> Exception:
            if isinstance(last, _Busy):
                return SemanticScholarError(
                    f"Semantic Scholar {last} after {attempts} attempts; try again later",
                    last.status,
                )
            return SemanticScholarError(str(last))

        return await with_retries(once, self.retry, give_up=give_up, sleep=self._sleep)

    async def related(
        self, arxiv_id: str, direction: Direction, limit: int
    ) -> tuple[list[dict[str, Any]], int | None]:
        """Papers citing (``citations``) or cited by (``references``) an arXiv paper.

        Follows ``next`` offsets until ``limit`` papers are collected. Returns the papers
        (each with the paper fields plus ``isInfluential``/``contexts`` when given) and the
        total when the API says it.
        """
        key = "citingPaper" if direction == "citations" else "citedPaper"
        papers: list[dict[str, Any]] = []
        offset: int | None = 0
        total: int | None = None
        while offset is not None and len(papers) < limit:
            page = await self.get(
                f"paper/ARXIV:{arxiv_id}/{direction}",
                {
                    "fields": f"{PAPER_FIELDS},isInfluential,contexts",
                    "offset": offset,
                    "limit": min(PAGE_SIZE, limit - len(papers)),
                },
            )
            if not isinstance(page, dict):
                break
            if isinstance(page.get("total"), int):
                total = page["total"]
            for item in page.get("data") or []:
                paper = dict(item.get(key) or {})
                if not paper.get("title"):
                    continue
                paper["isInfluential"] = bool(item.get("isInfluential"))
                paper["contexts"] = item.get("contexts") or []
                papers.append(paper)
            next_offset = page.get("next")
            offset = next_offset if isinstance(next_offset, int) and page.get("data") else None
        return papers[:limit], total


def _message(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text.strip().splitlines()[0][:200] if response.text.strip() else "no detail"
    if isinstance(data, dict):
        return str(data.get("message") or data.get("error") or data)[:200]
    return str(data)[:200]
