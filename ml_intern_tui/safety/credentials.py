"""Credential stores: local files no model needs to see, read only after a person says yes.

ML work never needs the model to read ``~/.ssh/id_ed25519``, ``~/.aws/credentials``, a
``.netrc``, the Hugging Face token file or this app's config (Slack tokens): what it reads
is sent to a model provider, and what a tool uploads leaves the machine. So every tool
that reads a local file for the model or sends one away (``read``, ``hf_dataset_inspect``,
``hf_jobs`` scripts, ``hf_repo_files`` uploads, local MCP tools) asks, in every mode, when
the file is one of these. The list is the union of the stores the OS sandbox hides and
the ones shell analysis refuses to print, plus files named by credential variables, the
machine's own secrets and other processes' ``/proc`` entries (their environments).
Shell and REPL histories count too: they hold the tokens people paste
(``export OPENAI_API_KEY=…``, ``hf auth login --token …``), often old ones the app does
not know to scrub. The lists below are also what the sandbox hides and what the shell
analysis refuses to call read-only, so the two cannot drift apart.

``.env`` files are different: a project's own settings, which the model reads for good
reasons. Their secret-looking values are registered as known secrets instead
(``register_env_file_secrets``), so the model sees ``WANDB_API_KEY=[REDACTED_…]`` through
any tool and nothing written keeps the value.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterable, Mapping
from pathlib import Path

from ml_intern_tui import paths

CREDENTIAL_STORES: tuple[str, ...] = (
    ".ssh",
    ".netrc",
    ".aws",
    ".azure",
    ".config/gcloud",
    ".git-credentials",
    ".config/git/credentials",
    ".config/gh",
    ".config/hub",
    ".docker/config.json",
    ".kube",
    ".pypirc",
    ".npmrc",
    ".gnupg",
    ".password-store",
    ".local/share/keyrings",
    ".kaggle",
    ".huggingface",
    ".cache/huggingface/token",
    ".cache/huggingface/stored_tokens",
    ".vault-token",
    ".terraform.d/credentials.tfrc.json",
    ".config/rclone",
    ".s3cfg",
    ".boto",
    ".databrickscfg",
    ".pgpass",
    ".my.cnf",
    ".codex/auth.json",
    ".claude/.credentials.json",
    ".mozilla",
    ".config/google-chrome",
    ".config/chromium",
    ".config/pypoetry/auth.toml",
    ".cargo/credentials.toml",
    ".cargo/credentials",
    ".m2/settings.xml",
    ".gradle/gradle.properties",
    ".oci",
    ".config/doctl",
    ".modal.toml",
    ".comet.config",
    ".mlflow/credentials",
    ".config/vastai",
    ".runpod",
    ".ollama/id_ed25519",
)
"""Credential stores (browser profiles hold session cookies)."""

HISTORY_FILES: tuple[str, ...] = (
    ".bash_history",
    ".zsh_history",
    ".zhistory",
    ".sh_history",
    ".history",
    ".local/share/fish/fish_history",
    ".python_history",
    ".ipython/profile_default/history.sqlite",
    ".node_repl_history",
    ".psql_history",
    ".mysql_history",
    ".sqlite_history",
    ".rediscli_history",
    ".lesshst",
)
"""Shell and REPL histories: tokens typed on a command line stay there."""

SECRET_IN_HOME: tuple[str, ...] = CREDENTIAL_STORES + HISTORY_FILES
"""Every path under the home directory whose contents must not reach a model."""


def credential_home_paths() -> tuple[str, ...]:
    """Credential stores and histories under the home directory (relative paths): what
    the sandbox hides and what shell analysis refuses to print, together."""
    # Imported here: both modules build their own lists from the ones above.
    from ml_intern_tui.safety.sandbox_mounts import HIDDEN_IN_HOME
    from ml_intern_tui.safety.shell_paths import SECRET_HOME_PATHS

    return tuple(dict.fromkeys((*SECRET_IN_HOME, *HIDDEN_IN_HOME, *SECRET_HOME_PATHS)))


_PID = re.compile(r"^(\d+|self|thread-self)$")


def credential_roots(env: Mapping[str, str] | None = None, home: Path | None = None) -> list[Path]:
    """Every credential file or directory (resolved), existing or not."""
    return [Path(root) for root in _resolved_roots(env, home)]


_ROOT_PATHS: dict[tuple[object, ...], tuple[str, ...]] = {}
"""The roots as written (not resolved), by the environment and home they came from."""


def _root_paths(env: Mapping[str, str] | None, home: Path | None) -> tuple[str, ...]:
    """The credential paths named by ``env`` and ``home``, before resolving: a pure
    function of the two (kept, keyed by the whole environment)."""
    from ml_intern_tui.safety.sandbox_mounts import CREDENTIAL_FILE_VARS, hf_home
    from ml_intern_tui.safety.shell_paths import SYSTEM_SECRETS

    environ = os.environ if env is None else env
    # ``~`` in a variable is expanded with this process's own HOME, whatever ``env`` says.
    key = (None if home is None else str(home), tuple(environ.items()), os.environ.get("HOME"))
    known = _ROOT_PATHS.get(key)
    if known is not None:
        return known
    base = home if home is not None else Path(environ.get("HOME") or Path.home())
    roots = [base / rel for rel in credential_home_paths()]
    hub = hf_home(environ)
    roots += [hub / "token", hub / "stored_tokens"]
    roots += [paths.config_dir(environ), paths.user_config_path(environ)]
    roots += [Path(environ[v]).expanduser() for v in CREDENTIAL_FILE_VARS if environ.get(v)]
    roots += [Path(p) for p in SYSTEM_SECRETS]
    written = tuple(os.path.expanduser(root) for root in roots)
    if len(_ROOT_PATHS) >= 8:  # tests use many environments; a session uses one
        _ROOT_PATHS.clear()
    _ROOT_PATHS[key] = written
    return written


def _resolved_roots(env: Mapping[str, str] | None, home: Path | None) -> list[str]:
    """The roots resolved now (never kept: a link made since the last check counts),
    each shared leading directory looked at once."""
    resolved: dict[str, str] = {}
    return list(dict.fromkeys(_real_with(root, resolved) for root in _root_paths(env, home)))


def credential_reason(
    path: Path, *, env: Mapping[str, str] | None = None, home: Path | None = None
) -> str | None:
    """Why reading ``path`` would hand a credential to the model, or ``None``.

    ``path`` is resolved first (symbolic links followed), so a link in the project that
    points at ``~/.aws/credentials`` is caught too. Names compare case-insensitively.
    """
    try:
        target = _real(path)
    except (ValueError, OSError) as exc:  # a NUL byte
        return f"{path!r} cannot be resolved ({exc})"
    proc = _proc_reason(target)
    if proc is not None:
        return proc
    if any(_inside(target.as_posix(), root) for root in _resolved_roots(env, home)):
        return f"{target} holds credentials (a model never needs to see them)"
    return None


def credential_below(
    directory: Path, *, env: Mapping[str, str] | None = None, home: Path | None = None
) -> Path | None:
    """A credential store inside ``directory`` (for tools that send a whole folder)."""
    folder = _real(directory)
    if _within(Path("/proc"), folder):
        return Path("/proc")
    return next((root for root in credential_roots(env, home) if _within(root, folder)), None)


def _proc_reason(target: Path) -> str | None:
    """Another process's (or this one's) entries: environment, memory, open files."""
    from ml_intern_tui.safety.shell_paths import PROC_READABLE

    if not target.is_relative_to("/proc") or target == Path("/proc"):
        return None
    first = target.relative_to("/proc").parts[0]
    if first in PROC_READABLE and not _PID.match(first):
        return None
    return f"{target} shows a process's environment, memory or files (it may hold secrets)"


def _within(path: Path, root: Path) -> bool:
    return _inside(path.as_posix(), root.as_posix())


def _inside(path: str, root: str) -> bool:
    """``path`` is ``root`` or below it, names compared case-insensitively."""
    folded, base = path.casefold(), root.casefold()
    return folded == base or folded.startswith(base.rstrip("/") + "/")


def _real(path: Path) -> Path:
    return Path(os.path.realpath(os.path.expanduser(path)))


def _real_with(path: str, resolved: dict[str, str]) -> str:
    """``os.path.realpath(path)``, reusing ``resolved`` (a real directory plus one name,
    mapped to its resolution) for the components it has seen."""
    parts = path.split("/")
    if not path.startswith("/") or ".." in parts:
        return os.path.realpath(path)  # relative or with "..": realpath's own walk
    current = ""
    for name in parts:
        if name in ("", "."):
            continue
        joined = f"{current}/{name}"  # ``current`` is real, so only ``name`` may be a link
        real = resolved.get(joined)
        if real is None:
            try:
                link = stat.S_ISLNK(os.lstat(joined).st_mode)
            except OSError:  # missing (or not a directory): taken as written, like realpath
                link = False
            real = os.path.realpath(joined) if link else joined
            resolved[joined] = real
        current = real
    return current or "/"


# ----------------------------------------------------------------------------- .env files

ENV_FILE = re.compile(r"^\.env(\..+)?$|^.+\.env$", re.IGNORECASE)
"""``.env``, ``.env.local``, ``prod.env``: files of ``NAME=value`` settings."""
_NOT_SECRETS = re.compile(r"\.(example|sample|template|dist|defaults?)$", re.IGNORECASE)
_SETTING = re.compile(
    r"""^\s*(?:export\s+)?["']?([A-Za-z_][A-Za-z0-9_.-]*)["']?\s*[=:]\s*"""
    r"""(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|([^\s#'"]+))"""
)
MAX_ENV_FILE_BYTES = 1_000_000


def is_env_file(path: Path) -> bool:
    """True for a ``.env``-style settings file (``.env.example`` and friends are not)."""
    return bool(ENV_FILE.match(path.name)) and not _NOT_SECRETS.search(path.name)


def env_file_secrets(text: str) -> dict[str, str]:
    """``NAME -> value`` for each setting of a ``.env``/INI/YAML-like text whose name says
    it is a credential and whose value can be one."""
    from ml_intern_tui.safety.secret_values import is_secret_name, is_secret_value

    found: dict[str, str] = {}
    for line in text.splitlines():
        match = _SETTING.match(line)
        if match is None:
            continue
        name = match.group(1)
        value = next((g for g in match.groups()[1:] if g is not None), "")
        if is_secret_name(name.replace(".", "_").replace("-", "_")) and is_secret_value(value):
            found.setdefault(name, value)
    return found


def register_text_secrets(text: str) -> int:
    """Register the credential values of a settings text as known secrets; how many."""
    from ml_intern_tui.core import known_secrets

    return sum(
        known_secrets.register(value, name) for name, value in env_file_secrets(text).items()
    )


def register_env_file_secrets(files: Iterable[Path]) -> int:
    """Register the secrets of these ``.env`` files (unreadable or huge ones are skipped)."""
    from ml_intern_tui.safety.local_files import NotReadable, read_regular

    added = 0
    for path in files:
        try:
            data = read_regular(path, MAX_ENV_FILE_BYTES)
        except (OSError, NotReadable):
            continue
        added += register_text_secrets(data.decode("utf-8", errors="replace"))
    return added


def project_env_files(project: Path) -> list[Path]:
    """The ``.env``-style files at the top of ``project`` (what ``dotenv`` loads)."""
    try:
        entries = list(os.scandir(project))
    except OSError:
        return []
    return sorted(Path(entry.path) for entry in entries[:10_000] if is_env_file(Path(entry.name)))
