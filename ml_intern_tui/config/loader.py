"""Load the settings: read each TOML layer, merge them, substitute ``${VAR}``, validate.

Layers, later wins: packaged ``configs/default.toml`` → user config → project config
(``.ml-intern/config.toml``) → ``ML_INTERN_…`` environment variables → command line.
Tables merge key by key; lists replace, except ``approvals.remembered`` which adds up.
The merge remembers which layer supplied every key, so a problem found by validation is
reported against the file (or variable) the user has to edit, one line per problem.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from ml_intern_tui import paths, resources
from ml_intern_tui.config.schema import AppConfig, expects_text, known_keys

KeyPath = tuple[str | int, ...]

ENV_PREFIX = "ML_INTERN_"
ENV_NESTING = "__"
"""``ML_INTERN_CONTEXT__KEEP_RECENT`` sets ``context.keep_recent``."""
COMMAND_LINE = "command line"
CONCATENATED_LISTS: frozenset[KeyPath] = frozenset({("approvals", "remembered")})
"""Lists that add up across layers instead of the later one replacing the earlier."""

_VAR = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class ConfigError(Exception):
    """The configuration cannot be used; ``problems`` has one line per problem.

    Each line reads ``<file or variable>: <dotted.key>: <what is wrong>``.
    """

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


def dotted(path: KeyPath) -> str:
    """``("approvals", "remembered", 0, "tool")`` → ``approvals.remembered[0].tool``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "(top level)"


def _shown(value: Any) -> str:
    """A value as the user wrote it, briefly."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


_EXPECTED = {
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "finite_number": "a finite number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "a string in quotes",
    "list_type": 'a list, like ["a", "b"]',
    "dict_type": "a table",
    "model_type": "a table",
    "model_attributes_type": "a table",
    "path_type": "a path in quotes",
}
_BOUNDS = {"gt": "greater than", "ge": "at least", "lt": "less than", "le": "at most"}


def describe_validation_error(error: ErrorDetails) -> str:
    """``<dotted.key>: <what was expected, what was found>`` for one pydantic error."""
    loc: KeyPath = tuple(error["loc"])
    kind, ctx, given = error["type"], error.get("ctx") or {}, error.get("input")
    if kind == "extra_forbidden":
        known = known_keys(loc[:-1]) or []
        close = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
        hint = (
            f"did you mean {close[0]!r}?" if close else "see configs/default.toml for the settings"
        )
        what = f"unknown setting; {hint}"
    elif kind == "missing":
        what = "required key is missing"
    elif kind == "literal_error":
        what = f"expected one of {ctx.get('expected')}, got {_shown(given)}"
    elif kind in _EXPECTED:
        what = f"expected {_EXPECTED[kind]}, got {_shown(given)}"
    elif bound := next((b for b in _BOUNDS if b in ctx), None):
        what = f"expected a value {_BOUNDS[bound]} {ctx[bound]}, got {_shown(given)}"
    elif kind == "value_error":
        what = str(error["msg"]).removeprefix("Value error, ")
    else:
        what = f"{error['msg']}, got {_shown(given)}"
    return f"{dotted(loc)}: {what}"


@dataclass(frozen=True)
class LoadedConfig:
    """The validated settings and where they came from."""

    settings: AppConfig
    sources: list[Path]
    """Config files actually read, in layer order."""
    user_path: Path
    """The user config file (it may not exist yet; ``--save`` writes there)."""
    project_path: Path
    """The project config file (it may not exist yet; remembered approvals go there)."""
    origins: dict[str, str] = field(default_factory=dict)
    """Dotted key → the layer that set it (a file path, an env variable, ``command line``)."""

    def origin(self, dotted_key: str) -> str | None:
        """Which layer set ``dotted_key`` (``None`` for a built-in schema default)."""
        return self.origins.get(dotted_key)


class _Layers:
    """The merged data of the layers read so far, with the origin of every key."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}
        self.origins: dict[KeyPath, str] = {}

    def merge(self, layer: Mapping[str, Any], label: str) -> None:
        self._merge_into(self.data, layer, label, ())

    def _merge_into(
        self, base: dict[str, Any], layer: Mapping[str, Any], label: str, prefix: KeyPath
    ) -> None:
        for key, value in layer.items():
            path = (*prefix, key)
            current = base.get(key)
            if isinstance(value, dict) and isinstance(current, dict):
                self.origins[path] = label
                self._merge_into(current, value, label, path)
            elif (
                path in CONCATENATED_LISTS and isinstance(value, list) and isinstance(current, list)
            ):
                for item in value:
                    if item not in current:
                        self._record((*path, len(current)), item, label)
                        current.append(item)
            else:
                self._forget(path)
                base[key] = _copy(value)
                self._record(path, value, label)

    def _record(self, path: KeyPath, value: Any, label: str) -> None:
        self.origins[path] = label
        if isinstance(value, dict):
            for key, item in value.items():
                self._record((*path, key), item, label)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                self._record((*path, index), item, label)

    def _forget(self, path: KeyPath) -> None:
        depth = len(path)
        for known in [p for p in self.origins if p[:depth] == path]:
            del self.origins[known]

    def origin_of(self, loc: KeyPath) -> str | None:
        """The layer that supplied ``loc`` or its nearest enclosing table."""
        for end in range(len(loc), 0, -1):
            label = self.origins.get(loc[:end])
            if label is not None:
                return label
        return None


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


# ----------------------------------------------------------------------------- files

_TOML_HINTS = (
    ("invalid value", "strings need quotes; true/false are lowercase"),
    ("expected '=' after a key", "write settings as key = value"),
    ("invalid statement", "each line is key = value, [table], [[array]] or a # comment"),
    ("cannot overwrite a value", "the same key is set twice; keep one"),
    ("cannot declare", "the same table is declared twice; merge them"),
    ("unclosed array", "close the list with ]"),
    ("unclosed inline table", "close the inline table with }"),
    ("unterminated string", "close the string with its quote"),
    ("illegal character", "remove the control character or escape it"),
    ("expected newline or end of document", "put each setting on its own line"),
    ("invalid initial character for a key part", "quote keys that are not letters, digits, - or _"),
)
_TOML_POSITION = re.compile(r"\s*\(at (?:line (\d+), column (\d+)|end of document)\)")


def _syntax_problem(path: Path, text: str, exc: tomllib.TOMLDecodeError) -> str:
    message = str(exc)
    found = _TOML_POSITION.search(message)
    reason = _TOML_POSITION.sub("", message)
    if found and found.group(1):
        where = f"line {found.group(1)}, column {found.group(2)}"
    else:
        where = f"line {len(text.rstrip().splitlines()) or 1} (end of file)"
    lowered = reason.lower()
    hint = next((h for key, h in _TOML_HINTS if key in lowered), "fix the TOML syntax there")
    return f"{path}: {where}: invalid TOML ({reason}); {hint}"


def _read_toml(path: Path, problems: list[str]) -> dict[str, Any] | None:
    """The parsed file, or ``None`` after adding a problem line."""
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        problems.append(f"{path}: cannot read the file ({exc.strerror or exc})")
        return None
    except UnicodeDecodeError as exc:
        problems.append(f"{path}: byte {exc.start}: not UTF-8 text; save the file as UTF-8")
        return None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        problems.append(_syntax_problem(path, text, exc))
        return None


# ----------------------------------------------------------------------------- ${VAR}


def substitute(
    value: Any, env: Mapping[str, str], label: str, problems: list[str], path: KeyPath = ()
) -> Any:
    """``value`` with ``${VAR}`` / ``${VAR:-default}`` replaced in every string inside it.

    ``$${`` stands for a literal ``${``. A missing variable without a default adds a
    problem naming the layer, the key and the variable.
    """
    if isinstance(value, dict):
        return {k: substitute(v, env, label, problems, (*path, k)) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, env, label, problems, (*path, i)) for i, v in enumerate(value)]
    if not isinstance(value, str) or "${" not in value:
        return value

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$${":
            return "${"
        name, default = match.group(1), match.group(2)
        found = env.get(name)
        if default is not None:
            return found if found else default
        if found is None:
            problems.append(
                f"{label}: {dotted(path)}: environment variable {name} is not set "
                f"(set it, or write ${{{name}:-default}})"
            )
            return ""
        return found

    return _VAR.sub(replace, value)


# ----------------------------------------------------------------------------- env, cli


def _set_nested(layer: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    node = layer
    for key in path[:-1]:
        child = node.get(key)
        if not isinstance(child, dict):
            child = node[key] = {}
        node = child
    node[path[-1]] = value
    return layer


def _parse_env_value(raw: str, path: tuple[str, ...]) -> Any:
    """A TOML scalar (or array / inline table) when ``raw`` is one, else the raw text."""
    if expects_text(path):
        return raw
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw
    return raw if isinstance(value, date | time) else value


def _env_layers(env: Mapping[str, str]) -> list[tuple[str, dict[str, Any]]]:
    """One layer per ``ML_INTERN_…`` variable naming a setting; other variables are ignored."""
    layers = []
    for name in sorted(env):
        if not name.startswith(ENV_PREFIX):
            continue
        parts = tuple(p.lower() for p in name[len(ENV_PREFIX) :].split(ENV_NESTING))
        if not all(parts) or parts[0] not in AppConfig.model_fields:
            continue  # ML_INTERN_CONFIG, ML_INTERN_TEST… are not settings
        value = _parse_env_value(env[name], parts)
        layers.append((f"environment variable {name}", _set_nested({}, parts, value)))
    return layers


def _cli_layer(overrides: Mapping[str, Any]) -> dict[str, Any]:
    layer: dict[str, Any] = {}
    for key, value in overrides.items():
        if value is not None:  # None: an option the user did not give
            _set_nested(layer, tuple(key.split(".")), value)
    return layer


# ----------------------------------------------------------------------------- load


def load_config(
    *,
    cwd: Path,
    cli_overrides: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
) -> LoadedConfig:
    """Read, merge and validate every layer; raise ``ConfigError`` listing all problems."""
    environ: Mapping[str, str] = os.environ if env is None else env
    problems: list[str] = []
    layers = _Layers()
    sources: list[Path] = []

    user_path = paths.user_config_path(environ)
    project_path = paths.project_config_path(cwd)
    try:
        default_path: Path | None = resources.default_config_path()
    except FileNotFoundError as exc:
        problems.append(f"packaged defaults: {exc}")
        default_path = None

    files: list[Path] = [p for p in (default_path, user_path, project_path) if p is not None]
    if environ.get(paths.USER_CONFIG_ENV) and not user_path.is_file():
        problems.append(
            f"{user_path}: file not found ({paths.USER_CONFIG_ENV} points here); "
            f"create it or unset {paths.USER_CONFIG_ENV}"
        )
        files.remove(user_path)
    for file in files:
        if not file.exists():
            continue
        data = _read_toml(file, problems)
        if data is None:
            continue
        sources.append(file)
        layers.merge(substitute(data, environ, str(file), problems), str(file))

    for label, layer in _env_layers(environ):
        layers.merge(substitute(layer, environ, label, problems), label)
    if cli_overrides:
        cli_layer = substitute(_cli_layer(cli_overrides), environ, COMMAND_LINE, problems)
        layers.merge(cli_layer, COMMAND_LINE)

    settings: AppConfig | None = None
    try:
        settings = AppConfig.model_validate(layers.data)
    except ValidationError as exc:
        fallback = str(default_path) if default_path else "configuration"
        for error in exc.errors():
            loc = tuple(error["loc"])
            label = layers.origin_of(loc) or fallback
            problems.append(f"{label}: {describe_validation_error(error)}")
    if problems or settings is None:
        raise ConfigError(problems)
    return LoadedConfig(
        settings=settings,
        sources=sources,
        user_path=user_path,
        project_path=project_path,
        origins={dotted(path): label for path, label in layers.origins.items()},
    )
