"""``[web]``: defaults, and one clear line for each bad value."""

from __future__ import annotations

from pathlib import Path

import pytest

from ml_intern_tui import paths
from ml_intern_tui.config import ConfigError, load_config


def problems(tmp_path: Path, text: str) -> list[str]:
    user = paths.user_config_path()
    user.parent.mkdir(parents=True, exist_ok=True)
    user.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(cwd=tmp_path)
    assert all("\n" not in line for line in caught.value.problems)
    return caught.value.problems


def test_defaults_refuse_private_addresses_and_use_duckduckgo(tmp_path: Path) -> None:
    web = load_config(cwd=tmp_path).settings.web
    assert web.search_url == "https://html.duckduckgo.com/html/"
    assert web.allow_private_networks == []
    assert web.max_page_bytes == 5_000_000 and web.max_redirects == 5 and web.timeout_s == 20


def test_bad_values_are_named(tmp_path: Path) -> None:
    user = paths.user_config_path()
    found = problems(
        tmp_path,
        '[web]\nsearch_url = "ftp://search.example"\nallow_private_networks = ["intranet"]\n'
        "max_redirects = 50\n",
    )
    assert sorted(found) == sorted(
        [
            f"{user}: web.search_url: 'ftp://search.example' is not an http(s) URL",
            f"{user}: web.allow_private_networks: 'intranet' is not an IP address or network "
            "(e.g. '10.0.0.0/8')",
            f"{user}: web.max_redirects: expected a value at most 20, got 50",
        ]
    )
