"""A project's custom slash command in the real app, in tmux: completed, run, answered."""

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


def test_a_project_command_runs_in_the_real_app(tmp_path: Path) -> None:
    commands = tmp_path / ".ml-intern" / "commands"
    commands.mkdir(parents=True)
    (commands / "eval.md").write_text(
        "---\ndescription: Evaluate a checkpoint\nargument-hint: CHECKPOINT\n---\n"
        "Evaluate $ARGUMENTS on the test split.\n"
    )
    with tmux_app(tmp_path, ["--model", "scripted/echo"]) as tmux:
        tmux.wait_all("Ask the agent", "session ", timeout=60)
        tmux.keys("/ev")
        tmux.wait_all("/eval CHECKPOINT", "Evaluate a checkpoint (project command)", timeout=60)
        tmux.keys("Tab")  # completes the name; the popup closes (no argument list)
        tmux.wait_for(lambda s: "│ /eval" in s and "CHECKPOINT" not in s, "/eval completed")
        tmux.keys("ckpt-7", "Enter")
        tmux.wait_text("You said: Evaluate ckpt-7 on the test split.", timeout=60)
        tmux.keys("/quit", "Enter")
        tmux.wait_text("EXITED rc=0", timeout=30)
