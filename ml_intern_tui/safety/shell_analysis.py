"""What a shell command does, as the approval gate needs to know it.

``analyse_command`` parses the command with the tree-sitter bash grammar and answers:

- ``read_only_reason``: ``None`` when every command of the script only reads (it may run
  unasked in ``ask`` mode), otherwise one line saying why not.
- ``irreversible``: why even ``auto`` mode must ask (``rm -r``, ``curl … | sh``, ``git push
  --force``, a package install outside a virtual environment, …), or ``None``.
- ``parts``: the simple commands as canonical text, for remembered rules (each must be
  covered); empty when the script hides what it runs.
- ``risk`` and ``network``.

The read-only allowlist holds entries that are a program and its leading words
(``"git log"``, ``"make test"``). A command needs a matching entry. The built-in tables
still apply to it: an option known to write or run something is never read-only,
whatever the list says; a form the tables do not know (``make test``, ``python
train.py``) is read-only only when the user's own entry names it. Empty entries match
nothing. Programs that run other programs (``env``, ``xargs``, ``sudo``, ``sh -c``, …)
are never read-only.
"""

from __future__ import annotations

import functools
import os
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ml_intern_tui.core.protocol import Risk
from ml_intern_tui.safety.git_probe import GitProbe
from ml_intern_tui.safety.program_path import command_shell
from ml_intern_tui.safety.shell_effects import after_cd, script_effects
from ml_intern_tui.safety.shell_files import ProtectedWrite, option_like_glob
from ml_intern_tui.safety.shell_parse import ParsedScript, Redirect, SimpleCommand, parse_script
from ml_intern_tui.safety.shell_paths import Where, inside, real, secret_roots, word_paths
from ml_intern_tui.safety.shell_readonly import (
    Finding,
    judge_command,
    program_name,
    secret_reads,
)
from ml_intern_tui.safety.shell_tables import PROGRAMS
from ml_intern_tui.safety.shell_words import Word

DEFAULT_READONLY_ALLOWLIST: tuple[str, ...] = (
    "ls", "cat", "head", "tail", "tac", "wc", "pwd", "echo", "printf", "grep", "egrep",
    "fgrep", "rg", "find", "git status", "git log", "git diff", "git show", "git branch",
    "git tag", "git remote", "git rev-parse", "git ls-files", "git ls-tree", "git blame",
    "git grep", "git describe", "git shortlog", "git stash list", "git stash show",
    "git reflog", "git cat-file", "git rev-list", "git merge-base", "git show-ref",
    "git for-each-ref", "git count-objects", "git version", "python --version",
    "python3 --version", "python -V", "python3 -V", "pip list", "pip show", "pip freeze",
    "pip3 list", "pip3 show", "pip3 freeze", "nvidia-smi", "df", "du", "ps", "which", "file",
    "stat", "date", "tree", "uname", "whoami", "id", "nproc", "free", "uptime", "lscpu",
    "hostname", "basename", "dirname", "realpath", "readlink", "sort", "uniq", "cut", "nl",
    "tr", "seq", "diff", "cmp", "comm", "strings", "md5sum", "sha1sum", "sha256sum",
    "sha512sum", "true", "false", "cd",
)  # fmt: skip
"""Commands (or command prefixes) that only read, with the option tables of
``shell_tables`` applied. ``env``/``printenv`` are left out on purpose: they print
secrets into the model's context."""

_NULL_TARGETS = frozenset({"/dev/null", "/dev/stdout", "/dev/stderr"})
_SHELL_BUILTINS = frozenset({"cd", "echo", "printf", "pwd", "true", "false"})
_EVERY_COMMAND_VARS = ("LD_PRELOAD", "LD_AUDIT")
"""(``BASH_ENV`` and ``ENV`` never reach the shell: ``jobs.local`` drops them.)"""


@dataclass(frozen=True)
class CommandAnalysis:
    """What the approval gate needs to know about one shell command."""

    command: str
    read_only_reason: str | None
    """``None`` when the command only reads; otherwise one line why not."""
    irreversible: str | None
    """Why even ``auto`` mode must ask (cannot be undone or contained), or ``None``."""
    parts: list[str] = field(default_factory=list)
    """The simple commands as canonical text (each must match a remembered rule);
    empty when the script is not fully understood."""
    risk: Risk = "medium"
    network: bool = False
    """The command evidently uses the network."""
    network_reason: str | None = None
    destructive: str | None = None
    """Deletes or overwrites something (inside the project too)."""
    protected: str | None = None
    """Writes a protected path (``.git/config``, ``~/.bashrc``, ``git config …``): outside
    the sandbox that asks in every mode."""
    credential_read: str | None = None
    """Names a credential store or a shell history as something to read: outside the
    sandbox (which hides them) that asks in every mode, so that yolo cannot hand the
    model a secret the app does not know to scrub."""

    @property
    def read_only(self) -> bool:
        return self.read_only_reason is None


def analyse_command(
    command: str,
    *,
    cwd: Path,
    allowlist: Iterable[str] | None = None,
    env: Mapping[str, str] | None = None,
    project: Path | None = None,
) -> CommandAnalysis:
    """Analyse ``command`` run by the shell in ``cwd`` (``project`` defaults to ``cwd``)."""
    environ = dict(os.environ if env is None else env)
    root = project or cwd
    probe = GitProbe(environ, untrusted=(Path(os.path.abspath(root)), Path(os.path.abspath(cwd))))
    where = Where(cwds=(Path(os.path.abspath(cwd)),), project=root, env=environ, git=probe)
    entries = _entries(tuple(DEFAULT_READONLY_ALLOWLIST if allowlist is None else allowlist))
    script = parse_script(command)
    reason = read_only_reason(script, where, entries)
    effects = script_effects(script, where)
    irreversible = effects.irreversible[0] if effects.irreversible else None
    protected = next((r for r in effects.irreversible if isinstance(r, ProtectedWrite)), None)
    destructive = effects.destructive[0] if effects.destructive else None
    return CommandAnalysis(
        command=command,
        read_only_reason=reason,
        irreversible=irreversible,
        parts=command_parts(command),
        risk="high" if irreversible or destructive else "medium",
        network=bool(effects.network),
        network_reason=effects.network[0] if effects.network else None,
        destructive=destructive,
        protected=protected,
        credential_read=credential_read(script, where),
    )


def command_parts(command: str) -> list[str]:
    """The simple commands of ``command`` as canonical text (``[]`` when it hides what it
    runs: substitutions, subshells, functions, here-documents, parse errors)."""
    script = parse_script(command)
    if not command.strip() or not script.understood:
        return []
    if not _shell_is_bash() and "$'" in command:
        return []
    return [c.text for c in script.commands]


def command_risk(command: str, *, cwd: Path, env: Mapping[str, str] | None = None) -> Risk:
    """``high`` for commands that delete, destroy or cannot be undone, else ``medium``."""
    environ = dict(os.environ if env is None else env)
    where = Where(cwds=(Path(os.path.abspath(cwd)),), project=cwd, env=environ)
    effects = script_effects(parse_script(command), where)
    return "high" if effects.irreversible or effects.destructive else "medium"


_RECURSIVE_READERS = frozenset({"rg", "ag", "tar", "zip", "rsync", "scp", "7z", "ack"})
_RECURSIVE_WITH_FLAG = frozenset({"grep", "egrep", "fgrep", "cp", "zgrep", "diff"})


def _unknown_secret_roots(where: Where) -> list[Path]:
    """Credential roots whose contents the app does not scrub by value: not the Hugging
    Face token files (``secret_values`` registers their tokens at start)."""
    home = where.home
    known: set[Path] = set()
    if where.env.get("HF_HOME"):
        hf = Path(where.env["HF_HOME"])
        known |= {real(hf / "token"), real(hf / "stored_tokens")}
    if home is not None:
        known |= {real(home / ".cache/huggingface" / name) for name in ("token", "stored_tokens")}
    if where.env.get("HF_TOKEN_PATH"):
        known.add(real(Path(where.env["HF_TOKEN_PATH"])))
    return [root for root in secret_roots(where) if root not in known]


def credential_read(script: ParsedScript, where: Where) -> str | None:
    """Why a command of ``script`` would read a credential (one line), or ``None``.

    Every argument and input of every command is looked at, whatever the program: a
    path (or the value of ``--opt=path``) inside a credential store or a history file
    -- or a directory holding one, for programs that read directories whole (``grep
    -r``, ``rg``, ``tar``, ``cp -r``…). (Environments, ``/proc/*/environ``, are covered
    by the scrub of the app's known secret values, which holds in every mode.)
    """
    for command in script.commands:
        words = list(command.words)
        name = (words[0].value or "").rsplit("/", 1)[-1] if words else ""
        flags = "".join(w.value or "" for w in words[1:] if (w.value or "").startswith("-"))
        recursive = name in _RECURSIVE_READERS or (
            name in _RECURSIVE_WITH_FLAG and any(c in flags for c in "rRa")
        )
        targets = words[1:] + [r.target for r in command.redirects if r.op == "<" and r.target]
        for word in targets:
            value = word.value
            if value is None:
                continue
            if value.startswith("-"):
                if "=" not in value:
                    continue
                option_value = value.split("=", 1)[1]
                # Some programs expand a '~' there themselves: assume they do.
                tilde = option_value.startswith("~/") or option_value == "~"
                word = Word(value=option_value, raw=word.raw, glob=word.glob, tilde=tilde)
            for path in word_paths(word, where) or []:
                target = real(path)
                deep = recursive and path.is_dir()
                for root in _unknown_secret_roots(where):
                    if inside(target, root) or (deep and inside(root, target)):
                        return f"reads {path}, which holds credentials"
        where = after_cd(command, where)
    return None


def _shell_is_bash() -> bool:
    """Commands run under bash (the grammar parsed here); ``/bin/sh`` only without it."""
    return command_shell().rsplit("/", 1)[-1] == "bash"


# ------------------------------------------------------------------ read-only


@dataclass(frozen=True)
class _Entry:
    words: tuple[str, ...]
    builtin: bool


@functools.lru_cache(maxsize=32)
def _entries(allowlist: tuple[str, ...]) -> tuple[_Entry, ...]:
    """Allowlist entries as words; entries that are empty or not one plain command are
    dropped (an empty entry once allowed every command)."""
    builtin = {" ".join(entry.split()) for entry in DEFAULT_READONLY_ALLOWLIST}
    out: list[_Entry] = []
    for entry in allowlist:
        script = parse_script(entry)
        if not entry.strip() or not script.plain or len(script.commands) != 1:
            continue
        words = tuple(w.value or "" for w in script.commands[0].words)
        if words and all(words):
            out.append(_Entry(words, " ".join(entry.split()) in builtin))
    return tuple(out)


def read_only_reason(script: ParsedScript, where: Where, entries: tuple[_Entry, ...]) -> str | None:
    """``None`` when every command of ``script`` only reads."""
    if not script.source.strip():
        return "empty command"
    if script.error is not None:
        return f"cannot be analysed: it {script.error}"
    if script.problems:
        return script.problems[0]
    if not _shell_is_bash() and "$'" in script.source:
        return f"uses $'…' quoting, which {command_shell()} (no bash here) reads otherwise"
    problem = _environment_reason(where)
    if problem is not None:
        return problem
    for command in script.commands:
        reason = _redirects_reason(command.redirects, where) or _command_reason(
            command, where, entries
        )
        if reason is not None:
            return reason
        where = after_cd(command, where)
    return None


def _environment_reason(where: Where) -> str | None:
    env = where.env
    for variable in _EVERY_COMMAND_VARS:
        if env.get(variable):
            return f"the environment sets ${variable}, which runs code in every command"
    project = real(where.project)
    raw = env.get("LD_LIBRARY_PATH")
    if raw is not None:
        for entry in raw.split(os.pathsep):
            if not entry or not os.path.isabs(entry) or inside(real(Path(entry)), project):
                return f"$LD_LIBRARY_PATH lets programs load libraries from {entry or '.'}"
    return None


def _redirects_reason(redirects: tuple[Redirect, ...], where: Where) -> str | None:
    for redirect in redirects:
        target = redirect.target
        value = target.value if target is not None else None
        duplicates = value is not None and (value.rstrip("-").isdigit() or value == "-")
        if redirect.op in (">&", "<&") and duplicates:
            continue
        if redirect.op == "<" and target is not None:
            finding = secret_reads([target], where)
            if finding is not None:
                return finding.reason
            continue
        if (
            redirect.writes_file
            and value in _NULL_TARGETS
            and target is not None
            and target.literal
        ):
            continue
        return f"redirects output to a file ({redirect.text})"
    return None


def _command_reason(
    command: SimpleCommand, where: Where, entries: tuple[_Entry, ...]
) -> str | None:
    words = list(command.words)
    if not words:
        return None
    name, problem = program_name(words[0])
    if name is None:
        return problem
    sneaky = option_like_glob(words[1:], where)
    if sneaky is not None:
        # 'du -sh *' with a file named '--files0-from=link' is another command.
        return f"{name} {sneaky.raw} matches a file named like an option"
    finding = judge_command(name, words[1:], where)
    if finding is None:
        finding = _path_hijack(name, where)
    keys = _keys(name, words)
    matched = [e for e in entries if any(key[: len(e.words)] == list(e.words) for key in keys)]
    if not matched:
        if finding is not None and not (finding.vouchable and name in PROGRAMS):
            return finding.reason
        return f"{_display(name, words)} is not on the read-only list"
    if finding is None:
        return None
    if finding.vouchable and any(not entry.builtin for entry in matched):
        return None
    return finding.reason


def _path_hijack(name: str, where: Where) -> Finding | None:
    """A read-only program picked from the project (a planted ``.venv/bin/ls``) is not
    the program the tables describe."""
    if name in _SHELL_BUILTINS:
        return None
    search = where.env.get("PATH", os.defpath)
    project = real(where.project)
    for entry in search.split(os.pathsep):
        if not entry or not os.path.isabs(entry):
            found = shutil.which(name, path=str(where.cwds[0] / entry))
            if found:
                return Finding(f"{name} would run {found}, found through a relative $PATH entry")
            continue
        found = shutil.which(name, path=entry)
        if found:
            if inside(real(Path(found)), project) or inside(Path(entry), project):
                return Finding(f"{name} would run {found}, a program inside the project")
            return None
    return None


def _keys(name: str, words: list[Word]) -> list[list[str]]:
    values = [name, *(w.value or "" for w in words[1:])]
    keys = [values]
    if name == "git":
        from ml_intern_tui.safety.shell_git import git_key_words

        keys.append(git_key_words(words[1:]))
    if name.startswith("python") and values[1:3] == ["-m", "pip"]:
        keys.append(["pip", *values[3:]])
    return keys


def _display(name: str, words: list[Word]) -> str:
    following = words[1].value if len(words) > 1 else None
    if following and not following.startswith("-"):
        return f"{name} {following}"
    return name
