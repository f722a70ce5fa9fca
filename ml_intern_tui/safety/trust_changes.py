"""What an untrusted project config would change, one line per setting, safe to print.

Values are shown as written in the file (``${VAR}`` not expanded, so no secret is shown)
with every non-printable character escaped: the file may be hostile, and its text goes
to a terminal.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ml_intern_tui.safety.trust import KeyPath, effect_of


@dataclass(frozen=True)
class GatedSetting:
    """One thing an untrusted project config would change, as the user reads it."""

    key: str
    """Dotted key, made safe to print (``mcp.servers.x``)."""
    change: str
    """The value as written, or ``before → after`` (``ask → yolo``)."""
    effect: str
    """What it controls."""
    overridden: str | None = None
    """The layer that wins over it anyway (``command line``), if any."""

    def line(self) -> str:
        text = f"{self.key}: {self.change}"
        return f"{text} (overridden by {self.overridden})" if self.overridden else text


SHOWN_LIMIT = 2000
"""Characters of one value the trust question shows. Cut at 120, a long innocent
prefix hid what came after it: ``sh -c 'echo <100 chars>; curl … | sh'`` or a
``readonly_allowlist`` whose last entry is ``rm``. Longer values are still cut (a
megabyte would bury the question), and the cut says how much is left out."""


def printable(text: str, limit: int = 120) -> str:
    """``text`` with every non-printable character escaped, cut to ``limit``."""
    out = "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)
    if len(out) <= limit:
        return out
    cut = out[: limit - 1]
    return f"{cut}… ({len(out) - len(cut):,} more characters)" if limit >= 200 else cut + "…"


def shown(value: Any, limit: int = SHOWN_LIMIT) -> str:
    """A TOML value as written, briefly and safe to print."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "none"
    if isinstance(value, str):
        return printable('"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"', limit)
    if isinstance(value, list):
        return printable("[" + ", ".join(shown(v, limit) for v in value) + "]", limit)
    if isinstance(value, dict):
        inner = ", ".join(f"{printable(str(k))} = {shown(v, limit)}" for k, v in value.items())
        return printable("{" + inner + "}", limit)
    return printable(str(value), limit)


_BARE = re.compile(r"^[A-Za-z0-9_./:@+-]+$")
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def key_text(path: tuple[Any, ...]) -> str:
    """A dotted key as TOML would write it (parts with dots or spaces quoted)."""
    parts = [str(part) for part in path]
    return ".".join(p if _BARE_KEY.match(p) else shown(p, 60) for p in parts)


def _word(value: Any) -> str:
    """A value in ``before → after``: plain words bare (``ask → yolo``), others as written."""
    if isinstance(value, str) and _BARE.match(value):
        return printable(value, SHOWN_LIMIT)
    return shown(value)


def describe(
    raw: Mapping[str, Any],
    gated: list[KeyPath],
    baseline: Mapping[str, Any],
    winner: Mapping[str, str] | None = None,
) -> list[GatedSetting]:
    """The gated settings of ``raw`` (the project file as parsed) one per line.

    ``baseline`` is the merged settings without them (``before``); ``winner`` maps a
    dotted key to a later layer that overrides the project there (env, command line).
    """
    found: list[GatedSetting] = []
    for path in gated:
        value = _at(raw, path)
        if path[:1] == ("mcp",):
            lines = _mcp(path, value, baseline)
        elif path[:1] == ("approvals",):
            lines = _rules(path, value)
        elif path[:1] == ("notifications",):
            lines = _notifications(path, value)
        else:
            lines = _leaves(path, value, baseline)
        # An empty table or list still needs trust; it is listed as written.
        found += lines or [GatedSetting(key_text(path), shown(value), effect_of(path))]
    winner = winner or {}
    return [
        GatedSetting(s.key, s.change, s.effect, winner.get(s.key)) if s.key in winner else s
        for s in found
    ]


_MISSING = object()


def _at(node: Any, path: tuple[Any, ...], missing: Any = None) -> Any:
    for part in path:
        if not isinstance(node, Mapping) or part not in node:
            return missing
        node = node[part]
    return node


def _leaves(path: KeyPath, value: Any, baseline: Mapping[str, Any]) -> list[GatedSetting]:
    if isinstance(value, dict) and value:
        out: list[GatedSetting] = []
        for key, item in value.items():
            out += _leaves((*path, str(key)), item, baseline)
        return out
    before = _at(baseline, path, _MISSING)  # missing: a key these settings do not know
    scalar = not isinstance(value, dict | list) and not isinstance(before, dict | list)
    if before is _MISSING or not scalar:
        change = shown(value)
    else:
        change = f"{_word(before)} → {_word(value)}"
    return [GatedSetting(key_text(path), change, effect_of(path))]


def _rules(path: KeyPath, value: Any) -> list[GatedSetting]:
    if path == ("approvals",) and isinstance(value, dict):
        out: list[GatedSetting] = []
        for key, item in value.items():
            out += _rules(("approvals", str(key)), item)
        return out
    if path == ("approvals", "remembered") and isinstance(value, list):
        lines = []
        for rule in value:
            if isinstance(rule, dict):
                op = rule.get("operation", "*")
                what = f"{rule.get('tool', '?')}{'' if op == '*' else f' {op}'}: "
                what += str(rule.get("pattern", "*"))
                change = printable(what, SHOWN_LIMIT)
            else:
                change = shown(rule)
            lines.append(GatedSetting(key_text(path), change, "runs matching calls without asking"))
        return lines
    return [GatedSetting(key_text(path), shown(value), effect_of(path))]


def _mcp(path: KeyPath, value: Any, baseline: Mapping[str, Any]) -> list[GatedSetting]:
    if len(path) < 3 and isinstance(value, dict):
        out: list[GatedSetting] = []
        for key, item in value.items():
            out += _mcp((*path, str(key)), item, baseline)
        return out
    if len(path) != 3 or path[1] != "servers" or not isinstance(value, dict):
        return [GatedSetting(key_text(path), shown(value), effect_of(path))]
    known = _at(baseline, path)
    server = {**(known if isinstance(known, dict) else {}), **value}
    if server.get("command"):
        line = shlex.join(str(p) for p in [server["command"], *(server.get("args") or [])])
        change = f"runs {shown(line)} at start"
        # Where and with what environment: NODE_OPTIONS, LD_PRELOAD or PYTHONPATH run
        # code of their own, and a ``cwd`` decides what ``python -m server`` imports.
        if server.get("cwd"):
            change += f" in {shown(server['cwd'])}"
        change += _table_text("with environment", server.get("env"))
    elif server.get("url"):
        change = f"connects to {shown(server['url'])} at start"
        change += _table_text("sending headers", server.get("headers"))
    else:
        change = shown(value)
    extras = [
        text
        for flag, text in (
            ("trusted", "its tools run without asking"),
            ("send_hf_token", "it gets your Hugging Face token"),
        )
        if server.get(flag) is True
    ]
    if server.get("enabled") is False:
        change = change.replace(" at start", " when enabled") + " (disabled)"
    change = "; ".join([change, *extras])
    return [GatedSetting(key_text(path), change, effect_of(path))]


def _table_text(what: str, table: Any) -> str:
    """`` with environment A="1", B="${X}"`` (as written: a ``${VAR}`` shows which
    secret would be passed), or ``""`` for an empty table."""
    if not isinstance(table, dict) or not table:
        return ""
    pairs = ", ".join(f"{printable(str(k), 200)}={shown(v)}" for k, v in table.items())
    return f" {what} {printable(pairs, SHOWN_LIMIT)}"


def _notifications(path: KeyPath, value: Any) -> list[GatedSetting]:
    if len(path) < 3 and isinstance(value, dict) and value:
        out: list[GatedSetting] = []
        for key, item in value.items():
            out += _notifications((*path, str(key)), item)
        return out
    if len(path) == 3 and path[1] == "destinations" and isinstance(value, dict):
        how = "a webhook" if value.get("webhook_url") else f"channel {shown(value.get('channel'))}"
        change = f"sends session messages to Slack ({how})"
        if value.get("allow_agent") is True:
            change += "; the agent may post there without asking"
        return [GatedSetting(key_text(path), change, effect_of(path))]
    return [GatedSetting(key_text(path), shown(value), effect_of(path))]
