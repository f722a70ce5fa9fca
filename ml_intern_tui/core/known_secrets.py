"""The secret values this process knows, scrubbed wherever they appear.

Patterns (``core/redact.py``) catch what looks like a credential; this layer catches the
credentials themselves. At start the composition root registers the values of the
environment's secret-looking variables and the Hugging Face token the app uses
(``safety/secret_values.py`` finds them); from then on every exact occurrence of one of
those values — and of its URL-encoded and base64 forms — becomes
``[REDACTED_<NAME>]``: in tool outputs before they enter the conversation, in every
request sent to a model, in events, the journal, exports, traces and spill files. So a
tool that prints the environment (``env``, ``/proc/self/environ``, ``ps eww``, a Python
one-liner) cannot hand a secret to the model, even in ``yolo`` mode without a sandbox.

The registry is process-wide; ``clear`` exists for tests.
"""

from __future__ import annotations

import base64
import re
import threading
from collections.abc import Callable
from typing import Any, TypeVar, cast
from urllib.parse import quote, quote_plus

T = TypeVar("T")

MIN_LENGTH = 8
"""Shorter values are not registered: they would match ordinary text."""
_MIN_ENCODED = 12
"""Shortest base64 fragment scrubbed (a shorter one could occur by chance)."""
_CACHE_MIN = 256
"""Strings at least this long are remembered once found clean (messages are re-sent)."""
_CACHE_SIZE = 4096

_lock = threading.Lock()
_needles: list[tuple[str, str]] = []
"""(text to find, marker), longest first so a value wins over its own fragments."""
_finder: tuple[re.Pattern[str], dict[str, str]] | None = None
"""One alternation of every needle (the regex engine skips ahead by their first
characters: far faster than a substring test per needle) and each needle's marker."""
_values: dict[str, str] = {}
_clean: dict[int, tuple[str, object]] = {}
"""id → (string, the finder that found it clean): the string is kept so its id cannot be
reused, the finder so an answer stored late by a thread that scrubbed with the values of
before a ``register`` is never taken for one about the values now."""
_listeners: list[Callable[[], None]] = []
_refreshers: dict[str, Callable[[], None]] = {}


def _marker(name: str) -> str:
    label = re.sub(r"[^A-Z0-9]+", "_", name.upper()).strip("_") or "SECRET"
    return f"[REDACTED_{label}]"


def _base64_forms(value: bytes) -> list[str]:
    """Base64 text that any encoding of ``value`` contains, whatever bytes surround it.

    Base64 turns 3-byte groups into 4 characters; ``value`` can start at any of three
    offsets in a group, and for each the groups made only of its own bytes are fixed.
    """
    forms: list[str] = []
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + value).decode("ascii")
        start = 4 if offset else 0  # the first group mixes in bytes before the value
        end = ((offset + len(value)) // 3) * 4  # the last group may mix in bytes after it
        for alphabet in (
            encoded[start:end],
            encoded[start:end].replace("+", "-").replace("/", "_"),
        ):
            if len(alphabet) >= _MIN_ENCODED and alphabet not in forms:
                forms.append(alphabet)
    return forms


def register(value: str | None, name: str = "secret") -> bool:
    """Scrub ``value`` (and its encoded forms) from now on; False when it is too short."""
    if not value:
        return False
    value = value.strip()
    if len(value) < MIN_LENGTH or value in _values:
        return False
    global _needles, _finder
    marker = _marker(name)
    forms = [value, quote(value, safe=""), quote_plus(value, safe=""), quote(value)]
    forms += _base64_forms(value.encode("utf-8"))
    with _lock:
        _values[value] = marker
        known = {needle for needle, _ in _needles}
        added = [(form, marker) for form in dict.fromkeys(forms) if form not in known]
        # A new list, not an edit: a scrub running in another thread keeps its own.
        _needles = sorted([*_needles, *added], key=lambda pair: len(pair[0]), reverse=True)
        pattern = re.compile("|".join(re.escape(needle) for needle, _ in _needles))
        _finder = (pattern, dict(_needles))
        _clean.clear()
    for listener in list(_listeners):
        listener()
    return True


def add_refresher(name: str, refresher: Callable[[], None]) -> None:
    """Run ``refresher`` on every ``refresh``: it registers secrets that appeared since
    (a token saved by ``hf auth login`` during the session). One per ``name``."""
    _refreshers[name] = refresher


def refresh() -> None:
    """Let every refresher register what is new; called before a tool's output is
    scrubbed. A refresher that fails is skipped (the next call tries again)."""
    for refresher in list(_refreshers.values()):
        try:
            refresher()
        except Exception:  # a broken token file must not break a turn
            continue


def clear() -> None:
    """Forget every registered value and refresher (tests)."""
    global _needles, _finder
    with _lock:
        _needles = []
        _finder = None
        _values.clear()
        _clean.clear()
        _refreshers.clear()
    for listener in list(_listeners):
        listener()


def on_change(listener: Callable[[], None]) -> None:
    """Call ``listener`` whenever the registry changes (caches of scrubbed text)."""
    _listeners.append(listener)


def count() -> int:
    """How many values are registered."""
    return len(_values)


def scrub(text: str) -> str:
    """``text`` with every registered value replaced by its marker (``text`` itself if none)."""
    finder = _finder
    if finder is None or len(text) < MIN_LENGTH:
        return text
    if len(text) >= _CACHE_MIN:
        known = _clean.get(id(text))
        if known is not None and known[0] is text and known[1] is finder:
            return text
    pattern, markers = finder
    if pattern.search(text) is None:
        if len(text) >= _CACHE_MIN:
            if len(_clean) >= _CACHE_SIZE:
                _clean.clear()
            _clean[id(text)] = (text, finder)
        return text
    return pattern.sub(lambda match: markers[match.group()], text)


def scrub_value(value: T) -> T:
    """``value`` with every string in it scrubbed (dicts, lists, tuples); copies only changes."""
    if _finder is None:
        return value
    return cast(T, _scrub_any(value))


_PLAIN = (int, float, bool, type(None))


def _scrub_any(value: Any) -> Any:
    # Every request scrubs the whole history: nothing is built unless something changed
    # (a copy of each message, made and dropped on every call, was most of the cost).
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        changed: dict[Any, Any] | None = None
        for key, item in value.items():
            if type(item) is str:  # most values: no call through _scrub_any for them
                if len(item) < MIN_LENGTH:
                    continue
                new = scrub(item)
            elif isinstance(item, _PLAIN):
                continue
            else:
                new = _scrub_any(item)
            if new is not item:
                if changed is None:
                    changed = {}
                changed[key] = new
        return value if changed is None else {**value, **changed}
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            if isinstance(item, _PLAIN):
                continue
            new = _scrub_any(item)
            if new is not item:
                items = list(value)
                items[index] = new
                for later in range(index + 1, len(items)):
                    items[later] = _scrub_any(items[later])
                return items if isinstance(value, list) else tuple(items)
        return value
    return value


def scrub_event(event: T) -> T:
    """A copy of a protocol event (a pydantic model) without registered values; itself if none."""
    if _finder is None:
        return event
    fields = getattr(event, "__dict__", None)
    if fields is None or not hasattr(type(event), "model_fields"):
        return event
    changes: dict[str, Any] = {}
    for name, old in fields.items():
        if isinstance(old, str):
            if len(old) < MIN_LENGTH:
                continue
            new = scrub(old)
        elif isinstance(old, _PLAIN):
            continue
        else:
            new = _scrub_model_field(old)
        if new is not old:
            changes[name] = new
    if not changes:
        return event
    return cast(T, event.model_copy(update=changes))  # type: ignore[attr-defined]


def _scrub_model_field(value: Any) -> Any:
    if hasattr(type(value), "model_fields"):
        return scrub_event(value)
    if isinstance(value, list) and value and hasattr(type(value[0]), "model_fields"):
        items = [scrub_event(v) for v in value]
        return items if any(n is not o for n, o in zip(items, value, strict=True)) else value
    return _scrub_any(value)
