"""The demo's temporary workspace, and what the app says in an empty demo chat.

``--demo`` runs in a fresh ``ml-intern-demo-*`` folder under the system's temporary
directory; ``remove_demo_workspace`` deletes it when the run ends (unless ``--keep``),
and refuses any other folder, so a wrong path can never delete user files.

``DEMO_INTRO`` / ``DEMO_GOAL`` / ``DEMO_SEND_KEY`` are the empty chat's text for the demo
(the app shows them; this module only holds them, as data).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

DEMO_PREFIX = "ml-intern-demo-"
DEMO_GOAL = "Train a sentiment classifier on data/reviews.csv and tell me its validation accuracy."
"""The goal the empty demo chat offers (any text starts the scripted run)."""
DEMO_SEND_KEY = "enter"
"""The key that sends ``DEMO_GOAL`` from an empty prompt (Textual's key name)."""
DEMO_INTRO = (
    "This is the offline demo: a scripted model (no network, no API key, no cost) drives "
    "the real agent — plan, research, shell commands, a background training job — in a "
    "temporary folder that is removed when you quit (start with --keep to keep it)."
)


def is_demo_workspace(path: Path) -> bool:
    """True only for a folder ``--demo`` made: ``ml-intern-demo-*`` right under the temp dir."""
    try:
        resolved = Path(path).resolve()
        temp = Path(tempfile.gettempdir()).resolve()
    except OSError:
        return False
    return (
        resolved.name.startswith(DEMO_PREFIX)
        and resolved.parent == temp
        and resolved.is_dir()
        and not Path(path).is_symlink()
    )


def remove_demo_workspace(path: Path) -> bool:
    """Delete the demo's workspace; False (and nothing removed) for any other folder."""
    if not is_demo_workspace(path):
        return False
    shutil.rmtree(path, ignore_errors=True)
    return not Path(path).exists()
