"""Read-only git: the subcommands and options that only read, and a configuration that
cannot turn them into code execution.

A read command is only as safe as the configuration git loads with it: one free write of
``.git/config`` with ``core.fsmonitor`` (or a textconv driver, a filter, a hooks path, …)
makes the next ``git status`` run anything. So a git command is read-only only when git's
own view of its configuration (``git config --list``: system, global, repository,
worktree, includes and ``includeIf`` as git evaluates them, ``GIT_CONFIG_*``) sets no key
that runs a program, no hook that read commands trigger is installed, the environment
sets no ``GIT_*`` variable that runs or writes something, and no submodule's
configuration does either (``git status`` runs git in each submodule).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from ml_intern_tui.safety.git_probe import GitProbe, read_regular
from ml_intern_tui.safety.shell_files import option_words
from ml_intern_tui.safety.shell_options import parse_options, table
from ml_intern_tui.safety.shell_parse import parse_script
from ml_intern_tui.safety.shell_paths import Where, word_paths
from ml_intern_tui.safety.shell_readonly import Finding, secret_reads
from ml_intern_tui.safety.shell_words import Word, names

MAX_SUBMODULES = 200
MAX_CONFIG_BYTES = 1 << 20
"""Configuration (all files, includes) checked at most: real ones are a few kB; a planted
include of a huge file must not cost seconds of parsing at every approval."""
MAX_MODULE_ENTRIES = 5000
"""Entries of ``.git/modules`` looked at before giving up (a million planted directories
must not slow every approval)."""

_GLOBAL_FLAGS = frozenset(
    names(
        "--no-pager -P --no-replace-objects --literal-pathspecs --glob-pathspecs "
        "--noglob-pathspecs --icase-pathspecs --no-optional-locks --no-lazy-fetch"
    )
)
_GLOBAL_DENIED = {
    "-c": "sets configuration that can run programs",
    "--config-env": "sets configuration that can run programs",
    "--exec-path": "runs git programs from another directory",
    "--git-dir": "points git at another repository",
    "--work-tree": "points git at another working tree",
    "--namespace": "changes the refs git sees",
    "--super-prefix": "is internal to git",
    "-p": "starts a pager",
    "--paginate": "starts a pager",
    "--bare": "treats the directory as a bare repository",
    "--help": "opens a pager or browser",
    "-h": "opens a pager or browser",
}
_WRITERS = frozenset(
    names(
        "add am apply archive bisect bundle checkout cherry-pick clean clone commit "
        "config credential daemon difftool fast-import fetch filter-branch format-patch "
        "gc gui help init instaweb maintenance merge mergetool mv notes prune pull push "
        "rebase replace request-pull reset restore revert rm send-email sparse-checkout "
        "submodule switch update-index update-ref"
    )
)
_DIFFLIKE = frozenset(
    names(
        "log show diff whatchanged shortlog diff-tree diff-index diff-files rev-list "
        "cherry range-diff"
    )
)
_ANY_ARGS = frozenset(
    names(
        "rev-parse ls-files ls-tree cat-file merge-base show-ref for-each-ref "
        "count-objects name-rev describe version blame annotate check-ignore check-attr"
    )
)
_DIFF_DENIED = {
    "--output": "writes a file",
    "--ext-diff": "runs an external diff program",
    "--output-directory": "writes files",
    "--open-files-in-pager": "runs a pager on the matches",
}
_STATUS = table(
    "-s --short -b --branch --show-stash --porcelain? --long -v --verbose -u? "
    "--untracked-files? --ignore-submodules? --ignored? -z --column? --no-column "
    "--ahead-behind --no-ahead-behind --renames --no-renames --find-renames? --no-short "
    "--no-branch --no-show-stash --no-verbose --no-ignored --null"
)
_BRANCH = table(
    "-a --all -r --remotes -l --list -v --verbose -q --quiet --show-current --contains= "
    "--no-contains= --merged= --no-merged= --points-at= --sort= --format= --column? "
    "--no-column --color? --no-color -i --ignore-case --abbrev? --no-abbrev --omit-empty "
    "-d -D --delete -m -M --move -c -C --copy -f --force --set-upstream-to= -u= "
    "--unset-upstream --edit-description --track? -t? --no-track --create-reflog "
    "--recurse-submodules --set-upstream",
    {
        **dict.fromkeys(("-d", "-D", "--delete"), "deletes a branch"),
        **dict.fromkeys(("-m", "-M", "--move"), "renames a branch"),
        **dict.fromkeys(("-c", "-C", "--copy"), "copies a branch"),
        **dict.fromkeys(("-f", "--force"), "moves a branch"),
        **dict.fromkeys(
            ("--set-upstream-to", "-u", "--unset-upstream", "--set-upstream"),
            "changes a branch's upstream",
        ),
        "--edit-description": "opens an editor",
        **dict.fromkeys(("--track", "-t", "--no-track"), "creates a branch"),
        "--create-reflog": "creates a branch",
        "--recurse-submodules": "creates branches in submodules",
    },
)
_TAG = table(
    "-l --list -n? --sort= --format= --contains= --no-contains= --merged= --no-merged= "
    "--points-at= --column? --no-column -i --ignore-case --color? --omit-empty "
    "-a --annotate -s --sign -u= --local-user= -f --force -d --delete -v --verify -m= "
    "--message= -F= --file= -e --edit --cleanup= --create-reflog --trailer=",
    {
        **dict.fromkeys(("-d", "--delete"), "deletes a tag"),
        **dict.fromkeys(("-v", "--verify"), "runs gpg"),
        **dict.fromkeys(
            (
                "-a", "--annotate", "-s", "--sign", "-u", "--local-user", "-f", "--force",
                "-m", "--message", "-F", "--file", "-e", "--edit", "--cleanup",
                "--create-reflog", "--trailer",
            ),
            "creates a tag",
        ),
    },
)  # fmt: skip
_PAGERS = frozenset({"less", "more", "most", "cat", "delta", "diff-so-fancy", "bat", "moar"})
_LFS_FILTERS = {
    "clean": {"git-lfs clean -- %f"},
    "smudge": {"git-lfs smudge -- %f", "git-lfs smudge --skip -- %f"},
    "process": {"git-lfs filter-process", "git-lfs filter-process --skip"},
    "required": {"true"},
}
_RUNS_PROGRAM = frozenset(
    names("core.alternaterefscommand diff.external gpg.program uploadpack.packobjectshook")
)
_QUIET_SECTIONS = frozenset(
    names(
        "credential difftool mergetool man browser web help instaweb sendemail submodule "
        "merge alias url http lfs pull push fetch init color user branch gui guitool"
    )
)
_RISKY_NAME_PARTS = ("command", "cmd", "program", "hook", "pager", "textconv")
_ONLY_FOR_WRITES_OR_NETWORK = frozenset(
    names("core.sshcommand core.askpass core.gitproxy core.editor sequence.editor ssh.variant")
)
"""Programs git runs only to commit, edit or reach a remote (never for a read command;
a partial clone, whose reads fetch, is refused on its own)."""
_SAFE_ENV = frozenset(
    names(
        "GIT_TERMINAL_PROMPT GIT_CONFIG_NOSYSTEM GIT_CEILING_DIRECTORIES GIT_CONFIG_COUNT "
        "GIT_DISCOVERY_ACROSS_FILESYSTEM GIT_OPTIONAL_LOCKS GIT_FLUSH "
        "GIT_CONFIG_PARAMETERS GIT_CONFIG_GLOBAL GIT_CONFIG_SYSTEM GIT_DIR GIT_WORK_TREE "
        "GIT_COMMON_DIR GIT_EDITOR GIT_DEFAULT_HASH GIT_ALLOW_PROTOCOL "
        "GIT_NO_REPLACE_OBJECTS GIT_LITERAL_PATHSPECS GIT_GLOB_PATHSPECS "
        "GIT_NOGLOB_PATHSPECS GIT_ICASE_PATHSPECS GIT_ADVICE GIT_PAGER "
        "GIT_PROTOCOL_FROM_USER"
    )
)
_SAFE_ENV_PREFIXES = (
    "GIT_CONFIG_KEY_", "GIT_CONFIG_VALUE_", "GIT_PS1_", "GIT_SSL_", "GIT_HTTP_", "GIT_AUTHOR_",
    "GIT_COMMITTER_", "GIT_LFS_",
)  # fmt: skip
_SUBMODULE_RISK = re.compile(
    r"fsmonitor|pager|hookspath|external|textconv|sshcommand|askpass|editor|gitproxy|program"
    r"|include|filter|trace2|uploadpack|receivepack|partialclone|promisor|command|\bcmd\b"
    r"|alternaterefs",
    re.I,
)
_GITLINK_MODE = b"\x00\x00\xe0\x00"


def judge_git(args: list[Word], where: Where) -> Finding | None:
    """``None`` when ``git args…`` only reads (config, hooks and environment included)."""
    values = [word.value or "" for word in args]
    cwds = list(where.cwds)
    i = 0
    while i < len(values) and values[i].startswith("-"):
        option = values[i]
        name = option.split("=", 1)[0]
        if option == "-C" and i + 1 < len(values):
            paths = word_paths(args[i + 1], where.with_cwds(tuple(cwds)))
            if paths is None:
                return Finding(f"git -C {args[i + 1].raw}: a directory only known at run time")
            cwds = paths
            i += 2
            continue
        if option in _GLOBAL_FLAGS:
            i += 1
            continue
        denied = name if name in _GLOBAL_DENIED else _prefix_of(name, _GLOBAL_DENIED)
        if denied is not None:
            return Finding(f"git {denied} {_GLOBAL_DENIED[denied]}")
        if option in ("--version", "--html-path", "--man-path", "--info-path"):
            return _environment_and_config(where, cwds)
        return Finding(f"git {option} is not a known read-only option", vouchable=True)
    if i == len(values):
        return Finding("git without a subcommand is not a read-only command", vouchable=True)
    sub, rest = values[i], args[i + 1 :]
    finding = _subcommand(sub, rest, where.with_cwds(tuple(cwds)))
    if finding is not None and not finding.vouchable:
        return finding
    # A form only a user's entry may allow still needs a harmless configuration (and a
    # subcommand that is not an alias, which may run a shell command).
    alias = sub if finding is not None else None
    return _environment_and_config(where, cwds, alias=alias) or finding


def git_key_words(args: list[Word]) -> list[str]:
    """``git -C x --no-pager log -5`` → ``["git", "log", "-5"]`` (for allowlist entries)."""
    values = [word.value or "" for word in args]
    i = 0
    while i < len(values) and values[i].startswith("-"):
        i += 2 if values[i] == "-C" else 1
    return ["git", *values[i:]]


def _prefix_of(name: str, options: Mapping[str, str]) -> str | None:
    if not name.startswith("--") or len(name) < 4:
        return None
    return next((option for option in options if option.startswith(name)), None)


def _subcommand(sub: str, args: list[Word], where: Where) -> Finding | None:
    if sub in _DIFFLIKE or (sub == "grep"):
        return _difflike(sub, args, where)
    if sub == "status":
        parsed = parse_options("git status", args, _STATUS)
        return Finding(parsed.problem, vouchable=parsed.denied is None) if parsed.problem else None
    if sub in ("branch", "tag"):
        return _listing(sub, args)
    if sub in _ANY_ARGS:
        if sub in ("blame", "annotate"):
            # These files are printed, or named line by line in errors.
            flags = ("--contents", "-S", "--ignore-revs-file")
            return secret_reads(option_words(args, flags), where)
        return None
    if sub == "remote":
        return _remote([word.value or "" for word in args])
    if sub in ("stash", "reflog", "worktree"):
        return _with_action(sub, args, where)
    if sub in _WRITERS:
        return Finding(f"git {sub} changes the repository or runs programs")
    return Finding(f"git {sub} is not a read-only git command", vouchable=True)


def _difflike(sub: str, args: list[Word], where: Where) -> Finding | None:
    for word in args:
        value = word.value or ""
        if value == "--":
            break
        if value.startswith("--"):
            name = value.split("=", 1)[0]
            hit = name if name in _DIFF_DENIED else _prefix_of(name, _DIFF_DENIED)
            if hit is not None:
                return Finding(f"git {sub} {hit} {_DIFF_DENIED[hit]}")
        elif sub == "grep" and value.startswith("-") and "O" in value[1:]:
            return Finding("git grep -O runs a pager on the matches")
    if sub == "diff" and any(word.value == "--no-index" for word in args):
        operands = [w for w in args if not (w.value or "").startswith("-")]
        return secret_reads(operands, where)
    return None


def _listing(sub: str, args: list[Word]) -> Finding | None:
    spec = _BRANCH if sub == "branch" else _TAG
    parsed = parse_options(f"git {sub}", args, spec)
    if parsed.problem:
        return Finding(parsed.problem, vouchable=parsed.denied is None)
    if parsed.operands and not parsed.has("-l", "--list"):
        return Finding(f"git {sub} {parsed.operands[0].raw} creates a {sub}")
    return None


def _remote(values: list[str]) -> Finding | None:
    if values in ([], ["-v"], ["--verbose"]):
        return None
    if values and values[0] == "get-url":
        rest = [v for v in values[1:] if v not in ("--push", "--all")]
        if len(rest) == 1 and not rest[0].startswith("-"):
            return None
    action = values[0] if values else ""
    return Finding(f"git remote {action} changes remotes or contacts them".replace("  ", " "))


def _with_action(sub: str, args: list[Word], where: Where) -> Finding | None:
    values = [word.value or "" for word in args]
    action = values[0] if values else ""
    reading = {"stash": ("list", "show"), "reflog": ("", "show", "exists"), "worktree": ("list",)}
    if action.startswith("-") and sub == "reflog":
        action = ""
    if action not in reading[sub]:
        return Finding(f"git {sub} {action} changes the repository".replace("  ", " "))
    return _difflike(sub, args[1:] if action else args, where)


# ------------------------------------------------------------- configuration


def _environment_and_config(
    where: Where, cwds: list[Path], *, alias: str | None = None
) -> Finding | None:
    for key, value in where.env.items():
        if not key.startswith("GIT_") or key in _SAFE_ENV or key.startswith(_SAFE_ENV_PREFIXES):
            if key == "GIT_PAGER" and value and not _known_pager(value):
                return Finding("the environment sets $GIT_PAGER to a program git may run")
            continue
        return Finding(f"the environment sets ${key}, which can make git run or write something")
    probe = where.git or GitProbe(where.env, untrusted=(where.project, *where.cwds))
    for cwd in dict.fromkeys(cwds):
        problem = inspect_repository(cwd, probe, alias=alias)
        if problem is not None:
            return Finding(problem)
    return None


def inspect_repository(cwd: Path, probe: GitProbe, *, alias: str | None = None) -> str | None:
    """Why git commands in ``cwd`` could run a program, or ``None`` (``alias``: a
    subcommand that must not be defined as an alias)."""
    output = probe.run(["config", "--list", "--show-origin", "-z"], cwd)
    if isinstance(output, str):
        return output
    if output is None:
        return None
    if len(output) > MAX_CONFIG_BYTES:
        return "git's configuration is too large to check"
    for origin, key, value in _config_entries(output):
        if alias is not None and key.lower() == f"alias.{alias.lower()}":
            return f"git {alias} is an alias (from {origin}), which may run any command"
        reason = config_key_risk(key, value)
        if reason is not None:
            return f"git config {key} (from {origin}) {reason}"
    layout = probe.run(["rev-parse", "--absolute-git-dir", "--git-common-dir"], cwd)
    if not isinstance(layout, bytes):
        return None  # not a repository: nothing below applies
    lines = layout.decode("utf-8", "surrogateescape").splitlines()
    if len(lines) < 2:
        return None
    git_dir = Path(lines[0])
    common = Path(os.path.normpath(cwd / lines[1]))
    return _hook_problem(common / "hooks") or _submodule_problem(git_dir, common, cwd, probe)


def _config_entries(output: bytes) -> list[tuple[str, str, str]]:
    fields = output.decode("utf-8", "surrogateescape").split("\0")
    entries = []
    for origin, item in zip(fields[0::2], fields[1::2], strict=False):
        key, _, value = item.partition("\n")
        entries.append((origin, key, value))
    return entries


def config_key_risk(key: str, value: str) -> str | None:
    """Why a git configuration key makes read commands run something, or ``None``."""
    lowered = key.lower()
    section = lowered.split(".", 1)[0]
    name = lowered.rsplit(".", 1)[-1]
    if lowered == "core.fsmonitor":
        return None if _boolean(value) is not None else "runs a program (fsmonitor hook)"
    if lowered == "core.pager" or section == "pager":
        if _boolean(value) is not None or _known_pager(value):
            return None
        return "runs a program as git's pager"
    if lowered in _ONLY_FOR_WRITES_OR_NETWORK:
        return None
    if lowered == "core.hookspath":
        return "points git at hooks outside .git/hooks"
    if lowered in _RUNS_PROGRAM:
        return "runs a program"
    if section == "diff" and name in ("command", "textconv"):
        return "runs a program on diffs"
    if section == "filter" and name in ("clean", "smudge", "process", "required"):
        subsection = lowered[len("filter.") : -len(name) - 1]
        if subsection == "lfs" and value.strip() in _LFS_FILTERS[name]:
            return None
        return "runs a filter program on files"
    if section == "gpg" and name in ("program", "defaultkeycommand"):
        return "runs a program"
    if section == "trace2":
        return "writes trace files"
    if section == "remote" and name in ("uploadpack", "receivepack", "vcs", "proxy"):
        return "runs a program when git fetches"
    if lowered == "extensions.partialclone" or (
        section == "remote" and name == "promisor" and _boolean(value)
    ):
        return "makes read commands fetch missing objects over the network"
    if section not in _QUIET_SECTIONS and any(part in name for part in _RISKY_NAME_PARTS):
        return "may run a program"
    return None


def _boolean(value: str) -> bool | None:
    lowered = value.strip().lower()
    if lowered in ("true", "yes", "on", "1"):
        return True
    if lowered in ("false", "no", "off", "0", ""):
        return False
    return None


def _known_pager(value: str) -> bool:
    script = parse_script(value)
    if not script.plain or not script.commands:
        return False
    for command in script.commands:
        program = command.words[0].value if command.words else None
        if program is None or program.rsplit("/", 1)[-1] not in _PAGERS:
            return False
    return True


def _hook_problem(hooks: Path) -> str | None:
    hook = hooks / "post-index-change"
    if hook.exists() and os.access(hook, os.X_OK):
        return f"{hook} runs when git status refreshes the index"
    return None


def _submodule_problem(git_dir: Path, common: Path, cwd: Path, probe: GitProbe) -> str | None:
    """``git status`` and ``git diff`` run git in every submodule, with its own config."""
    configs: list[Path] = []
    modules = common / "modules"
    if modules.is_dir():
        found = module_configs(modules)
        if found is None:
            return "the repository has too many submodules to check"
        configs += found
    for gitdir in _gitlink_dirs(git_dir, cwd, probe):
        configs.append(gitdir / "config")
    for config in configs:
        data = read_regular(config, 200_000)
        if data is None:
            if config.exists() and not config.is_file():
                return f"submodule config {config} is not a regular file"
            continue
        text = data.decode("utf-8", "replace")
        match = _SUBMODULE_RISK.search(text)
        if match:
            return f"submodule config {config} sets {match.group(0)}, which may run a program"
        problem = _hook_problem(config.parent / "hooks")
        if problem is not None:
            return problem
    return None


def module_configs(modules: Path) -> list[Path] | None:
    """The ``config`` files of the submodule git directories under ``modules`` (nested
    ones too), or ``None`` when there are too many entries to look at. Symbolic links
    to directories are not followed."""
    found: list[Path] = []
    stack = [modules]
    seen = 0
    while stack:
        try:
            entries = list(os.scandir(stack.pop()))
        except OSError:
            continue
        for entry in entries:
            seen += 1
            if seen > MAX_MODULE_ENTRIES or len(found) > MAX_SUBMODULES:
                return None
            if entry.is_dir(follow_symlinks=False):
                if entry.name not in ("objects", "refs", "logs"):
                    stack.append(Path(entry.path))
            elif entry.name == "config":
                found.append(Path(entry.path))
    return found


def _gitlink_dirs(git_dir: Path, cwd: Path, probe: GitProbe) -> list[Path]:
    index = read_regular(git_dir / "index", 64 << 20)
    if index is None or _GITLINK_MODE not in index:
        return []
    listing = probe.run(["ls-files", "--stage", "-z", "--full-name"], cwd)
    top = probe.run(["rev-parse", "--show-toplevel"], cwd)
    if not isinstance(listing, bytes) or not isinstance(top, bytes) or not top.strip():
        return []
    root = Path(top.decode("utf-8", "surrogateescape").strip())
    found: list[Path] = []
    for entry in listing.decode("utf-8", "surrogateescape").split("\0"):
        meta, _, path = entry.partition("\t")
        if not meta.startswith("160000 "):
            continue
        dot_git = root / path / ".git"
        if dot_git.is_dir():
            found.append(dot_git)
        elif dot_git.is_file():
            pointer = (read_regular(dot_git, 4096) or b"").decode("utf-8", "replace").strip()
            if pointer.startswith("gitdir:"):
                found.append(Path(os.path.normpath(dot_git.parent / pointer[7:].strip())))
        if len(found) >= MAX_SUBMODULES:
            break
    return found
