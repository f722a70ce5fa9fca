"""Themes as TOML files: the bundled ones in ``themes/``, the user's in the config dir.

A theme file holds the fields of a Textual ``Theme`` (``name``, ``primary``, ``dark``...)
and an optional ``[variables]`` table of CSS variables.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from textual.app import App
from textual.theme import Theme

DEFAULT_DARK = "ml-intern-dark"

_COLOR_FIELDS = (
    "primary",
    "secondary",
    "warning",
    "error",
    "success",
    "accent",
    "foreground",
    "background",
    "surface",
    "panel",
    "boost",
)
_ALLOWED = {f.name for f in fields(Theme)}


class ThemeFileError(ValueError):
    """A theme file that cannot be used, with the file named in the message."""


def theme_from_toml(path: Path) -> Theme:
    """Read one theme file; the file's stem is the name when it has none."""
    try:
        data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ThemeFileError(f"{path}: {exc}") from exc
    data.setdefault("name", path.stem)
    unknown = sorted(set(data) - _ALLOWED)
    if unknown:
        raise ThemeFileError(f"{path}: unknown keys {', '.join(unknown)}")
    if not isinstance(data.get("primary"), str):
        raise ThemeFileError(f"{path}: 'primary' (a colour like \"#ffb000\") is required")
    for key in _COLOR_FIELDS:
        if key in data and not isinstance(data[key], str):
            raise ThemeFileError(f"{path}: '{key}' must be a colour string")
    variables = data.get("variables", {})
    if not isinstance(variables, dict):
        raise ThemeFileError(f"{path}: [variables] must be a table")
    data["variables"] = {str(k): str(v) for k, v in variables.items()}
    try:
        return Theme(**data)
    except (TypeError, ValueError) as exc:
        raise ThemeFileError(f"{path}: {exc}") from exc


@dataclass
class LoadedThemes:
    themes: list[Theme] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def load_themes(*folders: Path | None) -> LoadedThemes:
    """Every ``*.toml`` theme in ``folders`` (later folders override earlier names)."""
    loaded = LoadedThemes()
    by_name: dict[str, Theme] = {}
    for folder in folders:
        if folder is None or not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.toml")):
            try:
                theme = theme_from_toml(path)
            except ThemeFileError as exc:
                loaded.errors.append(str(exc))
                continue
            by_name[theme.name] = theme
    loaded.themes = list(by_name.values())
    return loaded


def bundled_themes_dir() -> Path | None:
    try:
        from ml_intern_tui.resources import bundled_dir

        return bundled_dir("themes")
    except (ImportError, FileNotFoundError):
        return None


def user_themes_dir() -> Path | None:
    try:
        from ml_intern_tui.paths import user_themes_dir as themes_dir

        return themes_dir()
    except ImportError:
        return None


def discover_themes() -> LoadedThemes:
    """Bundled themes, then the user's (a user theme may replace a bundled one)."""
    return load_themes(bundled_themes_dir(), user_themes_dir())


def register_themes(app: App[Any], wanted: str) -> list[str]:
    """Register every theme file and select ``wanted``; returns problems to show the user."""
    loaded = discover_themes()
    for theme in loaded.themes:
        app.register_theme(theme)
    errors = list(loaded.errors)
    if wanted in app.available_themes:
        app.theme = wanted
        return errors
    if wanted != DEFAULT_DARK:
        errors.append(f"theme {wanted!r} not found; using {DEFAULT_DARK}")
    if DEFAULT_DARK in app.available_themes:
        app.theme = DEFAULT_DARK
    return errors
