"""First frame of the real app in tmux (120x40): time from launch to the prompt on screen.

Run with ``make bench`` or ``python bench/first_frame.py [--runs N]``. Needs tmux. The
clock starts when the command is typed into an already running shell (so shell start-up
is not counted) and stops at the first ``capture-pane`` that shows the prompt placeholder.

Two cases, measured in turns so a busy machine slows both alike: ``--demo`` with an empty
user config, and the same with a user config that names two dead MCP servers (a stdio
command that never answers, an HTTP url on a closed 127.0.0.1 port). Servers connect in
the background, so the second case should be within the first one's spread. Every run
has its own XDG directories (and TMPDIR, for the demo workspace) and quits with Ctrl+C
twice, as a user would; a dead-server run first waits for the hanging child to start, so
the quit has a live child to stop. Any process started for a server must be gone after
the quit (found by a marker in its environment; a zombie counts as gone), else the
benchmark kills it, names it and fails. Exit status 1 on a missed target or a stray child.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

TARGET_S = 1.0
UPSTREAM_S = 5.7  # the retired CLI printed its help in about this long; its UI took longer
MARKER = "Ask the agent"
EXITED = re.compile(r"EXITED rc=(\d+)")
"""What the shell prints after the app (the typed command line shows ``rc=$?``)."""
MARK_VAR = "ML_INTERN_BENCH_MARK"
"""Set (through the config's ``env``) on every stdio server child, so /proc finds them."""
FIRST_FRAME_WAIT_S = 20.0
CHILD_WAIT_S = 30.0  # the hanging child starts once fastmcp is imported in a thread
QUIT_WAIT_S = 20.0
GONE_WAIT_S = 5.0
ISOLATED = ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "TMPDIR")
"""Each run gets its own of these (TMPDIR holds the demo workspace), removed after it."""

DEAD_SERVERS = """\
[mcp.servers.hang]
# Started, then never says a word: the handshake can only time out.
command = "sleep"
args = ["1000"]
env = {{ {mark_var} = "{mark}" }}
enabled = true

[mcp.servers.gone]
# Nothing listens on this port: every connection is refused.
url = "http://127.0.0.1:{port}/mcp"
enabled = true
"""


@dataclass
class Case:
    label: str
    dead_servers: bool
    times: list[float] = field(default_factory=list)


@dataclass
class Totals:
    children: int = 0
    strays: int = 0
    problems: list[str] = field(default_factory=list)


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, check=True).stdout


def closed_port() -> int:
    """A 127.0.0.1 port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def marked_processes(mark: str) -> dict[int, str]:
    """Live processes whose environment carries ``mark``: pid -> command line."""
    needle = f"{MARK_VAR}={mark}".encode()
    found: dict[int, str] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            if needle not in Path(entry.path, "environ").read_bytes().split(b"\0"):
                continue
            state = Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()[0]
            cmdline = Path(entry.path, "cmdline").read_bytes()
        except (OSError, IndexError):
            continue  # gone meanwhile, or not ours to read
        if state != "Z":  # PID 1 here does not reap: a zombie has ended all the same
            found[int(entry.name)] = (
                cmdline.rstrip(b"\0").replace(b"\0", b" ").decode(errors="replace")
            )
    return found


def wait(condition: Callable[[], object], timeout: float, step: float = 0.05) -> bool:
    """Poll ``condition()`` until it is true or ``timeout`` seconds have passed."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if condition():
            return True
        time.sleep(step)
    return False


def exit_status(session: str) -> str | None:
    """The app's exit status once the shell in ``session`` prints it (None: it did not)."""
    deadline = time.perf_counter() + QUIT_WAIT_S
    while time.perf_counter() < deadline:
        found = EXITED.search(tmux("capture-pane", "-p", "-t", session))
        if found:
            return found.group(1)
        time.sleep(0.05)
    return None


def one_run(case: Case, totals: Totals) -> float:
    """Launch, time the first frame, quit with Ctrl+C twice; check what was left."""
    name = f"bench-{uuid.uuid4().hex[:6]}"
    mark = uuid.uuid4().hex
    workdir = Path(tempfile.mkdtemp(prefix="ml-intern-bench-"))
    dirs = {var: workdir / var.lower() for var in ISOLATED}
    for path in dirs.values():
        path.mkdir()
    env = {"TERM": "xterm-256color", **{var: str(path) for var, path in dirs.items()}}
    config = dirs["XDG_CONFIG_HOME"] / "ml-intern-tui" / "config.toml"
    config.parent.mkdir()
    config.write_text(
        DEAD_SERVERS.format(mark_var=MARK_VAR, mark=mark, port=closed_port())
        if case.dead_servers
        else ""
    )
    seen: dict[int, str] = {}
    tmux("new-session", "-d", "-s", name, "-x", "120", "-y", "40", "sh")
    try:
        tmux("set-option", "-w", "-t", name, "window-size", "manual")
        tmux("resize-window", "-t", name, "-x", "120", "-y", "40")
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        command = (
            f"cd {shlex.quote(str(workdir))} && env -u COLUMNS -u LINES {exports} "
            f"{shlex.quote(sys.executable)} -m ml_intern_tui.cli --demo; echo EXITED rc=$?"
        )
        tmux("send-keys", "-t", name, command, "Enter")
        start = time.perf_counter()
        elapsed = None
        while time.perf_counter() - start < FIRST_FRAME_WAIT_S:
            if MARKER in tmux("capture-pane", "-p", "-t", name):
                elapsed = time.perf_counter() - start
                break
            time.sleep(0.01)
        if elapsed is None:
            raise SystemExit(f"{case.label}: the app never showed its prompt")

        if case.dead_servers:

            def hanging() -> bool:
                seen.update(marked_processes(mark))
                return any(cmd.split(" ", 1)[0].endswith("sleep") for cmd in seen.values())

            if not wait(hanging, CHILD_WAIT_S):
                totals.problems.append(f"{case.label}: the hanging MCP child never started")
        tmux("send-keys", "-t", name, "C-c")
        tmux("send-keys", "-t", name, "C-c")  # within a second: quits
        status = exit_status(name)
        if status is None:
            totals.problems.append(f"{case.label}: Ctrl+C twice did not quit the app")
        elif status != "0":
            totals.problems.append(f"{case.label}: the app exited with status {status}")
        return elapsed
    finally:
        subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True, check=False)
        seen.update(marked_processes(mark))
        totals.children += len(seen)
        wait(lambda: not marked_processes(mark), GONE_WAIT_S)
        for pid, cmd in marked_processes(mark).items():
            totals.strays += 1
            totals.problems.append(f"{case.label}: MCP child {pid} ({cmd}) outlived the app")
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        shutil.rmtree(workdir, ignore_errors=True)


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5, help="runs per case (default 5)")
    opts = parser.parse_args()
    plain = Case("first frame, --demo in tmux 120x40", dead_servers=False)
    dead = Case("  same, 2 dead MCP servers in config", dead_servers=True)
    totals = Totals()
    load_before = load_average()
    for case in (plain, dead):
        one_run(case, totals)  # warm the file cache (fastmcp too, for the second case)
    for _ in range(opts.runs):
        for case in (plain, dead):
            case.times.append(one_run(case, totals))

    header = f"{'case':<40} {'median':>8} {'max':>8} {'target':>8} {'vs target':>10}"
    print(header)
    print("-" * len(header))
    missed = False
    for case in (plain, dead):
        median = statistics.median(case.times)
        missed |= median > TARGET_S
        print(
            f"{case.label:<40} {median:>7.3f}s {max(case.times):>7.3f}s {TARGET_S:>7.2f}s "
            f"{median / TARGET_S:>9.2f}x{'' if median <= TARGET_S else '  OVER'}"
        )
    plain_median, dead_median = statistics.median(plain.times), statistics.median(dead.times)
    low, high = min(plain.times), max(plain.times)
    verdict = (
        "within the plain runs' spread" if dead_median <= high else "SLOWER than every plain run"
    )
    print(
        f"\ndead MCP servers vs plain: {dead_median / plain_median:.2f}x the plain median "
        f"(plain runs {low:.3f}-{high:.3f}s: {verdict})"
    )
    print(f"MCP server processes started: {totals.children}; left after quitting: {totals.strays}")
    for problem in totals.problems:
        print(f"PROBLEM {problem}")
    print(
        f"\n{opts.runs} runs per case, taken in turns; "
        f"load average {load_before} before, {load_average()} after"
    )
    return 1 if missed or totals.problems else 0


if __name__ == "__main__":
    sys.exit(main())
