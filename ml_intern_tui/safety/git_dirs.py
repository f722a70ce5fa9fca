"""The git directories inside a directory tree, and the files in them that decide what git
runs: found within a bound, without following links out of the tree.

A sandboxed command may write the project, and git's configuration lives there too: one
write of a ``config``, ``commondir`` or hook turns the user's next ``git status`` (run
later, outside any sandbox) into code execution. ``sandbox_mounts`` keeps the control
files of the repositories found here read-only and pins each git directory in place;
``git_arming`` notices what a command created that the mounts could not cover (a new
repository, submodule or nested clone).

Found: every ``.git`` directory (and the directory a ``.git`` file points to, when it is
inside the tree) down to ``MAX_DEPTH`` levels, and below each the git directories of its
submodules (``modules/…``) and linked worktrees (``worktrees/*``).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from ml_intern_tui.safety.git_probe import GitProbe, read_regular

MAX_DEPTH = 4
"""Levels below the tree's root searched for nested repositories."""
MAX_ENTRIES = 20_000
"""Directory entries looked at per tree (a dataset of a million files is not walked)."""
MAX_GIT_DIRS = 64
"""Git directories returned per tree (submodules included)."""
SKIPPED_DIRS = frozenset(
    {
        "node_modules", ".venv", "venv", "__pycache__", ".mypy_cache", ".ruff_cache",
        ".pytest_cache", ".tox", ".nox", "site-packages", ".cache", ".ipynb_checkpoints",
    }
)  # fmt: skip
"""Directories that hold tools' files, never a repository the user works in."""
CONTROL_FILES: tuple[str, ...] = ("config", "config.worktree", "commondir")
"""Files of a git directory that choose the configuration git loads."""
HOOK_NAMES = frozenset(
    {
        "applypatch-msg", "pre-applypatch", "post-applypatch", "pre-commit",
        "pre-merge-commit", "prepare-commit-msg", "commit-msg", "post-commit", "pre-rebase",
        "post-checkout", "post-merge", "pre-push", "pre-receive", "update", "proc-receive",
        "post-receive", "post-update", "reference-transaction", "push-to-checkout",
        "pre-auto-gc", "post-rewrite", "sendemail-validate", "fsmonitor-watchman",
        "p4-changelist", "p4-prepare-changelist", "p4-post-changelist", "p4-pre-submit",
        "post-index-change",
    }
)  # fmt: skip
"""Names git runs from a hooks directory (``*.sample`` files are never run)."""


@dataclass(frozen=True)
class GitDir:
    """One git directory (the ``.git`` of a repository, a submodule's, a worktree's)."""

    path: Path
    """The git directory itself (resolved)."""
    pointer: Path | None = None
    """The ``.git`` file that points here, when the repository uses one."""


def guarded_git_dirs(root: Path, probe: GitProbe | None = None) -> list[GitDir]:
    """The git directories the sandbox guards in ``root`` and ``git_arming`` watches:
    ``find_git_dirs``, plus the submodules each repository's index registers (a gitlink
    at any depth makes the user's ``git status`` run git there, with its config)."""
    found, _ = find_git_dirs(root)
    probe = probe or GitProbe(os.environ, untrusted=(root,))
    known = {git_dir.path for git_dir in found}
    for git_dir in list(found):
        if len(found) >= MAX_GIT_DIRS:
            break
        if git_dir.path.name != ".git" or not git_dir.path.is_dir():
            continue
        for linked in gitlink_git_dirs(git_dir.path, probe):
            if linked.path not in known and linked.path.is_relative_to(root):
                known.add(linked.path)
                found.append(linked)
    return found[:MAX_GIT_DIRS]


_GITLINK_MODE = b"\x00\x00\xe0\x00"  # mode 160000 as the index stores it


def gitlink_git_dirs(git_dir: Path, probe: GitProbe) -> list[GitDir]:
    """The git directories of the submodules ``git_dir``'s index registers (only asks
    git when the index holds a gitlink at all)."""
    index = read_regular(git_dir / "index", 64 << 20)
    if index is None or _GITLINK_MODE not in index:
        return []
    worktree = git_dir.parent
    listing = probe.run(["ls-files", "--stage", "-z", "--full-name"], worktree)
    if not isinstance(listing, bytes):
        return []
    out: list[GitDir] = []
    for entry in listing.decode("utf-8", "surrogateescape").split("\0"):
        meta, _, name = entry.partition("\t")
        if not meta.startswith("160000 ") or not name:
            continue
        dot_git = worktree / name / ".git"
        if dot_git.is_dir() and not dot_git.is_symlink():
            out.append(GitDir(Path(os.path.realpath(dot_git))))
        elif dot_git.is_file():
            target = gitfile_target(dot_git)
            if target is not None and target.is_dir():
                out.append(GitDir(target, pointer=dot_git))
        if len(out) >= MAX_GIT_DIRS:
            break
    return out


def find_git_dirs(root: Path) -> tuple[list[GitDir], bool]:
    """The git directories inside ``root`` and whether the search stopped at a bound."""
    root = Path(os.path.realpath(root))
    found: dict[Path, GitDir] = {}
    seen = 0
    level: list[Path] = [root]
    for depth in range(MAX_DEPTH + 1):
        below: list[Path] = []
        for directory in level:
            try:
                entries = list(os.scandir(directory))
            except OSError:
                continue
            seen += len(entries)
            if seen > MAX_ENTRIES:
                dirs, _ = _with_children(found, root)
                return dirs, True
            for entry in entries:
                if entry.name == ".git":
                    _add_dot_git(Path(entry.path), root, found)
                elif (
                    depth < MAX_DEPTH
                    and entry.name not in SKIPPED_DIRS
                    and entry.is_dir(follow_symlinks=False)
                ):
                    below.append(Path(entry.path))
        level = below
    return _with_children(found, root)


def _add_dot_git(dot_git: Path, root: Path, found: dict[Path, GitDir]) -> None:
    if dot_git.is_dir():  # a link to a directory counts: git follows it
        target = Path(os.path.realpath(dot_git))
        if target.is_relative_to(root):
            found.setdefault(target, GitDir(target))
        return
    target_dir = gitfile_target(dot_git)
    if target_dir is not None and target_dir.is_relative_to(root) and target_dir.is_dir():
        found[target_dir] = GitDir(target_dir, pointer=dot_git)
    else:
        found.setdefault(dot_git, GitDir(dot_git, pointer=dot_git))  # a pointer outside


def gitfile_target(dot_git: Path) -> Path | None:
    """Where a ``.git`` file (``gitdir: …``) points, resolved; ``None`` when it does not."""
    data = read_regular(dot_git, 4096)
    if data is None:
        return None
    text = data.decode("utf-8", "replace").strip()
    if not text.startswith("gitdir:"):
        return None
    return Path(os.path.realpath(dot_git.parent / text[len("gitdir:") :].strip()))


def _with_children(found: dict[Path, GitDir], root: Path) -> tuple[list[GitDir], bool]:
    """Add the submodule and worktree git directories below each one found."""
    out: dict[Path, GitDir] = dict(found)
    budget = [MAX_ENTRIES]
    for git_dir in list(found.values()):
        if not git_dir.path.is_dir():
            continue
        for child in _children(git_dir.path, budget):
            out.setdefault(child, GitDir(child))
    result = list(out.values())
    return result[:MAX_GIT_DIRS], len(result) > MAX_GIT_DIRS or budget[0] <= 0


def _children(git_dir: Path, budget: list[int]) -> list[Path]:
    """Git directories under ``modules/`` (nested too) and ``worktrees/``."""
    children: list[Path] = []
    stack = [git_dir / "modules", git_dir / "worktrees"]
    while stack and budget[0] > 0:
        directory = stack.pop()
        try:
            entries = [e for e in os.scandir(directory) if e.is_dir(follow_symlinks=False)]
        except OSError:
            continue
        budget[0] -= len(entries)
        for entry in entries:
            path = Path(entry.path)
            if (path / "HEAD").exists() or (path / "config").exists():
                children.append(path)
                stack.append(path / "modules")
            elif entry.name not in ("objects", "refs", "logs", "hooks", "info"):
                stack.append(path)  # a submodule named a/b lives in modules/a/b
    return children


def control_paths(git_dir: Path) -> list[Path]:
    """The files (and the hooks directory) of ``git_dir`` that decide what git runs, and
    the files its config includes (``include.path``, ``includeIf.*.path``), which git
    reads as if they were part of it: a project may include a tracked ``.gitconfig``."""
    paths = [git_dir / name for name in CONTROL_FILES] + [git_dir / "hooks"]
    for config in (git_dir / "config", git_dir / "config.worktree"):
        paths += config_includes(config)
    return paths


_SECTION_RE = re.compile(r'^\s*\[\s*([A-Za-z0-9.-]+)(?:\s+"[^"]*")?\s*\]\s*(.*)$')
_PATH_RE = re.compile(r"^\s*path\s*=\s*(.*?)\s*$", re.IGNORECASE)


def config_includes(config: Path, depth: int = 0) -> list[Path]:
    """The existing files a git config file includes (nested includes too, 3 deep)."""
    data = read_regular(config, 1 << 20)
    if data is None or depth > 2:
        return []
    found: list[Path] = []
    section = ""
    for line in data.decode("utf-8", "replace").splitlines():
        header = _SECTION_RE.match(line)
        if header:
            section, line = header.group(1).lower(), header.group(2)
        if section not in ("include", "includeif"):
            continue
        match = _PATH_RE.match(line.split("#", 1)[0].split(";", 1)[0])
        if not match or not match.group(1):
            continue
        value = match.group(1).strip('"')
        target = Path(os.path.expanduser(value))
        target = Path(os.path.realpath(config.parent / target))
        if target.is_file() and target not in found:
            found.append(target)
            found += config_includes(target, depth + 1)
    return found
