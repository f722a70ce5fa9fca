"""Finding the programs the app itself runs (``git`` for its checks, ``bwrap``, ``bash``)
where the agent cannot have planted them.

``$PATH`` often points into the project: an activated ``.venv/bin``, a direnv
``PATH_add bin``, a relative ``.`` or empty entry. The agent may write there (in the
sandbox, or with the write tool), so a ``git`` the app runs to *check* a command must
never come from there: that ``git`` would run outside any sandbox, before anyone was
asked. Relative entries and entries inside the untrusted roots are skipped.
"""

from __future__ import annotations

import functools
import os
import shutil
from collections.abc import Iterable
from pathlib import Path


def trusted_search_path(search: str | None, untrusted: Iterable[Path]) -> str:
    """``search`` (default ``$PATH``) without relative entries and entries inside any of
    ``untrusted`` (symbolic links followed on both sides)."""
    value = os.environ.get("PATH", os.defpath) if search is None else search
    roots = [os.path.realpath(root) for root in untrusted]
    kept: list[str] = []
    for entry in value.split(os.pathsep):
        if not entry or not os.path.isabs(entry):
            continue
        real = os.path.realpath(entry)
        if any(real == root or real.startswith(root.rstrip("/") + "/") for root in roots):
            continue
        kept.append(entry)
    return os.pathsep.join(kept)


def trusted_which(
    name: str, search: str | None = None, *, untrusted: Iterable[Path] = ()
) -> str | None:
    """The absolute path of ``name`` on the trusted part of ``search``, or ``None``.

    The program found must itself resolve outside the untrusted roots too (a symlink in
    ``/usr/local/bin`` pointing into the project is as planted as the file).
    """
    roots = [Path(os.path.realpath(root)) for root in untrusted]
    for entry in trusted_search_path(search, roots).split(os.pathsep):
        if not entry:
            continue
        found = shutil.which(name, path=entry)
        if found is None:
            continue
        real = Path(os.path.realpath(found))
        if not any(real == root or real.is_relative_to(root) for root in roots):
            return found
    return None


SHELL_CANDIDATES: tuple[str, ...] = ("/bin/bash", "/usr/bin/bash", "/usr/local/bin/bash")


@functools.cache
def command_shell() -> str:
    """The shell commands run with: bash, whose grammar the analysis parses.

    ``/bin/sh`` is dash on Debian and Ubuntu, and reads some scripts otherwise than bash:
    ``echo $'\\'; touch x`` + newline + ``echo '`` is one harmless ``echo`` for bash (and
    the analysis) but runs ``touch x`` under dash. ``/bin/sh`` is the fallback only on
    machines without bash.
    """
    for candidate in SHELL_CANDIDATES:
        if os.access(candidate, os.X_OK):
            return candidate
    return trusted_which("bash", os.defpath) or "/bin/sh"
