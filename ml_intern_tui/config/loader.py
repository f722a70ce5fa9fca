"""Load the settings: read each TOML layer, merge them, substitute ``${VAR}``, validate.

Layers, later wins: packaged ``configs/default.toml`` → user config → project config
(``.ml-intern/config.toml``) → ``ML_INTERN_…`` environment variables → command line.
Tables merge key by key; lists replace, except ``approvals.remembered`` which adds up.
The merge remembers which layer supplied every key, so a problem found by validation is
reported against the file (or variable) the user has to edit, one line per problem.

The project layer is untrusted input (``safety.trust``): its safe keys always apply, the
rest only when the user trusts the project. Both outcomes are validated from the same
bytes the user is shown, so answering the trust question never re-reads the file.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, time
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from ml_intern_tui import paths, resources
from ml_intern_tui.config.schema import AppConfig, expects_text, known_keys
from ml_intern_tui.config.toml_files import parse_toml, read_config_bytes, read_toml
from ml_intern_tui.safety import trust as project_trust
from ml_intern_tui.safety.trust_changes import describe
from ml_intern_tui.safety.trust_store import ProjectTrust, TrustHow, TrustStore, trust_store_path

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


TrustChoice = Literal["stored", "trust", "ignore"]
"""``stored``: the user's stored answer decides; ``trust``: apply the project's gated
settings (``--trust-project``); ``ignore``: never apply them."""


@dataclass(frozen=True)
class _Outcome:
    settings: AppConfig
    origins: dict[str, str]


@dataclass(frozen=True)
class LoadedConfig:
    """The validated settings and where they came from."""

    settings: AppConfig
    sources: list[Path]
    """Config files actually read, in layer order."""
    user_path: Path
    """The user config file (it may not exist yet; ``--save`` writes there)."""
    project_path: Path
    """The project config file (it may not exist yet)."""
    origins: dict[str, str] = field(default_factory=dict)
    """Dotted key → the layer that set it (a file path, an env variable, ``command line``)."""
    trust: ProjectTrust | None = None
    """Whether the project config's gated settings apply; ``None`` for settings built
    without a project layer (tests)."""
    warnings: list[str] = field(default_factory=list)
    """One line each: problems that did not stop loading (an unreadable trust store)."""
    _trusted: _Outcome | None = field(default=None, repr=False, compare=False)
    _ignored: _Outcome | None = field(default=None, repr=False, compare=False)

    def origin(self, dotted_key: str) -> str | None:
        """Which layer set ``dotted_key`` (``None`` for a built-in schema default)."""
        return self.origins.get(dotted_key)

    def trusting(self, how: TrustHow) -> LoadedConfig:
        """These settings with the project's gated keys applied (``how``: once, stored…).

        Built from the same file content the trust question showed.
        """
        if self.trust is None or self._trusted is None:
            return self
        return replace(
            self,
            settings=self._trusted.settings,
            origins=self._trusted.origins,
            trust=replace(self.trust, state="trusted", how=how),
        )

    def ignoring(self) -> LoadedConfig:
        """These settings without the project's gated keys."""
        if self.trust is None or self._ignored is None:
            return self
        return replace(
            self,
            settings=self._ignored.settings,
            origins=self._ignored.origins,
            trust=replace(self.trust, state="untrusted", how=""),
        )


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
    trust: TrustChoice = "stored",
) -> LoadedConfig:
    """Read, merge and validate every layer; raise ``ConfigError`` listing all problems.

    The project config's gated settings apply as ``trust`` says; both outcomes (applied
    and ignored) are validated, so a broken project file is reported either way.
    """
    environ: Mapping[str, str] = os.environ if env is None else env
    problems: list[str] = []
    warnings: list[str] = []
    sources: list[Path] = []

    user_path = paths.user_config_path(environ)
    project_path = paths.project_config_path(cwd)
    try:
        default_path: Path | None = resources.default_config_path()
    except FileNotFoundError as exc:
        problems.append(f"packaged defaults: {exc}")
        default_path = None

    before: list[tuple[str, dict[str, Any]]] = []
    files: list[Path] = [p for p in (default_path, user_path) if p is not None]
    if environ.get(paths.USER_CONFIG_ENV) and not user_path.is_file():
        problems.append(
            f"{user_path}: file not found ({paths.USER_CONFIG_ENV} points here); "
            f"create it or unset {paths.USER_CONFIG_ENV}"
        )
        files.remove(user_path)
    for file in files:
        if not file.exists():
            continue
        data = read_toml(file, problems)
        if data is None:
            continue
        sources.append(file)
        before.append((str(file), substitute(data, environ, str(file), problems)))

    project = _read_project(project_path, environ, problems)
    if project is not None:
        sources.append(project_path)

    after: list[tuple[str, dict[str, Any]]] = []
    for label, layer in _env_layers(environ):
        after.append((label, substitute(layer, environ, label, problems)))
    if cli_overrides:
        cli_layer = substitute(_cli_layer(cli_overrides), environ, COMMAND_LINE, problems)
        after.append((COMMAND_LINE, cli_layer))

    fallback = str(default_path) if default_path else "configuration"
    project_label = str(project_path)
    safe_layer = [(project_label, project.safe)] if project is not None else []
    ignored = _validate([*before, *safe_layer, *after], fallback, problems)
    trusted: _Outcome | None = None
    if project is not None and project.gated:
        full_layer = [(project_label, project.full)]
        trusted = _validate([*before, *full_layer, *after], fallback, problems)
    if problems or ignored is None or (project is not None and project.gated and trusted is None):
        raise ConfigError(list(dict.fromkeys(problems)))

    verdict = ProjectTrust(config=project_path, state="none", project=cwd)
    if project is not None and project.gated and trusted is not None:
        verdict = _verdict(project, project_path, cwd, trust, ignored, trusted, environ, warnings)
    chosen = trusted if verdict.state == "trusted" and trusted is not None else ignored
    return LoadedConfig(
        settings=chosen.settings,
        sources=sources,
        user_path=user_path,
        project_path=project_path,
        origins=chosen.origins,
        trust=verdict,
        warnings=warnings,
        _trusted=trusted,
        _ignored=ignored,
    )


@dataclass(frozen=True)
class _Project:
    raw: dict[str, Any]
    """As written (for showing it)."""
    full: dict[str, Any]
    """Substituted, every key."""
    safe: dict[str, Any]
    """Only the keys a project may set by itself, as written (never substituted)."""
    gated: list[project_trust.KeyPath]
    digest: str


def _read_project(path: Path, environ: Mapping[str, str], problems: list[str]) -> _Project | None:
    """The project config read once: its bytes are what is hashed, parsed and shown."""
    try:
        content = read_config_bytes(path, problems)  # a plain file, bounded: never hangs
    except FileNotFoundError:
        return None
    if content is None:
        return None
    raw = parse_toml(path, content, problems)
    if raw is None:
        return None
    full = substitute(raw, environ, str(path), problems)
    # The safe part keeps ``${VAR}`` as written: a file nobody trusted must not pull a
    # secret of this environment into a value that is shown (a theme name in an error,
    # a /model suggestion) or sent (a suggested model id picked as the model).
    safe, gated = project_trust.split_project(raw)
    return _Project(raw=raw, full=full, safe=safe, gated=gated, digest=_digest(content))


def _digest(content: bytes) -> str:
    return project_trust.content_digest(content)


def _validate(
    layers: list[tuple[str, dict[str, Any]]], fallback: str, problems: list[str]
) -> _Outcome | None:
    merged = _Layers()
    for label, layer in layers:
        merged.merge(layer, label)
    try:
        settings = AppConfig.model_validate(merged.data)
    except ValidationError as exc:
        for error in exc.errors():
            label = merged.origin_of(tuple(error["loc"])) or fallback
            problems.append(f"{label}: {describe_validation_error(error)}")
        return None
    return _Outcome(settings, {dotted(path): label for path, label in merged.origins.items()})


def _verdict(
    project: _Project,
    config: Path,
    cwd: Path,
    choice: TrustChoice,
    ignored: _Outcome,
    trusted: _Outcome,
    environ: Mapping[str, str],
    warnings: list[str],
) -> ProjectTrust:
    """Whether the gated settings apply, with what they would change."""
    later = (COMMAND_LINE, "environment variable ")
    winner = {key: origin for key, origin in trusted.origins.items() if origin.startswith(later)}
    baseline = ignored.settings.model_dump(mode="json")
    settings = tuple(describe(project.raw, project.gated, baseline, winner))
    store = TrustStore(trust_store_path(environ))
    entry = None
    if choice == "stored":
        entry, warning = store.lookup(cwd)
        if warning:
            warnings.append(warning)
    verdict = ProjectTrust(
        config=config,
        state="untrusted",
        project=cwd,
        settings=settings,
        digest=project.digest,
        stored=entry,
    )
    if choice == "trust":
        return replace(verdict, state="trusted", how="flag")
    if entry is not None and entry.sha256 == project.digest:
        return replace(verdict, state="trusted", how="stored")
    return verdict
