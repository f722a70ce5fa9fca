"""What a sandboxed command sees: the bubblewrap mounts, in the order they must apply.

The root file system is bound read-only; on top of it, later mounts win:

1. a fresh ``/dev`` (plus GPU and RDMA devices), a fresh ``/proc`` for the command's own
   PID namespace, a private ``/tmp`` per session, and an empty ``/run`` (the daemon
   sockets there -- Docker, systemd, D-Bus, databases -- would let a command act outside
   the sandbox; only the DNS resolver's directory is shown again);
2. the writable areas: the project, the configured ``writable_paths``, the sandbox's own
   caches (``private_cache_root``: pip, uv, torch and Hugging Face modules -- code that
   would run later outside the sandbox if a command could plant it in the user's own
   caches) and, for commands granted the network, the shared download caches the user
   listed (by default the Hugging Face hub and datasets: data, not code);
3. read-only again inside those areas: protected paths (``.git/hooks``, ``.git/config``,
   ``.ml-intern/``, shell start-up files when the project is the home directory), and in
   every git directory found in the project or a writable path (nested repositories,
   submodules, worktrees: ``git_dirs``) the files that decide what git runs --
   ``config``, ``config.worktree``, ``commondir``, ``hooks/``, a ``.git`` pointer file --
   with the git directory itself bound onto itself first, so that it cannot be renamed
   away and replaced by one with a hostile config;
4. hidden: credential stores (``~/.ssh``, ``~/.aws``, ``~/.netrc``, HF token files, this
   app's config with its Slack tokens, agent sockets), an empty directory or ``/dev/null``
   in their place, and every Unix socket the host has bound outside ``/run`` and ``/tmp``
   (``/proc/net/unix`` lists them): a socket on a read-only mount still connects, to a
   daemon that acts outside the sandbox.
"""

from __future__ import annotations

import contextlib
import glob
import os
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ml_intern_tui import paths
from ml_intern_tui.safety.credentials import SECRET_IN_HOME
from ml_intern_tui.safety.git_dirs import control_paths, guarded_git_dirs
from ml_intern_tui.safety.protected import protected_roots, sandbox_readonly

CacheName = Literal["huggingface", "pip", "uv", "torch"]
DEFAULT_DOWNLOAD_CACHES: tuple[CacheName, ...] = ("huggingface",)
"""Host caches a command granted the network shares with the user: the Hugging Face hub
and datasets (model weights, data). pip, uv and torch caches hold code (wheels, torch hub
repositories) that later runs outside the sandbox: sandboxed commands get their own."""
CACHE_VARIABLES: dict[CacheName, tuple[str, ...]] = {
    "huggingface": ("HF_HUB_CACHE", "HF_DATASETS_CACHE", "HF_XET_CACHE", "HF_ASSETS_CACHE"),
    "pip": ("PIP_CACHE_DIR",),
    "uv": ("UV_CACHE_DIR",),
    "torch": ("TORCH_HOME",),
}
"""The variables that move each cache (set inside the sandbox to its own copy when the
cache is not shared)."""
MAX_MASKED_SOCKETS = 512

HIDDEN_IN_HOME: tuple[str, ...] = SECRET_IN_HOME
"""Credential stores and shell histories under the home directory (``credentials``)."""

CREDENTIAL_FILE_VARS: tuple[str, ...] = (
    "GOOGLE_APPLICATION_CREDENTIALS",
    "AWS_SHARED_CREDENTIALS_FILE",
    "HF_TOKEN_PATH",
    "KUBECONFIG",
    "DOCKER_CONFIG",
    "NETRC",
    "PGPASSFILE",
    "CLOUDSDK_CONFIG",
    "KAGGLE_CONFIG_DIR",
    "SSH_AUTH_SOCK",
)
"""Variables naming a credential file, directory or agent socket (hidden where they point)."""

DAEMON_SOCKETS: tuple[str, ...] = (
    "/var/run/docker.sock",
    "/var/run/dbus",
    "/var/snap/lxd/common/lxd/unix.socket",
    "/var/lib/lxd/unix.socket",
)
"""Sockets outside ``/run`` that give their client power beyond the sandbox."""

DEVICE_GLOBS: tuple[str, ...] = (
    "/dev/nvidia*",
    "/dev/dri",
    "/dev/kfd",
    "/dev/infiniband",
    "/dev/accel",
    "/dev/neuron*",
)
"""Accelerator and RDMA devices a training run needs (the fresh ``/dev`` lacks them)."""

REPLACED_TREES: tuple[Path, ...] = (Path("/tmp"), Path("/run"), Path("/dev"), Path("/proc"))
"""Trees the sandbox replaces: the host's files there are not visible inside."""


def hf_home(env: Mapping[str, str]) -> Path:
    """``$HF_HOME`` as huggingface_hub resolves it."""
    if env.get("HF_HOME"):
        return _expand(env["HF_HOME"])
    return _cache_home(env) / "huggingface"


def download_cache_dirs(names: Iterable[CacheName], env: Mapping[str, str]) -> list[Path]:
    """The directories of the named caches (their own variables honoured).

    The Hugging Face cache is its data directories only: ``$HF_HOME`` itself also holds
    the token files, which stay hidden.
    """
    cache = _cache_home(env)
    home = hf_home(env)
    dirs: list[Path] = []
    for name in names:
        if name == "huggingface":
            # Not "modules": transformers puts it on sys.path and imports remote code
            # from it; the sandbox has its own (see ``sandbox_env``).
            dirs += [
                _env_path(env, ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"), home / "hub"),
                _env_path(env, ("HF_DATASETS_CACHE",), home / "datasets"),
                _env_path(env, ("HF_XET_CACHE",), home / "xet"),
                _env_path(env, ("HF_ASSETS_CACHE",), home / "assets"),
            ]
        elif name == "pip":
            dirs.append(_env_path(env, ("PIP_CACHE_DIR",), cache / "pip"))
        elif name == "uv":
            dirs.append(_env_path(env, ("UV_CACHE_DIR",), cache / "uv"))
        elif name == "torch":
            dirs.append(_env_path(env, ("TORCH_HOME",), cache / "torch"))
    return dirs


@dataclass
class MountPlan:
    """The inputs of one command's mounts (everything is resolved by ``bwrap_args``)."""

    project: Path
    cwd: Path
    tmp_dir: Path
    """The session's private tmp on the host, shown as ``/tmp`` inside."""
    network: bool
    writable_paths: list[Path] = field(default_factory=list)
    download_caches: tuple[CacheName, ...] = DEFAULT_DOWNLOAD_CACHES
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    home: Path = field(default_factory=Path.home)


def bwrap_args(plan: MountPlan) -> list[str]:
    """bubblewrap options (without the program) that set up ``plan``'s file system."""
    args = ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
    args += ["--bind", str(plan.tmp_dir), "/tmp", "--tmpfs", "/run"]
    args += _dns_args()
    runtime_dir = plan.env.get("XDG_RUNTIME_DIR", "")
    if runtime_dir.startswith("/run/"):
        args += ["--dir", runtime_dir]  # present but empty, as programs expect

    writable = [_real(plan.project)]
    writable += [_real(p) for p in plan.writable_paths if p.exists()]
    private = _private_cache(plan.env)
    if private is not None:
        writable.append(private)
    if plan.network:
        writable += [_real(p) for p in _existing_caches(plan.download_caches, plan.env)]
    # "/" as the project (the app started there) would bind the host's /proc and /dev
    # back over the fresh ones: such a command may write only its /tmp.
    writable = [path for path in _dedupe(writable) if path != Path("/")]
    for path in writable:
        args += ["--bind", str(path), str(path)]

    readonly: list[Path] = []
    for area in [_real(plan.project), *(_real(p) for p in plan.writable_paths if p.exists())]:
        pins, guarded = git_guard(area)
        for pin in pins:
            args += ["--bind", str(pin), str(pin)]
        readonly += guarded
    for area in writable:
        readonly += [_real(p) for p in sandbox_readonly(area)]
    roots = protected_roots(plan.env, plan.home)
    readonly += [r for r in roots if r.exists() and any(_under(r, w) for w in writable)]
    for path in _dedupe(readonly):
        args += ["--ro-bind", str(path), str(path)]

    hidden = hidden_paths(plan.env, plan.home)
    for path in hidden:
        if not _visible(path, writable) or any(_under(w, path) for w in writable):
            continue  # not shown inside anyway, or hiding it would hide the project
        if any(path != other and _under(path, other) and other.is_dir() for other in hidden):
            continue  # inside a directory hidden already
        if path.is_dir():
            args += ["--tmpfs", str(path), "--remount-ro", str(path)]
        else:
            args += ["--ro-bind", "/dev/null", str(path)]

    hidden_dirs = [path for path in hidden if path.is_dir()]
    for socket_path in host_sockets():
        if not _visible(socket_path, writable) or any(_under(socket_path, d) for d in hidden_dirs):
            continue  # not visible inside, or under a directory hidden already
        args += ["--ro-bind", "/dev/null", str(socket_path)]

    for device in _devices():
        args += ["--dev-bind", device, device]
    args += ["--chdir", str(plan.cwd)]
    return args


def host_sockets(table: Path = Path("/proc/net/unix")) -> list[Path]:
    """Unix sockets bound by the host's processes (its network namespace) at a path,
    that exist as sockets here (at most ``MAX_MASKED_SOCKETS``)."""
    try:
        lines = table.read_text(errors="surrogateescape").splitlines()[1:]
    except OSError:
        return []
    found: list[Path] = []
    for line in lines:
        fields = line.split(None, 7)
        if len(fields) < 8 or not fields[7].startswith("/"):
            continue  # unbound, or abstract ("@name": the network namespace hides those)
        path = Path(fields[7])
        try:
            if not stat.S_ISSOCK(path.lstat().st_mode):
                continue
        except OSError:
            continue
        found.append(path)
        if len(found) >= MAX_MASKED_SOCKETS:
            break
    return _dedupe(found)


def git_guard(area: Path) -> tuple[list[Path], list[Path]]:
    """For the git directories in ``area``: those to pin (bind onto themselves) and the
    control files to keep read-only. A missing ``hooks`` directory is created (empty, as
    ``git init`` makes it) so that no hook can be added to it either."""
    if area == Path("/"):
        return [], []
    pins: list[Path] = []
    readonly: list[Path] = []
    for git_dir in guarded_git_dirs(area):
        if git_dir.pointer is not None:
            readonly.append(git_dir.pointer)
        if not git_dir.path.is_dir():
            continue
        pins.append(git_dir.path)
        hooks = git_dir.path / "hooks"
        if not os.path.lexists(hooks):
            with contextlib.suppress(OSError):
                hooks.mkdir()
        # (Only inside the area: an include of a host /tmp file must not be shown inside.)
        readonly += [p for p in control_paths(git_dir.path) if p.exists() and _under(p, area)]
    return pins, readonly


def hidden_paths(env: Mapping[str, str], home: Path) -> list[Path]:
    """Existing credential paths a command must not read (resolved, deduplicated)."""
    candidates = [home / rel for rel in HIDDEN_IN_HOME]
    base = hf_home(env)
    candidates += [base / "token", base / "stored_tokens"]
    candidates += [paths.config_dir(env), paths.user_config_path(env)]
    candidates += [_expand(env[var]) for var in CREDENTIAL_FILE_VARS if env.get(var)]
    candidates += [Path(p) for p in DAEMON_SOCKETS]
    return _dedupe([_real(p) for p in candidates if p.exists()])


def private_cache_root(env: Mapping[str, str]) -> Path:
    """The sandbox's own caches (``~/.cache/ml-intern-tui/sandbox``): only sandboxed
    commands read them, so whatever one plants there never runs outside."""
    return paths.cache_dir(env) / "sandbox"


def sandbox_env(
    env: Mapping[str, str], shared: Iterable[CacheName] = DEFAULT_DOWNLOAD_CACHES
) -> dict[str, str]:
    """Variables a sandboxed command needs changed: temp files in its ``/tmp``, and the
    caches it does not share with the user (``shared``) in ``private_cache_root``."""
    extra = {"TMPDIR": "/tmp"}
    if not env.get("TRITON_CACHE_DIR"):
        # torch.compile's Triton kernels: ~/.triton is read-only inside (and compiled
        # launchers planted there would run outside the sandbox later).
        extra["TRITON_CACHE_DIR"] = "/tmp/.triton"
    root = private_cache_root(env)
    # transformers imports trust_remote_code modules from here (and puts it on sys.path).
    extra["HF_MODULES_CACHE"] = str(root / "huggingface" / "modules")
    sharing = set(shared)
    for name, variables in CACHE_VARIABLES.items():
        if name in sharing:
            continue
        for variable in variables:
            extra[variable] = str(root / name / variable.lower())
    return extra


# ----------------------------------------------------------------------------- helpers


def _dns_args() -> list[str]:
    """Show the resolver's directory again when ``/etc/resolv.conf`` points into ``/run``."""
    target = Path(os.path.realpath("/etc/resolv.conf"))
    if _under(target, Path("/run")) and target.parent.is_dir():
        return ["--ro-bind", str(target.parent), str(target.parent)]
    return []


def _private_cache(env: Mapping[str, str]) -> Path | None:
    root = private_cache_root(env)
    try:
        root.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError:
        return None
    return _real(root)


def _existing_caches(names: Iterable[CacheName], env: Mapping[str, str]) -> list[Path]:
    """The caches' directories, created when missing (a first download needs them)."""
    found = []
    for path in download_cache_dirs(names, env):
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        found.append(path)
    return found


def _devices() -> list[str]:
    return sorted({match for pattern in DEVICE_GLOBS for match in glob.glob(pattern)})


def _visible(path: Path, writable: list[Path]) -> bool:
    """Whether ``path`` can be seen inside: not in a replaced tree, or re-bound there."""
    if any(_under(path, tree) for tree in REPLACED_TREES):
        return any(_under(path, area) for area in writable)
    return True


def _under(path: Path, root: Path) -> bool:
    return path == root or path.is_relative_to(root)


def _cache_home(env: Mapping[str, str]) -> Path:
    value = env.get("XDG_CACHE_HOME", "")
    return Path(value) if value and Path(value).is_absolute() else Path.home() / ".cache"


def _env_path(env: Mapping[str, str], names: tuple[str, ...], default: Path) -> Path:
    for name in names:
        if env.get(name):
            return _expand(env[name])
    return default


def _expand(value: str) -> Path:
    return Path(os.path.expanduser(value))


def _real(path: Path) -> Path:
    return Path(os.path.realpath(path))


def _dedupe(items: list[Path]) -> list[Path]:
    return list(dict.fromkeys(items))
