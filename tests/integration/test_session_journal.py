"""What the real loop leaves in the sessions directory: the system prompt first, no empty
sessions, and a history that comes back on resume exactly as it was (undo included)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fakes.openai_server import FakeOpenAI, Reply

from ml_intern_tui.core.context import rebuild
from ml_intern_tui.core.journal import Journal, load
from ml_intern_tui.core.protocol import New, Resume, Undo, UserInput
from ml_intern_tui.core.saved_sessions import list_sessions
from ml_intern_tui.paths import sessions_dir
from ml_intern_tui.traces.export import trace_records

Factory = Callable[..., Any]


def journal_path(harness: Any) -> Path:
    session = harness.runtime.loop.session
    assert session is not None and session.journal is not None
    return Path(session.journal.path)


def conversation(messages: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(m["role"], str(m.get("content"))) for m in messages]


async def turn(harness: Any, text: str) -> None:
    mark = harness.mark()
    harness.submit(UserInput(text=text))
    await harness.wait_for("turn_complete", after=mark)


# ------------------------------------------------------------------ empty sessions


async def test_an_app_start_nobody_typed_into_leaves_no_journal(
    fake_openai: FakeOpenAI, harness_factory: Factory
) -> None:
    harness = await harness_factory()
    path = journal_path(harness)
    assert path.is_file()  # it exists while the app runs (/share-traces, the browser)
    await harness.close()
    assert not path.exists()
    assert list(sessions_dir().glob("*.jsonl")) == []


async def test_new_drops_an_unused_session_and_keeps_one_with_a_message(
    fake_openai: FakeOpenAI, harness_factory: Factory
) -> None:
    harness = await harness_factory()
    used = journal_path(harness)
    await turn(harness, "count the rows")
    for _ in range(2):
        mark = harness.mark()
        harness.submit(New())
        await harness.wait_for("ready", after=mark)
    unused = journal_path(harness)
    assert sorted(sessions_dir().glob("*.jsonl")) == sorted([used, unused])
    await harness.close()
    assert list(sessions_dir().glob("*.jsonl")) == [used]
    [info] = list_sessions(sessions_dir())
    assert info.title == "count the rows" and info.messages == 2  # the prompt is not counted


async def test_a_reopened_journal_is_never_deleted_even_without_a_message(
    fake_openai: FakeOpenAI, harness_factory: Factory
) -> None:
    left = Journal.create(sessions_dir(), "20260101-000000-abcdef", {"model": "vllm/fake"})
    left.close()  # what a crash before the first message leaves behind
    harness = await harness_factory()
    started = journal_path(harness)
    mark = harness.mark()
    harness.submit(Resume(session_id="20260101-000000-abcdef"))
    await harness.wait_for("ready", lambda e: e.resumed, after=mark)
    assert not started.exists()  # the app start it replaced was never used
    await harness.close()
    assert left.path.is_file()
    assert list_sessions(sessions_dir()) == []  # still not worth listing
    assert len(list_sessions(sessions_dir(), include_empty=True)) == 1


def test_list_sessions_on_the_command_line_hides_empty_sessions(tmp_path: Path) -> None:
    used = Journal.create(sessions_dir(), "20260101-000000-aaaaaa", {"model": "m1"})
    used.append({"kind": "message", "message": {"role": "system", "content": "sys"}})
    used.append({"kind": "message", "message": {"role": "user", "content": "train a model"}})
    used.close()
    Journal.create(sessions_dir(), "20260102-000000-bbbbbb", {"model": "m2"}).close()
    proc = subprocess.run(
        [sys.executable, "-m", "ml_intern_tui.cli", "--list-sessions"],
        cwd=tmp_path,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    [line] = proc.stdout.splitlines()
    assert line.startswith("20260101-000000-aaaaaa") and "train a model" in line
    assert "1 msgs" in line


# ------------------------------------------------------------------ system prompt


async def test_the_journal_starts_with_the_system_prompt_and_resume_keeps_one(
    fake_openai: FakeOpenAI, harness_factory: Factory
) -> None:
    first = await harness_factory()
    await turn(first, "hello")
    prompt = first.messages[0]
    assert prompt["role"] == "system" and len(prompt["content"]) > 200
    path = journal_path(first)
    session_id = path.stem
    await first.close()

    records = [r for r in load(path).records if r["kind"] != "event"]
    assert records[0]["kind"] == "meta"
    assert records[1] == {"kind": "message", "message": prompt}  # before anything else
    assert conversation(rebuild(records))[0] == ("system", prompt["content"])
    trace = trace_records(path)  # what /share-traces and the uploader send
    assert [line["type"] for line in trace[:4]] == ["summary", "system", "user", "assistant"]
    assert trace[1]["content"] == prompt["content"] and trace[2]["parentUuid"] == trace[1]["uuid"]

    second = await harness_factory()
    mark = second.mark()
    second.submit(Resume(session_id=session_id))
    await second.wait_for("ready", lambda e: e.resumed, after=mark)
    now = second.messages[0]["content"]
    assert [m["role"] for m in second.messages] == ["system", "user", "assistant"]
    await turn(second, "again")
    sent = fake_openai.requests[-1].body["messages"]
    assert [m["role"] for m in sent].count("system") == 1 and sent[0]["content"] == now
    await second.close()

    history = rebuild(load(path).records)
    assert [m["role"] for m in history].count("system") == 1
    assert history[0]["content"] == now  # the prompt the session went on with
    systems = [r for r in load(path).records if r["kind"] == "system"]
    assert len(systems) == (0 if now == prompt["content"] else 1)


async def test_undo_then_resume_brings_back_the_history_as_it_was(
    fake_openai: FakeOpenAI, harness_factory: Factory
) -> None:
    fake_openai.enqueue(Reply(text="one"), Reply(text="two"), Reply(text="three"))
    first = await harness_factory()
    await turn(first, "first")
    await turn(first, "second")
    mark = first.mark()
    first.submit(Undo())
    await first.wait_for("undone", after=mark)
    await turn(first, "third")
    before = conversation(first.messages[1:])
    assert before == [
        ("user", "first"),
        ("assistant", "one"),
        ("user", "third"),
        ("assistant", "three"),
    ]
    session_id = journal_path(first).stem
    await first.close()

    second = await harness_factory()
    mark = second.mark()
    second.submit(Resume(session_id=session_id))
    await second.wait_for("ready", lambda e: e.resumed, after=mark)
    assert conversation(second.messages[1:]) == before


async def test_a_journal_from_before_the_prompt_was_kept_resumes_right_after_an_undo(
    fake_openai: FakeOpenAI, harness_factory: Factory
) -> None:
    """Older journals start with the first user message; their undo lengths count the
    system prompt all the same."""
    old = Journal.create(sessions_dir(), "20250101-000000-0a0a0a", {"model": "vllm/fake"})
    for role, text in [("user", "first"), ("assistant", "one"), ("user", "oops")]:
        old.append({"kind": "message", "message": {"role": role, "content": text}})
    old.append({"kind": "message", "message": {"role": "assistant", "content": "wrong"}})
    old.append({"kind": "truncate", "length": 3})  # undo "oops": keep system, first, one
    old.close()

    for _ in range(2):  # the second time the journal also holds the prompt of the first
        harness = await harness_factory()
        mark = harness.mark()
        harness.submit(Resume(session_id="20250101-000000-0a0a0a"))
        await harness.wait_for("ready", lambda e: e.resumed, after=mark)
        assert conversation(harness.messages[1:]) == [("user", "first"), ("assistant", "one")]
        assert [m["role"] for m in harness.messages].count("system") == 1
        prompt = harness.messages[0]["content"]
        await harness.close()
        systems = [r for r in load(old.path).records if r["kind"] == "system"]
        assert systems[-1] == {"kind": "system", "content": prompt}
