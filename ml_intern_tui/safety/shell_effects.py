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

File tools live in ``shell_files``; git, package managers and network tools in
``shell_tools``.
"""

from __future__ import annotations

from ml_intern_tui.safety.shell_files import Effects, file_effects, write_reason
from ml_intern_tui.safety.shell_parse import ParsedScript, Redirect, SimpleCommand, parse_script
from ml_intern_tui.safety.shell_paths import Where, word_paths
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
_SCRIPT_CHARS = frozenset(" \t\n;&|<>$`(){}")


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
    value = target.value
    if where.env.get("CDPATH") and not target.tilde and not value.startswith(("/", "./", "../")):
        # cd searches $CDPATH first: every entry is a place the chain may go on in.
        for entry in where.env["CDPATH"].split(":"):
            base = where.cwds[0] / entry  # an absolute entry replaces the base
            paths += word_paths(target, where.with_cwds((base,))) or []
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

    found = file_effects(name, args, where, tail_unknown)
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
            from ml_intern_tui.safety.shell_packages import pip_effects

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
