"""Fake Hub papers endpoints plus an arXiv-like HTML source, for ``hf_papers``.

Routes: ``/api/papers/search``, ``/api/daily_papers``, ``/api/papers/<id>``, the paper page
Markdown ``/papers/<id>.md`` (only for ``MD_PAPER``), arXiv-style HTML ``/html/<id>`` (only
for ``HTML_PAPER``), and ``/api/models|datasets?filter=arxiv:<id>``,
``/api/collections?item=papers/<id>``.
"""

from __future__ import annotations

from typing import Any

from fakes.http_server import FakeHTTPServer, FakeRequest, FakeResponse

MD_PAPER = "2401.00001"
HTML_PAPER = "2402.00002"
BARE_PAPER = "2403.00003"


def _paper(pid: str, title: str, summary: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": pid,
        "title": title,
        "summary": summary,
        "authors": [{"name": "Ada Lovelace"}, {"name": "Alan Turing"}],
        "publishedAt": "2024-01-02T00:00:00.000Z",
        "upvotes": 42,
        **extra,
    }


PAPERS: dict[str, dict[str, Any]] = {
    MD_PAPER: _paper(
        MD_PAPER,
        "Direct Preference Optimization Revisited",
        "We revisit DPO and show that a reference-free variant matches PPO.",
        githubRepo="https://github.com/example/dpo-revisited",
        ai_keywords=["preference optimization", "alignment"],
    ),
    HTML_PAPER: _paper(
        HTML_PAPER,
        "Group Relative Policy Optimization at Scale",
        "GRPO removes the critic by normalising rewards within a group of samples.",
        ai_keywords=["reinforcement learning", "reasoning"],
    ),
    BARE_PAPER: _paper(BARE_PAPER, "A Paper Without Full Text", "Only an abstract exists."),
}

PAPER_MARKDOWN = f"""# {PAPERS[MD_PAPER]["title"]}

## Abstract

We revisit DPO and show that a reference-free variant matches PPO.

## 1 Introduction

Preference optimization aligns language models with human judgements.

## 2 Method

### 2.1 Objective

The loss compares the log-ratio of chosen and rejected completions.

### 2.2 Reference-free variant

We drop the reference model and regularise with length normalisation.

## 3 Experiments

On three benchmarks the variant matches PPO at a tenth of the cost.

## References

[1] Rafailov et al. 2023.
"""

PAPER_HTML = """<!DOCTYPE html><html><head><title>GRPO at Scale</title>
<style>body { color: red }</style><script>var x = "<h2>not a section</h2>";</script></head>
<body><nav class="ltx_page_navbar"><a href="#S1">1 Introduction</a></nav>
<article class="ltx_document">
<h1 class="ltx_title ltx_title_document">Group Relative Policy Optimization at Scale</h1>
<div class="ltx_abstract"><h6 class="ltx_title ltx_title_abstract">Abstract</h6>
<p class="ltx_p">GRPO removes the critic by normalising rewards within a group.</p></div>
<section class="ltx_section" id="S1">
<h2 class="ltx_title ltx_title_section"><span class="ltx_tag">1 </span>Introduction</h2>
<div class="ltx_para"><p class="ltx_p">Critic-free RL for reasoning models, where the advantage is
<math alttext="A_i = r_i - \\bar{r}"><mi>A</mi><mo>=</mo></math> for each sample.</p></div>
</section>
<section class="ltx_section" id="S2">
<h2 class="ltx_title ltx_title_section"><span class="ltx_tag">2 </span>Group Sampling</h2>
<p class="ltx_p">We sample G completions per prompt.</p>
<section class="ltx_subsection" id="S2.SS1">
<h3 class="ltx_title ltx_title_subsection"><span class="ltx_tag">2.1 </span>Group size</h3>
<p class="ltx_p">Larger groups reduce the variance of the advantage estimate.</p>
</section></section>
<section class="ltx_section" id="S3">
<h2 class="ltx_title ltx_title_section"><span class="ltx_tag">3 </span>Results</h2>
<p class="ltx_p">GRPO improves math accuracy by 12 points.</p>
</section></article></body></html>"""


def _repo(rid: str, downloads: int) -> dict[str, Any]:
    return {"id": rid, "downloads": downloads, "likes": downloads // 10, "tags": []}


MODELS = {MD_PAPER: [_repo("example/dpo-model", 900), _repo("example/dpo-small", 50)]}
DATASETS = {MD_PAPER: [_repo("example/preferences", 300)]}
COLLECTIONS = {
    MD_PAPER: [
        {
            "slug": "alice/alignment-papers-65a1b2c3d4e5f6a7b8c9d0e1",
            "title": "Alignment papers",
            "owner": {"name": "alice", "type": "user"},
            "items": [{"_id": "x1", "id": MD_PAPER, "type": "paper", "position": 0}],
            "lastUpdated": "2024-02-01T00:00:00.000Z",
            "private": False,
            "theme": "blue",
            "upvotes": 7,
        }
    ]
}


def install_papers(server: FakeHTTPServer) -> None:
    """Register the papers routes on ``server``."""

    @server.route("GET", r"/api/papers/search")
    def search(req: FakeRequest) -> FakeResponse:
        words = (req.arg("q") or "").lower().split()
        found = [
            {"paper": dict(p), "title": p["title"]}
            for p in PAPERS.values()
            if words and any(w in (p["title"] + " " + p["summary"]).lower() for w in words)
        ]
        return FakeResponse.json(found[: int(req.arg("limit") or 50)])

    @server.route("GET", r"/api/daily_papers")
    def daily(req: FakeRequest) -> FakeResponse:
        if req.arg("date") == "1999-01-01":
            return FakeResponse.json([])
        items = [
            {"paper": dict(p), "title": p["title"], "publishedAt": "2024-03-01T00:00:00.000Z"}
            for p in PAPERS.values()
        ]
        return FakeResponse.json(items[: int(req.arg("limit") or 50)])

    @server.route("GET", r"/api/papers/(?P<pid>[\w.]+)")
    def info(req: FakeRequest) -> FakeResponse:
        paper = PAPERS.get(req.group("pid"))
        if paper is None:
            return FakeResponse.error(404, "Paper not found")
        return FakeResponse.json(paper)

    @server.route("GET", r"/papers/(?P<pid>[\w.]+)\.md")
    def page_markdown(req: FakeRequest) -> FakeResponse:
        if req.group("pid") != MD_PAPER:
            return FakeResponse.error(404, "no markdown")
        return FakeResponse.text(PAPER_MARKDOWN, content_type="text/markdown")

    @server.route("GET", r"/html/(?P<pid>[\w.]+)")
    def arxiv_html(req: FakeRequest) -> FakeResponse:
        if req.group("pid") != HTML_PAPER:
            return FakeResponse.error(404, "no html")
        return FakeResponse.text(PAPER_HTML, content_type="text/html")

    def by_arxiv_tag(table: dict[str, list[dict[str, Any]]]) -> Any:
        def handler(req: FakeRequest) -> FakeResponse:
            tag = req.arg("filter") or ""
            rows = table.get(tag.removeprefix("arxiv:"), []) if tag.startswith("arxiv:") else []
            return FakeResponse.json(rows[: int(req.arg("limit") or 100)])

        return handler

    server.route("GET", r"/api/models")(by_arxiv_tag(MODELS))
    server.route("GET", r"/api/datasets")(by_arxiv_tag(DATASETS))

    @server.route("GET", r"/api/collections")
    def collections(req: FakeRequest) -> FakeResponse:
        item = req.arg("item") or ""
        rows = (
            COLLECTIONS.get(item.removeprefix("papers/"), []) if item.startswith("papers/") else []
        )
        return FakeResponse.json(rows)
