"""Where a command's path arguments point, and which of them hold secrets.

Paths are resolved the way the shell and the program will see them: ``~`` from the
command's ``HOME``, relative paths against every directory the script may be in (a
``cd`` earlier in the chain adds one), globs expanded against the file system (bounded),
symbolic links followed. An argument whose value is only known at run time has no path:
callers treat it as "anywhere".
"""

from __future__ import annotations

import functools
import glob
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ml_intern_tui.safety.credentials import SECRET_IN_HOME
from ml_intern_tui.safety.protected import HOME_PROTECTED
from ml_intern_tui.safety.shell_words import Word

if TYPE_CHECKING:
    from ml_intern_tui.safety.git_probe import GitProbe

MAX_GLOB_MATCHES = 2000
"""A glob matching more names than this is "unknown" (listing it would be slow)."""

PROC_READABLE: frozenset[str] = frozenset(
    {
        "cpuinfo", "meminfo", "loadavg", "version", "uptime", "stat", "mounts", "diskstats",
        "partitions", "filesystems", "swaps", "vmstat", "zoneinfo", "buddyinfo", "cgroups",
        "devices", "interrupts", "softirqs", "pressure", "driver", "sys", "net",
    }
)  # fmt: skip
"""Entries of ``/proc`` that describe the machine, not another process."""

SECRET_HOME_PATHS: tuple[str, ...] = tuple(
    dict.fromkeys(
        [
            *(
                p
                for p in HOME_PROTECTED
                if not p.startswith((".bash", ".profile", ".z", ".inputrc"))
            ),
            *SECRET_IN_HOME,  # what the sandbox hides: credential stores, shell histories
        ]
    )
)
"""Credential stores under the home directory whose contents must not reach a model."""

SYSTEM_SECRETS: tuple[str, ...] = (
    "/etc/shadow", "/etc/gshadow", "/etc/ssh", "/etc/sudoers", "/etc/sudoers.d",
    "/run/secrets", "/var/run/secrets",
)  # fmt: skip
"""Files of the machine that hold passwords, host keys or mounted service secrets."""
_READABLE_DEVICES = frozenset(
    {"/dev/null", "/dev/zero", "/dev/random", "/dev/urandom", "/dev/stdin", "/dev/tty"}
)
_PID_DIR = re.compile(r"^(\d+|self|thread-self)$")


@dataclass(frozen=True)
class Where:
    """The directories and environment a command runs with."""

    cwds: tuple[Path, ...]
    """Every directory the command may run in (the start one first)."""
    project: Path
    env: Mapping[str, str]
    unknown_cwd: bool = False
    """A ``cd`` to a place only known at run time came first: relative paths are unknown."""
    git: GitProbe | None = field(default=None, compare=False, repr=False)
    """The analysis's git calls (memoised, time-boxed); ``None``: make one when needed."""

    @property
    def home(self) -> Path | None:
        home = self.env.get("HOME")
        return Path(home) if home else None

    def with_cwds(self, cwds: tuple[Path, ...], *, unknown: bool | None = None) -> Where:
        lost = self.unknown_cwd if unknown is None else unknown
        return Where(cwds=cwds, project=self.project, env=self.env, unknown_cwd=lost, git=self.git)


def expand_glob(word: Word, cwd: Path, home: Path | None) -> list[str] | None:
    """The names bash passes for a glob word (the pattern itself when nothing matches)."""
    pattern = word.value
    if pattern is None:
        return None
    if word.tilde:
        if home is None:
            return None
        pattern = str(home) + pattern[1:]
    base = pattern if os.path.isabs(pattern) else os.path.join(cwd, pattern)
    names: list[str] = []
    for match in glob.iglob(base):
        names.append(match if os.path.isabs(pattern) else os.path.relpath(match, cwd))
        if len(names) > MAX_GLOB_MATCHES:
            return None
    return names or [pattern]


def word_paths(word: Word, where: Where) -> list[Path] | None:
    """Absolute paths a word may name, or ``None`` when its value is unknown."""
    if word.value is None:
        return None
    home = where.home
    if where.unknown_cwd and not word.tilde and not word.value.startswith("/"):
        return None
    out: list[Path] = []
    for cwd in where.cwds:
        if word.glob:
            names = expand_glob(word, cwd, home)
            if names is None:
                return None
        elif word.tilde:
            if home is None:
                return None
            names = [str(home) + word.value[1:]]
        else:
            names = [word.value]
        out.extend(Path(os.path.normpath(cwd / name)) for name in names)
    return list(dict.fromkeys(out))


def real(path: Path) -> Path:
    """``path`` with symbolic links followed (as far as they exist)."""
    return Path(os.path.realpath(path))


def inside(path: Path, root: Path) -> bool:
    """``path`` is ``root`` or below it (both absolute and normalised)."""
    text, base = str(path), str(root)
    return text == base or text.startswith(base if base.endswith("/") else base + "/")


def secret_roots(where: Where) -> tuple[Path, ...]:
    """Files and directories whose contents are credentials."""
    env = where.env
    return _secret_roots(
        str(where.home or ""), env.get("HF_HOME", ""), env.get("HF_TOKEN_PATH", "")
    )


@functools.lru_cache(maxsize=16)
def _secret_roots(home: str, hf_home: str, token_path: str) -> tuple[Path, ...]:
    roots: list[Path] = [Path(p) for p in SYSTEM_SECRETS]
    if home:
        roots += [Path(home) / rel for rel in SECRET_HOME_PATHS]
    if hf_home:
        roots += [Path(hf_home) / "token", Path(hf_home) / "stored_tokens"]
    if token_path:
        roots.append(Path(token_path))
    return tuple(real(root) for root in roots)


def secret_reason(path: Path, where: Where, *, recursive: bool = False) -> str | None:
    """Why printing ``path`` (or, ``recursive``, anything under it) would leak a secret."""
    target = real(path)
    proc = _proc_reason(target, recursive)
    if proc is not None:
        return proc
    device = _device_reason(target, recursive)
    if device is not None:
        return device
    for root in secret_roots(where):
        if inside(target, root) or (recursive and inside(root, target)):
            return f"reads {path}, which holds credentials"
    return None


def _proc_reason(target: Path, recursive: bool) -> str | None:
    proc = Path("/proc")
    if recursive and proc.is_relative_to(target):
        return f"reads everything under {target}, including other processes' environments"
    if not target.is_relative_to(proc) or target == proc:
        return None
    first = target.relative_to(proc).parts[0]
    if first in PROC_READABLE and not _PID_DIR.match(first):
        return None
    return f"reads {target}, another process's environment or memory"


def _device_reason(target: Path, recursive: bool) -> str | None:
    dev = Path("/dev")
    if recursive and dev.is_relative_to(target):
        return f"reads everything under {target}, including raw disks"
    if not target.is_relative_to(dev) or str(target) in _READABLE_DEVICES:
        return None
    if target.is_relative_to("/dev/fd") or target.is_relative_to("/dev/shm"):
        return None
    return f"reads the device {target} (raw disk or memory contents)"


def temp_roots() -> list[Path]:
    """Scratch directories: writing a file there is not "outside the project"."""
    roots = {Path("/tmp"), Path("/var/tmp"), Path("/dev/shm"), Path(tempfile.gettempdir())}
    return [real(root) for root in roots]
