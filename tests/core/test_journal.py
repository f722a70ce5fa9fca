"""The session journal: append, durability, redaction on disk, tolerant loading, listing."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from ml_intern_tui.core.journal import Journal, JournalError, load, new_session_id
from ml_intern_tui.core.protocol import (
    AssistantDelta,
    AssistantMessage,
    JobLog,
    Notice,
    ReasoningDelta,
    Spend,
    ToolCall,
    ToolProgress,
    ToolResultEvent,
    TurnStarted,
)
from ml_intern_tui.core.saved_sessions import find_session, list_sessions

HF = "hf_" + "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3f"


def user(text: str) -> dict[str, Any]:
    return {"kind": "message", "message": {"role": "user", "content": text}}


def make(directory: Path, session_id: str, *texts: str, model: str = "m") -> Journal:
    journal = Journal.create(directory, session_id, {"model": model})
    for text in texts:
        journal.append(user(text))
    return journal


def test_create_writes_meta_first(tmp_path: Path) -> None:
    j = Journal.create(tmp_path / "s", "20260101-000000-aaaaaa", {"model": "openai/x", "extra": 1})
    j.close()
    assert j.path == tmp_path / "s" / "20260101-000000-aaaaaa.jsonl"
    first = json.loads(j.path.read_text().splitlines()[0])
    assert first["kind"] == "meta"
    assert first["session_id"] == "20260101-000000-aaaaaa"
    assert first["model"] == "openai/x" and first["extra"] == 1
    assert {"created", "cwd", "version"} <= first.keys()
    assert (j.path.stat().st_mode & 0o777) == 0o600


def test_create_refuses_to_overwrite(tmp_path: Path) -> None:
    make(tmp_path, "same").close()
    with pytest.raises(JournalError, match="already exists"):
        Journal.create(tmp_path, "same", {})


def test_event_round_trip_skips_high_rate_events(tmp_path: Path) -> None:
    j = Journal.create(tmp_path, "s1", {})
    kept = [
        TurnStarted(session_id="s1", seq=1, text="hi"),
        ToolCall(session_id="s1", seq=2, call_id="c1", tool="bash", args={"command": "ls"}),
        ToolResultEvent(session_id="s1", seq=3, call_id="c1", ok=True, summary="ok", output="a\nb"),
        AssistantMessage(session_id="s1", seq=4, text="done"),
        Spend(session_id="s1", seq=5, llm_usd=0.1, jobs_usd=0.2, budget_usd=None),
    ]
    for event in kept[:2]:
        j.record_event(event)
    j.record_event(AssistantDelta(text="d"))
    j.record_event(ReasoningDelta(text="r"))
    j.record_event(ToolProgress(call_id="c1", text="p"))
    j.record_event(JobLog(job_id="j", lines=["x"]))
    for event in kept[2:]:
        j.record_event(event)
    j.close()
    loaded = load(j.path)
    reasoning = [e for e in loaded.events if isinstance(e, ReasoningDelta)]
    assert [e.text for e in reasoning] == ["r"]  # kept whole (see test_journal_fork.py)
    assert [e for e in loaded.events if e not in reasoning] == kept
    assert [r["kind"] for r in loaded.records] == ["meta"] + ["event"] * (len(kept) + 1)
    assert loaded.meta["session_id"] == "s1"
    assert loaded.skipped == 0 and not loaded.torn


def test_records_round_trip_in_order(tmp_path: Path) -> None:
    j = Journal.create(tmp_path, "s2", {})
    records: list[dict[str, Any]] = [
        user("first"),
        {"kind": "message", "message": {"role": "assistant", "content": "reply"}},
        {"kind": "truncate", "keep": 1},
        {"kind": "replace", "messages": [{"role": "user", "content": "summary"}]},
    ]
    for record in records:
        j.append(record)
    j.close()
    assert load(j.path).records[1:] == records


def test_append_needs_a_kind_and_an_open_file(tmp_path: Path) -> None:
    j = Journal.create(tmp_path, "s3", {})
    with pytest.raises(ValueError):
        j.append({"message": "no kind"})
    j.close()
    assert j.closed
    with pytest.raises(JournalError, match="closed"):
        j.append(user("late"))
    j.close()  # closing twice is harmless


def test_secrets_are_redacted_on_disk(tmp_path: Path) -> None:
    j = Journal.create(tmp_path, "s4", {"model": "m"})
    j.append(user(f"use {HF} please"))
    j.record_event(
        ToolCall(call_id="c", tool="bash", args={"command": f"HF_TOKEN={HF} python x.py"})
    )
    j.close()
    text = j.path.read_text()
    assert HF not in text
    assert "[REDACTED_HF_TOKEN]" in text
    loaded = load(j.path)
    assert loaded.records[1]["message"]["content"] == "use [REDACTED_HF_TOKEN] please"


def test_torn_last_line_is_ignored(tmp_path: Path) -> None:
    j = make(tmp_path, "s5", "one", "two")
    j.close()
    with j.path.open("a") as f:
        f.write('{"kind": "message", "message": {"role": "us')  # killed mid-write
    loaded = load(j.path)
    assert loaded.torn
    assert loaded.skipped == 0
    assert [r["message"]["content"] for r in loaded.records[1:]] == ["one", "two"]


def test_garbage_lines_in_the_middle_are_counted(tmp_path: Path) -> None:
    j = make(tmp_path, "s6", "one")
    j.close()
    with j.path.open("a") as f:
        f.write("not json at all\n")
        f.write("[1, 2, 3]\n")
        f.write('{"no_kind": true}\n')
        f.write('{"kind": "event", "event": {"type": "no_such_event"}}\n')
        f.write("\n")
        f.write(json.dumps(user("two")) + "\n")
    loaded = load(j.path)
    assert loaded.skipped == 4
    assert not loaded.torn
    assert [
        r.get("message", {}).get("content") for r in loaded.records if r["kind"] == "message"
    ] == [
        "one",
        "two",
    ]


def test_open_existing_appends_after_a_torn_line(tmp_path: Path) -> None:
    j = make(tmp_path, "s7", "one")
    j.close()
    with j.path.open("a") as f:
        f.write('{"kind": "mess')
    again = Journal.open_existing(j.path)
    assert again.session_id == "s7"
    again.append(user("two"))
    again.close()
    loaded = load(j.path)
    assert [r["message"]["content"] for r in loaded.records if r["kind"] == "message"] == [
        "one",
        "two",
    ]
    assert loaded.skipped == 1  # the torn line now sits in the middle


def test_load_missing_file_is_a_journal_error(tmp_path: Path) -> None:
    with pytest.raises(JournalError, match="no session journal"):
        load(tmp_path / "nope.jsonl")


def test_fsync_only_for_conversation_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    j = Journal.create(tmp_path, "s8", {})
    assert j.sync(timeout=10)  # the meta record's own fsync
    synced: list[int] = []
    real_fsync = os.fsync

    def counting_fsync(fd: int) -> None:
        synced.append(fd)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", counting_fsync)
    j.record_event(Notice(text="hello"))
    assert j.sync(timeout=10)
    assert synced == []
    for record in (user("hi"), {"kind": "truncate", "keep": 0}, {"kind": "replace"}):
        j.append(record)
        assert j.sync(timeout=10)  # each conversation record is fsync'ed
    assert len(synced) == 3
    # flushed at once: another reader sees every record before close
    assert len(load(j.path).records) == 5
    j.close()


def test_fsync_happens_off_the_writers_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A slow disk never holds the writer (the event loop): appends return at once."""
    import threading

    j = Journal.create(tmp_path, "s9", {})
    assert j.sync(timeout=10)
    release = threading.Event()
    threads: list[str] = []
    real_fsync = os.fsync

    def slow_fsync(fd: int) -> None:
        threads.append(threading.current_thread().name)
        release.wait(10)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", slow_fsync)
    for n in range(20):
        j.append(user(f"message {n}"))  # would take 20 x 10 s if the writer waited
    assert not j.sync(timeout=0.01)
    assert len(load(j.path).records) == 21  # written and flushed already
    release.set()
    assert j.sync(timeout=10)
    assert threading.current_thread().name not in threads
    assert len(threads) < 20  # fsyncs that piled up while the disk was slow are merged
    j.close()
    assert threads[-1] == threading.current_thread().name  # close syncs for the last time


def test_new_session_id_sorts_by_time() -> None:
    first = new_session_id()
    assert re.fullmatch(r"\d{8}-\d{6}-[0-9a-f]{6}", first)
    assert new_session_id() != first


def _touch(path: Path, mtime: float) -> None:
    os.utime(path, (mtime, mtime))


def test_list_sessions_newest_first_with_title_count_and_cost(tmp_path: Path) -> None:
    old = make(tmp_path, "20260101-000000-aaaaaa", "train a model", "and push it", model="m1")
    old.record_event(Spend(llm_usd=0.5, jobs_usd=1.0))
    old.record_event(Spend(llm_usd=0.75, jobs_usd=1.25))
    old.close()
    long_text = "  please   fine-tune\n" + "x" * 200
    new = make(tmp_path, "20260102-000000-bbbbbb", long_text, model="m2")
    new.close()
    (tmp_path / "junk.jsonl").write_text("garbage\n")
    (tmp_path / "notes.txt").write_text("not a journal")
    _touch(old.path, 1_000_000)
    _touch(new.path, 2_000_000)

    sessions = list_sessions(tmp_path)
    assert [s.session_id for s in sessions] == ["20260102-000000-bbbbbb", "20260101-000000-aaaaaa"]
    newest, oldest = sessions
    assert newest.title.startswith("please fine-tune xxx")
    assert len(newest.title) == 80 and newest.title.endswith("…")
    assert newest.model == "m2" and newest.messages == 1 and newest.cost_usd is None
    assert oldest.title == "train a model"
    assert oldest.messages == 2
    assert oldest.cost_usd == pytest.approx(2.0)
    assert oldest.updated == 1_000_000 and oldest.created > 1_000_000


def test_list_sessions_of_missing_directory_is_empty(tmp_path: Path) -> None:
    assert list_sessions(tmp_path / "none") == []


def test_title_falls_back_to_turn_started(tmp_path: Path) -> None:
    j = Journal.create(tmp_path, "s9", {})
    j.record_event(TurnStarted(text="look at my dataset"))
    j.close()
    assert list_sessions(tmp_path)[0].title == "look at my dataset"


def test_find_session(tmp_path: Path) -> None:
    a = make(tmp_path, "20260101-000000-aaaaaa", "a")
    b = make(tmp_path, "20260101-000000-abbbbb", "b")
    c = make(tmp_path, "20260202-000000-cccccc", "c")
    for j in (a, b, c):
        j.close()
    _touch(a.path, 1_000)
    _touch(b.path, 3_000)
    _touch(c.path, 2_000)

    assert find_session(tmp_path, "20260101-000000-aaaaaa") == a.path
    assert find_session(tmp_path, "202602") == c.path
    assert find_session(tmp_path, "last") == b.path
    assert find_session(tmp_path, "latest") == b.path
    assert find_session(tmp_path, str(c.path)) == c.path

    with pytest.raises(JournalError, match="ambiguous") as ambiguous:
        find_session(tmp_path, "20260101-000000-a")
    assert "aaaaaa" in str(ambiguous.value) and "abbbbb" in str(ambiguous.value)
    with pytest.raises(JournalError, match="no session 'zzz'") as missing:
        find_session(tmp_path, "zzz")
    assert "cccccc" in str(missing.value)
    assert "\n" not in str(missing.value)


def test_find_session_in_empty_directory(tmp_path: Path) -> None:
    with pytest.raises(JournalError, match="no saved sessions"):
        find_session(tmp_path, "last")
    with pytest.raises(JournalError, match="no saved sessions"):
        find_session(tmp_path / "missing", "abc")
