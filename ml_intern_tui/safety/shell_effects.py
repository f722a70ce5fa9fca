"""What a shell command may do that a sandbox cannot take back, and whether it uses the
network.

``script_effects`` looks at every command of a parsed script (inside substitutions,
loops and function bodies too), unwraps programs that run programs (``sudo``, ``env``,
``xargs``, ``timeout``, ``sh -c '…'``, ``eval``, ``find -exec``, …) and collects:

- ``irreversible``: what even ``auto`` mode must ask for: deletes outside the project or
  of whole directories, raw disk writes, a script piped into a shell, force pushes, hard
  resets, package installs outside a virtual environment, ``sudo``, … When the analysis
  cannot tell (a program name or path only known at run time), it says so here too.
- ``destructive``: deletes or overwrites inside the project (the risk is high, but the
  sandbox contains it).
- ``network``: evidently talks to the network (``curl``, ``pip install``, ``git fetch``).

Package managers, git and network tools live in ``shell_tools``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ml_intern_tui.safety.protected import protected_reason
from ml_intern_tui.safety.shell_parse import ParsedScript, Redirect, SimpleCommand, parse_script
from ml_intern_tui.safety.shell_paths import Where, expand_glob, inside, temp_roots, word_paths
from ml_intern_tui.safety.shell_words import Word

MAX_DEPTH = 6
"""Nested ``sh -c``/``eval``/runner levels analysed; deeper is "cannot tell"."""

SHELLS = frozenset({"sh", "bash", "dash", "zsh", "ksh", "mksh", "fish", "csh", "tcsh", "ash"})
INTERPRETERS = frozenset(
    {"perl", "ruby", "node", "nodejs", "php", "lua", "Rscript", "R", "deno", "julia", "pwsh"}
)
PRIVILEGED = frozenset({"sudo", "doas", "su", "pkexec", "runuser"})
WRAPPERS = frozenset(
    {
        "env", "xargs", "nice", "timeout", "nohup", "command", "builtin", "exec", "time",
        "stdbuf", "watch", "flock", "setsid", "chroot", "ionice", "taskset", "chrt", "numactl",
        "strace", "ltrace", "unshare", "nsenter", "firejail", "bwrap", "proot", "valgrind",
        "catchsegv", "script", "parallel", "coproc", "xvfb-run", "dbus-launch", "caffeinate",
        "entr", "hyperfine", "perf", "busybox", "tmux", "screen", "expect", *PRIVILEGED,
    }
)  # fmt: skip
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
_SCRIPT_CHARS = frozenset(" \t\n;&|<>$`(){}")


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


def script_effects(script: ParsedScript, where: Where, depth: int = 0) -> Effects:
    """The effects of every command of ``script``."""
    out = Effects()
    if script.error is not None:
        out.irreversible.append(f"cannot be analysed: it {script.error}")
    if depth > MAX_DEPTH:
        out.irreversible.append("nests shells too deeply to analyse")
        return out
    for command in script.commands:
        out.merge(command_effects(command, where, depth))
        where = after_cd(command, where)
    return out


def after_cd(command: SimpleCommand, where: Where) -> Where:
    """Where later commands may run once ``command`` ran (a ``cd`` adds a place)."""
    words = command.words
    if not words or words[0].value != "cd":
        return where
    operands = [w for w in words[1:] if not (w.value or "").startswith("-") or w.value == "-"]
    if not operands:
        home = where.home
        return (
            where.with_cwds((*where.cwds, home))
            if home
            else where.with_cwds(where.cwds, unknown=True)
        )
    target = operands[0]
    if target.value == "-" or target.value is None or target.glob:
        return where.with_cwds(where.cwds, unknown=True)
    paths = word_paths(target, where)
    if paths is None:
        return where.with_cwds(where.cwds, unknown=True)
    return where.with_cwds(tuple(dict.fromkeys([*where.cwds, *paths])))


def command_effects(command: SimpleCommand, where: Where, depth: int) -> Effects:
    out = Effects()
    for redirect in command.redirects:
        out.merge(_redirect_effects(redirect, where))
    if command.words:
        stdin = command.stdin_heredoc
        out.merge(
            argv_effects(list(command.words), where, piped=command.piped, stdin=stdin, depth=depth)
        )
    return out


def _redirect_effects(redirect: Redirect, where: Where) -> Effects:
    out = Effects()
    if not redirect.writes_file or redirect.target is None:
        return out
    reason = write_reason(redirect.target, where, verb=f"writes ({redirect.op})")
    if reason is not None:
        out.irreversible.append(reason)
    return out


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
            return f"{verb} a protected path: {protected}"
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


def argv_effects(
    argv: list[Word],
    where: Where,
    *,
    piped: bool = False,
    stdin: Redirect | None = None,
    tail_unknown: bool = False,
    depth: int = 0,
) -> Effects:
    """Effects of running ``argv`` (program first)."""
    out = Effects()
    if not argv:
        return out
    if depth > MAX_DEPTH:
        out.irreversible.append("nests programs too deeply to analyse")
        return out
    head = argv[0]
    if head.value is None or head.glob:
        out.irreversible.append(f"runs a program only known at run time ({head.raw})")
        return out
    name = head.value.rsplit("/", 1)[-1] if head.value not in ("/", "") else head.value
    args = argv[1:]
    if name in WRAPPERS or name == "eval" or name in SHELLS:
        return _runner_effects(name, args, where, piped, stdin, depth)
    if name in ("source", "."):
        return _source_effects(name, args, piped)
    if name in INTERPRETERS or _is_python(name):
        return _interpreter_effects(head, args, where, piped, depth)
    from ml_intern_tui.safety.shell_tools import tool_effects

    found = _file_effects(name, args, where, tail_unknown)
    if found is not None:
        return found
    return tool_effects(head, args, where, tail_unknown=tail_unknown, depth=depth)


# ------------------------------------------------------------------- runners


def _runner_effects(
    name: str, args: list[Word], where: Where, piped: bool, stdin: Redirect | None, depth: int
) -> Effects:
    out = Effects()
    if name in PRIVILEGED:
        out.irreversible.append(f"{name} runs a command with another user's rights")
    if name in SHELLS:
        return out.merge(_shell_effects(name, args, where, piped, stdin, depth))
    if name == "eval":
        return out.merge(_script_words(name, args, where, depth))
    first = next((i for i, w in enumerate(args) if not (w.value or "").startswith("-")), None)
    if first is not None and args[first].value is None:
        out.irreversible.append(f"{name} runs a program only known at run time ({args[first].raw})")
    for i, word in enumerate(args):
        value = word.value
        if value is None or value.startswith("-") or "=" in value.split("/", 1)[0]:
            continue
        out.merge(
            argv_effects(
                args[i:],
                where,
                piped=piped,
                tail_unknown=name in ("xargs", "parallel"),
                depth=depth + 1,
            )
        )
        if _SCRIPT_CHARS & set(value):
            out.merge(script_effects(parse_script(value), where, depth + 1))
    return out


def _shell_effects(
    name: str, args: list[Word], where: Where, piped: bool, stdin: Redirect | None, depth: int
) -> Effects:
    out = Effects()
    command_string = False
    reads_stdin = False
    operands: list[Word] = []
    takes_value = False
    for index, word in enumerate(args):
        value = word.value
        if takes_value:
            takes_value = False
            continue
        if value is not None and value[:1] in "-+" and value not in ("-", "--") and not operands:
            letters = value.lstrip("-+")
            if value in ("-o", "+o", "-O", "+O"):
                takes_value = True
                continue
            command_string = command_string or "c" in letters or value == "--command"
            reads_stdin = reads_stdin or (value[0] == "-" and "s" in letters)
            continue
        operands.append(word)
        if value is not None and value[:1] == "-" and "c" in value and index + 1 < len(args):
            # An option after the script name is not one, but read it as bash might.
            out.merge(_script_words(name, args[index + 1 : index + 2], where, depth))
    if command_string:
        if operands:
            out.merge(_script_words(name, operands[:1], where, depth))
        return out
    if operands and not reads_stdin:
        script = operands[0]
        if script.value is None:
            out.irreversible.append(f"{name} runs a script produced by another command")
        elif script.value in ("-", "/dev/stdin", "/dev/fd/0") and piped:
            out.irreversible.append(f"pipes a script into {name}")
        return out
    return out.merge(_stdin_program(name, where, piped, stdin, depth, shell=True))


def _stdin_program(
    name: str, where: Where, piped: bool, stdin: Redirect | None, depth: int, *, shell: bool
) -> Effects:
    """A shell or interpreter that reads its program from standard input."""
    out = Effects()
    if stdin is not None:
        if stdin.op == "<<<":
            word = stdin.target
            if word is None or word.value is None:
                out.irreversible.append(f"feeds {name} a script only known at run time")
            elif shell:
                out.merge(script_effects(parse_script(word.value), where, depth + 1))
        elif stdin.heredoc is None:
            out.irreversible.append(f"feeds {name} a here-document with expansions")
        elif shell:
            out.merge(script_effects(parse_script(stdin.heredoc), where, depth + 1))
        return out
    if piped:
        out.irreversible.append(f"pipes a script into {name} (like curl … | sh)")
    return out


def _script_words(name: str, words: list[Word], where: Where, depth: int) -> Effects:
    out = Effects()
    if any(word.value is None for word in words):
        out.irreversible.append(f"{name} runs a script only known at run time")
        return out
    text = " ".join(word.value or "" for word in words)
    return out.merge(script_effects(parse_script(text), where, depth + 1))


def _source_effects(name: str, args: list[Word], piped: bool) -> Effects:
    out = Effects()
    if args and args[0].value is None:
        out.irreversible.append(f"{name} runs a script produced by another command")
    elif args and args[0].value in ("/dev/stdin", "/dev/fd/0", "-") and piped:
        out.irreversible.append(f"pipes a script into {name}")
    return out


def _is_python(name: str) -> bool:
    return (name.startswith("python") and name[6:].replace(".", "").isdigit()) or name == "python"


def _interpreter_effects(
    program: Word, args: list[Word], where: Where, piped: bool, depth: int
) -> Effects:
    out = Effects()
    name = (program.value or "").rsplit("/", 1)[-1]
    values = [word.value for word in args]
    if _is_python(name) and len(values) >= 2 and values[0] == "-m":
        module = values[1]
        if module == "pip":
            from ml_intern_tui.safety.shell_tools import pip_effects

            return pip_effects(program, args[2:], where)
        if module == "http.server":
            out.network.append("python -m http.server serves files on the network")
        return out
    code_flags = {"-c", "-m", "-e", "-E", "-r", "--eval", "--command"}
    for word in args:
        value = word.value
        if value in code_flags:
            return out
        if value is not None and value.startswith("-") and value != "-":
            continue
        if value is None:
            out.irreversible.append(f"{name} runs a script produced by another command")
        elif value in ("-", "/dev/stdin", "/dev/fd/0") and piped:
            out.irreversible.append(f"pipes a program into {name}")
        return out
    if piped:
        out.irreversible.append(f"pipes a program into {name} (like curl … | python)")
    return out


# ---------------------------------------------------------------- file tools


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


def _option_like_glob(args: list[Word], where: Where) -> Word | None:
    """A glob before ``--`` that matches a name starting with ``-`` (read as an option)."""
    for word in args:
        if word.value == "--":
            return None
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
    sneaky = _option_like_glob(args, where)
    if sneaky is not None:
        out.irreversible.append(f"{name} {sneaky.raw} matches a file named like an option")
    if tail_unknown:
        out.irreversible.append(f"{name} deletes files named only at run time")
    for word in operands:
        if recursive:
            out.irreversible.append(f"rm -r deletes the directory tree {word.raw}")
            continue
        reason = write_reason(word, where, verb="deletes", follow=False)
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
