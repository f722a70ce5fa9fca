"""Prompt history in the real app under tmux: Ctrl+R finds a prompt after a restart."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tui.tmux_driver import tmux_app

pytestmark = [
    pytest.mark.tmux,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]


def test_ctrl_r_finds_an_earlier_prompt_after_a_restart(tmp_path: Path) -> None:
    with tmux_app(tmp_path, ["--demo"]) as tmux:
        tmux.wait_text("session ", timeout=60)
        tmux.keys("-l", "/status zebra stripes")
        tmux.keys("Enter")
        tmux.wait_text("Working directory", timeout=30)
        tmux.keys("C-c")
        tmux.keys("C-c")
        tmux.wait_text("EXITED rc=0", timeout=30)

    with tmux_app(tmp_path, ["--demo"]) as tmux:
        tmux.wait_text("session ", timeout=60)
        tmux.keys("C-r")
        tmux.wait_text("Search prompt history", timeout=30)
        tmux.keys("-l", "zebra")
        tmux.wait_all("Search prompt history", "/status zebra stripes", timeout=30)
        tmux.keys("Enter")
        tmux.wait_for(
            lambda s: (
                "Search prompt history" not in s and "/status zebra stripes" in s.split("╭")[-1]
            ),
            "the found prompt back in the prompt box",
        )
