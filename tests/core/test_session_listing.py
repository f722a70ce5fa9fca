"""Listing saved sessions reads each journal's lines lazily and remembers unchanged ones:
the summaries are what a full read gives, for damaged and differently written files too."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ml_intern_tui.core.journal import Journal
from ml_intern_tui.core.protocol import AssistantMessage, Spend, TurnStarted
from ml_intern_tui.core.saved_sessions import list_sessions, session_info

SID = "20260101-000000-aaaaaa"


def message(role: str, content: str) -> dict[str, Any]:
    return {"kind": "message", "message": {"role": role, "content": content}}


def write(directory: Path, session_id: str = SID) -> Journal:
    j = Journal.create(directory, session_id, {"model": "m1", "cwd": "/work/project"})
    j.append(message("system", "you are an agent"))
    j.record_event(TurnStarted(session_id=session_id, text="train a baseline"))
    j.append(message("user", "train a baseline"))
    # Text that looks like another record's markers inside a message and an answer.
    j.append(message("tool", '{"kind":"message","message":{"role":"user"} "type":"spend"'))
    j.append(message("assistant", "Accuracy 0.81."))
    j.record_event(AssistantMessage(session_id=session_id, text='Done; "type":"spend" 9.99'))
    j.record_event(Spend(session_id=session_id, llm_usd=1.25, jobs_usd=0.5, unpriced_calls=2))
    return j


def test_the_summary_reads_every_field(tmp_path: Path) -> None:
    j = write(tmp_path)
    j.close()
    info = session_info(j.path)
    assert info.title == "train a baseline" and info.model == "m1"
    assert info.messages == 3  # user, tool, assistant: the system prompt is not counted
    assert info.last_answer == 'Done; "type":"spend" 9.99'
    assert info.cost_usd == 1.75 and info.unpriced_calls == 2
    assert info.cwd == "/work/project"


def test_spaced_lines_garbage_and_a_torn_end_read_as_before(tmp_path: Path) -> None:
    j = write(tmp_path)
    j.close()
    lines = j.path.read_bytes().splitlines()
    # Another writer's shape (spaces after separators), a garbage line, a torn last line.
    spaced = [json.dumps(json.loads(line)).encode() for line in lines[:3]]
    torn = b'{"kind":"message","message":{"role":"assistant","content":"cut of'
    j.path.write_bytes(b"\n".join([*spaced, b"not json at all", *lines[3:], torn]))
    info = session_info(j.path)
    assert info.title == "train a baseline" and info.model == "m1"
    assert info.messages == 3
    assert info.last_answer == 'Done; "type":"spend" 9.99'
    assert info.cost_usd == 1.75


def test_a_journal_that_grows_is_read_again(tmp_path: Path) -> None:
    j = write(tmp_path)
    first = list_sessions(tmp_path)
    assert [(i.messages, i.cost_usd) for i in first] == [(3, 1.75)]
    first[0].title = "changed by a caller"  # a copy: the remembered summary stays right
    j.append(message("user", "now tune it"))
    j.append(message("assistant", "Tuned: 0.84."))
    j.record_event(AssistantMessage(session_id=SID, text="Tuned: 0.84."))
    j.record_event(Spend(session_id=SID, llm_usd=2.0, jobs_usd=0.5))
    j.close()
    again = list_sessions(tmp_path)
    assert again[0].title == "train a baseline"
    assert (again[0].messages, again[0].cost_usd, again[0].last_answer) == (5, 2.5, "Tuned: 0.84.")


def test_a_journal_replaced_with_the_same_size_and_time_is_read_again(tmp_path: Path) -> None:
    j = write(tmp_path)
    j.close()
    assert session_info(j.path).title == "train a baseline"
    data = j.path.read_bytes().replace(b"train a baseline", b"tune a baseline!")
    stat = j.path.stat()
    replacement = tmp_path / "new.part"
    replacement.write_bytes(data)
    os.utime(replacement, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    os.replace(replacement, j.path)  # a new file (fork/rewrite): another inode
    assert session_info(j.path).title == "tune a baseline!"
