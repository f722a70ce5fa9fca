"""Whether one simple command only reads: its program, options, operands and environment.

``judge_command`` returns ``None`` for a command the tables know to be read-only, or a
``Finding``: why not, and whether a user's own allowlist entry may vouch for it (a form
the tables do not know, like ``make test``) or not (a form known to write or run
something, like ``sort -o``: no allowlist makes that read-only).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ml_intern_tui.safety.shell_files import option_words
from ml_intern_tui.safety.shell_options import GlobExpander, ParsedArgs, parse_options, table
from ml_intern_tui.safety.shell_paths import Where, expand_glob, secret_reason, word_paths
from ml_intern_tui.safety.shell_tables import (
    PROGRAMS,
    RUNNERS,
    RUNS,
    SYSTEM_BIN_DIRS,
    WRITES,
    Program,
)
from ml_intern_tui.safety.shell_words import Word, names


@dataclass(frozen=True)
class Finding:
    """Why a command is not read-only."""

    reason: str
    vouchable: bool = False
    """The tables do not know this form; a user's allowlist entry naming it may allow it."""


def program_name(word: Word) -> tuple[str | None, str | None]:
    """The program a command word names, or why it cannot be known."""
    if word.value is None:
        return None, f"runs a program whose name is only known at run time ({word.raw})"
    if word.glob or word.tilde:
        return None, f"runs a program named by a pattern ({word.raw})"
    value = word.value
    if "/" not in value:
        return value, None
    directory, _, base = value.rpartition("/")
    if os.path.normpath(directory or "/") in SYSTEM_BIN_DIRS and base:
        return base, None
    return None, f"runs {value}, a program outside the system directories"


def expander(where: Where) -> GlobExpander:
    """A glob expander over every directory the command may run in."""

    def expand(word: Word) -> list[str] | None:
        names: list[str] = []
        for cwd in where.cwds:
            found = expand_glob(word, cwd, where.home)
            if found is None:
                return None
            names += found
        return names

    return expand


def judge_command(name: str, args: list[Word], where: Where) -> Finding | None:
    """Judge ``name args…`` (the program already resolved by ``program_name``)."""
    if name in RUNNERS:
        return Finding(f"{name} runs another program")
    special = _SPECIAL.get(name) or _special_for(name)
    if special is not None:
        return special(name, args, where)
    program = PROGRAMS.get(name)
    if program is None:
        following = args[0].value if args else None
        shown = f"{name} {following}" if following and not following.startswith("-") else name
        return Finding(f"{shown} is not a read-only command", vouchable=True)
    return judge_table(name, program, args, where)


def judge_table(name: str, program: Program, args: list[Word], where: Where) -> Finding | None:
    for variable in program.denied_env:
        if where.env.get(variable) and not (name == "rg" and _has(args, "--no-config")):
            return Finding(f"{name} reads ${variable}, which can make it run programs")
    expand = expander(where)
    if program.options is None:
        parsed = ParsedArgs(operands=[w for w in args if not (w.value or "").startswith("-")])
        parsed.options = [
            (flag, w.value) for flag in program.read_options for w in option_words(args, (flag,))
        ]
    else:
        parsed = parse_options(name, args, program.options, expand)
        if parsed.denied:
            return Finding(parsed.denied)
        if parsed.unknown:
            return Finding(parsed.unknown, vouchable=True)
    extra = _EXTRA.get(name)
    if extra is not None:
        finding = extra(name, parsed, where)
        if finding is not None:
            return finding
    if program.max_operands is not None and (
        len(parsed.operands) > program.max_operands or any(w.glob for w in parsed.operands)
    ):
        return Finding(program.operand_reason)
    if program.reads:
        recursive = program.always_recursive or parsed.has(*program.recursive_options)
        recursive = recursive or "recurse" in parsed.values("-d", "--directories")
        if program.options is None:  # no table: spot the flags in bundles too (-rN)
            letters = {o[1] for o in program.recursive_options if len(o) == 2}
            recursive = recursive or any(
                (w.value or "") in program.recursive_options
                or (
                    (w.value or "")[:1] == "-"
                    and (w.value or "")[1:2] != "-"
                    and letters & set((w.value or "")[1:])
                )
                for w in args
            )
        return secret_reads(parsed.operands, where, recursive=recursive) or secret_reads(
            [_value_word(v) for v in parsed.values(*program.read_options)], where
        )
    if program.read_options:
        return secret_reads([_value_word(v) for v in parsed.values(*program.read_options)], where)
    return None


def secret_reads(words: list[Word], where: Where, *, recursive: bool = False) -> Finding | None:
    """A finding when any of ``words`` names (or, recursive, holds) a credential."""
    for word in words:
        paths = word_paths(word, where)
        if paths is None:
            return Finding(f"reads {word.raw}, a path only known at run time")
        for path in paths:
            reason = secret_reason(path, where, recursive=recursive)
            if reason is not None:
                return Finding(reason)
    return None


def _value_word(value: str) -> Word:
    return Word(value=value, raw=value)


def _has(args: list[Word], option: str) -> bool:
    return any(word.value == option for word in args)


# ------------------------------------------------------------------ extra rules


def _date(name: str, parsed: ParsedArgs, where: Where) -> Finding | None:
    for word in parsed.operands:
        if not (word.value or "").startswith("+"):
            return Finding(f"date {word.raw} sets the system clock")
    return None


def _tree(name: str, parsed: ParsedArgs, where: Where) -> Finding | None:
    if parsed.has("--fromfile"):
        return secret_reads(parsed.operands, where)
    return None


def _strings(name: str, parsed: ParsedArgs, where: Where) -> Finding | None:
    for word in parsed.operands:
        if (word.value or "").startswith("@"):
            return Finding(f"strings {word.raw} reads its arguments from a file")
    return None


_EXTRA = {"date": _date, "tree": _tree, "strings": _strings}


# --------------------------------------------------------------------- find

_FIND_ARITY: dict[str, int] = {
    **dict.fromkeys(
        names(
            "-name -iname -path -ipath -wholename -iwholename -regex -iregex -regextype "
            "-lname -ilname -type -xtype -size -mtime -mmin -atime -amin -ctime -cmin -newer "
            "-anewer -cnewer -used -user -group -uid -gid -perm -links -inum -samefile "
            "-fstype -context -maxdepth -mindepth -files0-from -printf"
        ),
        1,
    ),
    **dict.fromkeys(
        names(
            "-nouser -nogroup -empty -readable -writable -executable -depth -d -mount -xdev "
            "-follow -noleaf -ignore_readdir_race -noignore_readdir_race -daystart -true "
            "-false -prune -quit -print -print0 -ls -o -or -a -and -not ! ( ) , -help --help "
            "-version --version -warn -nowarn"
        ),
        0,
    ),
}
_FIND_DENIED = {
    **dict.fromkeys(("-exec", "-execdir", "-ok", "-okdir"), RUNS),
    "-delete": "deletes files",
    **dict.fromkeys(("-fprint", "-fprint0", "-fprintf", "-fls"), WRITES),
}
_NEWER_XY = re.compile(r"^-newer[aBcmt][aBcmt]$")


def _find(name: str, args: list[Word], where: Where) -> Finding | None:
    expand = expander(where)
    for word in args:
        if word.glob:
            names = expand(word)
            if names is None or any(n.startswith("-") or n in ("(", ")", "!", ",") for n in names):
                return Finding(f"find {word.raw} may expand to a find expression")
    i = 0
    values = [word.value or "" for word in args]
    while i < len(values) and (values[i] in ("-H", "-L", "-P", "-D") or values[i][:2] == "-O"):
        i += 2 if values[i] == "-D" else 1
    while i < len(values) and values[i][:1] != "-" and values[i] not in ("(", ")", "!", ","):
        i += 1
    files0 = option_words(args, ("-files0-from",))
    if files0:
        return secret_reads(files0, where) or _find_expression(values, i)
    return _find_expression(values, i)


def _find_expression(values: list[str], i: int) -> Finding | None:
    while i < len(values):
        token = values[i]
        if token in _FIND_DENIED:
            return Finding(f"find {token} {_FIND_DENIED[token]}")
        arity = 1 if _NEWER_XY.match(token) else _FIND_ARITY.get(token)
        if arity is None:
            return Finding(f"find {token} is not a known read-only expression", vouchable=True)
        i += 1 + arity
    return None


# ------------------------------------------------------------------------ ps

_PS_UNIX_FLAGS = frozenset("AaCcdefFgGHjlLmMNOopqsStTuUvwxyZ")
_PS_UNIX_VALUES = frozenset("CGgOopqstUu")
_PS_BSD_FLAGS = frozenset("aAcCfhHjlLmrsSTuvwxXZn")
_PS_BSD_VALUES = frozenset("OoptUkq")
_PS_LONG = table(
    "--pid= --ppid= --sid= --tty= --user= --User= --group= --Group= --cols= --columns= "
    "--width= --lines= --rows= --format= --sort= --headers --no-headers --forest "
    "--cumulative --deselect --context --help? --info --version --quick-pid="
)


def _ps(name: str, args: list[Word], where: Where) -> Finding | None:
    skip = False
    for word in args:
        text = word.value or ""
        if skip:
            skip = False
            continue
        if text.startswith("--"):
            parsed = parse_options("ps", [word], _PS_LONG)
            if parsed.problem:
                return Finding(parsed.problem, vouchable=True)
            name_only = text.split("=", 1)[0]
            skip = "=" not in text and any(
                option.startswith(name_only) for option in _PS_LONG.long_values
            )
            continue
        unix = text.startswith("-")
        letters = text[1:] if unix else text
        flags, values = (
            (_PS_UNIX_FLAGS, _PS_UNIX_VALUES) if unix else (_PS_BSD_FLAGS, _PS_BSD_VALUES)
        )
        if not unix and "e" in letters:
            return Finding("ps e shows other processes' environment variables")
        if not unix and letters.isdigit():
            continue  # a pid list
        for pos, char in enumerate(letters):
            if unix and char == "E":
                return Finding("ps -E shows other processes' environment variables")
            if char in values:
                skip = pos == len(letters) - 1
                break
            if char not in flags:
                return Finding(f"ps {text}: {char} is not a known read-only option", True)
    return None


# ---------------------------------------------------------------- nvidia-smi

_NVSMI_FLAGS = frozenset(
    names(
        "-L --list-gpus -B --list-excluded-gpus -q --query -u --unit -x --xml-format "
        "--dtd -h --help --version -v --help-query-gpu --help-query-compute-apps "
        "--help-query-accounted-apps --help-query-supported-clocks "
        "--help-query-retired-pages --help-query-remapped-rows -m -mp -p2p"
    )
)
_NVSMI_VALUES = frozenset(["-i", "--id", "-d", "--display", "-l", "--loop", "-lms", "--loop-ms"])
_NVSMI_INLINE = re.compile(
    r"^--(id|display|loop|loop-ms|format|query-gpu|query-supported-clocks|query-compute-apps"
    r"|query-accounted-apps|query-retired-pages|query-remapped-rows)=",
)
_NVSMI_SUBCOMMANDS = frozenset({"topo", "dmon", "pmon"})


def _nvidia_smi(name: str, args: list[Word], where: Where) -> Finding | None:
    values = [word.value or "" for word in args]
    i = 0
    if values and values[0] in _NVSMI_SUBCOMMANDS:
        i = 1
    elif values and not values[0].startswith("-"):
        return Finding(f"nvidia-smi {values[0]} may change GPU settings")
    while i < len(values):
        token = values[i]
        if token in ("-f", "--filename") or token.startswith("--filename="):
            return Finding(f"nvidia-smi {token} {WRITES}")
        if token in _NVSMI_VALUES:
            i += 2
            continue
        if token in _NVSMI_FLAGS or _NVSMI_INLINE.match(token):
            i += 1
            continue
        if i > 0 and values[0] in _NVSMI_SUBCOMMANDS and re.fullmatch(r"-[a-z]+|\d+|[\w,]+", token):
            if values[0] in ("dmon", "pmon") and token == "-f":
                return Finding(f"nvidia-smi {values[0]} -f {WRITES}")
            i += 1
            continue
        return Finding(f"nvidia-smi {token} may change GPU settings")
    return None


# ------------------------------------------------------------- pip / python

_PIP_GLOBAL = (
    "-h --help --debug --isolated --require-virtualenv -v --verbose -V --version -q --quiet "
    "--no-input --proxy= --retries= --timeout= --exists-action= --trusted-host= --cert= "
    "--client-cert= --no-cache-dir --disable-pip-version-check --no-color "
    "--no-python-version-warning --use-feature= --use-deprecated= --resume-retries= "
    "--log= --log-file= --local-log= --python= --cache-dir= --keyring-provider= "
)
_PIP_DENIED = {
    "--log": WRITES,
    "--log-file": WRITES,
    "--local-log": WRITES,
    "--python": "runs another Python",
    "--cache-dir": "writes a cache elsewhere",
    "--keyring-provider": "may run a keyring program",
}
_PIP_INDEX = "-i= --index-url= --extra-index-url= --no-index -f= --find-links= "
_PIP_SUBCOMMANDS = {
    "list": table(
        _PIP_GLOBAL + _PIP_INDEX + "-o --outdated -u --uptodate -e --editable -l --local "
        "--user --path= --pre --format= --not-required --exclude-editable --include-editable "
        "--exclude=",
        _PIP_DENIED,
    ),
    "show": table(_PIP_GLOBAL + "-f --files", _PIP_DENIED),
    "freeze": table(
        _PIP_GLOBAL + "-r= --requirement= -l --local --user --path= --all --exclude-editable "
        "--exclude=",
        _PIP_DENIED,
    ),
}
_PIP_CONFIG_KEYS = re.compile(
    r"^\s*(log|log[-_]file|local[-_]log|python|cache[-_]dir|keyring[-_]provider)\s*[=:]",
    re.I | re.M,
)


def _pip(name: str, args: list[Word], where: Where) -> Finding | None:
    shadow = _pip_shadow(where, module=False)
    if shadow is not None:
        return Finding(shadow)
    sub_index = next(
        (i for i, w in enumerate(args) if not (w.value or "").startswith("-")), len(args)
    )
    before = args[:sub_index]
    if sub_index == len(args):
        parsed = parse_options(name, before, table(_PIP_GLOBAL, _PIP_DENIED))
        if parsed.problem:
            return Finding(parsed.problem, vouchable=parsed.denied is None)
        if parsed.has("-V", "--version", "-h", "--help"):
            return _pip_environment(name, where)
        return Finding(f"{name} without a subcommand is not a read-only command", True)
    sub = args[sub_index].value or ""
    spec = _PIP_SUBCOMMANDS.get(sub)
    if spec is None:
        return Finding(f"{name} {sub} is not a read-only command", vouchable=True)
    parsed = parse_options(f"{name} {sub}", before + args[sub_index + 1 :], spec)
    if parsed.problem:
        return Finding(parsed.problem, vouchable=parsed.denied is None)
    if sub != "show" and parsed.operands:
        return Finding(f"{name} {sub} takes no arguments", vouchable=True)
    return secret_reads(
        [_value_word(v) for v in parsed.values("-r", "--requirement")], where
    ) or _pip_environment(name, where)


def _pip_environment(name: str, where: Where) -> Finding | None:
    """pip reads settings from the environment and config files (a venv's ``pip.conf``
    is writable by the agent): ones that make it run or write something are refused."""
    env = where.env
    for key, value in env.items():
        if key.startswith("PIP_") and _PIP_CONFIG_KEYS.match(key[4:].lower() + "="):
            return Finding(f"{name} reads ${key}, which makes it write or run something")
        if key == "PIP_CONFIG_FILE" and value != os.devnull:
            return Finding(f"{name} reads the config file named by $PIP_CONFIG_FILE")
    for path in _pip_config_files(name, where):
        try:
            text = path.read_text(errors="replace")[:100_000]
        except OSError:
            continue
        if _PIP_CONFIG_KEYS.search(text):
            return Finding(f"{name} reads {path}, which makes it write or run something")
    return None


def _pip_config_files(name: str, where: Where) -> list[Path]:
    env = where.env
    files = [Path("/etc/pip.conf"), Path("/etc/xdg/pip/pip.conf")]
    home = where.home
    if home is not None:
        files += [home / ".pip" / "pip.conf", home / ".config" / "pip" / "pip.conf"]
    if env.get("XDG_CONFIG_HOME"):
        files.append(Path(env["XDG_CONFIG_HOME"]) / "pip" / "pip.conf")
    for prefix in _python_prefixes(name, where):
        files.append(prefix / "pip.conf")
    return files


def _python_prefixes(name: str, where: Where) -> list[Path]:
    prefixes = []
    for variable in ("VIRTUAL_ENV", "CONDA_PREFIX"):
        if where.env.get(variable):
            prefixes.append(Path(where.env[variable]))
    from shutil import which

    found = which(name, path=where.env.get("PATH", os.defpath))
    if found:
        prefixes.append(Path(os.path.realpath(found)).parent.parent)
        prefixes.append(Path(found).parent.parent)
    return prefixes


_PYTHON = re.compile(r"^python(\d+(\.\d+)?)?$")


def _python(name: str, args: list[Word], where: Where) -> Finding | None:
    values = [word.value or "" for word in args]
    if values in (["--version"], ["-V"], ["-VV"]):
        return None
    if len(values) >= 2 and values[0] == "-m" and values[1] == "pip":
        shadow = _pip_shadow(where, module=True)
        if shadow is not None:
            return Finding(shadow)
        return _pip(f"{name} -m pip", args[2:], where)
    following = values[0] if values else ""
    shown = f"{name} {following}" if following and not following.startswith("-") else name
    return Finding(f"{shown} is not a read-only command", vouchable=True)


def _pip_shadow(where: Where, *, module: bool) -> str | None:
    """pip imports ``pip`` from ``$PYTHONPATH`` first (and ``python -m pip`` from the
    working directory before that): a planted ``pip/`` package would run instead."""
    places = list(where.cwds) if module else []
    places += [Path(p) for p in where.env.get("PYTHONPATH", "").split(os.pathsep) if p]
    for place in places:
        base = place if place.is_absolute() else where.cwds[0] / place
        if (base / "pip").exists() or any(base.glob("pip.*")):
            return f"pip would import the pip found in {base}"
    return None


def _python_or_pip(name: str, args: list[Word], where: Where) -> Finding | None:
    if name in ("pip", "pip3") or re.fullmatch(r"pip\d+(\.\d+)?", name):
        return _pip(name, args, where)
    return _python(name, args, where)


Judge = Callable[[str, list[Word], Where], Finding | None]


def _special_for(name: str) -> Judge | None:
    if _PYTHON.match(name) or re.fullmatch(r"pip(\d+(\.\d+)?)?", name):
        return _python_or_pip
    return None


def _git(name: str, args: list[Word], where: Where) -> Finding | None:
    from ml_intern_tui.safety.shell_git import judge_git

    return judge_git(args, where)


_SPECIAL: dict[str, Judge] = {"find": _find, "ps": _ps, "nvidia-smi": _nvidia_smi, "git": _git}
for _name in ("pip", "pip3", "python", "python3"):
    _SPECIAL[_name] = _python_or_pip
