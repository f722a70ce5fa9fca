"""Effects of git, network tools, services and ``find`` (see ``shell_effects``)."""

from __future__ import annotations

from ml_intern_tui.safety.shell_effects import argv_effects, script_effects
from ml_intern_tui.safety.shell_files import (
    Effects,
    ProtectedWrite,
    has_long,
    option_words,
    short_letters,
    split_args,
    write_reason,
)
from ml_intern_tui.safety.shell_git import config_key_risk
from ml_intern_tui.safety.shell_packages import package_effects
from ml_intern_tui.safety.shell_parse import parse_script
from ml_intern_tui.safety.shell_paths import Where, word_paths
from ml_intern_tui.safety.shell_words import Word, names

NETWORK_TOOLS = frozenset(
    {
        "curl", "wget", "ssh", "scp", "sftp", "nc", "ncat", "netcat", "socat", "telnet", "ftp",
        "ping", "dig", "nslookup", "host", "traceroute", "mtr", "http", "https", "aria2c",
        "gh", "aws", "gcloud", "gsutil", "az", "kubectl", "npx", "pnpx", "bunx", "uvx",
        "git-lfs", "ollama", "wandb", "huggingface-cli", "hf",
    }
)  # fmt: skip
_GIT_NETWORK = frozenset({"clone", "fetch", "pull", "push", "ls-remote", "fetch-pack", "send-pack"})
_HF_LOCAL = frozenset({"version", "env", "--help", "-h", "--version"})
_FIND_TESTS = frozenset(
    names(
        "-name -iname -path -ipath -regex -iregex -type -newer -mtime -mmin -size -empty "
        "-wholename -iwholename -user -perm -links -atime -ctime -amin -cmin"
    )
)
_HF_IRREVERSIBLE = frozenset({"delete", "delete-cache", "settings", "rm", "prune"})


def tool_effects(
    program: Word, args: list[Word], where: Where, *, tail_unknown: bool, depth: int
) -> Effects:
    """Effects of programs that are not shells, runners or plain file tools."""
    name = (program.value or "").rsplit("/", 1)[-1]
    if name == "git":
        return git_effects(args, where, depth)
    packages = package_effects(program, args, where)
    if packages is not None:
        return packages
    if name == "find":
        return _find(args, where, depth)
    if name in ("curl", "wget"):
        return _download(name, args, where)
    if name in ("hf", "huggingface-cli"):
        return _hub(name, args)
    if name in ("rsync", "scp"):
        return _remote_copy(name, args, where)
    if name in ("systemctl", "service", "crontab", "docker", "podman"):
        return _services(name, args)
    out = Effects()
    if name in NETWORK_TOOLS:
        out.network.append(f"{name} uses the network")
    return out


def _values(args: list[Word]) -> list[str]:
    return [word.value or "" for word in args]


# ----------------------------------------------------------------------- git


def git_effects(args: list[Word], where: Where, depth: int) -> Effects:
    out = Effects()
    values = _values(args)
    i = 0
    while i < len(values) and values[i].startswith("-"):
        option = values[i]
        if option in ("-c", "--config-env") and i + 1 < len(values):
            out.merge(_git_inline_config(args[i + 1], where, depth))
            i += 2
            continue
        if option.startswith("--config-env="):
            out.irreversible.append("git --config-env sets configuration from the environment")
        i += 2 if option in ("-C", "--git-dir", "--work-tree", "--namespace") else 1
    if i >= len(values):
        return out
    sub, rest = values[i], values[i + 1 :]
    options, operands = split_args(args[i + 1 :])
    letters = short_letters(options)
    if sub in _GIT_NETWORK or (sub == "remote" and rest[:1] in (["update"], ["show"], ["prune"])):
        out.network.append(f"git {sub} uses the network")
    if (
        sub in ("submodule", "lfs")
        and rest[:1]
        and rest[0] in ("update", "fetch", "pull", "push", "add", "sync")
    ):
        out.network.append(f"git {sub} {rest[0]} uses the network")
    reason = _git_irreversible(sub, options, letters, operands, where)
    if reason is not None:
        out.irreversible.append(reason)
    if sub == "config" and _git_config_writes(options, [w.value or "" for w in operands]):
        out.irreversible.append(
            ProtectedWrite(
                "git config changes git's settings (.git/config or ~/.gitconfig), which can "
                "make later git commands run programs"
            )
        )
    return out


_GIT_CONFIG_READS = frozenset(
    {
        "--get", "--get-all", "--get-regexp", "--get-urlmatch", "--get-color",
        "--get-colorbool", "--list", "-l", "--show-origin", "--show-scope", "--null", "-z",
        "--name-only", "--includes", "--no-includes", "--type", "--bool", "--int",
        "--bool-or-int", "--path", "--expiry-date", "--default", "--local", "--global",
        "--system", "--worktree", "--file", "-f", "--blob",
    }
)  # fmt: skip
"""Options that only choose what ``git config`` reads (or from where)."""


def _git_config_writes(options: list[str], operands: list[str]) -> bool:
    """Whether ``git config OPTIONS OPERANDS`` may change a config file."""
    if operands[:1] in (["get"], ["list"]):
        return False
    names = {option.split("=", 1)[0] for option in options}
    if not names <= _GIT_CONFIG_READS:
        return True  # --add, --unset, --edit, --replace-all, --rename-section, …
    if names & {"--get", "--get-all", "--get-regexp", "--get-urlmatch", "--list", "-l"}:
        return False
    if names & {"--get-color", "--get-colorbool"}:
        return False
    return len(operands) != 1  # 'git config key' reads; 'git config key value' sets


def _git_inline_config(word: Word, where: Where, depth: int) -> Effects:
    out = Effects()
    if word.value is None:
        out.irreversible.append("git -c sets configuration only known at run time")
        return out
    key, _, value = word.value.partition("=")
    if key.lower().startswith("alias.") and value.startswith("!"):
        return out.merge(script_effects(parse_script(value[1:]), where, depth + 1))
    if config_key_risk(key, value) is not None:
        out.merge(script_effects(parse_script(value), where, depth + 1))
    return out


def _git_irreversible(
    sub: str, options: list[str], letters: set[str], operands: list[Word], where: Where
) -> str | None:
    values = [word.value or "" for word in operands]
    if sub == "push":
        if "f" in letters or has_long(options, "--force", "--force-with-lease", "--mirror"):
            return "git push --force rewrites history on the remote"
        if "d" in letters or has_long(options, "--delete", "--prune"):
            return "git push --delete removes remote branches"
        if any(v.startswith("+") or (v.startswith(":") and len(v) > 1) for v in values):
            return "git push +ref/:ref rewrites or deletes remote branches"
        return None
    if sub == "reset" and has_long(options, "--hard", "--merge", "--keep"):
        return "git reset --hard discards uncommitted changes"
    if sub == "clean" and not ("n" in letters or has_long(options, "--dry-run")):
        return "git clean deletes untracked files"
    if sub == "checkout":
        if "f" in letters or has_long(options, "--force") or "--" in _raw_args(options, operands):
            return "git checkout discards uncommitted changes"
        if "." in values or len(values) > 1 or _existing_file(operands, where):
            return "git checkout <paths> discards uncommitted changes"
        return None
    if sub == "restore":
        staged_only = ("S" in letters or has_long(options, "--staged")) and not (
            "W" in letters or has_long(options, "--worktree")
        )
        return None if staged_only else "git restore discards uncommitted changes"
    if sub == "switch" and ("f" in letters or has_long(options, "--discard-changes", "--force")):
        return "git switch --discard-changes discards uncommitted changes"
    if sub == "branch" and (
        "D" in letters
        or (
            ("d" in letters or has_long(options, "--delete"))
            and ("f" in letters or has_long(options, "--force"))
        )
        or "M" in letters
        or "C" in letters
    ):
        return "git branch -D deletes (or overwrites) a branch that may not be merged"
    if sub == "stash" and values[:1] and values[0] in ("drop", "clear"):
        return f"git stash {values[0]} deletes stashed changes"
    if sub == "reflog" and values[:1] and values[0] in ("expire", "delete"):
        return "git reflog expire/delete removes the history of refs"
    if sub == "gc" and any(o.startswith("--prune") for o in options):
        return "git gc --prune deletes unreachable objects"
    if sub in ("prune", "filter-branch", "filter-repo"):
        return f"git {sub} rewrites or deletes history"
    if sub == "update-ref" and ("d" in letters or has_long(options, "--delete")):
        return "git update-ref -d deletes a ref"
    if sub == "tag" and ("d" in letters or has_long(options, "--delete")):
        return "git tag -d deletes a tag"
    if (
        sub == "worktree"
        and values[:1] == ["remove"]
        and ("f" in letters or has_long(options, "--force"))
    ):
        return "git worktree remove --force deletes a working tree"
    if sub == "lfs" and values[:1] == ["prune"]:
        return "git lfs prune deletes local LFS objects"
    return None


def _raw_args(options: list[str], operands: list[Word]) -> list[str]:
    return options + [word.value or "" for word in operands]


def _existing_file(operands: list[Word], where: Where) -> bool:
    for word in operands:
        for path in word_paths(word, where) or []:
            if path.is_file():
                return True
    return False


# ------------------------------------------------------------ network tools


def _download(name: str, args: list[Word], where: Where) -> Effects:
    out = Effects()
    out.network.append(f"{name} uses the network")
    outputs = {
        "curl": ("-o", "--output", "--output-dir"),
        "wget": (
            "-O",
            "--output-document",
            "-P",
            "--directory-prefix",
            "-o",
            "--output-file",
            "-a",
            "--append-output",
        ),
    }[name]
    for target in option_words(args, outputs):
        reason = write_reason(target, where, verb=f"{name} writes to")
        if reason is not None:
            out.irreversible.append(reason)
    return out


def _hub(name: str, args: list[Word]) -> Effects:
    out = Effects()
    words = [w.value or "" for w in args if not (w.value or "").startswith("-")]
    if (
        not args
        or (words[:1] and words[0] in _HF_LOCAL)
        or words[:2] in (["cache", "ls"], ["cache", "scan"])
    ):
        return out
    out.network.append(f"{name} uses the Hugging Face Hub")
    if any(word in _HF_IRREVERSIBLE for word in words[:3]):
        out.irreversible.append(
            f"{name} {' '.join(words[:2])} deletes or changes data on the Hub or in the cache"
        )
    return out


def _remote_copy(name: str, args: list[Word], where: Where) -> Effects:
    out = Effects()
    options, operands = split_args(args, frozenset({"-e", "--rsh", "-P", "-i", "-F", "-o", "-l"}))
    values = [w.value for w in operands]
    remote = [v for v in values if v is not None and _is_remote(v)]
    if remote or name == "scp":
        out.network.append(f"{name} copies over the network")
    if name == "rsync" and (
        has_long(options, "--delete", "--remove-source-files", "--del")
        or any(o.startswith("--delete") for o in options)
    ):
        out.irreversible.append("rsync --delete removes files at the destination")
    if operands and (values[-1] is None or not _is_remote(values[-1] or "")) and len(operands) > 1:
        reason = write_reason(operands[-1], where, verb=f"{name} writes to", follow=False)
        if reason is not None:
            out.irreversible.append(reason)
    return out


def _is_remote(value: str) -> bool:
    if value.startswith(("rsync://", "/", "./", "../", "~")):
        return value.startswith("rsync://")
    head = value.split("/", 1)[0]
    return ":" in head


def _services(name: str, args: list[Word]) -> Effects:
    out = Effects()
    words = [w.value or "" for w in split_args(args)[1]]
    values = _values(args)
    if name == "crontab":
        if "-l" not in values:
            out.irreversible.append("crontab installs commands that run outside the sandbox")
        return out
    if name in ("docker", "podman"):
        if any(w in ("rm", "rmi", "prune", "kill") for w in words[:3]):
            out.irreversible.append(
                f"{name} {' '.join(words[:2])} deletes containers, images or volumes"
            )
        if words[:1] and words[0] in ("pull", "push", "login", "search"):
            out.network.append(f"{name} {words[0]} uses the network")
        return out
    verb = words[1] if name == "service" and len(words) > 1 else (words[0] if words else "")
    if verb not in (
        "status",
        "show",
        "cat",
        "list-units",
        "list-unit-files",
        "is-active",
        "is-enabled",
        "--status-all",
        "",
    ):
        out.irreversible.append(f"{name} {verb} changes system services")
    return out


# ---------------------------------------------------------------------- find


def _find(args: list[Word], where: Where, depth: int) -> Effects:
    out = Effects()
    values = _values(args)
    roots: list[Word] = []
    i = 0
    while i < len(values) and values[i] in ("-H", "-L", "-P"):
        i += 1
    while (
        i < len(values) and not values[i].startswith("-") and values[i] not in ("(", "!", ")", ",")
    ):
        roots.append(args[i])
        i += 1
    roots = roots or [Word(value=".", raw=".")]
    expression = values[i:]
    if "-delete" in expression:
        out.destructive.append("find -delete deletes files")
        before = expression[: expression.index("-delete")]
        filtered = any(token in _FIND_TESTS for token in before)
        for root in roots:
            reason = write_reason(
                root, where, verb="find -delete deletes under", follow=False, allow_project=True
            )
            if reason is not None:
                out.irreversible.append(reason)
            elif not filtered:
                out.irreversible.append(f"find {root.raw} -delete deletes a whole directory tree")
    for index, token in enumerate(expression):
        if token not in ("-exec", "-execdir", "-ok", "-okdir"):
            continue
        start = i + index + 1
        end = start
        while end < len(args) and values[end] not in (";", "+"):
            end += 1
        command = args[start:end]
        for root in roots:
            base = root.value if root.value is not None else None
            marker = Word(value=f"{base}/_" if base else None, raw="{}")
            argv = [marker if w.value == "{}" else w for w in command]
            if any(w.value is not None and "{}" in w.value and w.value != "{}" for w in command):
                argv = [
                    Word(value=None, raw=w.raw)
                    if w.value and "{}" in w.value and w.value != "{}"
                    else w
                    for w in argv
                ]
            out.merge(argv_effects(argv, where, depth=depth + 1))
    return out
