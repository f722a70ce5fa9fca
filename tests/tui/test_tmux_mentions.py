"""``@`` completion in the real app under tmux: a file is completed, sent and attached."""

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


def test_at_completion_attaches_a_file(tmux: Tmux) -> None:
    tmux.wait_text("session ", timeout=60)
    tmux.keys("-l", "look at @revi")
    tmux.wait_text("@data/reviews.csv", timeout=30)  # the candidate in the popup
    tmux.keys("Tab")
    tmux.wait_for(
        lambda s: "look at @data/reviews.csv" in s.split("╭")[-1], "the completed mention"
    )
    tmux.keys("Enter")
    tmux.wait_all("Attached data/reviews.csv (", timeout=60)
