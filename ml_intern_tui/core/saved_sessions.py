"""Saved sessions as the pickers and the CLI see them: listing, lookup, fork and delete.

Journals are written and read by ``core.journal``; this module only reads their first
and last records to describe a session (title, model, age, cost, a preview) and manages
whole sessions on disk (fork into a new id with its files, delete with its files).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ml_intern_tui.core.journal import (
    FILES_SUFFIX,
    SUFFIX,
    JournalError,
    _is_system,
    _scan,
    files_dir,
    new_session_id,
    remove_files,
)
from ml_intern_tui.core.session_files import copy_session_files, path_renames

TITLE_CHARS = 80
PREVIEW_CHARS = 600


@dataclass
class SessionInfo:
    """One saved session as a picker lists it."""

    session_id: str
    path: Path
    title: str
    """The first user message, on one line, at most 80 characters."""
    model: str
    created: float
    updated: float
    """Last write (file mtime)."""
    messages: int
    cost_usd: float | None
    """LLM + jobs spend from the last ``spend`` event, if any."""
    prompt: str = ""
    """The first user message, at most 600 characters (for a preview)."""
    last_answer: str = ""
    """The end of the last answer the agent gave, at most 600 characters."""
    cwd: str = ""
    forked_from: str = ""
    """The id of the session this one was forked from, if it was."""
    unpriced_calls: int = 0
    """Model calls with no known price (``cost_usd`` leaves them out)."""
    demo: bool = False
    """A session of the offline demo (lists leave these out unless asked)."""

    @property
    def empty(self) -> bool:
        """No user message: an app start nobody typed into (lists leave these out)."""
        return not self.title


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [part.get("text", "") if isinstance(part, dict) else str(part) for part in content]
        return " ".join(p for p in parts if isinstance(p, str))
    return ""


def _one_line(text: str, limit: int = TITLE_CHARS) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def _first_user_text(records: list[dict[str, Any]]) -> str:
    for record in records:
        if record.get("kind") != "message":
            continue
        message = record.get("message", record)
        if isinstance(message, dict) and message.get("role") == "user":
            text = _text_of(message.get("content"))
            if text.strip():
                return text
    for record in records:  # no message records: fall back to the first turn's input
        event = record.get("event") if record.get("kind") == "event" else None
        if isinstance(event, dict) and event.get("type") == "turn_started" and event.get("text"):
            return str(event["text"])
    return ""


def _last_answer(records: list[dict[str, Any]]) -> str:
    for record in reversed(records):
        kind = record.get("kind")
        if kind == "event":
            event = record.get("event")
            if (
                isinstance(event, dict)
                and event.get("type") == "assistant_message"
                and not event.get("parent_id")
                and str(event.get("text") or "").strip()
            ):
                return str(event["text"])
        elif kind == "message":
            message = record.get("message")
            if isinstance(message, dict) and message.get("role") == "assistant":
                text = _text_of(message.get("content"))
                if text.strip():
                    return text
    return ""


def _clip(text: str, limit: int = PREVIEW_CHARS, *, tail: bool = False) -> str:
    text = text.strip()
    if len(text) <= limit:
        return text
    return "…" + text[-(limit - 1) :].lstrip() if tail else text[: limit - 1].rstrip() + "…"


def _last_unpriced(records: list[dict[str, Any]]) -> int:
    for record in reversed(records):
        event = record.get("event") if record.get("kind") == "event" else None
        if isinstance(event, dict) and event.get("type") == "spend":
            count = event.get("unpriced_calls")
            return count if isinstance(count, int) and count > 0 else 0
    return 0


def _last_cost(records: list[dict[str, Any]]) -> float | None:
    for record in reversed(records):
        event = record.get("event") if record.get("kind") == "event" else None
        if isinstance(event, dict) and event.get("type") == "spend":
            try:
                return float(event.get("llm_usd") or 0.0) + float(event.get("jobs_usd") or 0.0)
            except (TypeError, ValueError):
                return None
    return None


def session_info(path: Path) -> SessionInfo:
    """Summarise one journal file (raises ``JournalError`` when it cannot be read)."""
    path = Path(path)
    records, _skipped, _torn = _scan(path)
    if not any(r.get("kind") in ("meta", "message") for r in records):
        raise JournalError(f"{path} is not a session journal")
    try:
        updated = path.stat().st_mtime
    except OSError as exc:
        raise JournalError(f"cannot read the session journal {path}: {exc.strerror}") from exc
    meta = next((r for r in records if r.get("kind") == "meta"), {})
    created = meta.get("created")
    prompt = _first_user_text(records)
    return SessionInfo(
        session_id=str(meta.get("session_id") or path.stem),
        path=path,
        title=_one_line(prompt),
        model=str(meta.get("model") or ""),
        created=float(created) if isinstance(created, int | float) else updated,
        updated=updated,
        messages=sum(1 for r in records if r.get("kind") == "message" and not _is_system(r)),
        cost_usd=_last_cost(records),
        prompt=_clip(prompt),
        last_answer=_clip(_last_answer(records), tail=True),
        cwd=str(meta.get("cwd") or ""),
        forked_from=str(meta.get("forked_from") or ""),
        unpriced_calls=_last_unpriced(records),
        demo=is_demo_meta(meta),
    )


DEMO_MODEL = "scripted/demo"


def is_demo_meta(meta: dict[str, Any]) -> bool:
    """A journal header of a demo session: marked ``demo`` (or, for journals written before
    the mark, started on the demo's scripted model)."""
    return meta.get("demo") is True or meta.get("model") == DEMO_MODEL


def list_sessions(
    directory: Path, *, include_empty: bool = False, include_demo: bool = False
) -> list[SessionInfo]:
    """Saved sessions in ``directory``, most recently written first.

    Bad files are left out, and so are ``empty`` sessions unless ``include_empty``:
    every app start makes a journal, and one nobody typed into is not worth listing
    (nor resuming as ``last``). Demo sessions are left out unless ``include_demo``.
    """
    directory = Path(directory)
    if not directory.is_dir():
        return []
    infos: list[SessionInfo] = []
    for path in directory.glob(f"*{SUFFIX}"):
        try:
            info = session_info(path)
        except JournalError:
            continue
        if (include_empty or not info.empty) and (include_demo or not info.demo):
            infos.append(info)
    infos.sort(key=lambda i: (i.updated, i.session_id), reverse=True)
    return infos


def _candidates(names: list[str], limit: int = 5) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def find_session(directory: Path, key: str) -> Path:
    """The journal for ``key``: an exact id, a unique id prefix, ``last``/``latest``, or a path."""
    directory = Path(directory)
    key = key.strip()
    if not key:
        raise JournalError("no session id given; use an id, a unique prefix of one, or 'last'")
    if key.endswith(SUFFIX) and Path(key).expanduser().is_file():
        return Path(key).expanduser()
    if key.lower() in ("last", "latest"):  # what you last did, the demo included
        sessions = list_sessions(directory, include_demo=True)
        if not sessions:
            raise JournalError(f"there are no saved sessions in {directory}")
        return sessions[0].path
    exact = directory / f"{key}{SUFFIX}"
    if exact.is_file():
        return exact
    ids = sorted(
        (p.name[: -len(SUFFIX)] for p in directory.glob(f"*{SUFFIX}"))
        if directory.is_dir()
        else [],
        reverse=True,
    )
    matches = [i for i in ids if i.startswith(key)]
    if len(matches) == 1:
        return directory / f"{matches[0]}{SUFFIX}"
    if matches:
        raise JournalError(
            f"session {key!r} is ambiguous: it matches {_candidates(matches)}; type more of the id"
        )
    if not ids:
        raise JournalError(f"no session {key!r}: there are no saved sessions in {directory}")
    raise JournalError(f"no session {key!r} in {directory}; recent sessions: {_candidates(ids)}")


# ------------------------------------------------------------- fork and delete


def _own_path(directory: Path, session_id: str) -> Path:
    """The journal of exactly ``session_id`` in ``directory`` (no prefixes, no paths)."""
    if not session_id or Path(session_id).name != session_id or session_id.startswith("."):
        raise JournalError(f"{session_id!r} is not a session id")
    return Path(directory) / f"{session_id}{SUFFIX}"


def fork_session(directory: Path, session_id: str, *, new_id: str | None = None) -> str:
    """Copy a saved session into a new journal that goes on as a session of its own.

    The copy keeps every record (so the conversation, tool calls, plan and jobs come
    back on resume) under a fresh id; its ``meta`` names the session it came from in
    ``forked_from``. The session's own files (spilled outputs) are copied too and the
    copy's records name the copies, so deleting either session leaves the other whole.
    The journal appears whole or not at all. Returns the new id.
    """
    directory = Path(directory)
    source = find_session(directory, session_id)
    records, _skipped, _torn = _scan(source)
    meta = next((r for r in records if r.get("kind") == "meta"), {"kind": "meta"})
    old_id = str(meta.get("session_id") or source.stem)
    new_id = new_id or new_session_id()
    target = _own_path(directory, new_id)
    old_files, new_files = files_dir(source), files_dir(target)
    moves = path_renames(old_files, new_files)
    head = {**meta, "kind": "meta", "session_id": new_id, "created": time.time()}
    head["forked_from"] = old_id
    lines = [json.dumps(head, ensure_ascii=False, separators=(",", ":"), default=str)]
    for record in records:
        if record.get("kind") == "meta":
            continue
        event = record.get("event")
        if record.get("kind") == "event" and isinstance(event, dict):
            record = {**record, "event": {**event, "session_id": new_id}}
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":"), default=str)
        for before, after in moves:
            line = line.replace(before, after)
        lines.append(line)
    partial = directory / f".{new_id}{SUFFIX}.part"
    partial_files = directory / f".{new_id}{FILES_SUFFIX}.part"
    try:
        copy_session_files(old_files, partial_files)
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.link(partial, target)  # fails rather than replace an existing journal
        if partial_files.is_dir():
            os.replace(partial_files, new_files)
    except FileExistsError as exc:
        raise JournalError(f"a journal for session {new_id} already exists: {target}") from exc
    except OSError as exc:
        raise JournalError(f"cannot write the forked session {target}: {exc.strerror}") from exc
    finally:
        with contextlib.suppress(OSError):
            partial.unlink()
        shutil.rmtree(partial_files, ignore_errors=True)
    return new_id


def delete_session(directory: Path, session_id: str) -> Path:
    """Remove the journal of exactly ``session_id`` and its files; returns the journal path."""
    path = _own_path(directory, session_id)
    try:
        path.unlink()
    except FileNotFoundError as exc:
        raise JournalError(f"no session {session_id!r} in {directory}") from exc
    except OSError as exc:
        raise JournalError(f"cannot delete {path}: {exc.strerror}") from exc
    remove_files(path)
    return path
