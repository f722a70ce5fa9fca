"""The real ``ml-intern-tui --demo`` in tmux, driven with keys as a user would.

Skipped when tmux is missing. Asserts only on what ``capture-pane`` shows.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tui.tmux_driver import Tmux, tmux_app

pytestmark = [
    pytest.mark.tmux,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]

WIDTH, HEIGHT = 120, 40


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    with tmux_app(tmp_path, ["--demo"]) as session:
        yield session


def test_demo_session_as_a_user(tmux: Tmux) -> None:
    started = time.monotonic()
    tmux.wait_text("Ask the agent", timeout=10)
    first_frame = time.monotonic() - started
    assert first_frame < 5, f"first frame took {first_frame:.1f}s"
    tmux.wait_text("session ", timeout=30)  # the core is ready

    tmux.keys("Train a baseline on the reviews", "Enter")
    tmux.wait_all("Approval needed", "python3 train.py", "y approve", timeout=60)

    tmux.keys("y")  # one key answers the approval
    screen = tmux.wait_for(lambda s: "epoch 12/12" in s, "the job log tail", timeout=90)
    assert "Jobs" in screen
    tmux.wait_for(
        lambda s: "validation accuracy" in s and "Plan · 4/4 done" in s and "working" not in s,
        "the final answer and a finished plan",
        timeout=60,
    )

    tmux.keys("C-u")  # undo the turn
    screen = tmux.wait_for(
        lambda s: "Undid the last turn" in s and "Turn 1 (undone)" in s, "the undone turn", 20
    )
    assert "Train a baseline on the reviews" in screen.split("╭")[-1]  # back in the prompt

    tmux.keys("C-o")  # compact
    tmux.wait_for(
        lambda s: "compact" in s.lower().split("undid the last turn")[-1], "a compaction notice"
    )

    tmux.keys("C-c")  # clears the prompt
    tmux.wait_for(
        lambda s: "Train a baseline on the reviews" not in s.split("╭")[-1], "a cleared prompt"
    )
    tmux.keys("C-c")
    tmux.keys("C-c")  # a second press within a second quits
    tmux.wait_text("EXITED rc=0", timeout=20)
