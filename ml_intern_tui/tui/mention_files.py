"""``@`` completion: the project's files, fuzzy-matched, and the mentions in a message.

The list respects ``.gitignore``: in a git repository it is ``git ls-files`` (tracked
and untracked, ignored files left out) run through the safety module's hardened probe
— the git on ``$PATH`` outside the project, its file-system monitor off, secrets out of
its environment, time-boxed — so a hostile repository's configuration cannot start a
program. Elsewhere it is a bounded walk that skips hidden and build directories.
Attaching the files is the core's job (``core/mentions.py``): the UI only completes
names and passes the mentioned ones along.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ml_intern_tui.tui.commands import Completion

MAX_FILES = 20_000
MAX_DEPTH = 8
SKIP_DIRS = frozenset({"node_modules", "__pycache__", "venv", "build", "dist", "target"})
MENTION_RE = re.compile(r"(?:(?<=\s)|^)@([^\s@]+)")
"""``@token`` at the start or after whitespace (``me@host`` is not a mention)."""
TRAILING = ".,;:!?)\"'"


def mentions_in(text: str) -> list[str]:
    """The ``@`` mentions of a message, in order, without closing punctuation."""
    found = (m.group(1).rstrip(TRAILING) for m in MENTION_RE.finditer(text))
    return list(dict.fromkeys(f for f in found if f))


def list_project_files(root: Path) -> list[str]:
    """Files under ``root`` (relative, ``/``-separated), ``.gitignore`` respected."""
    from ml_intern_tui.safety.git_probe import GitProbe

    probe = GitProbe(os.environ, untrusted=[root])
    listed = probe.run(["ls-files", "--cached", "--others", "--exclude-standard", "-z"], root)
    if isinstance(listed, bytes) and listed:
        names = listed.decode("utf-8", "surrogateescape").split("\0")
        return [n for n in names if n][:MAX_FILES]
    return _walk(root)


def _walk(root: Path) -> list[str]:
    out: list[str] = []
    base = len(root.parts)
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        depth = len(here.parts) - base
        dirs[:] = sorted(
            d for d in dirs if not d.startswith(".") and d not in SKIP_DIRS and depth < MAX_DEPTH
        )
        for name in sorted(files):
            out.append((here / name).relative_to(root).as_posix())
            if len(out) >= MAX_FILES:
                return out
    return out


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
