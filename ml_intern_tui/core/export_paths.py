"""Where an export is written: one naming rule for ``/export`` and the sessions browser."""

from __future__ import annotations

import time
from pathlib import Path


def export_path(arg: str, cwd: str, session_id: str, suffix: str = ".md") -> Path:
    """Where ``/export [path]`` writes: relative paths are under the session's cwd; no
    path gives ``ml-intern-<session>-<time><suffix>`` there."""
    base = Path(cwd or ".")
    if not arg:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        return base / f"ml-intern-{session_id or 'session'}-{stamp}{suffix}"
    path = Path(arg).expanduser()
    return path if path.is_absolute() else base / path
