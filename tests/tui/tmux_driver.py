"""Drive the real ``ml-intern-tui`` inside tmux: start it, send keys, read the screen."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

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

    def wait_all(self, *texts: str, timeout: float = 30) -> str:
        """Every one of TEXTS on one screen: a title can paint a frame before its body."""
        return self.wait_for(
            lambda s: all(t in s for t in texts), " and ".join(map(repr, texts)), timeout
        )


@contextmanager
def tmux_app(cwd: Path, args: list[str], extra_env: dict[str, str] | None = None) -> Iterator[Tmux]:
    """``ml-intern-tui ARGS`` in a fresh tmux session at WIDTHxHEIGHT, killed afterwards."""
    name = f"mit-{uuid.uuid4().hex[:8]}"
    env = {
        "TERM": "xterm-256color",
        "TEXTUAL_ANIMATIONS": "none",
        "ML_INTERN_SCRIPTED_DELAY": "0.002",
        "XDG_CONFIG_HOME": os.environ["XDG_CONFIG_HOME"],
        "XDG_DATA_HOME": os.environ["XDG_DATA_HOME"],
        "XDG_CACHE_HOME": os.environ["XDG_CACHE_HOME"],
        "HF_HOME": os.environ["HF_HOME"],
        **(extra_env or {}),
    }
    exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    command = (
        # -u COLUMNS/LINES: readline (loaded by the test run) exports them to children, and
        # a stale COLUMNS would override the real pane size.
        f"cd {shlex.quote(str(cwd))} && env -u COLUMNS -u LINES {exports} "
        f"{shlex.quote(sys.executable)} -m ml_intern_tui.cli {shlex.join(args)}; echo EXITED rc=$?"
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
