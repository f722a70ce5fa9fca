"""Project trust: which settings a project's ``.ml-intern/config.toml`` may change by itself.

A cloned repository can ship that file, and before protected paths the model could write
it, so it is read as untrusted input. Deny by default: only the keys in ``SAFE_KEYS``
(how the app looks and how it keeps the conversation) apply on their own. Every other
key -- what runs without asking, what it costs, where data and tokens go, what starts
at launch, and any key added later unless it is put on the safe list -- applies only
once the user trusts the project: for one run, or always for this path and exactly
this content (a changed file asks again). The decisions live in the app's data
directory (``trust.json``, see ``trust_store``), a protected path the model cannot write;
``trust_changes`` says what a file would change, as the trust question shows it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

KeyPath = tuple[str, ...]

SAFE_KEYS: frozenset[KeyPath] = frozenset(
    {
        ("stream",),
        ("suggested_models",),  # offered by /model; the user still picks
        ("llm", "retry_base_delay_s"),
        ("llm", "retry_max_delay_s"),
        ("ui", "theme"),
        ("ui", "show_reasoning"),
        ("ui", "max_chat_blocks"),
        ("ui", "notify"),  # a bell or a one-line terminal-safe notification, or none
        ("keymap",),  # only entries that ``keymap_entry_safe`` accepts
    }
)
"""Settings a project may set without trust: none runs code, loosens approvals, spends
money, or sends data or tokens anywhere. (``[context]`` is not among them: a tiny window
or threshold makes every turn pay for a compaction, a huge one makes every call send
more tokens than the model's window.)"""

GATED_BINDINGS: frozenset[str] = frozenset({"approval", "confirm", "permissions", "trust"})
"""Key binding groups (``[keymap]`` ids ``group.action``) a project may not move: the keys
that answer approvals and questions."""

GATED_BINDING_IDS: frozenset[str] = frozenset({"app.interrupt", "app.quit", "app.clear_or_quit"})
"""Bindings a project may not move: the keys that stop the agent and leave the app."""

RESERVED_KEYS: frozenset[str] = frozenset(
    {
        # the app's own keys (a binding moved onto one of them replaces it)
        "ctrl+c", "ctrl+q", "ctrl+u", "ctrl+o", "ctrl+n", "ctrl+t", "ctrl+p", "f1",
        # what terminals send for Enter, Tab, Backspace and Esc
        "ctrl+m", "ctrl+j", "ctrl+i", "ctrl+h", "ctrl+left_square_bracket",
    }
)  # fmt: skip
"""Keys a project may not bind to anything."""

_MODIFIERS = frozenset({"ctrl", "alt", "meta", "super", "hyper"})
_KEY_NAME = re.compile(r"^[a-z0-9_]+$")
_FUNCTION_KEY = re.compile(r"^f([1-9]|1[0-9]|2[0-4])$")

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
    ("sandbox",): "the OS sandbox around shell commands, and remote sandbox Spaces you pay "
    "for (hardware, lifetime, whether they get your HF token)",
    ("router",): "where model calls are routed, and what they cost",
    ("web",): "where your searches go, and which private networks web_fetch may reach",
    ("keymap",): "the keys that answer questions, stop the agent or quit, or that you "
    "press for something else",
    ("context",): "how many tokens each paid model call sends, and how often a paid "
    "compaction runs",
    ("jobs",): "which stalled or diverging jobs are reported to you",
}
"""What each gated table or key controls (the trust screen says it). Tables are gated
whole, so a key added to one later is gated without being listed; a new table that is
neither here nor in ``SAFE_KEYS`` is gated too, and a test asks for it to be decided."""

UNLISTED_EFFECT = "not on the list of settings a project may change by itself"


# ----------------------------------------------------------------------------- classify


def is_safe(path: KeyPath, value: Any = None) -> bool:
    """True when a project may set ``path`` (to ``value``, for a key binding) without trust."""
    if len(path) == 2 and path[0] == "keymap":
        return keymap_entry_safe(path[1], value)
    return path in SAFE_KEYS


def keymap_entry_safe(binding: str, keys: Any = None) -> bool:
    """True when a project may bind ``binding`` to ``keys`` by itself.

    Not the keys that answer a question (``approval.*``…), not the ones that stop the
    agent or quit, and only onto keys nobody presses for something else: each key has
    a modifier (``ctrl+k``, ``alt+x``) or is a function key, and is none of the app's
    own (``RESERVED_KEYS``). Otherwise ``"app.compact" = "y"`` would make answering an
    approval pay for a compaction, and ``"app.quit" = "enter"`` would quit on Enter.
    ``keys=None`` judges the binding alone.
    """
    name = binding.strip().casefold()
    if name.split(".", 1)[0].strip() in GATED_BINDINGS or name in GATED_BINDING_IDS:
        return False
    if keys is None:
        return True
    if not isinstance(keys, str):
        return False
    return all(_plain_chord(key.strip()) for key in keys.split(","))


def _plain_chord(key: str) -> bool:
    """A key only a deliberate chord presses: a modifier or a function key, not reserved."""
    if key in RESERVED_KEYS:
        return False
    if _FUNCTION_KEY.match(key):
        return True
    *modifiers, name = key.split("+")
    return (
        bool(set(modifiers) & _MODIFIERS)
        and set(modifiers) <= _MODIFIERS | {"shift"}
        and bool(_KEY_NAME.match(name))
    )


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
            elif is_safe(path, value) and path != ("keymap",):
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
