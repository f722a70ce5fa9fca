"""Slack: Markdown → mrkdwn and message payloads (Slack's limits kept).

``integrations/slack_client.py`` posts them (through slack_sdk, with retries).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    pass

DEFAULT_API_BASE = "https://slack.com/api"
TEXT_LIMIT = 39_000
"""Characters of ``text`` we send; Slack truncates messages past 40,000."""
SECTION_LIMIT = 2_900
"""Characters per section block (Slack's limit is 3,000; a little room for fences)."""
MAX_SECTIONS = 40
"""Section blocks per message (Slack allows 50 blocks in all)."""
CONTEXT_LIMIT = 1_000

Level = Literal["info", "success", "warning", "error"]
LEVEL_EMOJI: dict[str, str] = {
    "info": ":information_source:",
    "success": ":white_check_mark:",
    "warning": ":warning:",
    "error": ":x:",
}

# ----------------------------------------------------------------------------- mrkdwn

_BOLD, _ITALIC = "\x01", "\x02"
_SLOT = re.compile(r"\x00(\d+)\x00")
_FENCE = re.compile(
    r"^[ \t]{0,3}(?P<fence>`{3,}|~{3,})[^\n]*\n(?P<body>.*?)(?:^[ \t]*(?P=fence)[ \t]*$\n?|\Z)",
    re.MULTILINE | re.DOTALL,
)
_INLINE_CODE = re.compile(r"(`+)(?!`)(.+?)(?<!`)\1(?!`)", re.DOTALL)
# Slack's own entities pass through: mentions, channels, user groups, links. Broadcasts
# (<!here>, <!channel>, <!everyone>) do not: text from a model must not ping everyone.
_ENTITY = re.compile(
    r"<(?:[@#][A-Z0-9]+|!subteam\^[A-Z0-9]+|(?:https?|mailto):[^<>\s|]+)(?:\|[^<>\n]*)?>"
)
_LINK = re.compile(
    r"!?\[(?P<label>[^\]\n]+)\]\((?P<url>(?:[^()\s]|\([^()\s]*\))+)(?:\s+\"[^\"\n]*\")?\)"
)
_BARE_URL = re.compile(r"\bhttps?://[^\s<>()\[\]]+[^\s<>()\[\].,;:!?'\"]")
_HEADING = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$", re.MULTILINE)
_RULE = re.compile(r"^[ \t]{0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$", re.MULTILINE)
_TASK = re.compile(r"^([ \t]*)[-*+][ \t]+\[([ xX])\][ \t]+", re.MULTILINE)
_BULLET = re.compile(r"^([ \t]*)[-*+][ \t]+", re.MULTILINE)
_TABLE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?\s*$")
_EMPHASIS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\*\*\*(?=\S)([^\n]+?)(?<=\S)\*\*\*"), f"{_BOLD}{_ITALIC}\\1{_ITALIC}{_BOLD}"),
    (re.compile(r"\*\*(?=\S)([^\n]+?)(?<=\S)\*\*"), f"{_BOLD}\\1{_BOLD}"),
    (re.compile(r"(?<!\w)__(?=\S)([^\n]+?)(?<=\S)__(?!\w)"), f"{_BOLD}\\1{_BOLD}"),
    (re.compile(r"(?<![\w*])\*(?=[^\s*])([^\n*]+?)(?<=\S)\*(?![\w*])"), f"{_ITALIC}\\1{_ITALIC}"),
    (re.compile(r"(?<!\w)_(?=[^\s_])([^\n]+?)(?<=\S)_(?!\w)"), f"{_ITALIC}\\1{_ITALIC}"),
    (re.compile(r"~~(?=\S)([^\n]+?)(?<=\S)~~"), r"~\1~"),
]


def escape(text: str) -> str:
    """``&``, ``<`` and ``>`` as the HTML entities Slack requires in message text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _escape_url(url: str) -> str:
    return re.sub(r"&(?!amp;|lt;|gt;)", "&amp;", url).replace("<", "%3C").replace(">", "%3E")


def _escape_text(text: str) -> str:
    """Escape, but keep a ``>`` that starts a quote line (a lone ``>`` opens nothing)."""
    lines = []
    for line in text.split("\n"):
        quote = re.match(r"^([ \t]*>+)", line)
        head = quote.group(1) if quote else ""
        lines.append(head + escape(line[len(head) :]))
    return "\n".join(lines)


def _plain_label(label: str) -> str:
    return re.sub(r"(\*\*|__|~~|`)", "", label).replace("|", "¦")


def _table(lines: list[str]) -> str:
    """A Markdown table as aligned plain text (Slack has no tables)."""
    rows = [
        [re.sub(r"(\*\*|__|`)", "", cell).strip() for cell in line.strip().strip("|").split("|")]
        for i, line in enumerate(lines)
        if i != 1
    ]
    widths = [max(len(row[c]) if c < len(row) else 0 for row in rows) for c in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(widths[c]) for c, cell in enumerate(row[: len(widths)])).rstrip()
        for row in rows
    )


def _tables_to_code(text: str, keep: Callable[[str], str]) -> str:
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        if (
            "|" in lines[i]
            and i + 1 < len(lines)
            and _TABLE_SEPARATOR.match(lines[i + 1])
            and "|" in lines[i + 1]
        ):
            end = i + 2
            while end < len(lines) and "|" in lines[end] and lines[end].strip():
                end += 1
            out.append(keep("```\n" + escape(_table(lines[i:end])) + "\n```"))
            i = end
        else:
            out.append(lines[i])
            i += 1
    return "\n".join(out)


def to_mrkdwn(markdown: str) -> str:
    """Markdown (as models write it) in Slack's mrkdwn dialect.

    Code spans and blocks are kept verbatim (only ``&<>`` become entities, which Slack
    shows as the characters); ``**b**`` → ``*b*``, ``*i*``/``_i_`` → ``_i_``,
    ``~~s~~`` → ``~s~``, ``[text](url)`` → ``<url|text>``, headings → bold lines,
    bullets → ``•``, tables → aligned code blocks, ``&<>`` escaped elsewhere.
    """
    text = markdown.replace("\r\n", "\n").replace("\x00", "")
    text = text.replace(_BOLD, "").replace(_ITALIC, "")
    slots: list[str] = []

    def keep(piece: str) -> str:
        slots.append(piece)
        return f"\x00{len(slots) - 1}\x00"

    def fence(match: re.Match[str]) -> str:
        body = match.group("body").rstrip("\n")
        return keep(f"```\n{escape(body)}\n```") + ("\n" if match.group(0).endswith("\n") else "")

    text = _FENCE.sub(fence, text)
    text = _tables_to_code(text, keep)
    text = _INLINE_CODE.sub(lambda m: keep(f"`{escape(m.group(2))}`"), text)
    text = _ENTITY.sub(lambda m: keep(f"<{_escape_url(m.group(0)[1:-1])}>"), text)

    def link(match: re.Match[str]) -> str:
        label, url = _plain_label(match.group("label")), match.group("url")
        if not re.match(r"(?:https?|mailto):", url):
            return f"{label} ({url})"
        if label == url:
            return keep(f"<{_escape_url(url)}>")
        return keep(f"<{_escape_url(url)}|{escape(label)}>")

    text = _LINK.sub(link, text)
    text = _BARE_URL.sub(lambda m: keep(_escape_url(m.group(0))), text)
    text = re.sub(r"<br\s*/?>", "\n", text, flags=re.IGNORECASE)
    text = _escape_text(text)
    text = _HEADING.sub(lambda m: f"{_BOLD}{_plain_label(m.group(1))}{_BOLD}", text)
    text = _RULE.sub("──────────", text)
    text = _TASK.sub(lambda m: f"{m.group(1)}{'☑' if m.group(2) in 'xX' else '☐'} ", text)
    text = _BULLET.sub(r"\1• ", text)
    for pattern, replacement in _EMPHASIS:
        text = pattern.sub(replacement, text)
    text = text.replace(_BOLD, "*").replace(_ITALIC, "_")
    return _fill(text, slots)


def _fill(text: str, slots: list[str]) -> str:
    for _ in range(4):  # a link label may hold a code span: slots nest, shallowly
        if "\x00" not in text:
            break
        text = _SLOT.sub(lambda m: slots[int(m.group(1))], text)
    return text


# ----------------------------------------------------------------------------- sizes


def _safe_cut(text: str, limit: int) -> int:
    """An index ≤ ``limit`` to cut at: a line end if near, never inside ``<…>`` or ``&…;``."""
    if len(text) <= limit:
        return len(text)
    cut = text.rfind("\n", 0, limit + 1)
    if cut < limit // 2:
        cut = text.rfind(" ", 0, limit + 1)
        if cut < limit // 2:
            cut = limit
    opened = text.rfind("<", 0, cut)
    if opened > text.rfind(">", 0, cut) and opened > limit // 4:
        cut = opened  # (a link longer than the rest of the piece is cut anyway)
    amp = text.rfind("&", max(0, cut - 6), cut)
    if amp > 0 and ";" not in text[amp:cut]:
        cut = amp
    return max(cut, 1)


def _fences_open(text: str) -> bool:
    return text.count("```") % 2 == 1


def truncate(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, saying so, with code fences closed."""
    if len(text) <= limit:
        return text
    room = max(limit - 60, 1)
    cut = _safe_cut(text, room)
    head = text[:cut].rstrip()
    if _fences_open(head):
        head += "\n```"
    return f"{head}\n_… ({len(text) - cut:,} more characters not shown)_"


def split_sections(text: str, limit: int = SECTION_LIMIT) -> list[str]:
    """``text`` in pieces of at most ``limit`` characters; a code block cut in two is
    closed at the end of one piece and reopened at the start of the next."""
    pieces: list[str] = []
    rest = text
    while rest:
        if len(rest) <= limit:
            pieces.append(rest)
            break
        cut = _safe_cut(rest, limit - 8)  # room for a closing fence
        piece, rest = rest[:cut], rest[cut:].lstrip("\n")
        if _fences_open(piece):
            piece += "\n```"
            rest = "```\n" + rest
        pieces.append(piece)
    return [p for p in pieces if p.strip()]


# ----------------------------------------------------------------------------- payload


@dataclass(frozen=True)
class SlackMessage:
    """What one notification says, in Markdown; ``payload`` turns it into Slack JSON."""

    title: str
    body: str = ""
    level: Level = "info"
    context: str = ""
    """One short Markdown line under the message (session, model, directory)."""

    def mrkdwn(self) -> str:
        head = f"{LEVEL_EMOJI[self.level]} *{escape(_plain_label(self.title))}*"
        body = to_mrkdwn(self.body).strip()
        return truncate(f"{head}\n{body}" if body else head, TEXT_LIMIT)

    def payload(self, *, blocks: bool = True) -> dict[str, Any]:
        """``{"text": ..., "blocks": [...]}``: sections of at most 3,000 characters each,
        then the context line; ``text`` is the whole message (Slack's fallback)."""
        main = self.mrkdwn()
        context = truncate(to_mrkdwn(self.context).strip(), CONTEXT_LIMIT) if self.context else ""
        text = truncate(f"{main}\n{context}" if context else main, TEXT_LIMIT)
        data: dict[str, Any] = {"text": text}
        if blocks:
            sections = split_sections(main)[:MAX_SECTIONS]
            data["blocks"] = [
                {"type": "section", "text": {"type": "mrkdwn", "text": piece}} for piece in sections
            ]
            if context:
                data["blocks"].append(
                    {"type": "context", "elements": [{"type": "mrkdwn", "text": context}]}
                )
        return data
