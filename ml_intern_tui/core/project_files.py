"""The project's files, for ``@`` completion: relative, ``/``-separated names.

In a git repository the list is ``git ls-files`` (tracked and untracked, ignored files
left out) run through the safety module's hardened probe — the git on ``$PATH`` outside
the project, its file-system monitor off, secrets out of its environment, time-boxed —
so a hostile repository's configuration cannot start a program. Elsewhere it is a
bounded walk that skips hidden and build directories.
"""

from __future__ import annotations

import os
from pathlib import Path

MAX_FILES = 20_000
MAX_DEPTH = 8
SKIP_DIRS = frozenset({"node_modules", "__pycache__", "venv", "build", "dist", "target"})


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
