"""Running git for the safety checks themselves: nothing a repository holds may run
through them, and nothing it holds may stall the approval that waits on them.

The analysis asks git about a repository (``git config --list``, ``rev-parse``,
``ls-files``) while deciding whether a command needs approval: outside any sandbox, on
the app's event loop, before a person was asked. So a probe:

- runs the ``git`` found on ``$PATH`` outside the project (``program_path``): a planted
  ``.venv/bin/git`` would otherwise run unconfined at approval time;
- switches git's file-system monitor off on its command line (the one setting that
  makes these read commands start a program) and takes no locks, writes no traces;
- passes the environment minus secrets, stdin on ``/dev/null``, no controlling terminal;
- answers each question once per analysis (a chain of ten git commands asks once), and
  shares one time budget between all of an analysis's git calls: a configuration that
  includes a FIFO or a huge file costs that budget once, then every later call is
  answered "could not be read in time" at once.

``read_regular`` is how the checks read repository files themselves (submodule configs,
the index, ``.git`` pointer files): only regular files, opened without blocking, bounded
in size -- a FIFO named ``config`` would otherwise hang the app.
"""

from __future__ import annotations

import os
import stat
import subprocess
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

from ml_intern_tui.safety.environment import tool_environment
from ml_intern_tui.safety.program_path import trusted_which

GIT_TIMEOUT_S = 3.0
"""All of one analysis's git calls together wait at most this long."""
HARDENING: tuple[str, ...] = ("-c", "core.fsmonitor=false")
"""Command-line settings win over every config file: no monitor program starts."""
QUIET_GIT: dict[str, str] = {
    "GIT_OPTIONAL_LOCKS": "0",
    "GIT_TRACE": "0",
    "GIT_TRACE2": "0",
    "GIT_TRACE2_EVENT": "0",
    "GIT_TRACE2_PERF": "0",
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_NO_LAZY_FETCH": "1",
}
"""The probes write no trace files, take no locks, never prompt, never fetch."""
TIMED_OUT = "git's configuration could not be read in time"

GitAnswer = bytes | str | None
"""git's stdout; a reason string when git could not answer; ``None`` when there is no
trusted git (or the directory does not exist)."""


class GitProbe:
    """git calls for one analysis: trusted binary, hardened, memoised, time-boxed."""

    def __init__(
        self,
        env: Mapping[str, str],
        *,
        untrusted: Iterable[Path] = (),
        budget_s: float | None = None,
    ) -> None:
        self.env = env
        self.untrusted = tuple(untrusted)
        self.budget_s = GIT_TIMEOUT_S if budget_s is None else budget_s
        self._spent = 0.0
        self._answers: dict[tuple[tuple[str, ...], str], GitAnswer] = {}
        self._git: str | bool | None = False  # False: not looked up yet

    @property
    def git(self) -> str | None:
        """The git binary the probes run (``None``: no trusted git on ``$PATH``)."""
        if self._git is False:
            self._git = trusted_which("git", self.env.get("PATH"), untrusted=self.untrusted)
        return self._git if isinstance(self._git, str) else None

    def run(self, args: list[str], cwd: Path) -> GitAnswer:
        key = (tuple(args), str(cwd))
        if key not in self._answers:
            self._answers[key] = self._run(args, cwd)
        return self._answers[key]

    def _run(self, args: list[str], cwd: Path) -> GitAnswer:
        if not cwd.is_dir():
            return None
        git = self.git
        if git is None:
            return None
        left = self.budget_s - self._spent
        if left <= 0:
            return TIMED_OUT
        started = time.monotonic()
        try:
            done = subprocess.run(
                [git, *HARDENING, *args],
                cwd=cwd,
                env={**tool_environment(self.env), **QUIET_GIT},
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=left,
                check=False,
                # No controlling terminal: an include of /dev/tty would otherwise read
                # (and swallow) the user's keystrokes while approval waits.
                start_new_session=True,
            )
        except subprocess.TimeoutExpired:
            self._spent = self.budget_s
            return TIMED_OUT
        except OSError as exc:
            return f"git's configuration could not be read ({exc.strerror})"
        finally:
            self._spent += time.monotonic() - started
        if done.returncode != 0:
            if args[0] == "rev-parse":
                return b""
            first = done.stderr.decode("utf-8", "replace").strip().splitlines()[:1]
            return "git's configuration could not be read" + (f" ({first[0]})" if first else "")
        return done.stdout


def read_regular(path: Path, limit: int) -> bytes | None:
    """Up to ``limit`` bytes of ``path`` when it is a regular file, else ``None``.

    Opened without blocking and checked after opening (a FIFO swapped in between the
    check and the open is still refused).
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        chunks: list[bytes] = []
        size = 0
        while size < limit:
            chunk = os.read(fd, min(1 << 20, limit - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)
    except OSError:
        return None
    finally:
        os.close(fd)
