"""Reasoning-effort levels, their cascades, and what each model is known to accept.

A user asks for a level (``/effort`` or ``reasoning_effort`` in the config): the
*preference*. A model may not take it: OpenAI's gpt-5 refuses ``xhigh``, Anthropic's
Sonnet 4.6 has no ``xhigh``, a router provider may take only low/medium/high, a
non-reasoning model takes none. What is sent is the first level of the preference's
*cascade* (the preference, then the levels below it) that the model is not known to
refuse. ``LevelBook`` holds what is known per model: levels accepted (a call with them
succeeded) and refused (the provider said so), each with when it was learned.
``EffortStore`` keeps the books on disk in the cache directory, so a model is probed
once a week, not on every start.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

log = logging.getLogger(__name__)

Level = Literal["minimal", "low", "medium", "high", "xhigh", "max"]
LEVELS: tuple[Level, ...] = ("minimal", "low", "medium", "high", "xhigh", "max")
"""From the least to the most thinking."""
OFF_WORDS = frozenset({"off", "none", "no", "false", "0", "disable", "disabled"})

CASCADES: dict[Level, tuple[Level, ...]] = {
    "max": ("max", "xhigh", "high", "medium", "low"),
    "xhigh": ("xhigh", "high", "medium", "low"),
    "high": ("high", "medium", "low"),
    "medium": ("medium", "low"),
    "low": ("low",),
    "minimal": ("minimal", "low"),
}
"""Levels tried for a preference, best first: never more effort than asked for, except
``minimal`` → ``low`` (the nearest level that costs almost as little)."""

EFFORT_NOTICE = "Reasoning effort:"
THINKING_NOTICE = "Thinking blocks:"
NOTICE_PREFIXES = (EFFORT_NOTICE, THINKING_NOTICE)
"""How the notices about effort and thinking start (headless prints their warnings on
stderr, even when it is not a terminal)."""

RESEARCH_CAP: Level = "high"
"""The research sub-agent never thinks harder than this (it makes many small calls)."""

TTL_S = 7 * 24 * 3600.0
"""How long a learned answer about a model is trusted."""


def parse_level(text: str | None) -> Level | None:
    """``"HIGH"`` → ``"high"``; ``off``/``none``/empty → ``None``; raises ``ValueError``."""
    word = (text or "").strip().lower()
    if not word or word in OFF_WORDS:
        return None
    if word not in LEVELS:
        raise ValueError(f"unknown reasoning effort {text!r}: use {', '.join(LEVELS)} or off")
    return word


def rank(level: str) -> int:
    """Position of ``level`` in ``LEVELS`` (-1 when it is not one of ours)."""
    return LEVELS.index(level) if level in LEVELS else -1


def cap(level: Level | None, ceiling: Level) -> Level | None:
    """``level`` lowered to ``ceiling`` when above it (``None`` stays ``None``)."""
    if level is None or rank(level) <= rank(ceiling):
        return level
    return ceiling


def cascade(preference: Level | None) -> tuple[Level, ...]:
    """The levels to try for ``preference``, best first (nothing for ``None``)."""
    return CASCADES[preference] if preference is not None else ()


@dataclass
class LevelBook:
    """What one model is known to do with each level: True accepted, False refused."""

    known: dict[str, tuple[bool, float]] = field(default_factory=dict)
    """level → (accepted, when it was learned)."""

    def get(self, level: str) -> bool | None:
        entry = self.known.get(level)
        return entry[0] if entry is not None else None

    def accept(self, level: str, now: float | None = None) -> None:
        self.known[level] = (True, time.time() if now is None else now)

    def refuse(self, level: str, now: float | None = None) -> None:
        self.known[level] = (False, time.time() if now is None else now)

    def refuse_all(self, now: float | None = None) -> None:
        """The model takes no effort parameter at all."""
        for level in LEVELS:
            self.refuse(level, now)

    def accepted(self) -> list[str]:
        return [lv for lv in LEVELS if self.get(lv) is True]

    def refused(self) -> list[str]:
        return [lv for lv in LEVELS if self.get(lv) is False]

    def takes_none(self) -> bool:
        """Every level was refused: the model takes no effort parameter."""
        return all(self.get(lv) is False for lv in LEVELS)

    def fresh(self, ttl_s: float, now: float) -> LevelBook:
        """A copy without the answers older than ``ttl_s``."""
        return LevelBook({k: v for k, v in self.known.items() if now - v[1] <= ttl_s})

    def to_json(self) -> dict[str, Any]:
        return {level: {"ok": ok, "at": at} for level, (ok, at) in self.known.items()}

    @classmethod
    def from_json(cls, raw: Any) -> LevelBook:
        """A book from its JSON form; anything malformed in it is left out."""
        book = cls()
        if not isinstance(raw, dict):
            return book
        for level, entry in raw.items():
            if level not in LEVELS or not isinstance(entry, dict):
                continue
            ok, at = entry.get("ok"), entry.get("at")
            if isinstance(ok, bool) and isinstance(at, int | float) and not isinstance(at, bool):
                book.known[level] = (ok, float(at))
        return book


def choose(preference: Level | None, book: LevelBook, skip: Iterable[str] = ()) -> Level | None:
    """The level to send: the first of the cascade not refused (nor in ``skip``)."""
    skipped = set(skip)
    for level in cascade(preference):
        if level not in skipped and book.get(level) is not False:
            return level
    return None


def first_unknown(
    preference: Level | None, book: LevelBook, skip: Iterable[str] = ()
) -> Level | None:
    """The level a probe must try first, or ``None`` when the answer is already known."""
    level = choose(preference, book, skip)
    return level if level is not None and book.get(level) is None else None


class EffortStore:
    """The level books of every model, in one JSON file in the cache directory.

    Reading and writing are blocking (call them in a thread). A missing, unreadable or
    malformed file is an empty store, and the next write replaces it; a write that
    fails only logs (the books stay in memory for this run).
    """

    VERSION = 1

    def __init__(self, path: Path, *, ttl_s: float = TTL_S) -> None:
        self.path = Path(path)
        self.ttl_s = ttl_s
        self._lock = threading.Lock()

    def load(self, key: str, now: float | None = None) -> LevelBook:
        """The fresh answers about the model ``key``."""
        now = time.time() if now is None else now
        entry = self._read().get(key)
        return LevelBook.from_json(entry).fresh(self.ttl_s, now)

    def save(self, key: str, book: LevelBook, now: float | None = None) -> None:
        """Store ``book`` for ``key`` (expired answers of every model are dropped)."""
        now = time.time() if now is None else now
        with self._lock:
            models = self._read()
            models[key] = book.fresh(self.ttl_s, now).to_json()
            kept = {
                k: LevelBook.from_json(v).fresh(self.ttl_s, now).to_json()
                for k, v in models.items()
            }
            self._write({k: v for k, v in kept.items() if v})

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict) or data.get("version") != self.VERSION:
            return {}
        models = data.get("models")
        return dict(models) if isinstance(models, dict) else {}

    def _write(self, models: dict[str, Any]) -> None:
        record = {"version": self.VERSION, "models": models}
        tmp = ""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".effort-", suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(record, handle)
            os.replace(tmp, self.path)
            tmp = ""
        except OSError as exc:
            log.info("effort cache: cannot write %s: %s", self.path, exc)
        finally:
            if tmp:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
