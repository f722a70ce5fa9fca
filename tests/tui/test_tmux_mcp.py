"""The real ``ml-intern-tui --demo`` with MCP servers in the user config, driven in tmux.

The config names two dead servers, a stdio child that never answers and a url on a
closed 127.0.0.1 port, and one working fastmcp server over stdio. As a user sees it:
the prompt takes typing while the dead ones are still connecting, ``/mcp`` then shows
them failed with their errors and the working one ready with its tools, the demo runs
as usual, and Ctrl+C twice quits and leaves no server process behind. A fourth server
hangs with a long connect timeout, so the quit also has a child in mid-handshake to stop.

Server processes are found in /proc by a marker in their environment (set through the
config's ``env``), whichever attempt started them. No timing assertions here: waits are
bounded, ``bench/first_frame.py`` measures the first frame.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes.mcp_servers import free_port, stdio_args
from support import pid_gone

from tui.tmux_driver import tmux_app

pytestmark = [
    pytest.mark.tmux,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
]

MARK_VAR = "ML_INTERN_TEST_MARK"
HANG_TIMEOUT_S = 4
"""``connect_timeout_s`` of the hanging server: 4 attempts and 7 s of backoff, then failed."""
HANG = "--sleep-first 1000"
"""In the command line of both hanging servers' children."""
TYPED = "typed while the servers connect"
ROW = re.compile(
    r"[●◌✗○] (?P<state>ready|connecting(?: #\d+)?|failed|disabled)\s+(?P<server>\S+)\s+"
    r"(?:stdio|http|sse|streamable-http)\s+(?:yes|no)\s+(?P<tools>\S+)\s*(?P<error>.*?)\s*│"
)
"""One row of the /mcp table: state, server, transport, trusted, tools, last error."""


def mcp_rows(screen: str) -> dict[str, dict[str, str]]:
    """The /mcp table on screen: server -> its cells (empty when the screen is not open)."""
    return {m["server"]: m.groupdict() for m in map(ROW.search, screen.splitlines()) if m}


def marked_processes(mark: str) -> dict[int, str]:
    """Live processes whose environment carries ``mark``: pid -> command line."""
    needle = f"{MARK_VAR}={mark}".encode()
    found: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            cmdline = (entry / "cmdline").read_bytes().rstrip(b"\0")
        except OSError:
            continue  # gone meanwhile
        if not pid_gone(int(entry.name)):
            found[int(entry.name)] = cmdline.replace(b"\0", b" ").decode(errors="replace")
    return found


def write_user_config(mark: str) -> None:
    """The user config (XDG_CONFIG_HOME is the test's own): hang, gone, ok and stuck."""
    config = Path(os.environ["XDG_CONFIG_HOME"]) / "ml-intern-tui" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    env = f"{{ {MARK_VAR} = {json.dumps(mark)} }}"
    python = json.dumps(sys.executable)
    config.write_text(
        f"""
[mcp.servers.hang]
command = {python}
args = {json.dumps(stdio_args(*HANG.split()))}
connect_timeout_s = {HANG_TIMEOUT_S}
env = {env}
enabled = true

[mcp.servers.gone]
url = "http://127.0.0.1:{free_port()}/mcp"
enabled = true

[mcp.servers.ok]
command = {python}
args = {json.dumps(stdio_args("--tools", "add,echo"))}
env = {env}
enabled = true

[mcp.servers.stuck]
command = {python}
args = {json.dumps(stdio_args(*HANG.split()))}
connect_timeout_s = 600
env = {env}
"""
    )


def prompt_box(screen: str) -> str:
    """The prompt: the last box drawn on screen."""
    return screen.split("╭")[-1]


@pytest.fixture
def mark() -> Iterator[str]:
    """The marker of this test's server processes; any still alive at the end is killed."""
    value = uuid.uuid4().hex
    yield value
    for pid in marked_processes(value):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def test_dead_and_ready_mcp_servers_as_a_user(tmp_path: Path, mark: str) -> None:
    write_user_config(mark)
    seen: dict[int, str] = {}

    def watching(condition: bool) -> bool:
        """``condition``, noting every server process alive right now on the way."""
        seen.update(marked_processes(mark))
        return condition

    # TMPDIR: the demo workspace goes under tmp_path, removed with it.
    with tmux_app(tmp_path, ["--demo"], {"TMPDIR": str(tmp_path)}) as tmux:
        tmux.wait_text("Ask the agent", timeout=30)
        tmux.keys(TYPED)
        tmux.wait_for(lambda s: TYPED in prompt_box(s), "the typed text in the prompt", 10)
        tmux.keys("C-c")  # clears the prompt (a second press would quit: not within 1 s)
        tmux.wait_for(lambda s: "Ask the agent" in prompt_box(s), "a cleared prompt", 10)

        tmux.keys("/mcp", "Enter")
        screen = tmux.wait_for(
            lambda s: {"hang", "gone", "ok", "stuck"} <= set(mcp_rows(s)), "the /mcp table", 30
        )
        # The hanging server is still connecting: the typing above did not wait for it.
        assert mcp_rows(screen)["hang"]["state"].startswith("connecting"), screen
        assert mcp_rows(screen)["huggingface"]["state"] == "disabled"  # shipped, off

        tmux.wait_for(
            lambda s: watching(sum(HANG in c for c in seen.values()) >= 2),
            "both hanging children to start",
            30,
        )
        screen = tmux.wait_for(
            lambda s: watching(
                all(mcp_rows(s).get(n, {}).get("state") == "failed" for n in ("hang", "gone"))
                and mcp_rows(s).get("ok", {}).get("state") == "ready"
            ),
            "hang and gone failed, ok ready",
            90,
        )
        rows = mcp_rows(screen)
        assert rows["hang"]["error"] == f"no answer within {HANG_TIMEOUT_S}s", screen
        assert rows["gone"]["error"] == "All connection attempts failed", screen
        assert rows["ok"]["tools"] == "2" and rows["ok"]["error"] == "", screen
        assert rows["stuck"]["state"] == "connecting", screen  # its first attempt, still

        tmux.keys("Down", "Down")  # huggingface -> hang -> gone: the full error below
        tmux.wait_for(
            lambda s: "Last error  All connection attempts failed" in s, "gone's error", 10
        )
        tmux.keys("Down")
        screen = tmux.wait_for(lambda s: "• ok__echo" in s, "ok's tools", 10)
        assert "• ok__add  Add two integers." in screen
        assert "• ok__echo  Echo the text back (upper-cased when asked)." in screen

        tmux.keys("Escape")
        tmux.wait_for(lambda s: not mcp_rows(s), "the /mcp screen to close", 10)

        # The demo runs as usual with the servers' tools on the router.
        tmux.keys("Train a baseline on the reviews", "Enter")
        tmux.wait_all("Approval needed", "python3 train.py", timeout=60)
        tmux.keys("y")
        tmux.wait_for(
            lambda s: watching(
                "validation accuracy" in s and "Plan · 4/4 done" in s and "working" not in s
            ),
            "the final answer and a finished plan",
            120,
        )

        hanging = {pid for pid, cmd in seen.items() if HANG in cmd}
        working = {pid for pid, cmd in seen.items() if "--tools add,echo" in cmd}
        alive = {pid for pid in hanging | working if not pid_gone(pid)}
        # hang's children were killed as it failed; ok's server and stuck's child live on.
        assert len(hanging) >= 2 and len(working) == 1 and len(alive) == 2, seen
        assert working < alive

        tmux.keys("C-c")
        tmux.keys("C-c")  # a second press within a second quits
        tmux.wait_text("EXITED rc=0", timeout=30)
        check_gone(seen, mark)


def check_gone(seen: dict[int, str], mark: str) -> None:
    """Every server process the test saw, and any other with the mark, has ended."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        left = {pid: cmd for pid, cmd in seen.items() if not pid_gone(pid)}
        left |= marked_processes(mark)
        if not left:
            return
        time.sleep(0.1)
    raise AssertionError(f"MCP server processes outlived the app: {left}")


def test_closing_the_terminal_stops_the_app_and_its_servers(tmp_path: Path, mark: str) -> None:
    """A hangup (the terminal or the SSH connection goes away) quits like Ctrl+C would.

    MCP servers run in a process group of their own, so the hangup does not reach them:
    the app has to stop them, or a server stuck in its handshake lives on forever.
    """
    write_user_config(mark)
    env = {"TMPDIR": str(tmp_path), MARK_VAR: mark}
    with tmux_app(tmp_path, ["--demo"], env) as tmux:
        tmux.wait_text("Ask the agent", timeout=30)
        deadline = time.monotonic() + 30
        while not any(HANG in cmd for cmd in marked_processes(mark).values()):
            assert time.monotonic() < deadline, "the hanging servers never started"
            time.sleep(0.1)
        apps = [pid for pid, cmd in marked_processes(mark).items() if "ml_intern_tui.cli" in cmd]
        assert len(apps) == 1, marked_processes(mark)
        tmux.run("kill-session", "-t", tmux.name)  # the terminal goes away: SIGHUP
    deadline = time.monotonic() + 25  # the app allows the core 12 s to stop after a hangup
    while marked_processes(mark) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not marked_processes(mark), f"outlived the terminal: {marked_processes(mark)}"
