"""A fetched web page as text: what kind of body it is, its encoding, HTML as Markdown.

HTML is parsed with BeautifulSoup over lxml (libxml2's HTML parser: fast, and it closes
the ``<p>``, ``<li>`` and ``<td>`` tags that HTML lets pages leave open, which the stdlib
parser nests instead) and written as Markdown by ``markdownify``; scripts,
styles, navigation, forms' controls and hidden elements are dropped first, links and
images are made absolute, and tables stay Markdown tables.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit

Kind = Literal["html", "text", "binary"]

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
TEXT_TYPES = frozenset(
    {
        "application/json",
        "application/ld+json",
        "application/x-ndjson",
        "application/jsonl",
        "application/xml",
        "application/javascript",
        "application/x-javascript",
        "application/ecmascript",
        "application/yaml",
        "application/x-yaml",
        "application/toml",
        "application/x-sh",
        "application/x-python",
        "application/x-tex",
        "application/x-bibtex",
    }
)
_BINARY_NAMES = {
    "application/pdf": "a PDF document",
    "application/zip": "a zip archive",
    "application/gzip": "a gzip archive",
    "application/x-gzip": "a gzip archive",
    "application/x-tar": "a tar archive",
    "application/x-7z-compressed": "a 7z archive",
    "application/vnd.rar": "a rar archive",
    "application/msword": "a Word document",
    "application/wasm": "a WebAssembly module",
    "application/x-hdf5": "an HDF5 file",
    "application/vnd.apache.parquet": "a Parquet file",
}
_BINARY_PREFIXES = {
    "image/": "an image",
    "audio/": "audio",
    "video/": "a video",
    "font/": "a font",
    "application/vnd.": "an office or vendor file",
}
_MAGIC = {
    b"%PDF-": "a PDF document",
    b"\x89PNG": "an image",
    b"\xff\xd8\xff": "an image",
    b"GIF8": "an image",
    b"PK\x03\x04": "a zip archive",
    b"\x1f\x8b": "a gzip archive",
}
_HTML_START = re.compile(
    rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)\b", re.I | re.S
)
_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:-]+)", re.I)
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_WEB_LATIN1 = {"iso-8859-1", "iso8859-1", "latin-1", "latin1", "l1", "us-ascii", "ascii"}
"""Labels browsers read as windows-1252 (the WHATWG Encoding standard does the same)."""


def classify(media_type: str, head: bytes | None) -> tuple[Kind, str]:
    """(kind, description) from the media type and, when given, the first bytes of the body."""
    if media_type in _BINARY_NAMES:
        return "binary", _BINARY_NAMES[media_type]
    for prefix, name in _BINARY_PREFIXES.items():
        if media_type.startswith(prefix) and not media_type.endswith(("+xml", "+json")):
            return "binary", name
    if head is not None:
        for magic, name in _MAGIC.items():
            if head.startswith(magic):
                return "binary", name
    if media_type in HTML_TYPES:
        return "html", "an HTML page"
    if (
        media_type.startswith("text/")
        or media_type in TEXT_TYPES
        or media_type.endswith(("+json", "+xml"))
    ):
        if head is not None and b"\x00" in head and not head.startswith(_UTF16_BOMS):
            return "binary", "binary data labelled as text"
        return "text", "text"
    if head is None:  # no type, octet-stream or an unknown one: the bytes decide
        return "text", "unknown"
    if _HTML_START.match(head):
        return "html", "an HTML page"
    if b"\x00" in head and not head.startswith(_UTF16_BOMS):
        return "binary", f"binary data ({media_type or 'no content type'})"
    return "text", "text"


_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def _codec(label: str | None) -> str | None:
    """The Python codec for a charset label, or ``None`` when it is unknown."""
    if not label:
        return None
    name = label.strip().strip("\"'").lower()
    if name in _WEB_LATIN1:
        return "cp1252"
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _is_utf8(body: bytes, *, complete: bool) -> bool:
    """Whether ``body`` is UTF-8; a cut body may end inside a character."""
    try:
        codecs.getincrementaldecoder("utf-8")("strict").decode(body, final=complete)
    except UnicodeDecodeError:
        return False
    return True


def decode(
    body: bytes, header_charset: str | None, *, html: bool, complete: bool = True
) -> tuple[str, str]:
    """(text, codec used): byte-order mark, then the header, then ``<meta>``, then UTF-8 or
    windows-1252. Bytes the codec cannot read become U+FFFD; nothing raises. ``complete``
    is false for a body cut at the size limit (it may end inside a character)."""
    for bom, name in _BOMS:
        if body.startswith(bom):
            return body[len(bom) :].decode(name, errors="replace"), name
    codec = _codec(header_charset)
    if codec is None and html:
        match = _META_CHARSET.search(body[:4096])
        codec = _codec(match.group(1).decode("ascii", "replace")) if match else None
        if codec in ("utf-16-le", "utf-16-be", "utf-16"):  # a meta cannot be read in UTF-16
            codec = "utf-8"
    if codec is None:
        codec = "utf-8" if _is_utf8(body, complete=complete) else "cp1252"
    return body.decode(codec, errors="replace"), codec


# ------------------------------------------------------------------ HTML → Markdown

_DROP_TAGS = (
    "script",
    "style",
    "noscript",
    "template",
    "svg",
    "canvas",
    "iframe",
    "object",
    "embed",
    "nav",
    "button",
    "input",
    "select",
    "textarea",
    "dialog",
    "link",
    "meta",
)
_DROP = frozenset({*_DROP_TAGS, "head", "title"})
_CHROME_TAGS = frozenset({"header", "footer", "aside"})
"""Page chrome, dropped unless it sits inside the main content (an article's own header)."""
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_CHROME_ROLES = {"navigation", "banner", "contentinfo", "search", "menu", "menubar"}
_LANGUAGE = re.compile(r"(?:language|lang|highlight-source)-([\w+#-]+)")
_BLANK_LINES = re.compile(r"\n{3,}")
_LINK_SCHEMES = ("http", "https", "mailto", "ftp")


@dataclass
class Page:
    """A page as Markdown with its title."""

    title: str
    markdown: str
    note: str = ""
    """Something the reader should know about the conversion (structure lost...)."""


def _converter_class() -> Any:
    from markdownify import MarkdownConverter

    base: Any = MarkdownConverter  # its convert_<tag> methods are made at run time

    class _Converter(base):  # type: ignore[misc]
        """Table cells with ``|`` escaped; code blocks with their language."""

        def convert_td(self, el: Any, text: str, parent_tags: set[str]) -> str:
            return str(super().convert_td(el, text.replace("|", r"\|"), parent_tags))

        def convert_th(self, el: Any, text: str, parent_tags: set[str]) -> str:
            return str(super().convert_th(el, text.replace("|", r"\|"), parent_tags))

        def convert_img(self, el: Any, text: str, parent_tags: set[str]) -> str:
            src = str(el.attrs.get("src") or "")
            alt = " ".join(str(el.attrs.get("alt") or "").split())
            if not src.startswith(("http://", "https://")):
                return alt
            return str(super().convert_img(el, text, parent_tags))

    return _Converter


def _code_language(el: Any) -> str:
    for node in (el, el.find("code")):
        if node is None:
            continue
        classes = " ".join(node.get("class") or [])
        match = _LANGUAGE.search(classes)
        if match:
            return match.group(1)
    return ""


def _is_hidden(tag: Any) -> bool:
    attrs = tag.attrs or {}
    if "hidden" in attrs or str(attrs.get("aria-hidden", "")).lower() == "true":
        return True
    if str(attrs.get("role", "")).lower() in _CHROME_ROLES:
        return True
    return bool(_HIDDEN_STYLE.search(str(attrs.get("style", ""))))


def _clean(soup: Any, base_url: str) -> None:
    """Drop what a reader never sees or does not want; make links absolute (one pass)."""
    from bs4 import Comment

    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    doomed: list[Any] = []
    chrome: list[Any] = []
    for tag in soup.find_all(True):
        name = tag.name
        if name in _DROP or _is_hidden(tag):
            doomed.append(tag)
        elif name in _CHROME_TAGS:
            chrome.append(tag)
        elif name == "a":
            _fix_link(tag, base_url)
        elif name == "img":
            src = str(tag.get("src") or "").strip()
            tag["src"] = urljoin(base_url, src) if src and not src.startswith("data:") else ""
    for tag in doomed:
        if not tag.decomposed:
            tag.decompose()
    for tag in chrome:
        if not tag.decomposed and tag.find_parent(["article", "main"]) is None:
            tag.decompose()


def _fix_link(tag: Any, base_url: str) -> None:
    href = str(tag.get("href") or "").strip()
    if not href or href.startswith("#"):
        tag.attrs = {}  # an in-page anchor: its text is enough
        return
    absolute = urljoin(base_url, href)
    if urlsplit(absolute).scheme.lower() not in _LINK_SCHEMES:
        tag.attrs = {}  # javascript:, data: … keep the text only
        return
    tag.attrs = {"href": absolute}


def _content_root(soup: Any) -> Any:
    """The main content when the page marks it (``<main>``, one ``<article>``), else body."""
    body = soup.body or soup
    total = len(body.get_text(" ", strip=True))
    candidates = soup.find_all("main") + soup.find_all(attrs={"role": "main"})
    articles = soup.find_all("article")
    if len(articles) == 1:
        candidates.append(articles[0])
    for candidate in candidates:
        if len(candidate.get_text(" ", strip=True)) >= 0.3 * total:
            return candidate
    return body


def parse_html(html: str) -> Any:
    """A BeautifulSoup tree of ``html`` (lxml), without bs4's guesses about the input."""
    import warnings

    from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning, XMLParsedAsHTMLWarning

    # Filters set once (catch_warnings is not thread-safe, and pages convert in a thread).
    warnings.filterwarnings("ignore", category=XMLParsedAsHTMLWarning)  # XHTML served as HTML
    warnings.filterwarnings("ignore", category=MarkupResemblesLocatorWarning)  # a bare URL
    return BeautifulSoup(html, "lxml")


def html_to_markdown(html: str, base_url: str) -> Page:
    """Markdown of the readable part of an HTML page, links absolute to ``base_url``."""
    soup = parse_html(html)
    title = " ".join(soup.title.get_text(" ").split()) if soup.title else ""
    base = soup.find("base", href=True)
    if base is not None:
        base_url = urljoin(base_url, str(base["href"]))
    _clean(soup, base_url)
    root = _content_root(soup)
    converter = _converter_class()(
        heading_style="ATX",
        bullets="-",
        table_infer_header=True,
        escape_asterisks=False,
        escape_underscores=False,
        code_language_callback=_code_language,
    )
    note = ""
    try:
        markdown = converter.convert_soup(root)
    except RecursionError:  # hostile nesting thousands deep: keep the words at least
        markdown = root.get_text("\n", strip=True)
        note = "the page is nested too deeply to keep its structure: plain text follows"
    return Page(title=title, markdown=_tidy(markdown), note=note)


def _tidy(markdown: str) -> str:
    lines = [line.rstrip() if not line.endswith("  ") else line for line in markdown.splitlines()]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
