"""``python -m ml_intern_tui``: the same command as ``ml-intern-tui``."""

from __future__ import annotations

import sys

from ml_intern_tui.cli import main

if __name__ == "__main__":
    sys.exit(main())
