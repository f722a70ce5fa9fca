"""Alt+Enter and Shift+Enter add a line in the real app under tmux.

tmux sends ``M-Enter`` as ESC CR, as most terminals send Alt+Enter. Shift+Enter reaches
an application only in an extended form, xterm's modifyOtherKeys ``CSI 27;2;13~`` (what
tmux's ``extended-keys`` and xterm send) or the kitty protocol's ``CSI 13;2u``; tmux 3.3
has no key name for it, so the test types those bytes into the pane as such a terminal
would. (``extended-keys`` is a server-wide option: the tests leave it alone, other tmux
tests share the server.) A terminal without either protocol sends a plain CR for
Shift+Enter, which no program can tell from Enter: Ctrl+J adds a line everywhere.
"""

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


def prompt_lines(screen: str) -> list[str]:
    """The lines inside the prompt box (the last rounded box on the screen)."""
    box = screen.split("╭")[-1].split("╰")[0]
    return [line.strip("│ ") for line in box.splitlines()[1:]]


def test_alt_enter_and_shift_enter_add_lines(tmux: Tmux) -> None:
    tmux.wait_text("session ", timeout=60)
    tmux.keys("-l", "first line")
    tmux.keys("M-Enter")
    tmux.keys("-l", "second line")
    tmux.keys("-l", "\x1b[27;2;13~")  # Shift+Enter, modifyOtherKeys
    tmux.keys("-l", "third line")
    tmux.keys("-l", "\x1b[13;2u")  # Shift+Enter, kitty protocol
    tmux.keys("-l", "fourth line")
    tmux.wait_for(
        lambda s: prompt_lines(s)[:4] == ["first line", "second line", "third line", "fourth line"],
        "four lines in the prompt",
    )
    assert "You" not in tmux.screen().split("╭")[0]  # nothing was sent
