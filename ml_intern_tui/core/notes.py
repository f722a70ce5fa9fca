"""Short system notes for the model's next call: things that happened while it was busy.

Background work (a job that stalled, diverged or finished) reports here; before each
model call the turn drains the notes into the history as one ``[SYSTEM: …]`` message, so
the agent learns about it at its next step without polling. Each note has a key: adding
a note under a key already waiting replaces it, and a note can be withdrawn before it
is read (the agent already saw the job's state through a tool).
"""

from __future__ import annotations

NOTES_TAG = "[SYSTEM: BACKGROUND UPDATE]"
MAX_WAITING = 20
"""Notes kept while the model is not called; the oldest ones go first."""
MAX_NOTE_CHARS = 400


class SystemNotes:
    """Notes waiting for the model's next call, by key, oldest first."""

    def __init__(self, max_waiting: int = MAX_WAITING) -> None:
        self.max_waiting = max_waiting
        self._waiting: dict[str, str] = {}

    def add(self, key: str, text: str) -> None:
        """Queue ``text`` (one line) under ``key``, replacing a note still waiting there."""
        text = " ".join(text.split())
        if len(text) > MAX_NOTE_CHARS:
            text = text[: MAX_NOTE_CHARS - 1] + "…"
        self._waiting.pop(key, None)
        self._waiting[key] = text
        while len(self._waiting) > self.max_waiting:
            self._waiting.pop(next(iter(self._waiting)))

    def withdraw(self, prefix: str) -> int:
        """Drop the waiting notes whose key starts with ``prefix``; how many were dropped."""
        keys = [key for key in self._waiting if key.startswith(prefix)]
        for key in keys:
            del self._waiting[key]
        return len(keys)

    def waiting(self, key: str) -> bool:
        return key in self._waiting

    def __len__(self) -> int:
        return len(self._waiting)

    def drain(self) -> str | None:
        """The waiting notes as one message for the model (``None`` when there are none)."""
        if not self._waiting:
            return None
        notes, self._waiting = list(self._waiting.values()), {}
        lines = [f"- {note}" for note in notes]
        return (
            f"{NOTES_TAG} While you worked, background jobs changed (no reply is needed "
            "unless it changes your plan):\n" + "\n".join(lines)
        )
