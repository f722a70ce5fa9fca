"""The environment tools run with: this process's environment minus its secrets.

The shell (foreground commands and background jobs) and stdio MCP servers never see the
app's credentials. A variable is withheld when its NAME says it is a secret (``*_TOKEN``,
``*_KEY``, ``*SECRET*``, ``*PASSWORD*``, ``*CREDENTIAL*``, ``*API_KEY*``, known provider
variables, every ``SLACK_*``) or when its VALUE looks like one (``hf_…``, ``sk-…``,
``ghp_…``, ``xox…``, a URL with a password: whatever ``core.redact`` recognises). The
app's own ``ML_INTERN_*`` settings are withheld too: a nested run must not inherit a mode
or budget the user gave this one.

``[tools.bash] pass_env`` names variables the user wants passed anyway (exact names or
globs such as ``WANDB_*``); a bare wildcard is refused at config load, since it would
pass every secret.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Iterable, Mapping

from ml_intern_tui.core.redact import redact_text

KNOWN_SECRET_NAMES: frozenset[str] = frozenset(
    {
        "HF_TOKEN",
        "HUGGING_FACE_HUB_TOKEN",
        "HUGGINGFACEHUB_API_TOKEN",
        "OPENAI_API_KEY",
        "ANTHROPIC_API_KEY",
        "GITHUB_TOKEN",
        "GH_TOKEN",
        "GH_ENTERPRISE_TOKEN",
        "GITLAB_TOKEN",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "WANDB_API_KEY",
        "COMET_API_KEY",
        "NEPTUNE_API_TOKEN",
        "KAGGLE_KEY",
        "SENTRY_DSN",
        "DATABASE_URL",
        # Agents and helpers that hand out credentials on request.
        "SSH_AUTH_SOCK",
        "GPG_AGENT_INFO",
        "GIT_ASKPASS",
        "SSH_ASKPASS",
        "VSCODE_GIT_IPC_HANDLE",
    }
)
"""Variables withheld by name whatever their value."""

_SECRET_NAME_RE = re.compile(
    r"TOKENS?$"  # HF_TOKEN, GH_TOKEN, NGROK_AUTHTOKEN (not TOKENIZERS_PARALLELISM)
    r"|(?:^|_)KEYS?$"  # KAGGLE_KEY, SIGNING_KEY (not MONKEY_PATCH)
    r"|SECRET|PASSWORD|PASSWD|PASSPHRASE|CREDENTIAL|APIKEY|API_KEY|PRIVATE_KEY"
    r"|ACCESS_KEY|WEBHOOK|ASKPASS"
    r"|(?:^|_)PASS$|(?:^|_)AUTH$|(?:^|_)DSN$"
)
_WITHHELD_PREFIXES: tuple[str, ...] = ("SLACK_", "ML_INTERN_")
"""Slack settings are credentials or point at them; ``ML_INTERN_*`` are this app's own."""

_PATTERN_RE = re.compile(r"^[A-Za-z0-9_*?\[\]!-]+$")


def is_secret_name(name: str) -> bool:
    """True when a variable called ``name`` holds (or hands out) a credential."""
    upper = name.upper()
    if upper in KNOWN_SECRET_NAMES or upper.startswith(_WITHHELD_PREFIXES):
        return True
    return bool(_SECRET_NAME_RE.search(upper))


def looks_like_secret(value: str) -> bool:
    """True when ``value`` holds something the redactor recognises as a credential."""
    return bool(value) and redact_text(value) != value


def pass_env_problem(pattern: str) -> str | None:
    """Why ``pattern`` cannot be a ``pass_env`` entry, or ``None`` when it is fine."""
    if not pattern.strip():
        return "an empty name passes nothing; remove it"
    if not _PATTERN_RE.match(pattern):
        return f"{pattern!r} is not a variable name (letters, digits, _ and * ? globs)"
    if not pattern.strip("*?"):
        return f"{pattern!r} would pass every secret; name the variables (WANDB_*, MY_VAR)"
    return None


def _passed(name: str, pass_env: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in pass_env)


def withheld_names(
    env: Mapping[str, str] | None = None, *, pass_env: Iterable[str] = ()
) -> list[str]:
    """The names ``tool_environment`` leaves out (sorted), for messages and tests."""
    source = os.environ if env is None else env
    patterns = tuple(pass_env)
    return sorted(name for name, value in source.items() if not _keeps(name, value, patterns))


def _keeps(name: str, value: str, pass_env: tuple[str, ...]) -> bool:
    if pass_env and _passed(name, pass_env):
        return True
    return not (is_secret_name(name) or looks_like_secret(value))


def tool_environment(
    env: Mapping[str, str] | None = None,
    *,
    pass_env: Iterable[str] = (),
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """``env`` (default: this process's) without secrets, then ``extra`` on top.

    ``pass_env`` names (or globs) are kept even when they look secret: the user asked.
    ``extra`` comes from the app itself (``PYTHONUNBUFFERED``, the sandbox's ``TMPDIR``)
    and is trusted as given.
    """
    source = os.environ if env is None else env
    patterns = tuple(pass_env)
    result = {name: value for name, value in source.items() if _keeps(name, value, patterns)}
    if extra:
        result.update(extra)
    return result


def inherited_environment(
    names: Iterable[str], env: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The variables ``names`` of ``env`` a child inherits: secret ones become ``""``.

    For libraries that add a default environment of their own under what they are
    given (the MCP SDK's stdio client): the empty value overrides theirs.
    """
    source = os.environ if env is None else env
    return {
        name: ("" if is_secret_name(name) or looks_like_secret(source[name]) else source[name])
        for name in names
        if name in source
    }
