"""The docs index: sidebar parsing, chunking, BM25 ranking, and the on-disk cache."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes.http_server import FakeHTTPServer
from fakes.hub_docs import FakeDocs

from ml_intern_tui.integrations.docs_index import (
    DocIndex,
    DocPage,
    DocsError,
    DocsIndexStore,
    chunk_page,
    sidebar_pages,
    tokenize,
)
from ml_intern_tui.paths import cache_dir


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def server() -> Iterator[FakeHTTPServer]:
    with FakeHTTPServer() as srv:
        yield srv


@pytest.fixture
def docs(server: FakeHTTPServer) -> FakeDocs:
    return FakeDocs.install(server)


def test_sidebar_links_come_from_the_flex_auto_nav_in_order() -> None:
    html = """<a href="/docs/trl/promo">promo</a>
    <nav class="flex-auto"><a href="/docs/trl/index">Home</a><div><nav><a href="sft#x">SFT</a>
    </nav></div><a href="/docs/trl/index">Home again</a><a href="/docs/peft/x">other set</a></nav>
    <a href="/docs/trl/after">after</a>"""
    pages = sidebar_pages(html, "http://h/docs/trl")
    assert [(p.title, p.url) for p in pages] == [
        ("Home", "http://h/docs/trl/index"),
        ("SFT", "http://h/docs/trl/sft"),
    ]


def test_without_the_nav_every_link_under_the_doc_set_counts() -> None:
    html = '<a href="/docs/trl/a">A</a><a href="https://x.org/docs/trl/b">B</a><a href="/docs/x/c">C</a>'
    assert [p.url for p in sidebar_pages(html, "http://h/docs/trl")] == ["http://h/docs/trl/a"]


def test_pages_split_at_headings_with_anchors_and_code_fences_ignored() -> None:
    page = DocPage("sft", "http://h/docs/trl/sft_trainer")
    title, chunks = chunk_page(page, _sft())
    assert title == "SFT Trainer"
    assert [(c.heading, c.anchor) for c in chunks] == [
        ("SFT Trainer", ""),
        ("Quick start", "quick-start"),
        ("Dataset formats", "dataset-formats"),
        ("Train on completions only", "completion-only"),
    ]
    assert "Not a heading" in chunks[1].text
    assert chunks[3].link == "http://h/docs/trl/sft_trainer#completion-only"
    assert chunks[3].title == "SFT Trainer › Train on completions only"


def _sft() -> str:
    from fakes.hub_docs import TRL_PAGES

    return TRL_PAGES["sft_trainer"]


def test_tokenizer_stems_and_drops_stopwords() -> None:
    assert tokenize("Training the trainers with from_pretrained") == [
        "train",
        "trainer",
        "pretrain",
    ]


@pytest.mark.parametrize(
    ("query", "expected_link"),
    [
        ("chosen rejected columns", "dpo_trainer#expected-dataset-type"),
        ("preference pairs without a reward model", "dpo_trainer"),
        ("reward functions", "grpo_trainer#reward-functions"),
        ("LoRA target modules", "peft_integration#lora"),
        ("messages column packing", "sft_trainer#dataset-formats"),
        ("install", "index#installation"),
    ],
)
async def test_ranking_puts_the_right_section_first(
    docs: FakeDocs, tmp_path: Path, query: str, expected_link: str
) -> None:
    store = DocsIndexStore(cache_root=tmp_path)
    try:
        index = await store.get("trl", docs.server.base_url + "/docs/trl")
    finally:
        await store.aclose()
    hits = index.search(query, 5)
    assert hits, query
    assert hits[0].chunk.link.endswith(expected_link), [h.chunk.link for h in hits]
    assert len(hits[0].excerpt) <= 205
    assert all(a.score >= b.score for a, b in itertools.pairwise(hits))


async def test_excerpt_is_around_the_match(docs: FakeDocs, tmp_path: Path) -> None:
    store = DocsIndexStore(cache_root=tmp_path)
    index = await store.get("trl", docs.server.base_url + "/docs/trl")
    await store.aclose()
    (hit,) = index.search("QLoRA", 1)
    assert "QLoRA loads the base model in 4-bit" in hit.excerpt
    assert index.search("zzzunknownword", 5) == []


async def test_second_store_reads_the_disk_cache_without_crawling(docs: FakeDocs) -> None:
    base = docs.server.base_url + "/docs/trl"
    first = DocsIndexStore()
    await first.get("trl", base)
    await first.aclose()
    assert docs.crawls() == 1 and docs.page_fetches() == 6
    cached = cache_dir() / "docs" / "trl.json"
    assert json.loads(cached.read_text())["doc_set"] == "trl"

    second = DocsIndexStore()  # a new session: nothing in memory
    index = await second.get("trl", base)
    await second.aclose()
    assert docs.crawls() == 1 and docs.page_fetches() == 6
    assert len(index.pages) == 6 and index.search("GRPO", 1)


async def test_cache_older_than_the_age_limit_is_rebuilt(docs: FakeDocs, tmp_path: Path) -> None:
    clock = Clock()
    base = docs.server.base_url + "/docs/trl"
    store = DocsIndexStore(cache_root=tmp_path, max_age_s=3600, clock=clock)
    await store.get("trl", base)
    clock.now += 3599
    await store.get("trl", base)
    assert docs.crawls() == 1
    docs.pages["logging"] = "# Logging\n\nNow with a brand new zebra exporter."
    clock.now += 2
    index = await store.get("trl", base)
    await store.aclose()
    assert docs.crawls() == 2
    assert index.search("zebra", 1)[0].chunk.url.endswith("/logging")
    on_disk = DocIndex.from_json(json.loads((tmp_path / "trl.json").read_text()))
    assert on_disk.built_at == clock.now


async def test_cache_for_another_endpoint_is_not_reused(docs: FakeDocs, tmp_path: Path) -> None:
    store = DocsIndexStore(cache_root=tmp_path)
    await store.get("trl", docs.server.base_url + "/docs/trl")
    with FakeHTTPServer() as other:
        other_docs = FakeDocs.install(other)
        await store.get("trl", other.base_url + "/docs/trl")
        assert other_docs.crawls() == 1
    await store.aclose()


async def test_missing_pages_are_counted_and_fallback_links_used(
    docs: FakeDocs, tmp_path: Path
) -> None:
    docs.with_nav = False  # the fallback also finds a page that 404s
    store = DocsIndexStore(cache_root=tmp_path)
    index = await store.get("trl", docs.server.base_url + "/docs/trl")
    await store.aclose()
    assert index.failed_pages == 1 and len(index.pages) == 6


async def test_unreachable_docs_raise_a_one_line_error(
    server: FakeHTTPServer, tmp_path: Path
) -> None:
    store = DocsIndexStore(cache_root=tmp_path)
    with pytest.raises(DocsError, match=r"/docs/trl answered HTTP 404"):
        await store.get("trl", server.base_url + "/docs/trl")
    await store.aclose()


async def test_corrupt_cache_is_ignored(docs: FakeDocs, tmp_path: Path) -> None:
    (tmp_path / "trl.json").write_text("{not json")
    store = DocsIndexStore(cache_root=tmp_path)
    index = await store.get("trl", docs.server.base_url + "/docs/trl")
    await store.aclose()
    assert docs.crawls() == 1 and index.pages
