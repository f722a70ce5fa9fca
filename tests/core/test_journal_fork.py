"""Forking and deleting saved sessions, the preview fields, and reasoning kept whole."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ml_intern_tui.core.context import rebuild
from ml_intern_tui.core.journal import MAX_REASONING_CHARS, Journal, JournalError, load
from ml_intern_tui.core.protocol import (
    AssistantDelta,
    AssistantMessage,
    PlanItem,
    PlanUpdated,
    ReasoningDelta,
    ToolCall,
    TurnStarted,
)
from ml_intern_tui.core.saved_sessions import (
    delete_session,
    fork_session,
    list_sessions,
    session_info,
)


def message(role: str, content: str) -> dict[str, Any]:
    return {"kind": "message", "message": {"role": role, "content": content}}


def saved_session(directory: Path, session_id: str = "20260101-000000-aaaaaa") -> Path:
    j = Journal.create(directory, session_id, {"model": "m1", "cwd": "/work/project"})
    j.append(message("system", "you are an agent"))
    j.record_event(TurnStarted(session_id=session_id, text="train a baseline"))
    j.append(message("user", "train a baseline"))
    j.record_event(ToolCall(session_id=session_id, call_id="c1", tool="read", args={"path": "x"}))
    j.record_event(
        PlanUpdated(
            session_id=session_id,
            items=[PlanItem(id="1", content="inspect", status="completed")],
        )
    )
    j.append(message("assistant", "Accuracy 0.81."))
    j.record_event(AssistantMessage(session_id=session_id, text="Accuracy 0.81."))
    j.close()
    return j.path


def test_fork_copies_the_conversation_under_a_new_id(tmp_path: Path) -> None:
    source = saved_session(tmp_path)
    before = source.read_bytes()

    new_id = fork_session(tmp_path, "20260101-000000-aaaaaa", new_id="20260202-000000-bbbbbb")

    assert new_id == "20260202-000000-bbbbbb"
    assert source.read_bytes() == before  # the original is untouched
    fork, original = load(tmp_path / f"{new_id}.jsonl"), load(source)
    assert fork.meta["session_id"] == new_id
    assert fork.meta["forked_from"] == "20260101-000000-aaaaaa"
    assert fork.meta["model"] == "m1" and fork.meta["cwd"] == "/work/project"
    assert rebuild(fork.records) == rebuild(original.records)
    assert [type(e) for e in fork.events] == [type(e) for e in original.events]
    assert {e.session_id for e in fork.events} == {new_id}
    assert not list(tmp_path.glob(".*.part"))
    info = session_info(fork.path)
    assert info.forked_from == "20260101-000000-aaaaaa"
    assert (
        info.title == "train a baseline" and info.messages == 2
    )  # the system prompt is not counted


def test_fork_gets_a_fresh_id_by_default_and_accepts_a_prefix(tmp_path: Path) -> None:
    saved_session(tmp_path)
    new_id = fork_session(tmp_path, "20260101")
    assert new_id != "20260101-000000-aaaaaa"
    assert sorted(p.stem for p in tmp_path.glob("*.jsonl")) == sorted(
        ["20260101-000000-aaaaaa", new_id]
    )


def test_fork_never_overwrites_and_names_missing_sessions(tmp_path: Path) -> None:
    saved_session(tmp_path)
    saved_session(tmp_path, "20260303-000000-cccccc")
    taken = (tmp_path / "20260303-000000-cccccc.jsonl").read_bytes()
    with pytest.raises(JournalError, match="already exists"):
        fork_session(tmp_path, "20260101-000000-aaaaaa", new_id="20260303-000000-cccccc")
    assert (tmp_path / "20260303-000000-cccccc.jsonl").read_bytes() == taken
    assert not list(tmp_path.glob(".*.part"))
    with pytest.raises(JournalError, match="no session 'nosuch'"):
        fork_session(tmp_path, "nosuch")


def test_delete_removes_exactly_that_journal(tmp_path: Path) -> None:
    keep = saved_session(tmp_path, "20260101-000000-aaaaaa")
    gone = saved_session(tmp_path, "20260101-000000-abbbbb")
    assert delete_session(tmp_path, "20260101-000000-abbbbb") == gone
    assert not gone.exists() and keep.exists()
    with pytest.raises(JournalError, match="no session"):
        delete_session(tmp_path, "20260101-000000-abbbbb")
    with pytest.raises(JournalError, match="no session '20260101'"):
        delete_session(tmp_path, "20260101")  # a prefix is not enough to delete
    for bad in ("../20260101-000000-aaaaaa", "", ".hidden"):
        with pytest.raises(JournalError, match="not a session id"):
            delete_session(tmp_path, bad)
    assert keep.exists()


def test_session_info_has_the_preview(tmp_path: Path) -> None:
    saved_session(tmp_path)
    [info] = list_sessions(tmp_path)
    assert info.prompt == "train a baseline"
    assert info.last_answer == "Accuracy 0.81."
    assert info.cwd == "/work/project" and info.forked_from == ""


def test_long_preview_texts_are_clipped(tmp_path: Path) -> None:
    j = Journal.create(tmp_path, "s1", {})
    j.append(message("user", "p" * 2000))
    j.record_event(AssistantMessage(text="start " + "a" * 2000 + " end"))
    j.close()
    info = session_info(j.path)
    assert len(info.prompt) == 600 and info.prompt.endswith("…")
    assert len(info.last_answer) == 600 and info.last_answer.endswith(" end")


def test_reasoning_stretch_is_kept_as_one_event(tmp_path: Path) -> None:
    j = Journal.create(tmp_path, "s1", {})
    j.record_event(TurnStarted(seq=1, text="hi"))
    for seq, part in enumerate(["Look at ", "the data ", "first."], start=2):
        j.record_event(ReasoningDelta(seq=seq, ts=100.0 + seq, text=part))
    j.record_event(ReasoningDelta(text="sub-agent thinking", parent_id="c9"))
    j.record_event(AssistantDelta(text="Sure"))
    j.record_event(AssistantMessage(seq=9, text="Sure."))
    j.record_event(ReasoningDelta(seq=10, text="cut off by close"))
    j.close()
    events = load(j.path).events
    assert [e.type for e in events] == [
        "turn_started",
        "reasoning_delta",
        "assistant_message",
        "reasoning_delta",
    ]
    first = events[1]
    assert isinstance(first, ReasoningDelta)
    assert first.text == "Look at the data first."
    assert (first.seq, first.ts, first.parent_id) == (2, 102.0, None)
    assert "sub-agent" not in j.path.read_text()


def test_very_long_reasoning_keeps_its_end(tmp_path: Path) -> None:
    j = Journal.create(tmp_path, "s1", {})
    j.record_event(ReasoningDelta(text="x" * MAX_REASONING_CHARS))
    j.record_event(ReasoningDelta(text="THE END"))
    j.record_event(AssistantMessage(text="ok"))
    j.close()
    line = next(
        json.loads(raw) for raw in j.path.read_text().splitlines() if "reasoning_delta" in raw
    )
    text = line["event"]["text"]
    assert text.endswith("THE END") and text.startswith("…")
    assert len(text) == MAX_REASONING_CHARS + 1
