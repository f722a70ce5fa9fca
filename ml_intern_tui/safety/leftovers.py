"""Files earlier versions left behind with secrets in them, removed at start.

Before spill files were redacted and kept with their session, long command outputs were
saved unredacted under ``<tmp>/ml-intern-tui/<session id>/`` and never deleted (89 MB
after two runs, environment dumps included). That directory goes at the next start --
only when it is a real directory owned by this user: a link planted under that name,
or another user's directory, is left alone (``/tmp`` is shared).
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
import threading
from pathlib import Path

LEGACY_SPILL_NAME = "ml-intern-tui"


def legacy_spill_dir() -> Path:
    """Where earlier versions spilled long outputs."""
    return Path(tempfile.gettempdir()) / LEGACY_SPILL_NAME


def remove_legacy_spill_dir(directory: Path | None = None) -> bool:
    """Delete the old spill directory; True when it was there and is gone now."""
    path = directory if directory is not None else legacy_spill_dir()
    try:
        info = os.lstat(path)
    except OSError:
        return False
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        return False
    # rmtree works through directory descriptors here: a link inside is removed,
    # never followed.
    shutil.rmtree(path, ignore_errors=True)
    return not os.path.lexists(path)


def remove_leftovers_in_background() -> threading.Thread:
    """Start the clean-up without delaying start-up (a big old directory takes a while)."""
    thread = threading.Thread(target=remove_legacy_spill_dir, name="leftovers", daemon=True)
    thread.start()
    return thread
