"""The structure of documentation and paper text: headings, sections, HTML as Markdown.

Shared by the docs index (pages split at headings), ``hf_docs_fetch`` (one section of a
page) and ``hf_papers read`` (a paper's numbered sections from Markdown or arXiv HTML).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_ANCHOR = re.compile(r"\s*\[\[([^\]]+)\]\]\s*$")
_NUMBERED = re.compile(r"^(\d+(?:\.\d+)*)\.?\s+(\S.*)$")


def slugify(heading: str) -> str:
    """The anchor the docs site gives a heading (``Fine-tune a model`` → ``fine-tune-a-model``)."""
    text = re.sub(r"[`*_\[\]()<>]", "", heading.lower())
    text = re.sub(r"[^\w\s-]", "", text)
    return re.sub(r"\s+", "-", text.strip())


def split_heading(raw: str) -> tuple[str, str]:
    """(visible heading, anchor) of a Markdown heading; HF docs write ``Title[[anchor]]``."""
    match = _ANCHOR.search(raw)
    if match:
        return raw[: match.start()].strip(), match.group(1).strip()
    return raw.strip(), slugify(raw)


def markdown_headings(markdown: str) -> list[tuple[int, int, str, str]]:
    """``(line index, level, heading, anchor)`` of every heading outside code fences."""
    found: list[tuple[int, int, str, str]] = []
    in_fence = False
    for i, line in enumerate(markdown.splitlines()):
        if line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
            continue
        match = None if in_fence else _HEADING.match(line)
        if match:
            heading, anchor = split_heading(match.group(2))
            found.append((i, len(match.group(1)), heading, anchor))
    return found


def section_of(markdown: str, wanted: str) -> str | None:
    """The part of ``markdown`` under the heading named ``wanted`` (text or anchor)."""
    key = wanted.strip().lstrip("#").strip().lower()
    headings = markdown_headings(markdown)
    lines = markdown.splitlines()
    for rank in (0, 1):  # exact heading or anchor first, then a heading containing it
        for n, (i, level, heading, anchor) in enumerate(headings):
            name = heading.lower()
            if (rank == 0 and key in (name, anchor.lower(), slugify(heading))) or (
                rank == 1 and key in name
            ):
                end = next((j for j, lv, _, _ in headings[n + 1 :] if lv <= level), len(lines))
                return "\n".join(lines[i:end]).strip()
    return None


class SidebarParser(HTMLParser):
    """Links of the docs sidebar (a ``<nav>`` whose class contains ``flex-auto``), in order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.nav_links: list[tuple[str, str]] = []
        self.all_links: list[tuple[str, str]] = []
        self._nav_depth = 0
        self._href: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "nav" and (self._nav_depth or "flex-auto" in values.get("class", "").split()):
            self._nav_depth += 1
        elif tag == "a" and values.get("href"):
            self._href, self._text = values["href"], []

    def handle_endtag(self, tag: str) -> None:
        if tag == "nav" and self._nav_depth:
            self._nav_depth -= 1
        elif tag == "a" and self._href is not None:
            link = (self._href, " ".join("".join(self._text).split()))
            self.all_links.append(link)
            if self._nav_depth:
                self.nav_links.append(link)
            self._href = None

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text.append(data)


# -- papers -----------------------------------------------------------------------------


class _PaperHTML(HTMLParser):
    """arXiv (LaTeXML) HTML → light Markdown: headings, paragraphs, math as its LaTeX."""

    _SKIP = {"script", "style", "nav", "header", "footer", "button"}
    _BLOCKS = {"p", "div", "li", "tr", "figcaption", "br", "section", "table"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP or tag == "math":
            if tag == "math" and not self._skip:
                alt = dict(attrs).get("alttext") or ""
                self.out.append(f" ${alt}$ " if alt else " ")
            self._skip += 1
        elif not self._skip and re.fullmatch(r"h[1-6]", tag):
            level = 2 if tag == "h6" else int(tag[1])  # LaTeXML puts "Abstract" in an h6
            self.out.append("\n\n" + "#" * level + " ")
        elif not self._skip and tag in self._BLOCKS:
            self.out.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP or tag == "math":
            self._skip = max(0, self._skip - 1)
        elif not self._skip and (re.fullmatch(r"h[1-6]", tag) or tag in self._BLOCKS):
            self.out.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.out.append(data)

    def markdown(self) -> str:
        blocks = ("".join(self.out)).split("\n\n")
        lines = [" ".join(block.split()) for block in blocks]
        return "\n\n".join(line for line in lines if line)


def html_to_markdown(html: str) -> str:
    parser = _PaperHTML()
    parser.feed(html)
    return parser.markdown()


@dataclass
class PaperSection:
    number: str
    title: str
    text: str

    @property
    def label(self) -> str:
        return f"{self.number} {self.title}".strip()


def paper_sections(markdown: str) -> tuple[str, list[PaperSection]]:
    """(paper title, sections) of a paper in Markdown; unnumbered papers get numbers 1, 1.1…"""
    lines = markdown.splitlines()
    heads = markdown_headings(markdown)
    title = next((h for _, level, h, _ in heads if level == 1), "")
    heads = [h for h in heads if not (h[1] == 1 and h[2] == title)]
    explicit = any(_NUMBERED.match(h[2]) for h in heads)
    top = min((level for _, level, _, _ in heads), default=2)
    counters: list[int] = []
    sections: list[PaperSection] = []
    for n, (i, level, heading, _) in enumerate(heads):
        end = next((j for j, lv, _, _ in heads[n + 1 :] if lv <= level), len(lines))
        text = "\n".join(lines[i + 1 : end]).strip()
        match = _NUMBERED.match(heading)
        if match and explicit:
            number, name = match.group(1), match.group(2)
        elif explicit:
            number, name = "", heading
        else:
            depth = max(0, level - top)
            counters = (counters + [0] * (depth + 1))[: depth + 1]
            counters[depth] += 1
            number, name = ".".join(str(c) for c in counters), heading
        sections.append(PaperSection(number, name.strip(), text))
    return title, sections


def find_section(sections: list[PaperSection], wanted: str) -> PaperSection | None:
    """By number, exact title, title substring, then number prefix (``3`` → ``3.1``)."""
    key = wanted.strip().lower().removeprefix("section").strip().rstrip(".")
    tests = (
        lambda s: s.number.lower() == key,
        lambda s: s.title.lower() == key or s.label.lower() == key,
        lambda s: key in s.title.lower(),
        lambda s: bool(s.number) and s.number.startswith(key + "."),
    )
    for test in tests:
        for section in sections:
            if test(section):
                return section
    return None
