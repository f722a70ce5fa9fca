"""``@`` completion: the project's files, fuzzy-matched, and the mentions in a message.

The list comes from ``core/project_files.py`` (``.gitignore`` respected, through the
hardened git probe, so a hostile repository's configuration cannot start a program).
Attaching the files is the core's job (``core/mentions.py``): the UI only completes
names and passes the mentioned ones along.
"""

from __future__ import annotations

import re

from ml_intern_tui.core.project_files import list_project_files
from ml_intern_tui.tui.commands import Completion

__all__ = ["complete_mention", "list_project_files", "mentions_in"]

MENTION_RE = re.compile(r"(?:(?<=\s)|^)@([^\s@]+)")
"""``@token`` at the start or after whitespace (``me@host`` is not a mention)."""
TRAILING = ".,;:!?)\"'"


def mentions_in(text: str) -> list[str]:
    """The ``@`` mentions of a message, in order, without closing punctuation."""
    found = (m.group(1).rstrip(TRAILING) for m in MENTION_RE.finditer(text))
    return list(dict.fromkeys(f for f in found if f))


def _token_at_end(text: str) -> tuple[int, str] | None:
    """Where the ``@`` token being typed starts, and what follows the ``@``."""
    match = re.search(r"(?:(?<=\s)|^)@([^\s@]*)$", text)
    return (match.start(), match.group(1)) if match else None


def complete_mention(text: str, files: list[str], limit: int = 20) -> list[Completion]:
    """Candidates for an ``@`` token at the end of ``text`` (fuzzy, best first)."""
    token = _token_at_end(text)
    if token is None or "\n" in text[token[0] :]:
        return []
    start, query = token
    if query.startswith("hf:"):
        return []
    from textual.fuzzy import Matcher

    matcher = Matcher(query) if query else None
    needle = query.lower()
    ranked: list[tuple[int, int, int, str]] = []
    for name in files:
        if matcher is not None and matcher.match(name) <= 0:
            continue
        base = name.rsplit("/", 1)[-1].lower()
        # The file name itself first (as typed, then in order), then shorter paths.
        ranked.append((needle not in base, not _in_order(needle, base), len(name), name))
    ranked.sort()
    head = text[:start]
    return [Completion(f"{head}@{name} ", f"@{name}") for *_, name in ranked[:limit]]


def _in_order(needle: str, text: str) -> bool:
    """Whether the letters of ``needle`` appear in ``text`` in order."""
    rest = iter(text)
    return all(ch in rest for ch in needle)
