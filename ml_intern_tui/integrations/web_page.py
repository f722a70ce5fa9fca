"""A fetched web page as text: what kind of body it is, its encoding, HTML as Markdown.

HTML is parsed by lxml (libxml2's HTML parser: fast, and it closes the ``<p>``, ``<li>``
and ``<td>`` tags that HTML lets pages leave open), cleaned here — scripts, styles,
navigation, page chrome, form controls and hidden elements dropped, links and images
made absolute, the main content picked when the page marks it — and written as Markdown
by ``html-to-markdown`` (a compiled converter: tables stay tables, code keeps its
language, about 2 MB of HTML a second on a busy 2-core machine).
"""

from __future__ import annotations

import codecs
import logging
import re
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit

log = logging.getLogger(__name__)
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

_DROP = frozenset(
    {
        "head",
        "title",
        "script",
        "style",
        "noscript",
        "template",
        "svg",
        "math",
        "canvas",
        "iframe",
        "frame",
        "frameset",
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
    }
)
_CHROME = frozenset({"header", "footer", "aside"})
"""Page chrome, dropped unless it sits inside the main content (an article's own header)."""
_CONTENT = frozenset({"article", "main"})
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_CHROME_ROLES = frozenset({"navigation", "banner", "contentinfo", "search", "menu", "menubar"})
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*>")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_BLANK_LINES = re.compile(r"\n{3,}")
_LINK_SCHEMES = ("http", "https", "mailto", "ftp")
MAX_SPAN = 32
"""Columns or rows one table cell may span."""
DEPTH_LIMIT = 255
"""libxml2 keeps elements this deep; deeper ones (only hostile pages nest so) are left out."""


@dataclass
class Page:
    """A page as Markdown with its title."""

    title: str
    markdown: str
    note: str = ""
    """Something the reader should know about the conversion (parts left out...)."""


def parse_html(html: str) -> Any:
    """An lxml tree of ``html`` (never raises: an empty page is an empty document)."""
    import lxml.html
    from lxml import etree

    # lxml refuses text that declares an encoding (it is decoded already) and control bytes.
    text = _CONTROL.sub("", _XML_DECLARATION.sub("", html, count=1))
    parser = lxml.html.HTMLParser(remove_comments=True, remove_pis=True)
    try:
        return lxml.html.document_fromstring(text, parser=parser)
    except (etree.ParserError, ValueError):
        return lxml.html.document_fromstring("<html><body></body></html>")


def _is_hidden(attrs: Any) -> bool:
    if "hidden" in attrs or str(attrs.get("aria-hidden", "")).lower() == "true":
        return True
    if str(attrs.get("role", "")).lower() in _CHROME_ROLES:
        return True
    return bool(_HIDDEN_STYLE.search(str(attrs.get("style", ""))))


def _clean(root: Any, base_url: str) -> int:
    """Drop what a reader never sees or does not want; make links absolute. Returns the
    depth of the deepest element (an iterative walk: no recursion on hostile nesting)."""
    deepest = 0
    stack: list[tuple[Any, bool, int]] = [(root, False, 0)]
    while stack:
        element, in_content, depth = stack.pop()
        deepest = max(deepest, depth)
        for child in list(element):
            tag = child.tag if isinstance(child.tag, str) else ""
            if not tag:  # a comment or processing instruction left by the parser
                child.drop_tree()
                continue
            tag = tag.lower()
            if tag in _DROP or _is_hidden(child.attrib) or (tag in _CHROME and not in_content):
                child.drop_tree()  # keeps the text that follows it
                continue
            if tag == "a":
                _fix_link(child, base_url)
            if tag in ("td", "th"):
                _clamp_spans(child)
            if tag == "img":
                src = (child.get("src") or "").strip()
                if src and not src.startswith("data:"):
                    child.set("src", urljoin(base_url, src))
            stack.append((child, in_content or tag in _CONTENT, depth + 1))
    return deepest


def _clamp_spans(cell: Any) -> None:
    """Keep ``colspan``/``rowspan`` small: a hostile ``colspan=1000`` on every cell would
    blow a small page up into megabytes of empty table."""
    for name in ("colspan", "rowspan"):
        value = cell.get(name)
        if value is not None:
            try:
                span = int(value)
            except ValueError:
                span = 1
            cell.set(name, str(min(max(span, 1), MAX_SPAN)))


def _fix_link(anchor: Any, base_url: str) -> None:
    """Make ``anchor`` absolute, or take its href away when it leads nowhere useful."""
    href = (anchor.get("href") or "").strip()
    absolute = urljoin(base_url, href) if href and not href.startswith("#") else ""
    anchor.attrib.clear()  # titles, event handlers, tracking attributes: not for the model
    if absolute and urlsplit(absolute).scheme.lower() in _LINK_SCHEMES:
        anchor.set("href", absolute)
    # else an in-page anchor, javascript:, data: ...: the text is enough


def _content_root(root: Any) -> Any:
    """The main content when the page marks it (``<main>``, one ``<article>``), else body."""
    body = root.find("body")
    body = body if body is not None else root
    total = len(" ".join(body.text_content().split()))
    candidates = [*root.iter("main"), *root.xpath("//*[@role='main']")]
    articles = list(root.iter("article"))
    if len(articles) == 1:
        candidates.append(articles[0])
    for candidate in candidates:
        if len(" ".join(candidate.text_content().split())) >= 0.3 * total:
            return candidate
    return body


def html_to_markdown(html: str, base_url: str) -> Page:
    """Markdown of the readable part of an HTML page, links absolute to ``base_url``."""
    import lxml.html
    from html_to_markdown import ConversionOptions, convert

    root = parse_html(html)
    title = " ".join((root.findtext(".//title") or "").split())
    base = root.find(".//base[@href]")
    if base is not None:
        base_url = urljoin(base_url, base.get("href") or "")
    deepest = _clean(root, base_url)
    content = lxml.html.tostring(_content_root(root), encoding="unicode", method="html")
    options = ConversionOptions(
        heading_style="atx",
        bullets="-",
        escape_asterisks=False,
        escape_underscores=False,
        extract_metadata=False,
        compact_tables=True,
        inline_data_media="alt_text_only",
    )
    note = ""
    try:
        markdown = convert(content, options).content or ""
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # a Rust panic arrives as a BaseException (PyO3)
        log.warning("html-to-markdown failed on a page: %s: %s", type(exc).__name__, exc)
        markdown = "\n\n".join(" ".join(part.split()) for part in root.itertext() if part.strip())
        note = "the page could not be converted to Markdown: its plain text follows"
    if deepest >= DEPTH_LIMIT:
        note = f"the page nests elements over {DEPTH_LIMIT} deep: the deepest parts are left out"
    return Page(title=title, markdown=_tidy(markdown), note=note)


def _tidy(markdown: str) -> str:
    lines = [line.rstrip() if not line.endswith("  ") else line for line in markdown.splitlines()]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
