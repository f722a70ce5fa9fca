"""Effects of package managers: installs outside a virtual environment, system packages,
global tools, and the network they use (see ``shell_effects``)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from ml_intern_tui.safety.shell_files import (
    Effects,
    has_long,
    option_words,
    short_letters,
    split_args,
    write_reason,
)
from ml_intern_tui.safety.shell_paths import Where
from ml_intern_tui.safety.shell_words import Word, names

SYSTEM_PACKAGERS = frozenset(
    {"apt", "apt-get", "aptitude", "dpkg", "yum", "dnf", "zypper", "pacman", "apk", "snap",
     "brew", "port", "flatpak", "emerge"}
)  # fmt: skip
_SYSTEM_VERBS = frozenset(
    names(
        "install remove purge upgrade dist-upgrade full-upgrade autoremove reinstall "
        "erase downgrade add del -i -r -P -S -R -U --install --remove --purge refresh "
        "uninstall update"
    )
)
_NODE_WRITE = frozenset(names("install i add uninstall un rm remove update up upgrade link ln"))
_NODE_NETWORK = frozenset(names("install i ci add update up upgrade publish exec dlx create x"))
_NODE = frozenset({"npm", "yarn", "pnpm", "bun"})


def package_effects(program: Word, args: list[Word], where: Where) -> Effects | None:
    """Effects of a package manager, or ``None`` when ``program`` is not one."""
    name = (program.value or "").rsplit("/", 1)[-1]
    if name in ("pip", "pip3") or (name.startswith("pip") and name[3:].replace(".", "").isdigit()):
        return pip_effects(program, args, where)
    if name == "uv":
        return _uv(args)
    if name in ("conda", "mamba", "micromamba"):
        return _conda(name, args, where)
    if name in SYSTEM_PACKAGERS:
        return _system_packages(name, args)
    if name in _NODE:
        return _node(name, args)
    if name in ("cargo", "go", "gem", "pipx"):
        return _language_installers(name, args)
    return None


def _values(args: list[Word]) -> list[str]:
    return [word.value or "" for word in args]


def pip_effects(program: Word, args: list[Word], where: Where) -> Effects:
    """``pip args…`` (``program`` is the word that ran it: ``pip``, ``.venv/bin/pip``, or
    the Python of ``python -m pip``)."""
    out = Effects()
    values = _values(args)
    value_options = frozenset(
        names(
            "-r --requirement -c --constraint -t --target --prefix --root -i --index-url "
            "--extra-index-url -f --find-links --python --log --cache-dir --proxy --timeout "
            "--retries --src --upgrade-strategy --platform --python-version --implementation "
            "--abi -e --editable --exists-action --trusted-host --cert --client-cert"
        )
    )
    options, operands = split_args(args, value_options)
    sub = operands[0].value if operands else None
    if sub in ("install", "download", "wheel", "search", "index") or has_long(
        options, "--outdated"
    ):
        out.network.append(f"pip {sub or 'list --outdated'} uses the network")
    if sub in ("install", "uninstall"):
        reason = _pip_install_place(program, args, options, values, where)
        if reason is not None:
            out.irreversible.append(reason)
        out.destructive.append(f"pip {sub} changes installed packages")
    if sub == "cache" and operands[1:2] and operands[1].value in ("purge", "remove"):
        out.irreversible.append("pip cache purge deletes the download cache")
    if sub == "config" and operands[1:2] and operands[1].value in ("set", "unset", "edit"):
        out.irreversible.append("pip config changes pip's settings outside the project")
    return out


def _pip_install_place(
    program: Word, args: list[Word], options: list[str], values: list[str], where: Where
) -> str | None:
    if has_long(options, "--user"):
        return "pip install --user installs outside any virtual environment"
    if has_long(options, "--break-system-packages"):
        return "pip --break-system-packages changes the system's Python"
    targets = option_words(args, ("-t", "--target", "--prefix", "--root"))
    for target in targets:
        reason = write_reason(target, where, verb="pip installs into", allow_project=True)
        if reason is not None:
            return reason
    if targets:
        return None
    if in_virtualenv(program, where):
        return None
    return "pip installs into a Python outside any virtual environment"


def in_virtualenv(program: Word, where: Where) -> bool:
    """Whether ``program`` (``pip``, ``.venv/bin/pip``, ``python``) belongs to a venv or a
    non-base conda environment."""
    value = program.value
    if value is None:
        return False
    if "/" in value:
        candidates = [Path(os.path.normpath(cwd / value)) for cwd in where.cwds]
    else:
        search = where.env.get("PATH", os.defpath)
        found = shutil.which(value, path=_absolute_path(search, where.cwds[0]))
        candidates = [Path(found)] if found else []
    if not candidates:
        return False
    for path in candidates:
        prefix = path.parent.parent
        if (prefix / "pyvenv.cfg").is_file():
            continue
        if (prefix / "conda-meta").is_dir() and not (prefix / "condabin").is_dir():
            continue
        return False
    return True


def _absolute_path(search: str, cwd: Path) -> str:
    entries = [
        entry if os.path.isabs(entry) else str(cwd / entry) for entry in search.split(os.pathsep)
    ]
    return os.pathsep.join(entries)


def _uv(args: list[Word]) -> Effects:
    out = Effects()
    values = _values(args)
    options, operands = split_args(args)
    words = [w.value for w in operands]
    if words[:2] in (["pip", "install"], ["pip", "sync"], ["pip", "uninstall"]) and has_long(
        options, "--system", "--break-system-packages"
    ):
        out.irreversible.append("uv pip --system changes the system's Python")
    if words[:2] in (["tool", "install"], ["tool", "uninstall"]):
        out.irreversible.append("uv tool install changes programs outside the project")
    fetching = words[:1] in (["add"], ["sync"], ["lock"], ["tool"], ["python"])
    fetching = fetching or words[:2] in (["pip", "install"], ["pip", "sync"], ["pip", "compile"])
    if fetching or (words[:1] == ["run"] and "--with" in values):
        out.network.append(f"uv {' '.join(str(w) for w in words[:2])} uses the network")
    return out


def _conda(name: str, args: list[Word], where: Where) -> Effects:
    out = Effects()
    values = _values(args)
    _, operands = split_args(args, frozenset({"-n", "--name", "-p", "--prefix", "-c", "--channel"}))
    words = [w.value or "" for w in operands]
    verb = words[0] if words else ""
    if verb == "env" and words[1:2]:
        verb = "env " + words[1]
    writes = verb in ("install", "remove", "uninstall", "update", "upgrade", "env remove", "clean")
    if verb in ("install", "create", "update", "upgrade", "search", "env create", "env update"):
        out.network.append(f"{name} {verb} uses the network")
    if verb in ("env remove", "clean"):
        out.irreversible.append(f"{name} {verb} deletes environments or caches")
        return out
    if not writes:
        return out
    target = _option_value(values, ("-n", "--name"))
    prefixes = option_words(args, ("-p", "--prefix"))
    for prefix in prefixes:
        reason = write_reason(prefix, where, verb=f"{name} {verb} changes")
        if reason is not None:
            out.irreversible.append(reason)
    if prefixes:
        return out
    current = target or where.env.get("CONDA_DEFAULT_ENV") or "base"
    if current == "base":
        out.irreversible.append(f"{name} {verb} changes the base environment")
    return out


def _option_value(values: list[str], names: tuple[str, ...]) -> str | None:
    for index, value in enumerate(values):
        for name in names:
            if value == name and index + 1 < len(values):
                return values[index + 1]
            if value.startswith(name + "="):
                return value.split("=", 1)[1]
    return None


def _system_packages(name: str, args: list[Word]) -> Effects:
    out = Effects()
    values = _values(args)
    verbs = [
        v
        for v in values
        if v in _SYSTEM_VERBS or (name == "pacman" and v[:2] in ("-S", "-R", "-U"))
    ]
    if verbs:
        if verbs[0] != "update" or (name != "apt" and name != "apt-get"):
            out.irreversible.append(f"{name} {verbs[0]} changes the system's packages")
        if verbs[0] not in (
            "remove",
            "purge",
            "autoremove",
            "erase",
            "-r",
            "-P",
            "del",
            "uninstall",
        ):
            out.network.append(f"{name} {verbs[0]} uses the network")
    return out


def _node(name: str, args: list[Word]) -> Effects:
    out = Effects()
    values = _values(args)
    options, operands = split_args(args)
    words = [w.value or "" for w in operands]
    global_ = (
        "g" in short_letters(options) or has_long(options, "--global") or words[:1] == ["global"]
    )
    verb = words[1] if words[:1] == ["global"] and words[1:] else (words[0] if words else "")
    if global_ and verb in _NODE_WRITE:
        out.irreversible.append(f"{name} {verb} -g changes programs outside the project")
    if verb in _NODE_NETWORK or (name == "yarn" and not values):
        out.network.append(f"{name} {verb or 'install'} uses the network")
    return out


def _language_installers(name: str, args: list[Word]) -> Effects:
    out = Effects()
    words = [w.value or "" for w in split_args(args)[1]]
    verb = words[0] if words else ""
    if verb in ("install", "uninstall", "reinstall", "inject") and not (
        name == "gem" and any(v == "--user-install" for v in _values(args))
    ):
        out.irreversible.append(f"{name} {verb} changes programs outside the project")
    if verb in ("install", "get", "fetch", "update", "add", "publish", "run", "upgrade", "mod"):
        out.network.append(f"{name} {verb} uses the network")
    return out
