"""A fake Semantic Scholar Graph API: citations and references with offset pagination.

``FakeSemanticScholar.install(server)`` serves ``/graph/v1/paper/ARXIV:<id>/citations`` and
``/references``; ``rate_limit(n, retry_after)`` answers the next ``n`` calls with 429 and a
``Retry-After`` header; ``base_url`` is what the client is configured with.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fakes.http_server import FakeHTTPServer, FakeRequest, FakeResponse

KNOWN_PAPER = "2401.00001"


def _paper(n: int, prefix: str) -> dict[str, Any]:
    return {
        "paperId": f"{prefix}{n}",
        "title": f"{prefix.title()} paper {n}",
        "year": 2024,
        "venue": "NeurIPS",
        "citationCount": 100 - n,
        "externalIds": {"ArXiv": f"2405.{n:05d}"} if n % 2 == 0 else {},
    }


@dataclass
class FakeSemanticScholar:
    server: FakeHTTPServer
    citing: list[dict[str, Any]] = field(
        default_factory=lambda: [_paper(n, "citing") for n in range(7)]
    )
    cited: list[dict[str, Any]] = field(
        default_factory=lambda: [_paper(n, "cited") for n in range(3)]
    )
    page_size: int = 3
    """The most items one page returns, whatever limit the client asks (forces pagination)."""
    _throttle: list[str] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return self.server.base_url + "/graph/v1"

    @classmethod
    def install(cls, server: FakeHTTPServer) -> FakeSemanticScholar:
        fake = cls(server)
        server.route(
            "GET", r"/graph/v1/paper/ARXIV:(?P<pid>[\w.]+)/(?P<kind>citations|references)"
        )(fake._related)
        return fake

    def rate_limit(self, times: int, retry_after: str = "2") -> None:
        self._throttle.extend([retry_after] * times)

    def _related(self, req: FakeRequest) -> FakeResponse:
        if self._throttle:
            retry_after = self._throttle.pop(0)
            return FakeResponse.error(429, "Too Many Requests", {"Retry-After": retry_after})
        if req.group("pid") != KNOWN_PAPER:
            return FakeResponse.error(404, "Paper not found")
        citations = req.group("kind") == "citations"
        rows, key = (self.citing, "citingPaper") if citations else (self.cited, "citedPaper")
        offset = int(req.arg("offset") or 0)
        limit = min(int(req.arg("limit") or 100), self.page_size)
        page = [
            {key: p, "isInfluential": i == 0, "contexts": ["as shown in"]}
            for i, p in enumerate(rows[offset : offset + limit], start=offset)
        ]
        body: dict[str, Any] = {"offset": offset, "data": page}
        if offset + limit < len(rows):
            body["next"] = offset + limit
        return FakeResponse.json(body)

    def calls(self) -> int:
        return len(self.server.calls("GET", r"/graph/v1/paper/.+"))
