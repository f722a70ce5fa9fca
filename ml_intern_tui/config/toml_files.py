"""Reading one TOML config file: a dict, or one line saying what is wrong and how to fix it."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

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


MAX_CONFIG_BYTES = 1_000_000
"""A config file is a few kilobytes; a bigger one is a mistake (or ``/dev/zero``)."""


def read_config_bytes(path: Path, problems: list[str]) -> bytes | None:
    """The bytes of a config file, or ``None`` after adding a problem line.

    Only a regular file of at most ``MAX_CONFIG_BYTES`` is read: a link to ``/dev/zero``,
    a FIFO or a terminal would hang the start or fill the memory. ``FileNotFoundError``
    is raised for the caller to decide (a missing file is often fine).
    """
    from ml_intern_tui.safety.local_files import NotReadable, read_regular

    try:
        return read_regular(path, MAX_CONFIG_BYTES)
    except FileNotFoundError:
        raise
    except NotReadable as exc:
        hint = (
            "remove it or put a config in it"
            if path.is_dir()
            else "a config file must be a plain TOML file"
        )
        problems.append(f"{path}: {exc.reason}; {hint}")
    except OSError as exc:
        problems.append(f"{path}: cannot read the file ({exc.strerror or exc})")
    return None


def read_toml(path: Path, problems: list[str]) -> dict[str, Any] | None:
    """The parsed file, or ``None`` after adding a problem line."""
    try:
        content = read_config_bytes(path, problems)
    except FileNotFoundError as exc:
        problems.append(f"{path}: cannot read the file ({exc.strerror or exc})")
        return None
    if content is None:
        return None
    return parse_toml(path, content, problems)


def parse_toml(path: Path, content: bytes, problems: list[str]) -> dict[str, Any] | None:
    """``content`` (the bytes of ``path``) parsed, or ``None`` after adding a problem line."""
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        problems.append(f"{path}: byte {exc.start}: not UTF-8 text; save the file as UTF-8")
        return None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        problems.append(_syntax_problem(path, text, exc))
        return None
