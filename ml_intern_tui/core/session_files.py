"""A forked session's own files: copied with it, and its records pointed at the copies."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path


def path_renames(old: Path, new: Path) -> list[tuple[str, str]]:
    """``(old, new)`` as they appear in a JSON line: plain, and with JSON's escapes."""
    pairs = [(str(old) + "/", str(new) + "/")]
    escaped = (json.dumps(str(old) + "/")[1:-1], json.dumps(str(new) + "/")[1:-1])
    if escaped != pairs[0]:
        pairs.append(escaped)
    return pairs


def copy_session_files(source: Path, destination: Path) -> None:
    """Copy a session's own files (links are copied as links, never followed)."""
    if not source.is_dir() or source.is_symlink():
        return
    shutil.rmtree(destination, ignore_errors=True)
    shutil.copytree(source, destination, symlinks=True)
    os.chmod(destination, 0o700)
