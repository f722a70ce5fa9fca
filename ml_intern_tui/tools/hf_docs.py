"""``hf_docs_search`` and ``hf_docs_fetch``: search and read the Hugging Face documentation.

Search builds (or reuses) an on-disk index of a doc set (``integrations/docs_index.py``);
fetch reads one page as Markdown. Both talk to the Hub endpoint of the ``hub`` service
(or the endpoint given to the constructor), so tests point them at a fake on 127.0.0.1.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field

from ml_intern_tui.core.tool import Tool, ToolContext, ToolError, ToolResult, require
from ml_intern_tui.integrations.doc_text import markdown_headings, section_of
from ml_intern_tui.integrations.docs_index import DEFAULT_MAX_AGE_S, DocsError, DocsIndexStore
from ml_intern_tui.integrations.http import LazyHttp

if TYPE_CHECKING:
    import httpx

DocSet = Literal[
    "transformers",
    "datasets",
    "huggingface_hub",
    "hub",
    "trl",
    "peft",
    "accelerate",
    "diffusers",
    "tokenizers",
    "evaluate",
    "optimum",
    "text-generation-inference",
    "text-embeddings-inference",
    "inference-providers",
    "inference-endpoints",
    "sentence_transformers",
    "smolagents",
    "gradio",
    "lerobot",
    "safetensors",
    "bitsandbytes",
    "kernels",
    "timm",
    "setfit",
    "trackio",
    "dataset-viewer",
    "tasks",
    "huggingface.js",
    "transformers.js",
    "lighteval",
    "leaderboards",
    "autotrain",
    "chat-ui",
    "argilla",
    "distilabel",
]
DOC_SETS: tuple[str, ...] = get_args(DocSet)

KNOWN_DOCS_HOSTS = ("huggingface.co",)
"""Hosts whose ``/docs/`` pages ``hf_docs_fetch`` reads besides the configured endpoint."""


def _endpoint(explicit: str | None, ctx: ToolContext) -> str:
    if explicit:
        return explicit.rstrip("/")
    return str(require(ctx.services.hub, "hub").endpoint).rstrip("/")


def _token(ctx: ToolContext) -> str | None:
    hub = ctx.services.hub
    token = getattr(hub, "token", None) if hub is not None else None
    return token if isinstance(token, str) and token else None


class DocsSearchArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    doc_set: DocSet = Field(
        description="Which documentation to search (a library or product of Hugging Face)."
    )
    query: str = Field(
        "",
        description="What you look for, in keywords (e.g. 'LoRA target modules'). Empty: the "
        "first pages of the doc set in their sidebar order.",
    )
    max_results: int = Field(8, ge=1, le=30, description="How many hits to return (1-30).")


class HfDocsSearchTool(Tool):
    """Rank sections of a Hugging Face doc set for a query."""

    name = "hf_docs_search"
    description = (
        "Search the Hugging Face documentation of one library (transformers, trl, peft, "
        "datasets, hub, ...). Returns ranked sections with title, URL and a short excerpt; "
        "read a hit in full with hf_docs_fetch. The first search of a doc set builds an "
        "index (cached on disk for a day)."
    )
    Args = DocsSearchArgs
    read_only = True

    def __init__(
        self,
        *,
        endpoint: str | None = None,
        store: DocsIndexStore | None = None,
        max_age_s: float = DEFAULT_MAX_AGE_S,
        cache_root: Path | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.store = store or DocsIndexStore(cache_root=cache_root, max_age_s=max_age_s)

    async def aclose(self) -> None:
        await self.store.aclose()

    async def run(self, args: DocsSearchArgs, ctx: ToolContext) -> ToolResult:
        base_url = f"{_endpoint(self.endpoint, ctx)}/docs/{args.doc_set}"
        try:
            index = await self.store.get(
                args.doc_set, base_url, token=_token(ctx), progress=ctx.progress
            )
        except DocsError as exc:
            raise ToolError(f"hf_docs_search: {exc}") from exc
        query = args.query.strip()
        hits = index.search(query, args.max_results) if query else []
        lines = [f"Documentation: {base_url} ({len(index.pages)} pages)"]
        if not hits:
            if query:
                lines.append(f"No section matches {query!r}; the first pages of the doc set:")
            else:
                lines.append("No query given; the first pages in sidebar order:")
            for n, page in enumerate(index.pages[: args.max_results], 1):
                lines.append(f"{n}. {page.title}\n   {page.url}")
            summary = f"{args.doc_set}: no query" if not query else f"{args.doc_set}: no hits"
        else:
            for n, hit in enumerate(hits, 1):
                lines.append(
                    f"\n{n}. {hit.chunk.title}  (score {hit.score:.2f})\n"
                    f"   {hit.chunk.link}\n   {hit.excerpt}"
                )
            summary = f"{args.doc_set}: {len(hits)} hits · {hits[0].chunk.title}"
        if index.failed_pages:
            lines.append(
                f"\nNote: {index.failed_pages} pages could not be fetched and are not indexed."
            )
        output = "\n".join(lines)
        truncated = len(output) > ctx.output_budget
        if truncated:
            output = (
                output[: ctx.output_budget - 120].rsplit("\n", 1)[0]
                + "\n\n[results cut to the output budget; ask for fewer with max_results]"
            )
        data = {
            "doc_set": args.doc_set,
            "hits": [{"title": h.chunk.title, "url": h.chunk.link, "score": h.score} for h in hits],
        }
        return ToolResult(summary=summary, output=output, data=data, truncated=truncated)


class DocsFetchArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(
        description="A documentation page URL from hf_docs_search "
        "(e.g. https://huggingface.co/docs/trl/sft_trainer); '#anchor' selects a section."
    )
    section: str | None = Field(
        None, description="Return only this section: a heading's text or its anchor."
    )


class HfDocsFetchTool(Tool):
    """Read one documentation page (or one section of it) as Markdown."""

    name = "hf_docs_fetch"
    description = (
        "Read a Hugging Face documentation page as Markdown (URLs from hf_docs_search). Long "
        "pages are cut to the output budget; pass section='<heading>' to read one part."
    )
    Args = DocsFetchArgs
    read_only = True

    def __init__(self, *, endpoint: str | None = None, timeout_s: float = 30.0) -> None:
        self.endpoint = endpoint
        self.timeout_s = timeout_s
        self._http = LazyHttp(timeout_s)

    @property
    def client(self) -> httpx.AsyncClient:
        return self._http.client

    async def aclose(self) -> None:
        await self._http.aclose()

    def _resolve(self, raw: str, ctx: ToolContext) -> tuple[str, str]:
        """(page URL without .md, anchor) or a refusal for a URL outside the docs."""
        endpoint = _endpoint(self.endpoint, ctx)
        url = raw.strip()
        if url.startswith("/docs/"):
            url = endpoint + url
        parts = urlsplit(url)
        ours = urlsplit(endpoint)
        same_origin = (parts.scheme, parts.netloc) == (ours.scheme, ours.netloc)
        known = parts.scheme == "https" and parts.hostname in KNOWN_DOCS_HOSTS
        if not (same_origin or known) or not parts.path.startswith("/docs/"):
            raise ToolError(
                f"hf_docs_fetch only reads documentation pages under {endpoint}/docs/ "
                f"(got {raw!r}); use hf_docs_search to find one"
            )
        path = parts.path.rstrip("/").removesuffix(".md")
        return f"{parts.scheme}://{parts.netloc}{path}", parts.fragment

    async def run(self, args: DocsFetchArgs, ctx: ToolContext) -> ToolResult:
        import httpx

        page_url, anchor = self._resolve(args.url, ctx)
        token = (
            _token(ctx)
            if urlsplit(page_url).netloc == urlsplit(_endpoint(self.endpoint, ctx)).netloc
            else None
        )
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        try:
            response = await self.client.get(page_url + ".md", headers=headers)
        except httpx.HTTPError as exc:
            raise ToolError(f"could not reach {page_url}: {type(exc).__name__}") from exc
        if response.status_code == 404:
            raise ToolError(
                f"no documentation page at {page_url} (404); check the URL with hf_docs_search"
            )
        if response.status_code >= 400:
            raise ToolError(f"{page_url} answered HTTP {response.status_code}")
        markdown = response.text
        wanted = args.section or anchor
        body = markdown
        if wanted:
            part = section_of(markdown, wanted)
            if part is None:
                names = ", ".join(h for _, level, h, _ in markdown_headings(markdown) if level <= 3)
                raise ToolError(f"no section {wanted!r} in {page_url}; sections: {names or 'none'}")
            body = part
        output, truncated = self._cut(
            f"Documentation from: {page_url}\n\n{body}", body, ctx.output_budget
        )
        summary = f"{page_url.rsplit('/docs/', 1)[-1]}" + (f" § {wanted}" if wanted else "")
        data: dict[str, Any] = {"url": page_url, "chars": len(body)}
        return ToolResult(summary=summary, output=output, data=data, truncated=truncated)

    @staticmethod
    def _cut(text: str, body: str, budget: int) -> tuple[str, bool]:
        """Keep the head of a long page and say how to read the rest (by section)."""
        if len(text) <= budget:
            return text, False
        headings = [h for _, level, h, _ in markdown_headings(body) if level <= 3]
        listing = ", ".join(repr(h) for h in headings)[:2000]
        note = (
            f"\n\n[page cut: {budget:,} of {len(text):,} characters shown. "
            f"Read the rest one part at a time with section=... ; sections: {listing}]"
        )
        keep = max(0, budget - len(note))
        return text[:keep].rsplit("\n", 1)[0] + note, True
