"""The system prompt in traces: first line, a resume's new prompt, and older journals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ml_intern_tui.core.journal import Journal
from ml_intern_tui.traces.export import trace_records

SID = "20260301-101500-fedcba"


def write(directory: Path, records: list[dict[str, Any]]) -> Path:
    journal = Journal.create(directory, SID, {"model": "org/model", "cwd": "/work/proj"})
    for record in records:
        journal.append(record)
    journal.close()
    return journal.path


def msg(role: str, content: str) -> dict[str, Any]:
    origin = {"_origin": "user"} if role == "user" else {}
    return {"kind": "message", "message": {"role": role, "content": content, **origin}}


def body(path: Path) -> list[dict[str, Any]]:
    return [line for line in trace_records(path) if line["type"] != "summary"]


def by_text(lines: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each line under its text (system content, user text or the assistant's text)."""
    out: dict[str, dict[str, Any]] = {}
    for line in lines:
        if line["type"] == "system":
            out[line["content"]] = line
        elif line["type"] == "user":
            out[line["message"]["content"]] = line
        else:
            out[line["message"]["content"][0]["text"]] = line
    return out


def test_the_prompt_is_the_first_line_and_a_resume_adds_a_new_one_once(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        [
            msg("system", "PROMPT ONE"),
            msg("user", "u1"),
            msg("assistant", "a1"),
            {"kind": "system", "content": "PROMPT ONE"},  # resumed, prompt unchanged
            {"kind": "system", "content": "PROMPT TWO"},  # resumed later under a new one
            msg("user", "u2"),
            msg("assistant", "a2"),
            {"kind": "truncate", "length": 3},  # undo u2
            {"kind": "truncate", "length": 1},  # undo u1: back to the prompt alone
            msg("user", "u3"),
        ],
    )
    lines = body(path)
    assert [line["type"] for line in lines].count("system") == 2
    assert lines[0]["type"] == "system" and lines[0]["content"] == "PROMPT ONE"
    assert lines[0]["parentUuid"] is None and lines[0]["isMeta"] is True
    text = by_text(lines)
    assert text["PROMPT TWO"]["parentUuid"] == text["a1"]["uuid"]  # where it happened
    assert text["u2"]["parentUuid"] == text["PROMPT TWO"]["uuid"]
    # The history's first slot is the new prompt, so undoing everything leaves it.
    assert text["u3"]["parentUuid"] == text["PROMPT TWO"]["uuid"]


def test_an_older_journal_without_the_prompt_still_branches_undo_right(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        [
            msg("user", "u1"),
            msg("assistant", "a1"),
            msg("user", "oops"),
            msg("assistant", "wrong"),
            {"kind": "truncate", "length": 3},  # counts the prompt the journal lacks
            msg("user", "u2"),
        ],
    )
    lines = body(path)
    assert "system" not in [line["type"] for line in lines]
    text = by_text(lines)
    assert text["u2"]["parentUuid"] == text["a1"]["uuid"]
    assert text["oops"]["parentUuid"] == text["a1"]["uuid"]  # the undone turn: a side branch
