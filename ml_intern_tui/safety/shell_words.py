"""Shell words as bash sees them: quotes removed, escapes and ``$'…'`` decoded.

A word is built from the tree-sitter nodes of one argument. Its ``value`` is what bash
passes to the program when the word holds no expansion; a word holding a parameter
expansion, a substitution or brace expansion has ``value=None`` and says why in
``problem``. Globs and a leading ``~`` are kept as flags: bash expands them, so whoever
judges the word must expand or resolve them too (see ``shell_paths``).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tree_sitter import Node

Segment = tuple[str, bool]
"""A piece of a word and whether it was quoted (quoted text is never expanded)."""

_EXPANSION_PROBLEMS: dict[str, str] = {
    "simple_expansion": "expands a variable",
    "expansion": "expands a variable",
    "command_substitution": "uses command substitution",
    "process_substitution": "uses process substitution",
    "arithmetic_expansion": "uses arithmetic expansion",
    "brace_expression": "uses brace expansion",
    "translated_string": "uses a locale-translated string",
}
_ANSI_SIMPLE = {
    "a": "\a",
    "b": "\b",
    "e": "\x1b",
    "E": "\x1b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    "\\": "\\",
    "'": "'",
    '"': '"',
    "?": "?",
}
_DOUBLE_QUOTE_ESCAPES = frozenset('$`"\\')
_ASSIGNMENT_LIKE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\+?=")


@dataclass(frozen=True)
class Word:
    """One shell word after quote removal."""

    value: str | None
    """The literal text bash passes on; ``None`` when an expansion decides it."""
    raw: str
    """The source text of the word."""
    glob: bool = False
    """Holds an unquoted ``*``, ``?`` or ``[…]``: bash replaces it by matching paths."""
    tilde: bool = False
    """Starts with an unquoted ``~`` or ``~/``: bash replaces it by ``$HOME``."""
    problem: str | None = None
    """Why the value is not known before the command runs (``expands a variable``)."""

    @property
    def literal(self) -> bool:
        """Known exactly before the command runs (no expansion, glob or tilde)."""
        return self.value is not None and not self.glob and not self.tilde

    @property
    def canonical(self) -> str:
        """The word as text a remembered rule is matched against."""
        if self.value is None or self.glob or self.tilde:
            return self.raw
        return shlex.quote(self.value)


def node_text(node: Node, src: bytes) -> str:
    return src[node.start_byte : node.end_byte].decode("utf-8", "surrogateescape")


def build_word(nodes: Sequence[Node], src: bytes) -> tuple[Word, list[Node]]:
    """The word bash makes of adjacent argument nodes (the grammar sometimes splits one
    word in two: ``""\\#a`` is one word for bash), and the nodes inside that run commands."""
    segments: list[Segment] = []
    nested: list[Node] = []
    problem: str | None = None
    for node in nodes:
        problem = _collect(node, src, segments, nested) or problem
    raw = src[nodes[0].start_byte : nodes[-1].end_byte].decode("utf-8", "surrogateescape")
    if problem is not None:
        return Word(value=None, raw=raw, problem=problem), nested
    value = "".join(text for text, _ in segments)
    problem = _brace_or_tilde_problem(segments)
    if problem is not None:
        return Word(value=None, raw=raw, problem=problem), nested
    glob = _has_glob(segments)
    tilde = _tilde_prefix(segments) == "~"
    return Word(value=value, raw=raw, glob=glob, tilde=tilde), nested


def _collect(node: Node, src: bytes, out: list[Segment], nested: list[Node]) -> str | None:
    """Append the segments of ``node``; return a problem when it is not literal."""
    kind = node.type
    if kind in ("word", "number"):
        if node.named_child_count:
            return f"holds {node.named_children[0].type.replace('_', ' ')}"
        out.extend(_unquoted_segments(node_text(node, src)))
        return None
    if kind == "raw_string":
        out.append((node_text(node, src)[1:-1], True))
        return None
    if kind == "ansi_c_string":
        out.append((decode_ansi_c(node_text(node, src)[2:-1]), True))
        return None
    if kind == "string":
        return _collect_double_quoted(node, src, out, nested)
    if kind == "concatenation":
        problem: str | None = None
        for child in node.children:
            if not child.is_named:
                return "holds shell syntax the analysis does not know"
            found = _collect(child, src, out, nested)
            problem = problem or found
        return problem
    if kind in _EXPANSION_PROBLEMS:
        nested.append(node)
        return expansion_problem(node, src)
    return f"holds {kind.replace('_', ' ')}"


def expansion_problem(node: Node, src: bytes) -> str:
    """``expands $HF_TOKEN`` for variables (named: it may be a secret), else the kind."""
    if node.type in ("simple_expansion", "expansion"):
        text = node_text(node, src)
        return f"expands {text if len(text) <= 40 else text[:39] + '…'}"
    return _EXPANSION_PROBLEMS[node.type]


def _collect_double_quoted(
    node: Node, src: bytes, out: list[Segment], nested: list[Node]
) -> str | None:
    problem: str | None = None
    out.append(("", True))  # even "" is a quoted (empty) piece: ~"" stays literal
    for child in node.children:
        if not child.is_named:
            if child.type != '"':
                problem = problem or "holds shell syntax the analysis does not know"
            continue
        if child.type == "string_content":
            out.append((_double_quoted_text(node_text(child, src)), True))
            continue
        if child.type in _EXPANSION_PROBLEMS:
            nested.append(child)
            problem = problem or expansion_problem(child, src)
            continue
        problem = problem or f"holds {child.type.replace('_', ' ')}"
    return problem


def _unquoted_segments(text: str) -> list[Segment]:
    """Split unquoted text into bare runs and backslash-escaped characters."""
    segments: list[Segment] = []
    bare: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            if bare:
                segments.append(("".join(bare), False))
                bare = []
            if text[i + 1] != "\n":  # backslash-newline is a line continuation: removed
                segments.append((text[i + 1], True))
            i += 2
            continue
        bare.append(char)
        i += 1
    if bare:
        segments.append(("".join(bare), False))
    return segments


def _double_quoted_text(text: str) -> str:
    """Inside double quotes a backslash escapes only ``$ ` " \\`` and a newline."""
    out: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            following = text[i + 1]
            if following == "\n":
                i += 2
                continue
            if following in _DOUBLE_QUOTE_ESCAPES:
                out.append(following)
                i += 2
                continue
        out.append(char)
        i += 1
    return "".join(out)


def decode_ansi_c(body: str) -> str:
    """The text of ``$'body'`` as bash decodes it (a NUL ends the string, as in bash)."""
    out: list[str] = []
    i = 0
    while i < len(body):
        char = body[i]
        if char != "\\" or i + 1 >= len(body):
            out.append(char)
            i += 1
            continue
        code = body[i + 1]
        i += 2
        if code in _ANSI_SIMPLE:
            out.append(_ANSI_SIMPLE[code])
        elif code in "01234567":
            digits = code + _take(body, i, "01234567", 2)
            i += len(digits) - 1
            out.append(chr(int(digits, 8) & 0xFF))
        elif code in "xuU":
            limit = {"x": 2, "u": 4, "U": 8}[code]
            digits = _take(body, i, "0123456789abcdefABCDEF", limit)
            if not digits:
                out.append("\\" + code)
                continue
            i += len(digits)
            number = int(digits, 16)
            out.append(chr(number) if number <= 0x10FFFF else "\ufffd")
        elif code == "c" and i < len(body):
            out.append(chr(ord(body[i]) & 0x1F))
            i += 1
        else:
            out.append("\\" + code)
    text = "".join(out)
    return text.split("\0", 1)[0]


def _take(text: str, start: int, allowed: str, limit: int) -> str:
    end = start
    while end < len(text) and end - start < limit and text[end] in allowed:
        end += 1
    return text[start:end]


def _has_glob(segments: list[Segment]) -> bool:
    for index, (text, quoted) in enumerate(segments):
        if quoted:
            continue
        for pos, char in enumerate(text):
            if char in "*?":
                return True
            if char == "[":
                rest = text[pos + 1 :] + "".join(t for t, _ in segments[index + 1 :])
                if "]" in rest:
                    return True
    return False


def _tilde_prefix(segments: list[Segment]) -> str | None:
    """The tilde-prefix bash expands: from a leading unquoted ``~`` to the first unquoted
    ``/`` (or the end), all of it unquoted; ``None`` when there is none (``~"/x"`` stays
    literal: its prefix holds quoted characters)."""
    if not segments or segments[0][1] or not segments[0][0].startswith("~"):
        return None
    first = segments[0][0]
    if "/" in first:
        return first.split("/", 1)[0]
    return first if len(segments) == 1 else None


def _brace_or_tilde_problem(segments: list[Segment]) -> str | None:
    """Brace expansion and the tilde forms whose value the analysis cannot know."""
    bare = "".join(text if not quoted else "\0" * len(text) for text, quoted in segments)
    prefix = _tilde_prefix(segments)
    if prefix is not None and prefix != "~":
        return "expands another user's home directory (~user)"
    if _ASSIGNMENT_LIKE.match(bare) and re.search(r"[=:]~", bare):
        return "expands ~ inside an assignment-like word"
    depth = 0
    has_separator = False
    for pos, char in enumerate(bare):
        if char == "{":
            depth += 1
        elif char == "}" and depth:
            if has_separator:
                return "uses brace expansion"
            depth -= 1
        elif depth and (char == "," or bare.startswith("..", pos)):
            has_separator = True
    return None


def names(text: str) -> list[str]:
    """The whitespace-separated names of ``text`` (keeps long tables compact)."""
    return text.split()
