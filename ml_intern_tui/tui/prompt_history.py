"""The prompts you sent, kept per project across runs (Up/Down recall, Ctrl+R search).

The file lives in the user data directory, named by a hash of the project's resolved
path — never in the project: a hostile repository must not be able to plant prompts for
you to recall and send. It is a JSON-lines file readable by you only (prompts can hold
anything you typed), bounded to ``LIMIT`` entries: appends are cheap, and the file is
rewritten to its last ``LIMIT`` entries once it holds twice as many.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ml_intern_tui.paths import data_dir

if TYPE_CHECKING:
    from ml_intern_tui.tui.widgets.prompt import PromptInput

LIMIT = 1_000
"""Prompts kept per project."""
MAX_ENTRY_CHARS = 20_000
"""A longer prompt (a big paste) is kept cut to this many characters."""


def history_path(project: Path, base: Path | None = None) -> Path:
    """Where ``project``'s prompt history is kept (under the user data directory)."""
    try:
        resolved = project.resolve()
    except OSError:
        resolved = project.absolute()
    digest = hashlib.sha256(str(resolved).encode("utf-8", "surrogatepass")).hexdigest()[:24]
    return (base or data_dir()) / "prompt-history" / f"{digest}.jsonl"


@dataclass
class PromptHistory:
    """One project's prompts, oldest first."""

    path: Path
    limit: int = LIMIT
    entries: list[str] = field(default_factory=list)
    _lines_on_disk: int = 0

    def load(self) -> list[str]:
        """Read the file (a missing or unreadable file is an empty history)."""
        try:
            raw = self.path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return []
        entries: list[str] = []
        lines = raw.splitlines()
        for line in lines:
            try:
                value = json.loads(line)
            except ValueError:
                continue  # a torn last line (a crash mid-write) or a stray edit
            text = value.get("text") if isinstance(value, dict) else None
            if isinstance(text, str) and text:
                entries.append(text[:MAX_ENTRY_CHARS])
        self._lines_on_disk = len(lines)
        self.entries = entries[-self.limit :]
        return list(self.entries)

    def append(self, text: str) -> None:
        """Remember a sent prompt (a repeat of the last one is not added twice).

        Raises ``OSError`` when the file cannot be written (the caller says so once).
        """
        text = text[:MAX_ENTRY_CHARS]
        if not text.strip() or (self.entries and self.entries[-1] == text):
            return
        self.entries.append(text)
        del self.entries[: -self.limit]
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if self._lines_on_disk + 1 > 2 * self.limit:
            self._rewrite()
            return
        line = json.dumps({"text": text}, ensure_ascii=False) + "\n"
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a+", encoding="utf-8") as handle:
            if _ends_torn(fd):  # a crash cut the last line: start ours on a new one
                line = "\n" + line
            handle.write(line)
        self._lines_on_disk += 1

    def _rewrite(self) -> None:
        temporary = self.path.with_suffix(".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            for text in self.entries:
                handle.write(json.dumps({"text": text}, ensure_ascii=False) + "\n")
        os.replace(temporary, self.path)
        self._lines_on_disk = len(self.entries)


def _ends_torn(fd: int) -> bool:
    size = os.fstat(fd).st_size
    return size > 0 and os.pread(fd, 1, size - 1) != b"\n"


def matches(entries: list[str], query: str, limit: int = 50) -> list[str]:
    """Entries holding every word of ``query`` (any case), newest first, no repeats."""
    words = query.lower().split()
    found: list[str] = []
    seen: set[str] = set()
    for text in reversed(entries):
        if text in seen:
            continue
        lowered = text.lower()
        if all(word in lowered for word in words):
            found.append(text)
            seen.add(text)
            if len(found) >= limit:
                break
    return found


class HistoryKeeper:
    """The prompt's side: load into its recall list, keep each sent prompt."""

    def __init__(self, prompt: PromptInput, project: Path | None = None) -> None:
        self.prompt = prompt
        self.store = PromptHistory(history_path(project or Path.cwd()))
        self._write_failed = False

    async def load(self) -> None:
        loaded = await asyncio.to_thread(self.store.load)
        # Prompts sent before the file was read stay the newest.
        self.prompt.sent_history[:0] = loaded

    def keep(self, text: str) -> None:
        try:
            self.store.append(text)
        except OSError as exc:
            if not self._write_failed:  # say it once, keep working
                self._write_failed = True
                notice = getattr(self.prompt.app, "local_notice", None)
                if notice is None:
                    return
                notice(
                    f"Prompt history is not saved: {self.store.path.parent}: "
                    f"{exc.strerror or exc}.",
                    "warning",
                    hint="Make the data directory writable (or set XDG_DATA_HOME).",
                )
