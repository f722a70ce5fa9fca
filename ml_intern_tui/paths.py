"""Where ml-intern-tui keeps its files: XDG config, data and cache directories.

Every function takes an optional ``env`` mapping (default ``os.environ``) so callers and
tests can resolve paths for an environment other than the process's own.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

APP_NAME = "ml-intern-tui"
CONFIG_FILE_NAME = "config.toml"
PROJECT_DIR_NAME = ".ml-intern"
USER_CONFIG_ENV = "ML_INTERN_CONFIG"
"""Environment variable naming the user config file, instead of the XDG location."""


def _xdg_base(env: Mapping[str, str] | None, var: str, fallback: str) -> Path:
    """The XDG base directory ``var``, or ``~/<fallback>`` when unset or relative.

    The XDG spec says relative values are invalid and must be ignored.
    """
    environ = os.environ if env is None else env
    value = environ.get(var, "")
    if value and Path(value).is_absolute():
        return Path(value)
    return Path.home() / fallback


def config_dir(env: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CONFIG_HOME/ml-intern-tui`` (default ``~/.config/ml-intern-tui``)."""
    return _xdg_base(env, "XDG_CONFIG_HOME", ".config") / APP_NAME


def data_dir(env: Mapping[str, str] | None = None) -> Path:
    """``$XDG_DATA_HOME/ml-intern-tui`` (default ``~/.local/share/ml-intern-tui``)."""
    return _xdg_base(env, "XDG_DATA_HOME", ".local/share") / APP_NAME


def cache_dir(env: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CACHE_HOME/ml-intern-tui`` (default ``~/.cache/ml-intern-tui``)."""
    return _xdg_base(env, "XDG_CACHE_HOME", ".cache") / APP_NAME


def sessions_dir(env: Mapping[str, str] | None = None) -> Path:
    """Default home of session journals (``sessions.dir`` in the config overrides it)."""
    return data_dir(env) / "sessions"


def configured_sessions_dir(settings: object) -> Path:
    """The sessions directory ``settings`` choose: ``[sessions] dir``, else the default.

    The one place that decides it (the CLI, the backend, the trace service use it)."""
    configured = getattr(getattr(settings, "sessions", None), "dir", None)
    return Path(configured) if configured else sessions_dir()


def run_data_dir(settings: object) -> Path:
    """Where run data (job logs, MCP logs) goes: beside a configured sessions directory
    (tests and custom set-ups keep everything together), else the data directory."""
    return configured_sessions_dir(settings).parent


def user_themes_dir(env: Mapping[str, str] | None = None) -> Path:
    """User themes (TOML files), registered next to the bundled ones."""
    return config_dir(env) / "themes"


def user_config_path(env: Mapping[str, str] | None = None) -> Path:
    """The user config file: ``$ML_INTERN_CONFIG`` if set, else ``config_dir()/config.toml``."""
    environ = os.environ if env is None else env
    override = environ.get(USER_CONFIG_ENV, "")
    if override:
        return Path(override).expanduser()
    return config_dir(env) / CONFIG_FILE_NAME


def project_config_path(cwd: Path) -> Path:
    """The project config file: ``<cwd>/.ml-intern/config.toml``."""
    return cwd / PROJECT_DIR_NAME / CONFIG_FILE_NAME
