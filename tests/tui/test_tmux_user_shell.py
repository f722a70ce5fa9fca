"""``!ls`` in the real app under tmux: the user's command runs and its output shows."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tui.tmux_driver import Tmux, tmux_app

pytestmark = [
    pytest.mark.tmux,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    with tmux_app(tmp_path, ["--demo"]) as session:
        yield session


def test_bang_ls_shows_the_listing(tmux: Tmux) -> None:
    tmux.wait_text("session ", timeout=60)
    tmux.keys("-l", "!ls data")
    tmux.keys("Enter")
    screen = tmux.wait_all("$ ls data", "reviews.csv", "exit 0", timeout=60)
    assert "Approval needed" not in screen  # the user typed it: nothing to approve
    tmux.wait_for(lambda s: "working" not in s, "the app idle again after the command")
