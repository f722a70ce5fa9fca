"""Sessions nobody typed into: not listed, not resumed as ``last``, discarded when unused."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ml_intern_tui.core.journal import Journal, JournalError, missing_system_slot
from ml_intern_tui.core.protocol import Notice, Ready, TurnStarted
from ml_intern_tui.core.saved_sessions import find_session, list_sessions


def system(text: str = "You are ml-intern.") -> dict[str, object]:
    return {"kind": "message", "message": {"role": "system", "content": text}}


def user(text: str) -> dict[str, object]:
    return {"kind": "message", "message": {"role": "user", "content": text, "_origin": "user"}}


def empty(directory: Path, session_id: str, mtime: float) -> Path:
    """What an app start leaves after a crash: meta, the prompt and a few events."""
    journal = Journal.create(directory, session_id, {"model": "m"})
    journal.append(system())
    journal.record_event(Ready(model="m", mode="ask", tools=[], cwd="/", context_limit=1))
    journal.record_event(Notice(text="MCP server 'x' is connecting"))
    journal.close()
    os.utime(journal.path, (mtime, mtime))
    return journal.path


def used(directory: Path, session_id: str, mtime: float, text: str = "train") -> Path:
    journal = Journal.create(directory, session_id, {"model": "m"})
    journal.append(system())
    journal.append(user(text))
    journal.close()
    os.utime(journal.path, (mtime, mtime))
    return journal.path


def test_lists_and_last_leave_out_sessions_without_a_message(tmp_path: Path) -> None:
    kept = used(tmp_path, "20260101-000000-aaaaaa", 1_000)
    empty(tmp_path, "20260102-000000-bbbbbb", 2_000)  # newer, but nobody typed into it
    assert [s.session_id for s in list_sessions(tmp_path)] == ["20260101-000000-aaaaaa"]
    every = list_sessions(tmp_path, include_empty=True)
    assert [s.session_id for s in every] == ["20260102-000000-bbbbbb", "20260101-000000-aaaaaa"]
    assert every[0].empty and every[0].title == "" and every[0].messages == 0
    assert not every[1].empty
    assert find_session(tmp_path, "last") == kept
    assert find_session(tmp_path, "20260102") == every[0].path  # by id it is still found


def test_last_with_only_empty_sessions_says_there_are_none(tmp_path: Path) -> None:
    empty(tmp_path, "20260102-000000-bbbbbb", 2_000)
    with pytest.raises(JournalError, match="no saved sessions"):
        find_session(tmp_path, "last")


def test_a_new_journal_is_unused_until_a_user_message_or_turn(tmp_path: Path) -> None:
    journal = Journal.create(tmp_path, "s1", {})
    journal.append(system())
    journal.record_event(Notice(text="hello"))
    assert journal.unused
    journal.append({"kind": "message", "message": {"role": "assistant", "content": "hi"}})
    assert journal.unused
    journal.append(user("go"))
    assert not journal.unused
    journal.close()

    turn_only = Journal.create(tmp_path, "s2", {})
    turn_only.record_event(TurnStarted(text=""))  # an approval's turn going on: no text
    assert turn_only.unused
    turn_only.record_event(TurnStarted(text="look at my data"))
    assert not turn_only.unused
    turn_only.close()


def test_discard_removes_the_file_and_a_reopened_journal_is_never_unused(tmp_path: Path) -> None:
    journal = Journal.create(tmp_path, "s1", {})
    journal.append(system())
    journal.discard()
    assert journal.closed and not journal.path.exists()
    journal.discard()  # twice is harmless

    left = Journal.create(tmp_path, "s2", {})
    left.close()
    reopened = Journal.open_existing(left.path)
    assert not reopened.unused  # not made here: never ours to delete
    reopened.close()
    assert left.path.is_file()


def test_missing_system_slot_tells_older_journals_apart() -> None:
    meta = {"kind": "meta", "session_id": "s"}
    event = {"kind": "event", "event": {"type": "notice", "text": "x"}}
    assert missing_system_slot([meta, event, user("hi")])
    assert not missing_system_slot([meta, event, system(), user("hi")])
    assert not missing_system_slot([meta, {"kind": "replace", "messages": []}, user("hi")])
    assert not missing_system_slot([meta, event])  # nothing to rebuild
