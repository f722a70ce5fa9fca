"""The OS sandbox shell commands run in: bubblewrap on Linux, detected once per process.

A sandboxed command sees the whole file system read-only except the project, a private
per-session ``/tmp`` and the configured writable paths; credential stores are hidden; it
runs in its own PID namespace (it cannot read this app's ``/proc/<pid>/environ``), its
own session (no ``TIOCSTI`` into the user's terminal), with every capability dropped, and
with no network unless the call was granted it (``sandbox_mounts`` lists the mounts).

``Sandbox`` is the service ``runtime/agent.py`` puts in ``ctx.services.sandbox``: the
settings, whether bubblewrap works here (``active`` / ``problem``), where a call runs
(``placement``) and the command line that runs it there (``wrapper``). ``active`` probes
on first use; the app probes from a background task at start (``SandboxAnnouncer``),
so the first frame never waits for it.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ml_intern_tui.core.protocol import EventBase, Notice, SandboxStatus
from ml_intern_tui.core.tool import ApprovalKind
from ml_intern_tui.safety.program_path import command_shell, trusted_which
from ml_intern_tui.safety.sandbox_kernel import (
    SCOPED_ABI,
    keyring_filter,
    landlock_abi,
    landlock_helper,
    scope_preexec,
    seccomp_fd,
)
from ml_intern_tui.safety.sandbox_mounts import (
    DEFAULT_DOWNLOAD_CACHES,
    CacheName,
    MountPlan,
    bwrap_args,
    sandbox_env,
)

if TYPE_CHECKING:
    from ml_intern_tui.config.schema import SandboxConfig

SandboxMode = Literal["auto", "off"]
NetworkPolicy = Literal["ask", "allow", "deny"]

SHELL = command_shell()
"""The shell commands run under, inside the sandbox or not: bash (see ``command_shell``)."""
INSTALL_HINT = "bubblewrap is not installed: `sudo apt-get install bubblewrap`"
PROBE_TIMEOUT_S = 10.0
ISOLATION: tuple[str, ...] = (
    "--unshare-pid",
    "--unshare-ipc",
    "--die-with-parent",
    "--new-session",
    "--cap-drop",
    "ALL",  # as root the command would otherwise keep every capability (and could remount /)
)
"""bubblewrap options every sandboxed command gets, whatever it may write or reach."""

_SESSION_NAME_RE = re.compile(r"[^A-Za-z0-9_.-]")


@dataclass(frozen=True)
class Detection:
    """Whether bubblewrap can run here: its path, or the one-line problem."""

    bwrap: str | None
    problem: str | None
    seccomp: bool = False
    """bubblewrap loads our seccomp filter here (the keyring calls are refused)."""


_probe_lock = threading.Lock()
_probes: dict[str, tuple[str | None, bool]] = {}


def detect(path: str | None = None) -> Detection:
    """Find ``bwrap`` on ``path`` (default ``$PATH``) and check a sandbox really starts.

    The probe runs once per bubblewrap binary per process: user namespaces may be
    disabled (containers, hardened kernels) even where the program is installed. Entries
    of ``path`` inside the working directory (the project) or relative are skipped: a
    ``bwrap`` planted there would be the sandbox itself.
    """
    if not sys.platform.startswith("linux"):
        return Detection(None, f"the OS sandbox needs Linux (bubblewrap); this is {sys.platform}")
    search = os.environ.get("PATH") if path is None else path
    found = trusted_which("bwrap", search, untrusted=(Path.cwd(),))
    if found is None:
        return Detection(None, INSTALL_HINT)
    bwrap = os.path.realpath(found)
    with _probe_lock:
        if bwrap not in _probes:
            # With the seccomp filter first; a kernel without seccomp filters still gets
            # the sandbox, only the keyring stays reachable (summary() says so).
            problem = _probe(bwrap, keyring_filter())
            _probes[bwrap] = (None, True) if problem is None else (_probe(bwrap, b""), False)
        problem, seccomp = _probes[bwrap]
        return Detection(bwrap, problem, seccomp=seccomp)


def _probe(bwrap: str, seccomp: bytes) -> str | None:
    argv = [bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
    argv += ["--tmpfs", "/tmp", "--tmpfs", "/run", "--unshare-net", *ISOLATION]
    fds: tuple[int, ...] = (seccomp_fd(seccomp),) if seccomp else ()
    argv += [*(["--seccomp", str(fds[0])] if fds else []), "--", SHELL, "-c", ":"]
    try:
        done = subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=PROBE_TIMEOUT_S,
            check=False,
            pass_fds=fds,
        )
    except subprocess.TimeoutExpired:
        return f"bubblewrap cannot start here: no answer within {PROBE_TIMEOUT_S:g}s"
    except OSError as exc:
        return f"bubblewrap cannot start here: {exc.strerror or exc}"
    finally:
        for fd in fds:
            os.close(fd)
    if done.returncode == 0:
        return None
    lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
    why = _printable(lines[0] if lines else f"exit status {done.returncode}")
    return f"bubblewrap cannot start here: {why}"


def _setuid(program: str) -> bool:
    try:
        return bool(os.stat(program).st_mode & stat.S_ISUID)
    except OSError:
        return False


def _printable(text: str, limit: int = 200) -> str:
    clean = "".join(ch if ch.isprintable() else "?" for ch in text.strip())
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"


@dataclass(frozen=True)
class Placement:
    """Where one shell command runs, what it may reach, and what consent that needs."""

    sandboxed: bool
    network: bool
    kind: ApprovalKind = "local"
    """The approval kind when the command is not read-only (or asks to leave the sandbox)."""
    operation: str = "run"
    """What a remembered rule is for: ``run`` (contained), ``run_network``, ``run_unsandboxed``."""
    reason: str = ""
    """One line: why it needs a person beyond an ordinary command."""
    label: str = ""
    """How it ran, for the approval and the result (empty when the sandbox is off)."""
    asks: bool = False
    """True when it needs approval even for a read-only command (network, outside)."""
    refused: str | None = None
    """Set when the call must not run at all: the one line the model gets."""


class Sandbox:
    """The sandbox service: its settings, whether it works here, how a command runs in it."""

    def __init__(
        self,
        *,
        mode: SandboxMode = "auto",
        network: NetworkPolicy = "ask",
        writable_paths: Sequence[Path] = (),
        download_caches: Sequence[CacheName] = DEFAULT_DOWNLOAD_CACHES,
        path: str | None = None,
        tmp_root: Path | None = None,
        env: Mapping[str, str] | None = None,
        detection: Detection | None = None,
    ) -> None:
        """``path`` is searched for ``bwrap`` (default ``$PATH``); ``detection`` skips the
        search and the probe (embedders that know, tests of the policy)."""
        self.mode: SandboxMode = mode
        self.network: NetworkPolicy = network
        self.writable_paths = [Path(p).expanduser() for p in writable_paths]
        self.download_caches: tuple[CacheName, ...] = tuple(download_caches)
        self._path = path
        self._env = env
        self._detection = detection
        self._probed = False
        """The detection came from a real probe here (not given by an embedder)."""
        self._lock = threading.Lock()
        self._tmp_parent = tmp_root
        self._tmp_root: Path | None = None

    @classmethod
    def from_config(cls, cfg: SandboxConfig, **kwargs: Any) -> Sandbox:
        return cls(
            mode=cfg.mode,
            network=cfg.network,
            writable_paths=cfg.writable_paths,
            download_caches=cfg.download_caches,
            **kwargs,
        )

    # ------------------------------------------------------------------ state

    def detect(self) -> Detection:
        """Probe once (blocking, ~10 ms; call from a thread when on an event loop)."""
        with self._lock:
            if self._detection is None:
                self._detection = (
                    Detection(None, None) if self.mode == "off" else detect(self._path)
                )
                self._probed = self.mode != "off"
            return self._detection

    @property
    def problem(self) -> str | None:
        """Why the sandbox cannot run here (``None`` when it can, or when it is off)."""
        return None if self.mode == "off" else self.detect().problem

    @property
    def active(self) -> bool:
        """Shell commands run sandboxed: mode ``auto`` and bubblewrap works here."""
        return self.mode == "auto" and self.detect().problem is None

    def summary(self) -> str:
        """One line for ``/status``."""
        if self.mode == "off":
            return 'off ([sandbox] mode = "off"): shell commands run unconfined'
        if not self.active:
            return f"unavailable: {self.problem}; auto mode asks before non-read-only commands"
        extra = len(self.writable_paths)
        writes = "the project and a private /tmp" + (
            f" (+{extra} writable path{'s' if extra != 1 else ''})" if extra else ""
        )
        network = {
            "ask": "network only when approved",
            "allow": "network allowed",
            "deny": "no network",
        }[self.network]
        gaps = []
        if self._probed and not self.detect().seccomp:  # (a given detection says nothing)
            gaps.append("the kernel keyring stays reachable (bubblewrap could not load seccomp)")
        if self.network != "deny" and landlock_abi() < SCOPED_ABI:
            gaps.append(
                "with the network, the host's abstract sockets stay reachable "
                "(this kernel has no Landlock scoping, Linux 6.12+)"
            )
        return f"bubblewrap: writes to {writes}; {network}" + "".join(f"; {g}" for g in gaps)

    def notice(self) -> str | None:
        """The warning said once at start when auto mode has no sandbox, else ``None``."""
        if self.mode == "off" or self.active:
            return None
        return (
            f"No OS sandbox: {self.problem}. Shell commands run unconfined, so auto mode "
            "asks before any command that is not read-only."
        )

    # ------------------------------------------------------------------ policy

    def placement(self, *, network: bool = False, outside: bool = False) -> Placement:
        """Where a command with these requests runs, and the consent that takes."""
        if self.mode == "off":
            return Placement(sandboxed=False, network=True)
        if not self.active:
            return Placement(
                sandboxed=False,
                network=True,
                kind="unsandboxed",
                operation="run_unsandboxed",
                reason=f"no OS sandbox here: {self.problem}",
                label="OUTSIDE the sandbox (none on this machine)",
            )
        if network and self.network == "deny":
            return Placement(
                sandboxed=True,
                network=False,
                refused=(
                    'refused: the network is off for shell commands ([sandbox] network = "deny" '
                    "in the user's config); work without it, or ask the user to change that"
                ),
            )
        if outside:
            return Placement(
                sandboxed=False,
                network=True,
                kind="unsandboxed",
                operation="run_unsandboxed",
                reason="runs outside the sandbox: it may write anywhere and use the network",
                label="OUTSIDE the sandbox",
                asks=True,
            )
        granted = self.network == "allow" or network
        label = "in the sandbox · " + ("network on" if granted else "no network")
        if network and self.network == "ask":
            return Placement(
                sandboxed=True,
                network=True,
                kind="unsandboxed",
                operation="run_network",
                reason="needs the network",
                label=label,
                asks=True,
            )
        return Placement(sandboxed=True, network=granted, label=label)

    # ------------------------------------------------------------------ running

    def wrapper(self, *, project: Path, cwd: Path, session_id: str, network: bool) -> list[str]:
        """The argv that runs a program in the sandbox (append the program and its args)."""
        bwrap = self.detect().bwrap
        if bwrap is None:
            raise RuntimeError(f"the sandbox is not available: {self.problem}")
        plan = MountPlan(
            project=project,
            cwd=cwd,
            tmp_dir=self.tmp_dir(session_id),
            network=network,
            writable_paths=self.writable_paths,
            download_caches=self.download_caches,
            env=self._environ(),
        )
        isolation = list(ISOLATION) + ([] if network else ["--unshare-net"])
        # Sharing the host's network namespace shares its abstract Unix sockets too:
        # scoped by Landlock, from inside when bubblewrap is set-uid (see preexec).
        helper = landlock_helper() if network and _setuid(bwrap) else []
        return [bwrap, *isolation, *bwrap_args(plan), "--", *helper]

    def preexec(self, *, network: bool) -> Callable[[], None] | None:
        """What the forked child does before bubblewrap starts: the Landlock scope on
        abstract sockets, for a command that shares the host's network namespace."""
        bwrap = self.detect().bwrap
        if not network or bwrap is None or _setuid(bwrap):
            return None
        return scope_preexec()

    def seccomp_program(self) -> bytes:
        """The seccomp filter sandboxed commands get (empty where bubblewrap cannot
        load one)."""
        return keyring_filter() if self.detect().seccomp else b""

    def environment(self) -> dict[str, str]:
        """Variables a sandboxed command gets changed (``TMPDIR`` is its private ``/tmp``)."""
        return sandbox_env(self._environ(), self.download_caches)

    def tmp_dir(self, session_id: str) -> Path:
        """The session's private tmp on the host (``/tmp`` inside), created on first use."""
        with self._lock:
            if self._tmp_root is None:
                parent = self._tmp_parent
                if parent is not None:
                    parent.mkdir(parents=True, exist_ok=True)
                self._tmp_root = Path(tempfile.mkdtemp(prefix="ml-intern-sandbox-", dir=parent))
        name = _SESSION_NAME_RE.sub("_", session_id) or "session"
        path = self._tmp_root / name
        path.mkdir(mode=0o700, exist_ok=True)
        return path

    def cleanup(self) -> None:
        """Remove the private tmp directories (at exit; their commands are gone)."""
        with self._lock:
            root, self._tmp_root = self._tmp_root, None
        if root is not None:
            shutil.rmtree(root, ignore_errors=True)

    def _environ(self) -> Mapping[str, str]:
        return os.environ if self._env is None else self._env


class SandboxAnnouncer:
    """Probes the sandbox off the event loop at start and says once how commands run.

    Publishes a ``sandbox_status`` (``/status`` shows it) and, when auto mode has no
    sandbox, one warning notice. A background service of the app (see ``runtime/agent.py``).
    """

    name = "sandbox"

    def __init__(self, sandbox: Sandbox, publish: Callable[[EventBase], None]) -> None:
        self.sandbox = sandbox
        self.publish = publish

    async def run(self) -> None:
        sandbox = self.sandbox
        detection = await asyncio.to_thread(sandbox.detect)
        self.publish(
            SandboxStatus(
                mode=sandbox.mode,
                network=sandbox.network,
                active=sandbox.active,
                problem=detection.problem,
                summary=sandbox.summary(),
            )
        )
        text = sandbox.notice()
        if text is not None:
            self.publish(Notice(level="warning", text=text))

    async def aclose(self) -> None:
        await asyncio.to_thread(self.sandbox.cleanup)
