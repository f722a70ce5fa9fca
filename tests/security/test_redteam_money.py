"""Red team: a hostile router catalog against the context window (and so the spend).

The catalog's ``context_length`` becomes the model's window: the smallest live
provider's, since the router may send a call to any of them. One entry listing a window
no prompt fits in (``1``) made every call pay for a compaction that could never get under
the threshold, turn after turn.
"""

from __future__ import annotations

from typing import Any

import pytest

from ml_intern_tui.core.catalog import RouterCatalog


@pytest.mark.parametrize("window", [1, 100, 2048, 10**12, "131072", True, -5])
def test_a_window_no_prompt_fits_in_is_no_window(window: Any) -> None:
    offers = [
        {"provider": "novita", "status": "live", "context_length": 131072},
        {"provider": "evil", "status": "live", "context_length": window},
    ]
    catalog = RouterCatalog.parse({"data": [{"id": "a/b", "providers": offers}]})
    assert catalog.context_window("a/b") == 131072
    assert catalog.context_window("a/b:evil") is None


def test_ordinary_windows_are_kept() -> None:
    offers = [{"provider": "p", "status": "live", "context_length": 8192}]
    catalog = RouterCatalog.parse({"data": [{"id": "a/b", "providers": offers}]})
    assert catalog.context_window("a/b") == 8192
