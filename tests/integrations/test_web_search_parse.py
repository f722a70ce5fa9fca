"""Search results out of DuckDuckGo-shaped HTML; domain filters; bot checks told apart."""

from __future__ import annotations

import pytest
from fakes.web_site import BOT_CHECK_PAGE, NO_RESULTS_PAGE, FakeResult, results_page

from ml_intern_tui.integrations.web_search import (
    SearchResult,
    decode_link,
    filter_domains,
    host_matches,
    normalize_domain,
    parse_results,
    url_key,
)

PAGE_URL = "https://html.duckduckgo.com/html/?q=grpo"


def test_duckduckgo_page_gives_decoded_deduplicated_results_without_ads() -> None:
    html = results_page(
        "grpo",
        [
            FakeResult(
                "TRL <b>GRPO</b> Trainer",
                "https://huggingface.co/docs/trl?x=1&y=2",
                "The <b>GRPO</b>  trainer\n text",
            ),
            FakeResult("Ad", "https://ads.example/", "buy", ad=True),
            FakeResult("Same page", "https://HuggingFace.co/docs/trl/?x=1&y=2#part", "dup"),
            FakeResult("Mirror", "ftp://mirror.example/file", "ftp"),
            FakeResult("Paper", "https://arxiv.org/abs/2402.03300", "x" * 400),
        ],
    )
    page = parse_results(html, PAGE_URL)
    assert not page.blocked and not page.says_no_results
    assert [r.url for r in page.results] == [
        "https://huggingface.co/docs/trl?x=1&y=2",
        "https://arxiv.org/abs/2402.03300",
    ]
    first = page.results[0]
    assert first.title == "TRL GRPO Trainer"
    assert first.snippet == "The GRPO trainer text"
    assert len(page.results[1].snippet) == 300 and page.results[1].snippet.endswith("…")


def test_other_engines_fall_back_to_outbound_links() -> None:
    html = """<html><body><a href="/settings">Settings</a>
    <a href="https://search.example/about">About us</a>
    <a href="https://docs.example.org/guide">A guide to LoRA</a>
    <a href="https://docs.example.org/guide#top">A guide to LoRA again</a>
    <a href="mailto:x@example.org">mail me</a><a href="https://x.example/">ok</a>
    <a href="https://peft.example/lora">PEFT LoRA</a></body></html>"""
    page = parse_results(html, "https://search.example/?q=lora")
    assert [(r.title, r.url) for r in page.results] == [
        ("A guide to LoRA", "https://docs.example.org/guide"),
        ("PEFT LoRA", "https://peft.example/lora"),
    ]


def test_bot_check_and_no_results_are_told_apart() -> None:
    blocked = parse_results(BOT_CHECK_PAGE, PAGE_URL)
    assert blocked.results == [] and blocked.blocked
    empty = parse_results(NO_RESULTS_PAGE, PAGE_URL)
    assert empty.results == [] and empty.says_no_results and not empty.blocked


@pytest.mark.parametrize(
    ("href", "target"),
    [
        (
            "//duckduckgo.com/l/?uddg=https%3A%2F%2Fa.example%2Fp%3Fq%3D1&rut=x",
            "https://a.example/p?q=1",
        ),
        ("/l/?kh=-1&uddg=http%3A%2F%2Fb.example%2F", "http://b.example/"),
        ("https://c.example/direct", "https://c.example/direct"),
        ("https://duckduckgo.com/y.js?ad_domain=x&u3=y", None),
        ("//duckduckgo.com/l/?uddg=javascript%3Aalert(1)", None),
        ("//duckduckgo.com/l/?uddg=file%3A%2F%2F%2Fetc%2Fpasswd", None),
        ("", None),
    ],
)
def test_decode_link(href: str, target: str | None) -> None:
    assert decode_link(href, PAGE_URL) == target


def test_url_key_ignores_case_www_fragment_and_trailing_slash() -> None:
    assert url_key("https://WWW.Example.com/a/#x") == url_key("https://example.com/a")
    assert url_key("https://example.com/a?b=1") != url_key("https://example.com/a?b=2")


@pytest.mark.parametrize(
    ("entry", "domain"),
    [
        ("huggingface.co", "huggingface.co"),
        ("https://Docs.Python.org/3/library/", "docs.python.org"),
        ("*.github.io", "github.io"),
        ("example.com.", "example.com"),
        ("example.com:8080/path", "example.com"),
        ("bücher.example", "xn--bcher-kva.example"),
    ],
)
def test_normalize_domain(entry: str, domain: str) -> None:
    assert normalize_domain(entry) == domain


@pytest.mark.parametrize("bad", ["", "not a domain", "https://", "a..b", "-x.com"])
def test_normalize_domain_rejects_junk(bad: str) -> None:
    with pytest.raises(ValueError, match="is not a domain"):
        normalize_domain(bad)


def test_domain_filters_match_subdomains_only() -> None:
    assert host_matches("https://docs.example.org/x", ["example.org"])
    assert host_matches("https://example.org/", ["example.org"])
    assert not host_matches("https://badexample.org/", ["example.org"])
    assert not host_matches("https://example.org.evil.com/", ["example.org"])
    results = [
        SearchResult("a", "https://github.com/x"),
        SearchResult("b", "https://gist.github.com/y"),
        SearchResult("c", "https://gitlab.com/z"),
    ]
    kept, dropped = filter_domains(results, ["github.com"], ["gist.github.com"])
    assert [r.title for r in kept] == ["a"] and dropped == 2
    kept, dropped = filter_domains(results, [], ["gitlab.com"])
    assert [r.title for r in kept] == ["a", "b"] and dropped == 1
