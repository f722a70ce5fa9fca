"""Git traps a sandboxed command left behind: found after it ends, and disarmed.

The sandbox keeps the control files of the repositories that exist when a command starts
read-only (``sandbox_mounts``), but a command can still create new ones inside the
project: ``git init`` in a project that had no repository, a nested clone, a submodule
registered in the index, a ``commondir`` file, hooks in a new repository. Any of them
makes the user's next ``git status`` -- run later, in their own terminal, outside any
sandbox -- start a program the command chose.

So the bash tool takes a ``Snapshot`` of those files before a sandboxed command and,
when it ends (foreground or background), ``disarm`` looks at what is new (what existed
was read-only inside, so any change to it came from outside, from the user): a
config that sets a key which runs a program (the same judgement the shell analysis
uses), or includes another file; a ``commondir`` that points away from its repository;
an executable hook. Each trap is made harmless where it is -- the file renamed to
``<name>.disarmed`` (nothing is deleted), a hook made non-executable -- and reported.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from ml_intern_tui.safety.git_dirs import HOOK_NAMES, config_includes, guarded_git_dirs
from ml_intern_tui.safety.git_probe import GitProbe
from ml_intern_tui.safety.shell_git import config_key_risk

DISARMED_SUFFIX = ".disarmed"

Signature = tuple[int, int, int, int]
"""(inode, size, mtime in ns, mode) of a file."""


@dataclass(frozen=True)
class Trap:
    """A file a command left that would make git run a program."""

    path: Path
    reason: str
    action: str = ""
    """What was done about it (``renamed to …``), or why nothing could be."""

    def describe(self) -> str:
        return f"{self.path}: {self.reason}" + (f" ({self.action})" if self.action else "")


@dataclass
class Snapshot:
    """The git control files of some directory trees at one moment."""

    roots: tuple[Path, ...]
    files: dict[Path, Signature] = field(default_factory=dict)

    @classmethod
    def take(cls, roots: list[Path]) -> Snapshot:
        snapshot = cls(tuple(Path(os.path.realpath(root)) for root in roots))
        for root in snapshot.roots:
            if root == Path("/"):
                continue
            for git_dir in guarded_git_dirs(root):
                if git_dir.path.is_dir():
                    snapshot._add_git_dir(git_dir.path)
        return snapshot

    def _add_git_dir(self, git_dir: Path) -> None:
        for name in ("config", "config.worktree", "commondir"):
            self._add(git_dir / name)
        for config in (git_dir / "config", git_dir / "config.worktree"):
            for included in config_includes(config):
                if any(included.is_relative_to(root) for root in self.roots):
                    self._add(included)  # judged as a config when it changes
        try:
            hooks = list(os.scandir(git_dir / "hooks"))
        except OSError:
            return
        for entry in hooks:
            if entry.name in HOOK_NAMES:
                self._add(Path(entry.path))

    def _add(self, path: Path) -> None:
        try:
            info = path.lstat()
        except OSError:
            return
        self.files[path] = (info.st_ino, info.st_size, info.st_mtime_ns, info.st_mode)


def disarm(before: Snapshot, env: dict[str, str] | None = None) -> list[Trap]:
    """The traps created since ``before`` was taken, each made harmless."""
    after = Snapshot.take(list(before.roots))
    probe = GitProbe(dict(os.environ if env is None else env), untrusted=before.roots)
    traps: list[Trap] = []
    for path in after.files:
        if path in before.files:
            # It existed when the command started, so the sandbox kept it read-only: a
            # change came from outside (the user editing their config meanwhile).
            continue
        reason = _judge(path, probe)
        if reason is not None:
            traps.append(_make_harmless(path, reason))
    return traps


def _judge(path: Path, probe: GitProbe) -> str | None:
    """Why the new or changed ``path`` makes git run a program, or ``None``."""
    if path.parent.name == "hooks":
        mode = path.lstat().st_mode
        if stat.S_ISLNK(mode) or mode & 0o111:
            return f"a {path.name} hook that git runs"
        return None
    if path.name == "commondir":
        return _commondir_problem(path)
    if not path.is_file() or path.is_symlink():
        return "a git config that is not a regular file"
    listing = probe.run(
        ["config", "--file", str(path), "--no-includes", "--list", "-z"], path.parent
    )
    if isinstance(listing, str):
        return f"a git config git cannot read ({listing})"
    for item in (listing or b"").decode("utf-8", "surrogateescape").split("\0"):
        key, _, value = item.partition("\n")
        lowered = key.lower()
        if lowered.startswith(("include.", "includeif.")):
            return f"git config {key} = {value!r} pulls in settings from another file"
        risk = config_key_risk(key, value)
        if risk is not None:
            return f"git config {key} = {value!r} {risk}"
    return None


def _commondir_problem(path: Path) -> str | None:
    """A linked worktree's ``commondir`` points back at its main git directory; any other
    makes git load another directory's config and hooks."""
    git_dir = path.parent
    main = git_dir.parent.parent
    if git_dir.parent.name == "worktrees":
        text = path.read_text(errors="replace").strip() if path.is_file() else ""
        target = Path(os.path.realpath(git_dir / text)) if text else None
        if target == Path(os.path.realpath(main)):
            return None
    return "a commondir that makes git load another directory's config and hooks"


def _make_harmless(path: Path, reason: str) -> Trap:
    try:
        if path.parent.name == "hooks" and not path.is_symlink():
            # Through a descriptor opened without following links: a link swapped in
            # meanwhile must not make us change the mode of what it points to.
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
            try:
                os.fchmod(fd, os.fstat(fd).st_mode & 0o7666)
            finally:
                os.close(fd)
            return Trap(path, reason, "made non-executable")
        target = path.with_name(path.name + DISARMED_SUFFIX)
        os.replace(path, target)
        return Trap(path, reason, f"renamed to {target.name}")
    except OSError as exc:
        return Trap(path, reason, f"could not be disarmed: {exc.strerror or exc}")


def report(traps: list[Trap]) -> str:
    """The lines the model and the user read about disarmed traps."""
    if not traps:
        return ""
    lines = [
        "[the command left git settings that would run a program when git is used here "
        "(outside the sandbox); they were disarmed:"
    ]
    lines += [f"  - {trap.describe()}" for trap in traps]
    lines.append("  ask the user if such a setting is really wanted]")
    return "\n".join(lines)
