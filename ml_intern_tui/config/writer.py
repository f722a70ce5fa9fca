"""Change a config file in place, keeping the user's comments, order and layout.

Used by ``--save`` (model switch), "remember" answers (``[[approvals.remembered]]``) and
theme changes. Only the touched key changes; every other byte stays as it was. Writes are
atomic: a temporary file in the same directory replaces the old one.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from ml_intern_tui.config.loader import ConfigError

if TYPE_CHECKING:
    from tomlkit import TOMLDocument
    from tomlkit.container import Container
    from tomlkit.items import AoT, Array

_RULE_DEFAULTS = {"operation": "*", "pattern": "*"}
_RULE_KEYS = ("tool", "operation", "pattern")


def _load(path: Path) -> TOMLDocument:
    import tomlkit
    from tomlkit.exceptions import ParseError

    if not path.exists():
        return tomlkit.document()
    try:
        return tomlkit.parse(path.read_text(encoding="utf-8"))
    except ParseError as exc:
        raise ConfigError(
            [f"{path}: line {exc.line}, column {exc.col}: invalid TOML; fix it before saving"]
        ) from exc


def _save(path: Path, document: TOMLDocument) -> None:
    """Write ``document`` to ``path`` atomically, keeping the file's permissions."""
    text = document.as_string()
    original = path.read_text(encoding="utf-8") if path.exists() else ""
    if text.endswith("\n\n") and not original.endswith("\n\n"):
        # tomlkit separates tables with a blank line; none is wanted at the end of a file.
        text = text.rstrip("\n") + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777 if path.exists() else None
    fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(temp_name, mode)
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise


def _table(parent: Container | Any, key: str, where: str) -> Any:
    """The table ``key`` inside ``parent``, created when missing."""
    import tomlkit

    if key not in parent:
        parent[key] = tomlkit.table()
    child = parent[key]
    if not isinstance(child, Mapping):
        raise ConfigError([f"{where}: {key} is a value, not a table; cannot set a key inside it"])
    return child


def set_value(path: Path, dotted_key: str, value: Any) -> None:
    """Set ``dotted_key`` (``"model"``, ``"ui.theme"``) to ``value`` in the file at ``path``.

    Creates the file and any missing tables. ``None`` removes the key (TOML has no null).
    """
    parts = dotted_key.split(".")
    if not all(parts):
        raise ValueError(f"bad config key {dotted_key!r}")
    document = _load(path)
    node: Any = document
    for part in parts[:-1]:
        if value is None and part not in node:
            return  # nothing to remove
        node = _table(node, part, str(path))
    last = parts[-1]
    if value is None:
        if last not in node:
            return
        del node[last]
    else:
        node[last] = _plain(value)
    _save(path, document)


def _plain(value: Any) -> Any:
    """``value`` with paths turned into strings so tomlkit can write it."""
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _normal_rule(rule: Mapping[str, Any]) -> dict[str, str]:
    """A rule with defaults filled in, for comparison and writing."""
    if not rule.get("tool"):
        raise ValueError("a remembered rule needs a tool")
    unknown = set(rule) - set(_RULE_KEYS)
    if unknown:
        raise ValueError(f"unknown keys in a remembered rule: {', '.join(sorted(unknown))}")
    return {key: str(rule.get(key, _RULE_DEFAULTS.get(key, ""))) for key in _RULE_KEYS}


def _remembered(document: TOMLDocument, path: Path, *, create: bool) -> AoT | Array | None:
    import tomlkit
    from tomlkit.items import AoT

    if "approvals" not in document and not create:
        return None
    approvals = _table(document, "approvals", str(path))
    if "remembered" not in approvals:
        if not create:
            return None
        approvals["remembered"] = tomlkit.aot()
    rules = approvals["remembered"]
    if not isinstance(rules, list):
        raise ConfigError([f"{path}: approvals.remembered: expected a list of tables"])
    if create and len(rules) == 0 and not isinstance(rules, AoT):
        # "remembered = []" (as in the defaults): write rules as [[tables]] instead.
        approvals["remembered"] = tomlkit.aot()
        rules = approvals["remembered"]
    return cast("AoT | Array", rules)


def _same_rule(item: Any, wanted: dict[str, str]) -> bool:
    if not isinstance(item, Mapping):
        return False
    try:
        return _normal_rule(item) == wanted
    except ValueError:
        return False


def append_remembered(path: Path, rule: Mapping[str, Any]) -> bool:
    """Add ``rule`` (tool, operation, pattern) to ``[[approvals.remembered]]`` in ``path``.

    Returns False, and leaves the file alone, when an identical rule is already there.
    """
    import tomlkit
    from tomlkit.items import AoT

    wanted = _normal_rule(rule)
    document = _load(path)
    rules = _remembered(document, path, create=True)
    assert rules is not None
    if any(_same_rule(item, wanted) for item in rules):
        return False
    if isinstance(rules, AoT):
        if len(rules) and not rules[-1].as_string().endswith("\n\n"):
            rules[-1].add(tomlkit.nl())  # a blank line between the old rule and the new
        table = tomlkit.table()
        table.update(wanted)
        table.add(tomlkit.nl())  # and between the new rule and whatever follows
        rules.append(table)
    else:
        inline = tomlkit.inline_table()
        inline.update(wanted)
        rules.append(inline)
    _save(path, document)
    return True


def remove_remembered(path: Path, rule: Mapping[str, Any]) -> bool:
    """Remove every rule equal to ``rule`` from ``path``; True when one was removed."""
    wanted = _normal_rule(rule)
    if not path.exists():
        return False
    document = _load(path)
    rules = _remembered(document, path, create=False)
    if rules is None:
        return False
    doomed = [i for i, item in enumerate(rules) if _same_rule(item, wanted)]
    if not doomed:
        return False
    for index in reversed(doomed):
        del rules[index]
    if len(rules) == 0:
        del document["approvals"]["remembered"]
    _save(path, document)
    return True
