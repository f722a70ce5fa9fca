"""The demo's first run in the real app under tmux: the empty chat says it is a scripted
offline demo, and Enter on the empty prompt sends its goal, which starts the demo."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from ml_intern_tui.demo.workspace import DEMO_GOAL
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


def test_the_demos_one_key_goal_starts_the_demo(tmux: Tmux) -> None:
    screen = tmux.wait_all(
        "offline demo", "Press Enter on the empty prompt", "session ", timeout=60
    )
    assert "no API key" not in screen  # the scripted model needs no credential: no banner
    tmux.keys("Enter")
    # The goal went as the user's message, and the scripted agent starts on it.
    tmux.wait_all(DEMO_GOAL[:40], "short plan", timeout=60)
