"""Project trust: which settings a project's ``.ml-intern/config.toml`` may change by itself.

A cloned repository can ship that file, and before protected paths the model could write
it, so it is read as untrusted input. Deny by default: only the keys in ``SAFE_KEYS``
(how the app looks and how it keeps the conversation) apply on their own. Every other
key -- what runs without asking, what it costs, where data and tokens go, what starts
at launch, and any key added later unless it is put on the safe list -- applies only
once the user trusts the project: for one run, or always for this path and exactly
this content (a changed file asks again). The decisions live in the app's data
directory (``trust.json``), a protected path the model cannot write.
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from ml_intern_tui import paths
from ml_intern_tui.safety.user_store import StoreFile

KeyPath = tuple[str, ...]

SAFE_KEYS: frozenset[KeyPath] = frozenset(
    {
        ("stream",),
        ("suggested_models",),  # offered by /model; the user still picks
        ("context", "limit"),
        ("context", "compact_threshold"),
        ("context", "keep_recent"),
        ("context", "per_message_cap_tokens"),
        ("llm", "retry_base_delay_s"),
        ("llm", "retry_max_delay_s"),
        ("ui", "theme"),
        ("ui", "show_reasoning"),
        ("ui", "max_chat_blocks"),
        ("keymap",),  # except the bindings in GATED_BINDINGS
    }
)
"""Settings a project may set without trust: none runs code, loosens approvals, spends
money, or sends data or tokens anywhere."""

GATED_BINDINGS: frozenset[str] = frozenset({"approval", "confirm", "permissions", "trust"})
"""Key binding groups (``[keymap]`` ids ``group.action``) a project may not move: the keys
that answer approvals and questions."""

GATED: dict[KeyPath, str] = {
    ("model",): "the model every call goes to, and what it costs",
    ("mode",): "what runs without asking",
    ("budget_usd",): "how much may be spent without asking",
    ("max_iterations",): "how many paid model calls one turn may make",
    ("reasoning_effort",): "how many paid reasoning tokens each call uses",
    ("llm",): "where prompts and your Hugging Face token go, and paid retries",
    ("tools",): "which commands run without asking, what they may see, tool limits",
    ("approvals",): "calls that run without asking",
    ("sessions",): "where session journals are written",
    ("traces",): "uploads of your sessions to the Hub",
    ("hub",): "where your Hugging Face token is sent",
    ("github",): "where your GitHub token is sent",
    ("mcp",): "programs started and servers contacted at launch",
    ("notifications",): "where session content is sent",
    ("sandbox",): "the OS sandbox around shell commands",
    ("router",): "where model calls are routed, and what they cost",
    ("keymap",): "the keys that answer approvals and questions",
}
"""What each gated table or key controls (the trust screen says it). Tables are gated
whole, so a key added to one later is gated without being listed; a new table that is
neither here nor in ``SAFE_KEYS`` is gated too, and a test asks for it to be decided."""

UNLISTED_EFFECT = "not on the list of settings a project may change by itself"

TRUST_FILE = "trust.json"


# ----------------------------------------------------------------------------- classify


def is_safe(path: KeyPath) -> bool:
    """True when a project may set ``path`` without trust."""
    if len(path) == 2 and path[0] == "keymap":
        return path[1].split(".", 1)[0].strip().casefold() not in GATED_BINDINGS
    return path in SAFE_KEYS


def split_project(data: Mapping[str, Any]) -> tuple[dict[str, Any], list[KeyPath]]:
    """The safe part of a project config and the paths of everything else (gated).

    Gated paths are as coarse as possible: a table with no safe key inside is one path.
    """
    gated: list[KeyPath] = []

    def walk(node: Mapping[str, Any], prefix: KeyPath) -> dict[str, Any]:
        kept: dict[str, Any] = {}
        for key, value in node.items():
            path = (*prefix, str(key))
            has_safe_inside = isinstance(value, dict) and (
                path == ("keymap",) or any(s[: len(path)] == path for s in SAFE_KEYS if s != path)
            )
            if has_safe_inside:
                inner = walk(value, path)
                if inner or not value:
                    kept[key] = inner
            elif is_safe(path) and path != ("keymap",):
                kept[key] = value
            else:
                gated.append(path)
        return kept

    return walk(data, ()), gated


def effect_of(path: KeyPath) -> str:
    """What the gated setting at ``path`` controls (its nearest listed table)."""
    for end in range(len(path), 0, -1):
        if path[:end] in GATED:
            return GATED[path[:end]]
    return UNLISTED_EFFECT


def content_digest(data: bytes) -> str:
    """The SHA-256 of a config file's bytes (what "trust always" is tied to)."""
    return hashlib.sha256(data).hexdigest()


# ----------------------------------------------------------------------------- describe


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


def printable(text: str, limit: int = 120) -> str:
    """``text`` with every non-printable character escaped, cut to ``limit``."""
    out = "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)
    return out if len(out) <= limit else out[: limit - 1] + "…"


def shown(value: Any, limit: int = 120) -> str:
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
        return value
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


def _at(node: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def _leaves(path: KeyPath, value: Any, baseline: Mapping[str, Any]) -> list[GatedSetting]:
    if isinstance(value, dict) and value:
        out: list[GatedSetting] = []
        for key, item in value.items():
            out += _leaves((*path, str(key)), item, baseline)
        return out
    before = _at(baseline, path)
    scalar = not isinstance(value, dict | list) and not isinstance(before, dict | list)
    change = f"{_word(before)} → {_word(value)}" if scalar else shown(value)
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
                change = printable(what)
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
    elif server.get("url"):
        change = f"connects to {shown(server['url'])} at start"
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


# ----------------------------------------------------------------------------- the store


def trust_store_path(env: Mapping[str, str] | None = None) -> Path:
    """``<data dir>/trust.json``: the projects the user trusts, with the content trusted."""
    return paths.data_dir(env) / TRUST_FILE


@dataclass(frozen=True)
class TrustEntry:
    """A stored "trust always" answer."""

    sha256: str
    config: str
    trusted_at: str


class TrustStore:
    """Trust decisions by resolved project path: the config's SHA-256 and when."""

    def __init__(self, path: Path) -> None:
        self.file = StoreFile(path, what="trusted projects")

    @property
    def path(self) -> Path:
        return self.file.path

    def lookup(self, project: Path) -> tuple[TrustEntry | None, str | None]:
        """The entry for ``project`` (``None`` when absent) and a warning for a broken store."""
        data, warning = self.file.read()
        projects = data.get("projects")
        entry = projects.get(_key(project)) if isinstance(projects, dict) else None
        if not isinstance(entry, dict) or not isinstance(entry.get("sha256"), str):
            return None, warning
        return (
            TrustEntry(
                sha256=entry["sha256"],
                config=str(entry.get("config", "")),
                trusted_at=str(entry.get("trusted_at", "")),
            ),
            warning,
        )

    def trust(self, project: Path, config: Path, digest: str) -> None:
        """Trust ``project``'s config with exactly this content, replacing an older answer."""

        def change(data: dict[str, Any]) -> bool:
            projects = data.get("projects")
            if not isinstance(projects, dict):
                projects = data["projects"] = {}
            projects[_key(project)] = {
                "sha256": digest,
                "config": str(config),
                "trusted_at": datetime.now(UTC).isoformat(timespec="seconds"),
            }
            return True

        self.file.update(change)

    def forget(self, project: Path) -> bool:
        """Remove the answer for ``project``; True when there was one."""

        def change(data: dict[str, Any]) -> bool:
            projects = data.get("projects")
            return isinstance(projects, dict) and projects.pop(_key(project), None) is not None

        return self.file.update(change)


def _key(project: Path) -> str:
    return os.path.realpath(project)


# ----------------------------------------------------------------------------- the verdict

TrustState = Literal["none", "trusted", "untrusted"]
TrustHow = Literal["", "stored", "flag", "once"]


@dataclass(frozen=True)
class ProjectTrust:
    """Whether this run applies the project config's gated settings, and what they are."""

    config: Path
    state: TrustState
    """``none``: nothing to trust (no file, or only safe keys)."""
    project: Path = Path()
    """The project directory (what a stored answer is keyed by)."""
    settings: tuple[GatedSetting, ...] = ()
    digest: str = ""
    how: TrustHow = ""
    """How it is trusted: stored answer, ``--trust-project``, or "trust once" in the app."""
    stored: TrustEntry | None = None
    """The stored answer for this project (also when it was for other content)."""

    @property
    def asks(self) -> bool:
        """True when the app should ask before it starts."""
        return self.state == "untrusted"

    @property
    def changed_since_trusted(self) -> bool:
        return self.state == "untrusted" and self.stored is not None

    def keys(self, limit: int = 8) -> str:
        """The gated keys, comma-separated (``mode, mcp.servers.x, …``)."""
        names = list(dict.fromkeys(s.key for s in self.settings))
        text = ", ".join(names[:limit])
        return text + (f" and {len(names) - limit} more" if len(names) > limit else "")

    def status(self) -> str:
        """One line for ``/status``."""
        where = printable(str(self.config))
        if self.state == "none":
            exists = self.config.is_file()
            return (
                f"Project config {where}: safe settings only, nothing to trust"
                if exists
                else "Project config: none"
            )
        count = f"{len(self.settings)} setting{'s' if len(self.settings) != 1 else ''}"
        if self.state == "trusted":
            how = {
                "stored": f"trusted always (since {self.stored.trusted_at})"
                if self.stored
                else "trusted always",
                "flag": "trusted for this run (--trust-project)",
                "once": "trusted for this run",
            }.get(self.how, "trusted")
            return f"Project config {where}: {how}; {count} applied ({self.keys(4)})"
        return (
            f"Project config {where}: not trusted; {count} ignored ({self.keys(4)}); "
            "restart to be asked again, or run with --trust-project"
        )

    def headless_line(self) -> str:
        """The one stderr line of a headless run that ignores the gated settings."""
        changed = " (it changed since you trusted it)" if self.changed_since_trusted else ""
        return (
            f"ignoring settings in {printable(str(self.config))} that need your trust"
            f"{changed}: {self.keys()}; run with --trust-project to apply them, or open the "
            "app here and trust the project"
        )
