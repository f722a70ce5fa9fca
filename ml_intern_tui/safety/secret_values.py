"""Find the secrets this process holds, so their exact values are scrubbed everywhere.

The candidates: environment variables whose names say they hold a credential
(``HF_TOKEN``, ``OPENAI_API_KEY``, ``MY_SERVICE_TOKEN``, ``DB_PASSWORD``, ``AWS_SECRET_…``,
the providers' well-known names), and the Hugging Face tokens huggingface_hub keeps on
disk (``$HF_TOKEN_PATH``, ``$HF_HOME/token``, ``$HF_HOME/stored_tokens``). Values that
cannot be a credential — short ones, numbers, booleans, file paths — are left out:
scrubbing them would blank ordinary output. ``register_process_secrets`` hands the rest
to ``core.known_secrets``.
"""

from __future__ import annotations

import configparser
import os
import re
from collections.abc import Mapping
from pathlib import Path

from ml_intern_tui.core import known_secrets

_SECRET_PART = re.compile(
    r"^(?:TOKEN|KEY|APIKEY|SECRET|SECRETS|PASSWORD|PASSWD|PASSPHRASE|PWD|PAT|CREDENTIAL|"
    r"CREDENTIALS|AUTH|PASS|SIGNATURE|COOKIE|DSN|WEBHOOK)$"
)
_SECRET_SUBSTRING = re.compile(r"PASSWORD|PASSWD|SECRET|APIKEY|API_KEY|ACCESS_KEY|PRIVATE_KEY")
_NOT_SECRET_NAMES = frozenset(
    {
        "PWD",
        "OLDPWD",
        "SSH_AUTH_SOCK",
        "GPG_AGENT_INFO",
        "XDG_SESSION_ID",
        "XDG_SESSION_TYPE",
        "XDG_SESSION_CLASS",
        "XDG_SESSION_DESKTOP",
        "DBUS_SESSION_BUS_ADDRESS",
        "SESSION_MANAGER",
        "DESKTOP_SESSION",
        "TMUX_PANE",
    }
)
PROVIDER_VARIABLES: tuple[str, ...] = (
    "HF_TOKEN",
    "HUGGING_FACE_HUB_TOKEN",
    "HUGGINGFACE_TOKEN",
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "MISTRAL_API_KEY",
    "GROQ_API_KEY",
    "TOGETHER_API_KEY",
    "FIREWORKS_API_KEY",
    "DEEPSEEK_API_KEY",
    "OPENROUTER_API_KEY",
    "COHERE_API_KEY",
    "REPLICATE_API_TOKEN",
    "WANDB_API_KEY",
    "GITHUB_TOKEN",
    "GH_TOKEN",
    "SLACK_BOT_TOKEN",
    "SLACK_WEBHOOK_URL",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AZURE_OPENAI_API_KEY",
)
"""Variables that always hold a secret, whatever the name rules below say."""
_BORING_VALUE = re.compile(
    r"(?i)^(?:true|false|yes|no|none|null|on|off|\d+(?:\.\d+)?)$"
    # one lower-case word ("production", "localhost"): scrubbing it would blank the word
    # in every output the model reads; a real password has a digit, a capital or length.
    r"|^[a-z][a-z_-]{0,14}$"
)


def is_secret_name(name: str) -> bool:
    """Whether an environment variable named ``name`` holds a credential, by its name."""
    upper = name.upper()
    if upper in PROVIDER_VARIABLES:
        return True
    if upper in _NOT_SECRET_NAMES:
        return False
    parts = [part for part in re.split(r"[^A-Z0-9]+", upper) if part]
    return any(_SECRET_PART.match(part) for part in parts) or bool(_SECRET_SUBSTRING.search(upper))


def is_secret_value(value: str) -> bool:
    """Whether ``value`` can be a credential (long enough, not a flag, number or path)."""
    value = value.strip()
    if len(value) < known_secrets.MIN_LENGTH or _BORING_VALUE.match(value):
        return False
    return not (value.startswith(("/", "~/", "./", "../")) and " " not in value)


def environment_secrets(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Secret-looking variables of ``environ`` (default: this process's) with their values."""
    env = os.environ if environ is None else environ
    return {
        name: value
        for name, value in env.items()
        if is_secret_name(name) and is_secret_value(value)
    }


def _hf_home(environ: Mapping[str, str]) -> Path:
    if environ.get("HF_HOME"):
        return Path(environ["HF_HOME"]).expanduser()
    cache = environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache).expanduser() / "huggingface"


def stored_hf_tokens(environ: Mapping[str, str] | None = None) -> list[str]:
    """The Hugging Face tokens ``hf auth login`` saved for this user (unreadable: none)."""
    env = os.environ if environ is None else environ
    home = _hf_home(env)
    token_file = Path(env["HF_TOKEN_PATH"]).expanduser() if env.get("HF_TOKEN_PATH") else None
    tokens: list[str] = []
    for path in (token_file, home / "token"):
        if path is None:
            continue
        try:
            tokens.append(path.read_text(encoding="utf-8", errors="replace").strip())
        except OSError:
            continue
    stored = configparser.ConfigParser(interpolation=None)
    try:
        stored.read(home / "stored_tokens", encoding="utf-8")
    except (OSError, configparser.Error):
        return [t for t in tokens if t]
    for section in stored.sections():
        token = stored.get(section, "hf_token", fallback="")
        if token:
            tokens.append(token.strip())
    return [t for t in dict.fromkeys(tokens) if t]


def register_process_secrets(environ: Mapping[str, str] | None = None) -> int:
    """Register the environment's secrets and the stored HF tokens; returns how many.

    The token files are watched from then on (``known_secrets.refresh``): a token saved
    later in the session (``hf auth login`` in another terminal, or run by the agent)
    is registered before the next tool output is scrubbed.
    """
    added = 0
    for name, value in environment_secrets(environ).items():
        added += known_secrets.register(value, name)
    for token in stored_hf_tokens(environ):
        added += known_secrets.register(token, "HF_TOKEN")
    known_secrets.add_refresher("stored-hf-tokens", _StoredTokens(environ))
    return added


class _StoredTokens:
    """Registers the stored HF tokens again whenever a token file changed."""

    def __init__(self, environ: Mapping[str, str] | None) -> None:
        self.environ = dict(os.environ if environ is None else environ)
        self.seen = self._stamp()

    def _files(self) -> list[Path]:
        home = _hf_home(self.environ)
        named = self.environ.get("HF_TOKEN_PATH")
        found = [home / "token", home / "stored_tokens"]
        return [Path(named).expanduser(), *found] if named else found

    def _stamp(self) -> tuple[tuple[int, int] | None, ...]:
        stamps: list[tuple[int, int] | None] = []
        for path in self._files():
            try:
                info = path.stat()
            except OSError:
                stamps.append(None)
                continue
            stamps.append((info.st_mtime_ns, info.st_size))
        return tuple(stamps)

    def __call__(self) -> None:
        stamp = self._stamp()
        if stamp == self.seen:
            return
        self.seen = stamp
        for token in stored_hf_tokens(self.environ):
            known_secrets.register(token, "HF_TOKEN")
