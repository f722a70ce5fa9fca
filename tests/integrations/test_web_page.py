"""A fetched body as text: kinds, encodings and HTML → Markdown (tables, links, chrome)."""

from __future__ import annotations

import codecs

import pytest

from ml_intern_tui.integrations.web_page import classify, decode, html_to_markdown

BASE = "https://blog.example.com/posts/grpo"


@pytest.mark.parametrize(
    ("media_type", "head", "kind", "words"),
    [
        ("text/html", None, "html", "HTML"),
        ("application/xhtml+xml", b"<html>", "html", "HTML"),
        ("text/plain", b"hello", "text", "text"),
        ("text/markdown", b"# t", "text", "text"),
        ("application/json", b"{}", "text", "text"),
        ("application/vnd.api+json", b"{}", "text", "text"),
        ("image/svg+xml", b"<svg/>", "text", "text"),
        ("application/pdf", None, "binary", "PDF"),
        ("image/png", None, "binary", "image"),
        ("video/mp4", None, "binary", "video"),
        ("application/zip", None, "binary", "zip"),
        (
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            None,
            "binary",
            "office",
        ),
        ("", b"  <!DOCTYPE html><html>", "html", "HTML"),
        ("application/octet-stream", b"<html><body>", "html", "HTML"),
        ("application/octet-stream", b"\x7fELF\x02\x00\x00", "binary", "octet-stream"),
        ("", b"%PDF-1.4 ...", "binary", "PDF"),
        ("text/plain", b"%PDF-1.4\n", "binary", "PDF"),  # a mislabelled PDF
        ("text/plain", b"abc\x00\x00def", "binary", "labelled as text"),
        ("", b"plain words", "text", "text"),
    ],
)
def test_classify(media_type: str, head: bytes | None, kind: str, words: str) -> None:
    got_kind, description = classify(media_type, head)
    assert got_kind == kind
    assert words.lower() in description.lower()


def test_decode_prefers_bom_then_header_then_meta() -> None:
    text = "Größe — déjà"
    assert decode(codecs.BOM_UTF8 + text.encode(), "windows-1251", html=False) == (text, "utf-8")
    utf16 = codecs.BOM_UTF16_LE + text.encode("utf-16-le")
    assert decode(utf16, None, html=False)[0] == text
    # The header wins over the page's own meta (as in browsers).
    body = b'<meta charset="utf-8">' + "привет".encode("cp1251")
    assert decode(body, "windows-1251", html=True)[0].endswith("привет")
    # No header: the meta decides; "iso-8859-1" is read as windows-1252, like browsers do.
    meta = b'<meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-1">'
    decoded, codec = decode(meta + "— café".encode("cp1252"), None, html=True)
    assert decoded.endswith("— café") and codec == "cp1252"
    # A meta is not read in plain text.
    assert decode(meta + "é".encode("cp1252"), None, html=False)[1] == "cp1252"


def test_decode_guesses_utf8_or_windows_1252_and_never_raises() -> None:
    assert decode("naïve".encode(), None, html=False) == ("naïve", "utf-8")
    assert decode("naïve".encode("cp1252"), None, html=False) == ("naïve", "cp1252")
    # A body cut at the size limit may end inside a UTF-8 character: still UTF-8.
    cut = "ok €".encode()[:-1]
    assert decode(cut, None, html=False, complete=False) == ("ok \ufffd", "utf-8")
    # Bad bytes under a declared charset become replacement characters.
    text, codec = decode(b"start \xff\xfe end", "utf-8", html=False)
    assert text == "start \ufffd\ufffd end" and codec == "utf-8"
    # An unknown label falls back to detection.
    assert decode(b"plain", "x-made-up-charset", html=False) == ("plain", "utf-8")


ARTICLE = """<!doctype html><html><head><title>  GRPO   recipes | Blog </title>
<base href="https://blog.example.com/">
<style>body { color: red }</style><script>steal(document.cookie)</script></head><body>
<header><nav><a href="/">Home</a> <a href="/blog">Blog</a></nav></header>
<div role="navigation">Skip to content</div>
<main><article>
<header><h1>GRPO recipes</h1><p>by Ada</p></header>
<p>See <a href="docs/trl">TRL docs</a>, <a href="https://arxiv.org/abs/2402.03300">the paper</a>,
<a href="javascript:evil()">click here</a> and <a href="#results">below</a>.
Use <code>learning_rate=1e-6</code> with 2*4 GPUs.</p>
<p hidden>HIDDEN-ATTR</p><div aria-hidden="true">ARIA-HIDDEN</div>
<span style="display: none">DISPLAY-NONE</span>
<h2 id="results">Results</h2>
<table>
<tr><th>model</th><th>score | note</th></tr>
<tr><td>Qwen 0.5B</td><td>45.8 | best</td></tr>
</table>
<table><tr><td>a</td><td>b</td></tr><tr><td>c</td><td>d</td></tr></table>
<pre><code class="language-python">trainer = GRPOTrainer(
    model=model)
</code></pre>
<ol start="3"><li>three</li><li>four<ul><li>nested</li></ul></li></ol>
<img src="/fig1.png" alt="Figure 1"><img src="data:image/png;base64,AAAA" alt="inline data">
<form><label>Email</label><input name="e"><button>Subscribe</button></form>
<noscript>enable JS</noscript><template><p>TEMPLATE</p></template>
<svg><text>SVG-TEXT</text></svg><iframe src="https://ads.example"></iframe>
</article></main>
<aside>Related: ASIDE-TEXT</aside>
<footer>FOOTER-TEXT</footer>
<!-- a comment: COMMENT-TEXT -->
</body></html>"""


def test_article_becomes_markdown_without_page_chrome() -> None:
    page = html_to_markdown(ARTICLE, BASE)
    md = page.markdown
    assert page.title == "GRPO recipes | Blog"
    assert md.startswith("# GRPO recipes\n\nby Ada")  # the article's own header is kept
    # Links are absolute (against <base href>), javascript: and in-page links keep text only.
    assert "[TRL docs](https://blog.example.com/docs/trl)" in md
    assert "[the paper](https://arxiv.org/abs/2402.03300)" in md
    assert "click here" in md and "javascript" not in md
    assert "below" in md and "(#results)" not in md
    # Identifiers are not escaped (the model reads them as code).
    assert "`learning_rate=1e-6` with 2*4 GPUs" in md
    # Tables stay tables; a header row is inferred when there is none; pipes are escaped.
    assert "| model | score \\| note |\n| --- | --- |\n| Qwen 0.5B | 45.8 \\| best |" in md
    assert "| a | b |\n| --- | --- |\n| c | d |" in md
    assert "```python\ntrainer = GRPOTrainer(\n    model=model)\n```" in md
    assert "3. three\n4. four\n   - nested" in md
    assert "![Figure 1](https://blog.example.com/fig1.png)" in md
    assert "inline data" in md and "data:image" not in md
    for gone in (
        "steal",
        "color: red",
        "Home",
        "Skip to content",
        "HIDDEN-ATTR",
        "ARIA-HIDDEN",
        "DISPLAY-NONE",
        "Subscribe",
        "enable JS",
        "TEMPLATE",
        "SVG-TEXT",
        "ASIDE-TEXT",
        "FOOTER-TEXT",
        "COMMENT-TEXT",
    ):
        assert gone not in md, gone
    assert "\n\n\n" not in md


def test_page_without_main_keeps_the_body_and_short_main_is_ignored() -> None:
    html = (
        "<html><body><main><p>tiny</p></main>"
        + "<div><p>"
        + "The real content lives outside main. " * 20
        + "</p></div></body></html>"
    )
    md = html_to_markdown(html, BASE).markdown
    assert "tiny" in md and "The real content lives outside main." in md
    no_body = html_to_markdown("<h3>Bare</h3><p>fragment</p>", BASE)
    assert no_body.markdown == "### Bare\n\nfragment"


def test_hostile_nesting_is_cut_at_a_fixed_depth_with_a_note() -> None:
    html = "<p>on top</p>" + "<div>" * 100_000 + "buried words" + "</div>" * 100_000
    page = html_to_markdown(html, BASE)
    assert page.markdown == "on top"
    assert page.note == "the page nests elements over 255 deep: the deepest parts are left out"
    shallow = html_to_markdown("<div>" * 200 + "reachable" + "</div>" * 200, BASE)
    assert shallow.markdown == "reachable" and shallow.note == ""


def test_unusual_input_never_raises() -> None:
    assert html_to_markdown("", BASE).markdown == ""
    assert html_to_markdown("   ", BASE).markdown == ""
    xhtml = '<?xml version="1.0" encoding="utf-8"?><html><body><p>x\x00y\x01z</p></body></html>'
    assert html_to_markdown(xhtml, BASE).markdown == "xyz"
    hidden_script = '<p><a href="#top"><script>steal()</script>top</a></p>'
    assert html_to_markdown(hidden_script, BASE).markdown == "top"


def test_broken_markup_still_converts() -> None:
    html = "<p>open <b>bold <i>both</p><table><tr><td>cell<td>next</table><p>after"
    md = html_to_markdown(html, BASE).markdown
    assert "open **bold *both" in md
    assert "| cell | next |" in md
    assert md.endswith("after")


def test_hostile_table_spans_cannot_blow_up_the_output() -> None:
    cell = '<td colspan="1000000" rowspan="1000">x</td>'
    html = "<table>" + ("<tr>" + cell * 5 + "</tr>") * 200 + "</table>"
    page = html_to_markdown(html, BASE)
    assert len(page.markdown) < 10 * len(html)  # unclamped: about 50 times
    ok = html_to_markdown(
        '<table><tr><th colspan="2">both</th></tr><tr><td>a</td><td>b</td></tr></table>', BASE
    )
    assert ok.markdown.splitlines()[0].count("|") == 3  # a header spanning two columns


def test_a_converter_crash_falls_back_to_plain_text(monkeypatch: pytest.MonkeyPatch) -> None:
    import html_to_markdown as converter

    class PanicError(BaseException):  # what a Rust panic looks like from Python (PyO3)
        pass

    def explode(*args: object, **kwargs: object) -> None:
        raise PanicError("index out of bounds")

    monkeypatch.setattr(converter, "convert", explode)
    page = html_to_markdown("<h1>Title</h1><p>first   words</p><script>x()</script>", BASE)
    assert page.markdown == "Title\n\nfirst words"
    assert page.note == "the page could not be converted to Markdown: its plain text follows"
