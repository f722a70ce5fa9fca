"""What commands that delete, move, copy or write files do to paths outside the project.

``write_reason`` decides whether writing (or deleting) one path can be taken back: inside
the project (or a scratch directory the project does not live in) it can; a protected
path, a device or anything else cannot. ``file_effects`` applies it to ``rm``, ``mv``,
``cp``, ``tee``, ``chmod``, … and names the programs that destroy data or change the
system whatever their arguments.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ml_intern_tui.safety.protected import protected_reason
from ml_intern_tui.safety.shell_paths import Where, expand_glob, inside, temp_roots, word_paths
from ml_intern_tui.safety.shell_words import Word

DESTROYERS = {
    "dd": "dd writes raw data over files or disks",
    "shred": "shred destroys file contents",
    "wipefs": "wipefs erases file-system signatures",
    "mkswap": "mkswap formats a device",
    "fdisk": "fdisk rewrites partition tables",
    "sfdisk": "sfdisk rewrites partition tables",
    "gdisk": "gdisk rewrites partition tables",
    "sgdisk": "sgdisk rewrites partition tables",
    "parted": "parted rewrites partition tables",
    "blkdiscard": "blkdiscard discards a device's data",
    "badblocks": "badblocks can overwrite a device",
}
SYSTEM_CHANGERS = frozenset(
    {
        "reboot", "shutdown", "poweroff", "halt", "init", "telinit", "killall", "pkill",
        "killall5", "mount", "umount", "swapoff", "swapon", "modprobe", "insmod", "rmmod",
        "iptables", "ip6tables", "nft", "ufw", "useradd", "userdel", "usermod", "groupadd",
        "groupdel", "passwd", "chpasswd", "visudo", "update-alternatives", "ldconfig", "at",
        "batch", "launchctl",
    }
)  # fmt: skip
_SAFE_DEVICES = frozenset({"/dev/null", "/dev/stdout", "/dev/stderr", "/dev/tty", "/dev/zero"})


class ProtectedWrite(str):
    """A reason that is about writing a protected path (``.git/config``, ``~/.bashrc``,
    the app's own settings): such a command asks in every mode when it runs outside
    the sandbox, whose mounts keep those paths read-only."""

    __slots__ = ()


@dataclass
class Effects:
    """What a command may do beyond its own working files."""

    irreversible: list[str] = field(default_factory=list)
    destructive: list[str] = field(default_factory=list)
    network: list[str] = field(default_factory=list)

    def merge(self, other: Effects) -> Effects:
        self.irreversible += other.irreversible
        self.destructive += other.destructive
        self.network += other.network
        return self


def write_reason(
    word: Word, where: Where, *, verb: str, follow: bool = True, allow_project: bool = False
) -> str | None:
    """Why writing (or deleting, ``follow=False``) the path ``word`` cannot be undone.

    Inside the project (but not the project directory itself, unless ``allow_project``)
    and inside scratch directories is fine; protected paths, devices and anything else
    are not."""
    paths = word_paths(word, where)
    if paths is None:
        return f"{verb} {word.raw}, a path only known at run time"
    for path in paths:
        target = Path(os.path.realpath(path)) if follow else _real_parent(path)
        if str(target) in _SAFE_DEVICES or str(path) in _SAFE_DEVICES:
            continue
        device = target.is_relative_to("/dev") and not target.is_relative_to("/dev/shm")
        if device and not str(target).startswith("/dev/fd/"):
            return f"{verb} the device {target}"
        protected = protected_reason(target, project=where.project, env=where.env, home=where.home)
        if protected is not None:
            return ProtectedWrite(f"{verb} a protected path: {protected}")
        project = Path(os.path.realpath(where.project))
        if inside(target, project) and (target != project or allow_project):
            continue
        if any(
            inside(target, root) and target != root and not inside(project, root)
            for root in temp_roots()
        ):
            continue  # scratch space (unless the project itself lives there)
        return f"{verb} {path}, outside the project"
    return None


def _real_parent(path: Path) -> Path:
    return Path(os.path.realpath(path.parent)) / path.name


def file_effects(name: str, args: list[Word], where: Where, tail_unknown: bool) -> Effects | None:
    """Effects of a file or system tool, or ``None`` when ``name`` is not one."""
    return _file_effects(name, args, where, tail_unknown)


def _file_effects(name: str, args: list[Word], where: Where, tail_unknown: bool) -> Effects | None:
    if name in DESTROYERS or name.startswith("mkfs") or name == "mke2fs":
        out = Effects()
        out.irreversible.append(DESTROYERS.get(name, f"{name} formats a file system"))
        return out
    if name in SYSTEM_CHANGERS:
        out = Effects()
        out.irreversible.append(f"{name} changes the system or other processes")
        return out
    handler = {
        "rm": _rm,
        "unlink": _rm,
        "rmdir": _rmdir,
        "truncate": _truncate,
        "mv": _copy_like,
        "cp": _copy_like,
        "install": _copy_like,
        "ln": _copy_like,
        "tee": _tee,
        "chmod": _chmod_like,
        "chown": _chmod_like,
        "chgrp": _chmod_like,
        "chattr": _chmod_like,
        "setfacl": _chmod_like,
        "kill": _kill,
    }.get(name)
    if handler is None:
        return None
    return handler(name, args, where, tail_unknown)


def split_args(
    args: list[Word], value_options: frozenset[str] = frozenset()
) -> tuple[list[str], list[Word]]:
    """Option words and operands (``--`` ends options; ``value_options`` take the next word)."""
    options: list[str] = []
    operands: list[Word] = []
    skip = False
    done = False
    for word in args:
        value = word.value
        if skip:
            skip = False
            continue
        if done or value is None or value == "-" or not value.startswith("-"):
            operands.append(word)
            continue
        if value == "--":
            done = True
            continue
        options.append(value)
        skip = value in value_options
    return options, operands


def option_words(args: list[Word], flags: tuple[str, ...]) -> list[Word]:
    """The values of ``flags`` (``-o F``, ``-oF`` for short ones, ``--output=F``), as words
    that keep what bash does to them (a leading ``~`` is treated as the home directory
    even after ``=``: programs such as pip expand it themselves)."""
    found: list[Word] = []
    for index, word in enumerate(args):
        value = word.value
        if value is None:
            continue
        for flag in flags:
            if value == flag and index + 1 < len(args):
                found.append(args[index + 1])
            elif flag.startswith("--") and value.startswith(flag + "="):
                found.append(_value_word(value[len(flag) + 1 :], word))
            elif len(flag) == 2 and value.startswith(flag) and value[1] != "-" and len(value) > 2:
                found.append(_value_word(value[2:], word))
    return found


def _value_word(text: str, source: Word) -> Word:
    tilde = text == "~" or text.startswith("~/")
    return Word(value=text, raw=text, glob=source.glob, tilde=tilde)


def short_letters(options: list[str]) -> set[str]:
    return {c for option in options if not option.startswith("--") for c in option[1:]}


def has_long(options: list[str], *names: str) -> bool:
    """A long option given in full or by a unique-looking prefix (GNU style)."""
    for option in options:
        if not option.startswith("--"):
            continue
        given = option.split("=", 1)[0]
        if any(given == n or (len(given) >= 4 and n.startswith(given)) for n in names):
            return True
    return False


def option_like_glob(args: list[Word], where: Where) -> Word | None:
    """A glob that matches a name starting with ``-`` (a program reads it as an option;
    even after ``--``, since ``--`` may be an option's value: ``grep -e -- *``), or whose
    matches cannot be listed."""
    for word in args:
        if word.glob:
            for cwd in where.cwds:
                names = expand_glob(word, cwd, where.home)
                if names is None or any(name.startswith("-") for name in names):
                    return word
    return None


def _rm(name: str, args: list[Word], where: Where, tail_unknown: bool) -> Effects:
    out = Effects()
    out.destructive.append(f"{name} deletes files")
    options, operands = split_args(args)
    letters = short_letters(options)
    recursive = bool(letters & {"r", "R"}) or has_long(options, "--recursive")
    if has_long(options, "--no-preserve-root"):
        out.irreversible.append("rm --no-preserve-root may delete the whole file system")
    sneaky = option_like_glob(args, where)
    if sneaky is not None:
        out.irreversible.append(f"{name} {sneaky.raw} matches a file named like an option")
    if tail_unknown:
        out.irreversible.append(f"{name} deletes files named only at run time")
    for word in operands:
        reason = write_reason(word, where, verb="deletes", follow=False)
        if recursive:
            out.irreversible.append(f"rm -r deletes the directory tree {word.raw}")
            if isinstance(reason, ProtectedWrite):
                out.irreversible.append(reason)
            continue
        if reason is not None:
            out.irreversible.append(reason)
    return out


def _rmdir(name: str, args: list[Word], where: Where, tail_unknown: bool) -> Effects:
    out = Effects()
    out.destructive.append("rmdir deletes directories")
    _, operands = split_args(args)
    for word in operands:
        reason = write_reason(word, where, verb="deletes", follow=False)
        if reason is not None:
            out.irreversible.append(reason)
    return out


def _truncate(name: str, args: list[Word], where: Where, tail_unknown: bool) -> Effects:
    out = Effects()
    out.destructive.append("truncate cuts files")
    _, operands = split_args(args, frozenset({"-s", "-r", "-o"}))
    for word in operands:
        reason = write_reason(word, where, verb="truncates")
        if reason is not None:
            out.irreversible.append(reason)
    return out


def _copy_like(name: str, args: list[Word], where: Where, tail_unknown: bool) -> Effects:
    out = Effects()
    out.destructive.append(f"{name} may overwrite files")
    values = frozenset({"-t", "--target-directory", "-S", "--suffix", "-m", "--mode", "-o", "-g"})
    _, operands = split_args(args, values)
    targets = option_words(args, ("-t", "--target-directory"))
    if targets:
        destinations, sources = targets, operands
    elif len(operands) >= 2 or (name == "ln" and operands):
        destinations, sources = operands[-1:], operands[:-1]
    else:
        destinations, sources = [], operands
    if name == "ln" and len(operands) == 1:
        destinations = []  # 'ln -s target' links into the current directory
    for word in destinations:
        reason = write_reason(
            word, where, verb=f"{name} writes to", follow=False, allow_project=True
        )
        if reason is not None:
            out.irreversible.append(reason)
    if name == "mv":
        for word in sources:
            reason = write_reason(word, where, verb="mv moves away", follow=False)
            if reason is not None:
                out.irreversible.append(reason)
    if tail_unknown and name == "mv":
        out.irreversible.append("mv moves files named only at run time")
    return out


def _tee(name: str, args: list[Word], where: Where, tail_unknown: bool) -> Effects:
    out = Effects()
    _, operands = split_args(args, frozenset({"--output-error"}))
    for word in operands:
        reason = write_reason(word, where, verb="tee writes to")
        if reason is not None:
            out.irreversible.append(reason)
    return out


def _chmod_like(name: str, args: list[Word], where: Where, tail_unknown: bool) -> Effects:
    out = Effects()
    options, operands = split_args(args)
    if name != "setfacl" and not any(o.startswith("--reference") for o in options):
        operands = operands[1:]
    if tail_unknown:
        out.irreversible.append(f"{name} changes files named only at run time")
    for word in operands:
        reason = write_reason(word, where, verb=f"{name} changes", follow=True)
        if reason is not None:
            out.irreversible.append(reason)
    return out


def _kill(name: str, args: list[Word], where: Where, tail_unknown: bool) -> Effects:
    out = Effects()
    values = [word.value for word in args]
    if values and values[0] in ("-s", "-n"):
        values = values[2:]
    elif values and (values[0] or "").startswith("-") and values[0] != "--":
        values = values[1:]
    if "--" in values:
        values.remove("--")
    if any(value in ("-1", "1") for value in values) or any(v is None for v in values):
        out.irreversible.append("kill -1 signals every process (or its target is unknown)")
    return out
