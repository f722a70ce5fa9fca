"""Protected paths: writes there always ask, in every mode, even inside the project.

They are the places where one quiet write turns into code execution or a loosened
safety setting later: git's hooks and config (run by ``git status``/``git log``), the
project's own ``.ml-intern/`` config, shell start-up files, SSH keys, credential files,
what runs code later outside any sandbox (Python's user site, ``~/.local/bin`` on PATH,
pip's index, editor configs, ``/etc/profile.d``, cron), and this app's user config and
data (where trust decisions and remembered approvals live). The bash sandbox keeps the in-project ones read-only (``sandbox_readonly``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from ml_intern_tui import paths

PROTECTED_DIR_NAMES: tuple[str, ...] = (".git", paths.PROJECT_DIR_NAME)
"""Directory names protected wherever they appear (nested repositories too)."""

SANDBOX_READONLY: tuple[str, ...] = (".git/hooks", ".git/config", paths.PROJECT_DIR_NAME)
"""Paths inside the project the OS sandbox binds read-only (git itself may still write
its index and objects; a hook or config written there would run later, outside it)."""

HOME_PROTECTED: tuple[str, ...] = (
    ".ssh",
    ".bashrc",
    ".bash_profile",
    ".bash_login",
    ".bash_logout",
    ".bash_aliases",  # sourced by the default .bashrc of Debian and Ubuntu
    ".profile",
    ".zshrc",
    ".zshenv",
    ".zprofile",
    ".zlogin",
    ".config/fish",
    ".inputrc",
    ".gitconfig",
    ".config/git",
    ".netrc",
    ".pypirc",
    ".aws",
    ".docker/config.json",
    ".kube",
    ".cache/huggingface/token",
    ".cache/huggingface/stored_tokens",
)
"""Start-up files and credential stores under the home directory."""

HOME_RUNS_LATER: tuple[str, ...] = (
    ".zlogout",
    ".kshrc",
    ".cshrc",
    ".tcshrc",
    ".xonshrc",
    ".xprofile",
    ".xsessionrc",
    ".pam_environment",
    ".config/environment.d",
    ".config/autostart",
    ".config/systemd",
    ".local/bin",  # on PATH: a planted ``git`` or ``python`` runs instead of the real one
    ".local/lib",  # the user site: ``usercustomize.py`` and ``.pth`` files run in every Python
    ".local/share/jupyter",
    ".ipython",
    ".jupyter",
    ".config/pip",
    ".pip",
    ".pydistutils.cfg",
    ".condarc",
    ".config/uv",
    ".npmrc",
    ".curlrc",
    ".wgetrc",
    ".hgrc",
    ".tmux.conf",
    ".config/tmux",
    ".vimrc",
    ".vim",
    ".config/nvim",
    ".emacs",
    ".emacs.d",
    ".Rprofile",
    ".config/direnv",
)
"""Files under the home directory that run code later, outside any sandbox: what a shell,
the desktop or a tool runs at start (Python's user site, programs on PATH, pip's and
uv's package index, editor and multiplexer configs)."""

SYSTEM_RUNS_LATER: tuple[str, ...] = (
    "/etc/profile",
    "/etc/profile.d",
    "/etc/bash.bashrc",
    "/etc/bashrc",
    "/etc/zsh",
    "/etc/environment",
    "/etc/ld.so.preload",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/crontab",
    "/etc/cron.d",
    "/etc/cron.hourly",
    "/etc/cron.daily",
    "/etc/systemd",
    "/etc/sudoers",
    "/etc/sudoers.d",
    "/etc/ssh",
    "/etc/pip.conf",
    "/etc/apt/sources.list",
    "/etc/apt/sources.list.d",
    "/var/spool/cron",
)
"""Machine-wide files that run code for every user later (ML boxes often run as root)."""


def protected_roots(env: Mapping[str, str] | None = None, home: Path | None = None) -> list[Path]:
    """Absolute protected files and directories outside any project.

    The user config is protected as a file when ``$ML_INTERN_CONFIG`` names it (its
    directory may be a project, whose other files are ordinary work); the default
    config and data directories are protected whole (trust decisions, remembered
    approvals, themes, journals).
    """
    base = home if home is not None else Path.home()
    roots = [base / rel for rel in (*HOME_PROTECTED, *HOME_RUNS_LATER)]
    roots += [paths.config_dir(env), paths.data_dir(env), paths.user_config_path(env)]
    roots.append(paths.cache_dir(env))  # the price lists a budget relies on
    roots += [Path(p) for p in SYSTEM_RUNS_LATER]
    return [_resolved(p) for p in roots]


def protected_reason(
    path: Path,
    *,
    project: Path,
    env: Mapping[str, str] | None = None,
    home: Path | None = None,
    extra: Iterable[Path] = (),
) -> str | None:
    """Why writing ``path`` must always ask, or ``None`` when it is not protected.

    ``path`` is resolved here (symlinks followed, ``..`` and ``~`` applied), so a link
    inside the project that points at ``.git/config`` or ``~/.bashrc`` is caught too.
    Names are compared case-insensitively: on macOS and Windows ``.GIT/config`` is
    ``.git/config`` (on Linux the extra caution only costs a question).
    """
    try:
        target = _resolved(path)
    except (ValueError, OSError) as exc:  # a NUL byte: no file has that name; ask anyway
        return f"{path!r} cannot be resolved ({exc})"
    project = _resolved(project)
    if _within(target, project):
        for part in target.parts[len(project.parts) :]:
            if part.casefold() in _DIR_NAMES:
                return f"{target} is under {part}/, which runs or configures tools later"
    for root in [*protected_roots(env, home), *(_resolved(p) for p in extra)]:
        if _within(target, root):
            return f"{target} is a protected start-up, credential or app-settings path"
    # The project's own directories named .git/.ml-intern are caught above; a path
    # outside the project inside some other repository's .git is protected as well.
    if any(part.casefold() in _DIR_NAMES for part in target.parts):
        return f"{target} is inside a .git or {paths.PROJECT_DIR_NAME} directory"
    return None


def protected_below(directory: Path, env: Mapping[str, str] | None = None) -> Path | None:
    """A protected root (``~/.ssh``, the app's data…) inside ``directory``, if any.

    For tools that read a whole folder and send it away (an upload of ``~``).
    """
    folder = _resolved(directory)
    for root in protected_roots(env):
        if _within(root, folder):
            return root
    return None


def sandbox_readonly(project: Path) -> list[Path]:
    """In-project paths the sandbox binds read-only (only those that exist)."""
    return [project / rel for rel in SANDBOX_READONLY if (project / rel).exists()]


_DIR_NAMES = frozenset(name.casefold() for name in PROTECTED_DIR_NAMES)


def _within(path: Path, root: Path) -> bool:
    """``path`` is ``root`` or below it, compared without regard to case."""
    folded, base = path.as_posix().casefold(), root.as_posix().casefold()
    return folded == base or folded.startswith(base.rstrip("/") + "/")


def _resolved(path: Path) -> Path:
    return Path(os.path.realpath(os.path.expanduser(path)))
