"""Copy in the real app under tmux: the OSC 52 sequence reaches tmux's paste buffer.

With ``set-clipboard on`` tmux turns an application's OSC 52 into a paste buffer (and
forwards it to the outer terminal), which is how copying works over SSH. The test drags
the mouse over a word of the answer (SGR mouse reports typed into the pane, as a
terminal sends them), presses Ctrl+C, then runs ``/copy``; each must land in a buffer.
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


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    with tmux_app(tmp_path, ["--demo"]) as session:
        session.run("set-option", "-s", "set-clipboard", "on")
        yield session


def buffers(tmux: Tmux) -> list[str]:
    names = tmux.run("list-buffers", "-F", "#{buffer_name}").split()
    return [tmux.run("show-buffer", "-b", name) for name in names]


def wait_buffer(tmux: Tmux, wanted: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(b == wanted or (wanted in b and len(wanted) > 40) for b in buffers(tmux)):
            return
        time.sleep(0.1)
    raise AssertionError(f"no tmux buffer holds {wanted!r}: {buffers(tmux)[:5]!r}")


def mouse(tmux: Tmux, button: int, x: int, y: int, release: bool = False) -> None:
    """One SGR mouse report (1-based cells), sent to the app as the terminal would."""
    tmux.keys("-l", f"\x1b[<{button};{x};{y}{'m' if release else 'M'}")


def test_select_and_copy_reach_tmux_buffers(tmux: Tmux) -> None:
    tmux.wait_text("session ", timeout=60)
    tmux.keys("Train a baseline on the reviews", "Enter")
    tmux.wait_all("Approval needed", "y approve", timeout=60)
    tmux.keys("y")
    screen = tmux.wait_for(
        lambda s: "held-out" in s and "working" not in s, "the final answer", 120
    )
    row = next(i for i, line in enumerate(screen.splitlines()) if "held-out" in line)
    line = screen.splitlines()[row]
    start = line.index("held-out")
    # Press on the word's first cell, drag to its last, release: x/y are 1-based.
    mouse(tmux, 0, start + 1, row + 1)
    mouse(tmux, 32, start + len("held-out"), row + 1)
    mouse(tmux, 0, start + len("held-out"), row + 1, release=True)
    tmux.keys("C-c")
    wait_buffer(tmux, "held-out")

    # Back to the prompt (the click on the answer focused the chat), as a user clicks it.
    prompt_row = next(
        i for i, text in enumerate(tmux.screen().splitlines()) if "Ask the agent" in text
    )
    mouse(tmux, 0, 10, prompt_row + 1)
    mouse(tmux, 0, 10, prompt_row + 1, release=True)
    tmux.keys("/copy", "Enter")
    wait_buffer(tmux, "reviews after 12 epochs.\n\n- `train.py` — bag-of-words logistic")
    tmux.wait_text("Copied the last answer")
