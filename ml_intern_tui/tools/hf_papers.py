"""``hf_papers``: find, read and follow research papers (Hub papers, arXiv text, Semantic Scholar).

Search, trending, details and the models / datasets / collections of a paper go through
the ``hub`` service (huggingface_hub); ``read`` fetches the paper's text (the Hub paper
page as Markdown, else the arXiv-style HTML at ``papers_text_base``) and splits it into
numbered sections; ``citations`` asks Semantic Scholar.
"""

from __future__ import annotations

import copy
import re
from itertools import islice
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ml_intern_tui.core.tool import Tool, ToolContext, ToolError, ToolResult, require
from ml_intern_tui.integrations.doc_text import find_section, html_to_markdown, paper_sections
from ml_intern_tui.integrations.http import LazyHttp
from ml_intern_tui.integrations.hub import hub_error_message
from ml_intern_tui.integrations.semantic_scholar import (
    SemanticScholarClient,
    SemanticScholarError,
)

if TYPE_CHECKING:
    import httpx

DEFAULT_PAPERS_TEXT_BASE = "https://arxiv.org/html"
PREVIEW_CHARS = 200
_ARXIV_ID = re.compile(r"(\d{4}\.\d{4,5}|[a-z-]+(?:\.[A-Z]{2})?/\d{7})(v\d+)?", re.I)

Operation = Literal[
    "search",
    "trending",
    "details",
    "read",
    "find_models",
    "find_datasets",
    "find_collections",
    "citations",
]
NEEDS_ID = {"details", "read", "find_models", "find_datasets", "find_collections", "citations"}


class PapersArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    operation: Operation = Field(
        description="search: papers matching query; trending: the daily papers (date, "
        "optional query filter); details: metadata and abstract; read: the paper's sections "
        "(table of contents, or one section); find_models / find_datasets / "
        "find_collections: Hub artifacts citing the paper; citations: papers citing it or "
        "cited by it (Semantic Scholar)."
    )
    query: str | None = Field(None, description="Search words (search; filter for trending).")
    arxiv_id: str | None = Field(
        None, description="The paper's arXiv id, e.g. 2401.00001 (all but search/trending)."
    )
    section: str | None = Field(
        None, description="For read: a section number ('3', '3.2') or a title ('Method')."
    )
    limit: int = Field(10, ge=1, le=50, description="How many results to return (1-50).")
    direction: Literal["citations", "references", "both"] = Field(
        "both", description="For citations: papers citing this one, its references, or both."
    )
    date: str | None = Field(
        None, pattern=r"^\d{4}-\d{2}-\d{2}$", description="For trending: a day, YYYY-MM-DD."
    )


def normalize_arxiv_id(raw: str) -> str:
    """``2401.00001`` from an id, ``arXiv:`` id or abs / html / Hub paper URL (version dropped)."""
    match = _ARXIV_ID.search(raw.strip().rstrip("/").rsplit("/abs/", 1)[-1])
    if not match:
        raise ToolError(f"{raw!r} is not an arXiv id (expected something like 2401.00001)")
    return match.group(1)


# -- the tool ---------------------------------------------------------------------------


def _authors(paper: Any, most: int = 5) -> str:
    names = [a.name for a in (paper.authors or []) if getattr(a, "name", None)]
    return ", ".join(names[:most]) + (f" and {len(names) - most} more" if len(names) > most else "")


def _paper_line(n: int, paper: Any, endpoint: str) -> str:
    when = paper.published_at.date().isoformat() if paper.published_at else "?"
    summary = " ".join((paper.ai_summary or paper.summary or "").split())[:PREVIEW_CHARS]
    votes = f" · {paper.upvotes} upvotes" if paper.upvotes else ""
    return (
        f"{n}. [{paper.id}] {paper.title or '(untitled)'} ({when}{votes})\n"
        f"   {_authors(paper)}\n   {summary}\n   {endpoint}/papers/{paper.id}"
    )


def _cut(text: str, budget: int, hint: str) -> tuple[str, bool]:
    if len(text) <= budget:
        return text, False
    note = f"\n\n[cut: {budget:,} of {len(text):,} characters shown; {hint}]"
    return text[: max(0, budget - len(note))] + note, True


class HfPapersTool(Tool):
    """Research papers: search, trending, details, full text, linked artifacts, citations."""

    name = "hf_papers"
    description = (
        "Find and read ML papers. search / trending list papers; details gives the abstract "
        "and links; read returns the paper's table of contents, or one section with "
        "section='3' or 'Method'; find_models / find_datasets / find_collections list Hub "
        "repos linked to the paper; citations lists citing or referenced papers."
    )
    Args = PapersArgs
    read_only = True

    def __init__(
        self,
        *,
        endpoint: str | None = None,
        papers_text_base: str = DEFAULT_PAPERS_TEXT_BASE,
        semantic_scholar: SemanticScholarClient | None = None,
        timeout_s: float = 30.0,
    ) -> None:
        self.endpoint = endpoint
        self.papers_text_base = papers_text_base.rstrip("/")
        self.s2 = semantic_scholar or SemanticScholarClient()
        self.timeout_s = timeout_s
        self._http = LazyHttp(timeout_s)

    @property
    def client(self) -> httpx.AsyncClient:
        return self._http.client

    async def aclose(self) -> None:
        await self._http.aclose()
        await self.s2.aclose()

    async def run(self, args: PapersArgs, ctx: ToolContext) -> ToolResult:
        arxiv_id = normalize_arxiv_id(args.arxiv_id) if args.arxiv_id else ""
        if args.operation in NEEDS_ID and not arxiv_id:
            raise ToolError(f"{args.operation} needs arxiv_id (e.g. arxiv_id='2401.00001')")
        if args.operation == "search" and not (args.query or "").strip():
            raise ToolError("search needs a query (e.g. query='direct preference optimization')")
        if args.operation == "citations":
            return await self._citations(args, arxiv_id, ctx)
        hub = require(ctx.services.hub, "hub")
        try:
            if args.operation == "read":
                return await self._read(args, arxiv_id, hub, ctx)
            return await self._hub_operation(args, arxiv_id, hub, ctx)
        except ToolError:
            raise
        except Exception as exc:
            status = getattr(getattr(exc, "response", None), "status_code", None)
            if status == 404 and arxiv_id:
                raise ToolError(f"paper {arxiv_id} not found on the Hub") from exc
            raise ToolError(hub_error_message(exc)) from exc

    async def _hub_operation(
        self, args: PapersArgs, arxiv_id: str, hub: Any, ctx: ToolContext
    ) -> ToolResult:
        api, endpoint, op, limit = hub.api, hub.endpoint, args.operation, args.limit
        if op == "search":
            papers = await hub.run(lambda: list(api.list_papers(query=args.query, limit=limit)))
            return self._listing(f"Papers matching {args.query!r}", papers[:limit], endpoint, op)
        if op == "trending":
            fetch = max(3 * limit, 30) if args.query else limit
            papers = await self._daily_papers(hub, args.date, fetch)
            if args.query:
                words = args.query.lower().split()
                papers = [p for p in papers if all(w in _haystack(p) for w in words)]
            day = args.date or "today"
            head = f"Daily papers ({day})" + (f" matching {args.query!r}" if args.query else "")
            return self._listing(head, papers[:limit], endpoint, op)
        if op == "details":
            paper = await hub.run(api.paper_info, arxiv_id)
            return self._details(paper, endpoint)
        tag = f"arxiv:{arxiv_id}"
        if op == "find_collections":
            found = await hub.run(
                lambda: list(
                    islice(api.list_collections(item=f"papers/{arxiv_id}", limit=limit), limit)
                )
            )
            rows = [
                f"- {c.title} ({c.upvotes} upvotes, {len(c.items)} items)\n  {endpoint}/collections/{c.slug}"
                for c in found
            ]
            data = [c.slug for c in found]
        else:
            lister = api.list_models if op == "find_models" else api.list_datasets
            found = await hub.run(
                lambda: list(islice(lister(filter=tag, sort="downloads", limit=limit), limit))
            )
            prefix = "" if op == "find_models" else "datasets/"
            rows = [
                f"- {r.id} ({r.downloads or 0:,} downloads, {r.likes or 0} likes)\n  {endpoint}/{prefix}{r.id}"
                for r in found
            ]
            data = [r.id for r in found]
        kind = op.removeprefix("find_")
        if not rows:
            return ToolResult(
                summary=f"no {kind} for {arxiv_id}",
                output=f"No {kind} on the Hub cite arXiv {arxiv_id}.",
                data={kind: []},
            )
        output = f"{len(rows)} {kind} citing arXiv {arxiv_id}:\n" + "\n".join(rows)
        output, cut = _cut(output, ctx.output_budget, "lower limit")
        return ToolResult(
            summary=f"{len(rows)} {kind}", output=output, data={kind: data}, truncated=cut
        )

    async def _daily_papers(self, hub: Any, date: str | None, limit: int) -> list[Any]:
        """Daily papers read directly: ``PaperInfo`` drops the nested AI keywords and summary."""
        import httpx
        from huggingface_hub.hf_api import PaperInfo

        params: dict[str, Any] = {"limit": limit, **({"date": date} if date else {})}
        token = hub.token
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        try:
            response = await self.client.get(
                f"{hub.endpoint}/api/daily_papers", params=params, headers=headers
            )
        except httpx.HTTPError as exc:
            raise ToolError(f"Hub request failed: {type(exc).__name__}") from exc
        if response.status_code >= 400:
            raise ToolError(f"Hub request failed ({response.status_code}): daily papers")
        papers = []
        for item in response.json():
            nested = item.get("paper") or {}
            paper = PaperInfo(**copy.deepcopy(item))
            paper.ai_keywords = paper.ai_keywords or nested.get("ai_keywords")
            paper.ai_summary = paper.ai_summary or nested.get("ai_summary")
            papers.append(paper)
        return papers

    def _listing(self, head: str, papers: list[Any], endpoint: str, op: str) -> ToolResult:
        if not papers:
            return ToolResult(
                summary=f"{op}: no papers", output=f"{head}: no papers found.", data={"papers": []}
            )
        body = "\n".join(_paper_line(n, p, endpoint) for n, p in enumerate(papers, 1))
        return ToolResult(
            summary=f"{op}: {len(papers)} papers · {papers[0].title or papers[0].id}",
            output=f"{head}:\n{body}",
            data={"papers": [{"id": p.id, "title": p.title} for p in papers]},
        )

    def _details(self, paper: Any, endpoint: str) -> ToolResult:
        lines = [
            f"{paper.title or '(untitled)'}  [arXiv {paper.id}]",
            f"Authors: {_authors(paper, 20)}",
        ]
        if paper.published_at:
            lines.append(f"Published: {paper.published_at.date().isoformat()}")
        if paper.upvotes:
            lines.append(f"Upvotes: {paper.upvotes}")
        for label, value in (("Code", paper.github_repo), ("Project page", paper.project_page)):
            if value:
                lines.append(f"{label}: {value}")
        if paper.ai_keywords:
            lines.append("Keywords: " + ", ".join(paper.ai_keywords[:12]))
        lines += ["", "Abstract:", paper.summary or "(none)"]
        if paper.ai_summary:
            lines += ["", f"AI summary: {paper.ai_summary}"]
        lines += [
            "",
            f"Hub page: {endpoint}/papers/{paper.id}",
            f"arXiv: https://arxiv.org/abs/{paper.id}",
        ]
        return ToolResult(
            summary=f"{paper.id}: {paper.title}", output="\n".join(lines), data={"id": paper.id}
        )

    async def _fetch_text(self, url: str, *, html: bool) -> str | None:
        """The body at ``url`` when it is there and of the expected kind; else ``None``."""
        import httpx

        try:
            response = await self.client.get(url)
        except httpx.HTTPError:
            return None
        is_html = "html" in response.headers.get("content-type", "")
        if response.status_code != 200 or not response.text.strip() or is_html != html:
            return None
        return response.text

    async def _read(
        self, args: PapersArgs, arxiv_id: str, hub: Any, ctx: ToolContext
    ) -> ToolResult:
        endpoint = (self.endpoint or hub.endpoint).rstrip("/")
        source = f"{endpoint}/papers/{arxiv_id}.md"
        markdown = await self._fetch_text(source, html=False)
        if markdown is None:
            source = f"{self.papers_text_base}/{arxiv_id}"
            html = await self._fetch_text(source, html=True)
            markdown = html_to_markdown(html) if html is not None else None
        title, sections = paper_sections(markdown) if markdown else ("", [])
        if not sections:
            paper = await hub.run(hub.api.paper_info, arxiv_id)
            result = self._details(paper, endpoint)
            result.output += (
                f"\n\nThe full text is not available here; PDF: https://arxiv.org/pdf/{arxiv_id}"
            )
            return result
        title = title or arxiv_id
        if not args.section:
            toc = [f"{title}\nSource: {source}\n\n{len(sections)} sections:"]
            for s in sections:
                preview = " ".join(s.text.split())[:PREVIEW_CHARS]
                toc.append(f"{s.label or '•'}\n    {preview}")
            toc.append("\nRead one with section='<number or title>'.")
            output, cut = _cut("\n".join(toc), ctx.output_budget, "read sections one by one")
            data = {"sections": [s.label for s in sections], "source": source}
            return ToolResult(
                summary=f"{arxiv_id}: {len(sections)} sections",
                output=output,
                data=data,
                truncated=cut,
            )
        section = find_section(sections, args.section)
        if section is None:
            names = "; ".join(s.label for s in sections)
            raise ToolError(f"no section {args.section!r} in {arxiv_id}; sections: {names}")
        following = sections[sections.index(section) + 1 :]
        hint = (
            f"the next section is {following[0].label!r}"
            if following
            else "this is the last section"
        )
        output, cut = _cut(
            f"{title} — § {section.label}\n\n{section.text}", ctx.output_budget, hint
        )
        return ToolResult(
            summary=f"{arxiv_id} § {section.label}",
            output=output,
            data={"section": section.label, "source": source},
            truncated=cut,
        )

    async def _citations(self, args: PapersArgs, arxiv_id: str, ctx: ToolContext) -> ToolResult:
        directions: list[Literal["citations", "references"]] = (
            ["citations", "references"] if args.direction == "both" else [args.direction]
        )
        parts: list[str] = []
        counts: dict[str, int] = {}
        for direction in directions:
            try:
                papers, total = await self.s2.related(arxiv_id, direction, args.limit)
            except SemanticScholarError as exc:
                raise ToolError(f"citations of {arxiv_id}: {exc}") from exc
            counts[direction] = len(papers)
            label = "Cited by" if direction == "citations" else "References"
            of_total = f" of {total}" if total is not None else ""
            parts.append(f"{label} ({len(papers)}{of_total}):")
            for n, p in enumerate(papers, 1):
                ids = p.get("externalIds") or {}
                ref = f"arXiv {ids['ArXiv']}" if ids.get("ArXiv") else (p.get("venue") or "")
                star = " ★ influential" if p.get("isInfluential") else ""
                parts.append(
                    f"{n}. {p.get('title')} ({p.get('year') or '?'}; {p.get('citationCount') or 0} citations; {ref}){star}"
                )
            parts.append("")
        output, cut = _cut("\n".join(parts).strip(), ctx.output_budget, "lower limit")
        summary = ", ".join(f"{v} {k}" for k, v in counts.items())
        return ToolResult(
            summary=f"{arxiv_id}: {summary}", output=output, data=counts, truncated=cut
        )


def _haystack(paper: Any) -> str:
    keywords = " ".join(paper.ai_keywords or [])
    return f"{paper.title or ''} {paper.summary or ''} {keywords}".lower()
