"""Find the files shipped with ml-intern-tui: packaged config defaults and themes.

They live in ``configs/`` and ``themes/`` at the repository root. A wheel carries copies
in ``ml_intern_tui/_data/`` (``setup.py``'s build step puts them there); a source or
editable checkout uses the repository folders directly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

BundledName = Literal["configs", "themes"]

_PACKAGE_DIR = Path(__file__).resolve().parent


def bundled_dir(name: BundledName) -> Path:
    """The directory holding the bundled ``name`` files.

    The wheel copy wins: in an installed wheel the folder above the package is
    ``site-packages``, where an unrelated ``configs/`` could exist.
    """
    candidates = (_PACKAGE_DIR / "_data" / name, _PACKAGE_DIR.parent / name)
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    tried = ", ".join(str(c) for c in candidates)
    raise FileNotFoundError(
        f"bundled {name!r} folder not found (looked in {tried}); reinstall ml-intern-tui"
    )


def default_config_path() -> Path:
    """The packaged defaults, ``configs/default.toml``."""
    return bundled_dir("configs") / "default.toml"
