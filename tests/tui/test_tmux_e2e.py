"""The real ``ml-intern-tui --demo`` in tmux, driven with keys as a user would.

Skipped when tmux is missing. Asserts only on what ``capture-pane`` shows.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.tmux,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]

WIDTH, HEIGHT = 120, 40


class Tmux:
    """One detached tmux session running a command."""

    def __init__(self, name: str) -> None:
        self.name = name

    def run(self, *args: str) -> str:
        out = subprocess.run(
            ["tmux", *args], capture_output=True, text=True, check=True, timeout=10
        )
        return out.stdout

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", self.name, *keys)

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", self.name)

    def wait_for(self, predicate: Callable[[str], bool], what: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if predicate(screen):
                return screen
            time.sleep(0.1)
        size = self.run("display", "-p", "-t", self.name, "#{window_width}x#{window_height}")
        raise AssertionError(
            f"timed out waiting for {what} ({size.strip()}); screen was:\n{screen}"
        )

    def wait_text(self, text: str, timeout: float = 30) -> str:
        return self.wait_for(lambda s: text in s, repr(text), timeout)


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    name = f"mit-{uuid.uuid4().hex[:8]}"
    env = {
        "TERM": "xterm-256color",
        "TEXTUAL_ANIMATIONS": "none",
        "ML_INTERN_SCRIPTED_DELAY": "0.002",
        "XDG_CONFIG_HOME": os.environ["XDG_CONFIG_HOME"],
        "XDG_DATA_HOME": os.environ["XDG_DATA_HOME"],
        "XDG_CACHE_HOME": os.environ["XDG_CACHE_HOME"],
        "HF_HOME": os.environ["HF_HOME"],
    }
    exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    command = (
        # -u COLUMNS/LINES: readline (loaded by the test run) exports them to children, and
        # a stale COLUMNS would override the real pane size.
        f"cd {shlex.quote(str(tmp_path))} && env -u COLUMNS -u LINES {exports} "
        f"{shlex.quote(sys.executable)} -m ml_intern_tui.cli --demo; echo EXITED rc=$?"
    )
    # Start a shell first and type the command into it, as a user would: a program started
    # as the session's own command can read the pty size before tmux has set it.
    subprocess.run(
        ["tmux", "new-session", "-d", "-s", name, "-x", str(WIDTH), "-y", str(HEIGHT), "sh"],
        check=True,
        timeout=10,
    )
    session = Tmux(name)
    session.run("set-option", "-s", "escape-time", "0")
    session.run("set-option", "-w", "-t", name, "window-size", "manual")
    session.run("resize-window", "-t", name, "-x", str(WIDTH), "-y", str(HEIGHT))
    session.keys(command, "Enter")
    try:
        yield session
    finally:
        subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True, timeout=10)


def test_demo_session_as_a_user(tmux: Tmux) -> None:
    started = time.monotonic()
    tmux.wait_text("Ask the agent", timeout=10)
    first_frame = time.monotonic() - started
    assert first_frame < 5, f"first frame took {first_frame:.1f}s"
    tmux.wait_text("session ", timeout=30)  # the core is ready

    tmux.keys("Train a baseline on the reviews", "Enter")
    screen = tmux.wait_text("Approval needed", timeout=60)
    assert "python3 train.py" in screen and "y approve" in screen

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
