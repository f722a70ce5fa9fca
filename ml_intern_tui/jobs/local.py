"""Local process plumbing shared by the ``bash`` tool and background jobs.

Every command runs in its own session (so its process group can be killed as a whole,
children included), with stdin on ``/dev/null`` and stdout+stderr merged into one pipe,
and with the environment minus secrets (``safety.environment``). A ``Launch`` may wrap
the shell in the OS sandbox; such a command lives in its own PID namespace and session,
so stopping it signals the processes inside, then kills the sandbox (which takes the
whole namespace with it).
Output bytes become clean text lines: decoded incrementally, ANSI escapes stripped, and
carriage-return progress bars (tqdm and friends) collapsed instead of flooding the log.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import math
import os
import re
import signal
import weakref
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from ml_intern_tui.core.redact_stream import StreamRedactor
from ml_intern_tui.safety.environment import tool_environment
from ml_intern_tui.safety.program_path import command_shell
from ml_intern_tui.safety.sandbox_kernel import seccomp_fd

ANSI_RE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor moves
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"  # OSC: titles, hyperlinks
    r"|\x1b[PX^_][^\x1b]*\x1b\\"  # DCS/SOS/PM/APC strings
    r"|\x1b[@-Z\\-_]"  # two-byte escapes
)
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_NEWLINE_RE = re.compile(r"[\r\n]")

MAX_LINE_CHARS = 100_000
"""A line longer than this (no newline in sight) is emitted in pieces."""

DEFAULT_KILL_GRACE_S = 3.0


def strip_ansi(text: str) -> str:
    """Text without ANSI escape sequences and stray control characters (tabs are kept)."""
    return _CONTROL_RE.sub("", ANSI_RE.sub("", text))


class Redraw(str):
    """A progress line overwritten in place (``LineSplitter(redraws=True)``), not a log line."""

    __slots__ = ()


class LineSplitter:
    """Turns a byte stream into clean lines.

    A segment ended by a lone ``\\r`` is a progress update that the next one overwrites,
    as on a terminal: only the final state reaches a line when ``\\n`` arrives. With
    ``progress_interval_s`` set, a snapshot of a changing progress line is also emitted
    at most that often, so a long-running bar stays visible in the log. With ``redraws``,
    each overwritten update is also returned, as a :class:`Redraw`, in its place among
    the lines (metric extraction needs the bar's step at the moment a line is printed).
    """

    def __init__(self, progress_interval_s: float | None = None, *, redraws: bool = False) -> None:
        self._redraws = redraws
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._current = ""
        self._overwritten = ""
        self._interval = progress_interval_s if progress_interval_s is not None else math.inf
        self._last_snapshot_at = -math.inf
        self._last_snapshot = ""

    def feed(self, data: bytes, now: float = 0.0) -> list[str]:
        """Lines completed by ``data`` (``now`` is a monotonic clock for snapshots)."""
        return self._feed_text(self._decoder.decode(data), now)

    def finish(self) -> list[str]:
        """Whatever is left when the stream ends (an unterminated last line)."""
        lines = self._feed_text(self._decoder.decode(b"", final=True), 0.0)
        tail = self._current or self._overwritten
        self._current = self._overwritten = ""
        if tail and tail != self._last_snapshot:
            lines.append(strip_ansi(tail))
        return lines

    def _feed_text(self, text: str, now: float) -> list[str]:
        lines: list[str] = []
        pos = 0
        for match in _NEWLINE_RE.finditer(text):
            self._current += text[pos : match.start()]
            pos = match.end()
            if match.group() == "\r":
                if self._current:
                    self._overwritten = self._current
                    self._current = ""
                    if self._redraws:
                        lines.append(Redraw(strip_ansi(self._overwritten)))
                continue
            line = self._current or self._overwritten
            self._current = self._overwritten = ""
            if line and line == self._last_snapshot:
                self._last_snapshot = ""
                continue  # already emitted as a progress snapshot
            self._last_snapshot = ""
            lines.append(strip_ansi(line))
        self._current += text[pos:]
        while len(self._current) > MAX_LINE_CHARS:
            lines.append(strip_ansi(self._current[:MAX_LINE_CHARS]))
            self._current = self._current[MAX_LINE_CHARS:]
        if (
            math.isfinite(self._interval)
            and self._overwritten
            and self._overwritten != self._last_snapshot
            and now - self._last_snapshot_at >= self._interval
        ):
            self._last_snapshot = self._overwritten
            self._last_snapshot_at = now
            lines.append(strip_ansi(self._overwritten))
        return lines


SHELL = command_shell()
"""bash (the grammar the analysis parses), inside the sandbox or not."""
SHELL_VARIABLES: frozenset[str] = frozenset(
    {"BASH_ENV", "ENV", "SHELLOPTS", "BASHOPTS", "PS4", "BASH_XTRACEFD", "GLOBIGNORE", "CDPATH"}
)
"""Variables that make a non-interactive bash run a file first, change how it expands
globs and ``cd`` targets, or trace: the command must mean what the analysis read."""


def merged_env(
    extra: Mapping[str, str] | None = None, *, pass_env: tuple[str, ...] = ()
) -> dict[str, str]:
    """This process's environment minus secrets and the shell's start-up variables (and
    exported functions), plus ``extra``, Python output unbuffered."""
    env = {
        name: value
        for name, value in tool_environment(pass_env=pass_env).items()
        if name not in SHELL_VARIABLES and not name.startswith("BASH_FUNC_")
    }
    env.setdefault("PYTHONUNBUFFERED", "1")
    if extra:
        env.update(extra)
    return env


@dataclass(frozen=True)
class Launch:
    """How a shell command starts: its extra variables, and the sandbox it runs in, if any."""

    env: Mapping[str, str] = field(default_factory=dict)
    """Added to (overriding) the scrubbed environment."""
    pass_env: tuple[str, ...] = ()
    """Variables (names or globs) kept although they look secret (``[tools.bash] pass_env``)."""
    wrapper: tuple[str, ...] = ()
    """The sandbox's argv (``bwrap … --`` and maybe a helper); the shell and the command
    follow it."""
    seccomp: bytes = b""
    """A seccomp BPF program bubblewrap loads for the command (``--seccomp FD``)."""
    preexec: Callable[[], None] | None = None
    """Run in the forked child before bubblewrap starts (the Landlock scope)."""

    @property
    def sandboxed(self) -> bool:
        return bool(self.wrapper)


_sandboxed: weakref.WeakSet[asyncio.subprocess.Process] = weakref.WeakSet()


async def spawn_shell(
    command: str,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    *,
    launch: Launch | None = None,
) -> asyncio.subprocess.Process:
    """Start ``command`` under the shell in a new session; stdout+stderr share one pipe.

    ``env`` adds to the scrubbed environment (as ``launch.env`` does, which it overrides).
    """
    launch = launch or Launch()
    environment = merged_env({**(env or {}), **launch.env}, pass_env=launch.pass_env)
    if not launch.sandboxed:
        return await asyncio.create_subprocess_exec(
            SHELL,
            "-c",
            command,
            cwd=str(cwd),
            env=environment,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
    wrapper = list(launch.wrapper)
    fds: tuple[int, ...] = ()
    if launch.seccomp:
        fds = (seccomp_fd(launch.seccomp),)
        wrapper[1:1] = ["--seccomp", str(fds[0])]  # bubblewrap reads it up to EOF
    try:
        proc = await asyncio.create_subprocess_exec(
            *wrapper,
            SHELL,
            "-c",
            command,
            cwd=str(cwd),
            env=environment,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
            pass_fds=fds,
            preexec_fn=launch.preexec,
        )
    finally:
        for fd in fds:
            os.close(fd)
    _sandboxed.add(proc)
    return proc


def is_sandboxed(proc: asyncio.subprocess.Process) -> bool:
    """Whether ``proc`` is a sandbox started by ``spawn_shell``."""
    return proc in _sandboxed


def signal_group(pgid: int, sig: int) -> bool:
    """Send ``sig`` to a process group; False when nothing in it is left."""
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def group_alive(pgid: int) -> bool:
    """Whether any live (non-zombie) process is still in the group."""
    if not signal_group(pgid, 0):
        return False
    proc_dir = Path("/proc")
    if not proc_dir.is_dir():
        return True
    for entry in proc_dir.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid pgrp ..." -- comm may contain spaces and parentheses.
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) >= 3 and fields[2] == str(pgid) and fields[0] != "Z":
            return True
    return False


def _process_table() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, command name) of every process we can see."""
    table: dict[int, tuple[int, str]] = {}
    for entry in Path("/proc").iterdir() if Path("/proc").is_dir() else ():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        head, _, rest = stat.rpartition(")")
        fields = rest.split()
        if len(fields) >= 2:
            table[int(entry.name)] = (int(fields[1]), head.partition("(")[2])
    return table


def sandbox_members(pid: int) -> list[int]:
    """The processes running inside the sandbox whose bubblewrap is ``pid``.

    They are its descendants (a PID namespace re-parents orphans to its init, itself a
    child of bubblewrap), minus bubblewrap's own processes: signalling those would tear
    the sandbox down at once instead of letting the command stop cleanly.
    """
    table = _process_table()
    children: dict[int, list[int]] = {}
    for child, (parent, _name) in table.items():
        children.setdefault(parent, []).append(child)
    found: list[int] = []
    stack = list(children.get(pid, []))
    while stack:
        current = stack.pop()
        stack.extend(children.get(current, []))
        if table[current][1] != "bwrap":
            found.append(current)
    return found


def terminate(proc: asyncio.subprocess.Process) -> None:
    """Ask a command to stop (SIGTERM): its process group, or everything in its sandbox.

    A sandboxed command has its own session inside, out of reach of the group signal;
    when nothing inside is found yet, the sandbox itself is signalled (it then dies and
    the kernel kills its whole PID namespace).
    """
    if is_sandboxed(proc):
        members = sandbox_members(proc.pid)
        for member in members:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(member, signal.SIGTERM)
        if members:
            return
    signal_group(proc.pid, signal.SIGTERM)


async def kill_process_group(
    proc: asyncio.subprocess.Process, grace_s: float = DEFAULT_KILL_GRACE_S
) -> None:
    """SIGTERM the command's processes, then SIGKILL whatever outlives ``grace_s``.

    Killing a sandbox's group kills bubblewrap, and with it the PID namespace inside.
    """
    pgid = proc.pid
    terminate(proc)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + grace_s
    while loop.time() < deadline:
        if proc.returncode is not None and not group_alive(pgid):
            return
        await asyncio.sleep(0.05)
    signal_group(pgid, signal.SIGKILL)
    try:
        await asyncio.wait_for(proc.wait(), 2.0)
    except TimeoutError:  # pragma: no cover - a process that survives SIGKILL
        pass


_escalations: set[asyncio.Task[None]] = set()


async def kill_on_cancel(proc: asyncio.subprocess.Process, grace_s: float) -> None:
    """Kill the group from a cancelled task: SIGTERM now, escalation survives a 2nd cancel."""
    terminate(proc)
    task = asyncio.create_task(kill_process_group(proc, grace_s))
    _escalations.add(task)
    task.add_done_callback(_escalations.discard)
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        pass


async def wait_exit(proc: asyncio.subprocess.Process, timeout_s: float | None) -> bool:
    """Wait for the process itself to exit (not for its pipes); False on timeout.

    ``Process.wait()`` may also wait for the pipes to close on newer Pythons, which a
    backgrounded grandchild can hold open forever; ``returncode`` is set at exit.
    """
    waiter = asyncio.ensure_future(proc.wait())
    loop = asyncio.get_running_loop()
    deadline = None if timeout_s is None else loop.time() + timeout_s
    try:
        while proc.returncode is None:
            step = 0.1 if deadline is None else min(0.1, deadline - loop.time())
            if step <= 0:
                return False
            await asyncio.wait({waiter}, timeout=step)
        return True
    finally:
        waiter.cancel()


class OutputCollector:
    """Keeps a process's output bounded: the head and tail in memory, all of it on disk.

    Everything stays in memory while it fits in ``budget`` characters; past that, the
    lines so far and every later line go to ``spill_path`` (created on demand) and memory
    keeps only enough head and tail to show a cut version. The file is written redacted
    (secrets, known secret values): it outlives the call, and the model reads it.
    """

    SPILL_CHUNK = 65_536
    """Characters gathered before a redacted write (redacting line by line is slow)."""

    def __init__(self, budget: int, spill_path: Callable[[], Path]) -> None:
        self.budget = budget
        self._make_spill_path = spill_path
        self.spill_path: Path | None = None
        self._spill: IO[str] | None = None
        self._redactor = StreamRedactor()
        self._unwritten: list[str] = []
        self._unwritten_chars = 0
        self._head: list[str] = []
        self._head_chars = 0
        self._tail: deque[str] = deque()
        self._tail_chars = 0
        self.chars = 0
        self.lines = 0
        self.last_line = ""

    def add(self, lines: list[str]) -> None:
        for line in lines:
            self.lines += 1
            self.chars += len(line) + 1
            if line.strip():
                self.last_line = line
            if self._spill is None and self.chars > self.budget:
                self.spill_path = self._make_spill_path()
                self._spill = self.spill_path.open("w", encoding="utf-8")
                self._write("".join(f"{kept}\n" for kept in self._head))
                self._write("".join(f"{kept}\n" for kept in self._tail))
            if self._spill is not None:
                self._write(line + "\n")
            if self._head_chars < self.budget:
                self._head.append(line)
                self._head_chars += len(line) + 1
                continue
            self._tail.append(line)
            self._tail_chars += len(line) + 1
            while self._tail and self._tail_chars - len(self._tail[0]) - 1 >= self.budget:
                self._tail_chars -= len(self._tail.popleft()) + 1

    def _write(self, text: str, *, final: bool = False) -> None:
        self._unwritten.append(text)
        self._unwritten_chars += len(text)
        if self._spill is None or (self._unwritten_chars < self.SPILL_CHUNK and not final):
            return
        chunk = "".join(self._unwritten)
        self._unwritten, self._unwritten_chars = [], 0
        self._spill.write(self._redactor.feed(chunk))
        if final:
            self._spill.write(self._redactor.flush())

    def close(self) -> None:
        if self._spill is not None:
            self._write("", final=True)
            self._spill.close()
            self._spill = None

    def text(self, hint: str = "") -> tuple[str, bool]:
        """The output for the model, cut to the budget (25% head, 75% tail) when needed."""
        self.close()
        full = "\n".join([*self._head, *self._tail])
        if self.spill_path is None:
            return full, False
        head_text = "\n".join(self._head)[: self.budget // 4]
        tail_text = "\n".join(self._tail) if self._tail else "\n".join(self._head)
        tail_text = tail_text[-(self.budget - self.budget // 4) :]
        omitted = max(self.chars - len(head_text) - len(tail_text), 0)
        marker = (
            f"\n\n[... {omitted:,} of {self.chars:,} characters cut here"
            f"{'; ' + hint if hint else ''} ...]\n\n"
        )
        return head_text + marker + tail_text, True
