"""A session journal as Claude Code JSONL: lines, chain, tool blocks, compaction, undo."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

from ml_intern_tui.core.context import SUMMARY_PREFIX, ContextManager
from ml_intern_tui.core.journal import Journal
from ml_intern_tui.core.protocol import (
    AssistantDelta,
    AssistantMessage,
    Compacted,
    EventBase,
    ReasoningDelta,
    ToolCall,
    ToolResultEvent,
    TurnComplete,
    TurnStarted,
)
from ml_intern_tui.traces.export import trace_bytes, trace_records, write_trace

SID = "20260301-101500-abcdef"
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
COMMON = {
    "uuid",
    "parentUuid",
    "sessionId",
    "timestamp",
    "cwd",
    "version",
    "gitBranch",
    "isSidechain",
    "userType",
}


class Recorder:
    """A context manager wired to a real journal, as the loop wires them."""

    def __init__(self, directory: Path, *, model: str = "org/model") -> None:
        self.journal = Journal.create(directory, SID, {"model": model, "cwd": "/work/proj"})
        self.ctx = ContextManager(
            "You are a test agent.",
            limit=100_000,
            counter=lambda msgs: sum(len(json.dumps(m)) for m in msgs) // 4,
            keep_recent=2,
            on_change=self.journal.append,
        )
        self.ts = float(self.journal.meta["created"])

    def event(self, event: EventBase) -> None:
        self.ts += 1.0
        event.session_id, event.ts = SID, self.ts
        self.journal.record_event(event)

    def tool_round(self, call_id: str, name: str, args: str, output: str, ok: bool = True) -> None:
        call = {"id": call_id, "type": "function", "function": {"name": name, "arguments": args}}
        self.ctx.add({"role": "assistant", "content": None, "tool_calls": [call]})
        self.event(ToolCall(call_id=call_id, tool=name, args={}))
        self.event(ToolResultEvent(call_id=call_id, ok=ok, summary="s", output=output))
        self.ctx.add({"role": "tool", "tool_call_id": call_id, "content": output})

    def turn(self, text: str, answer: str) -> None:
        self.ctx.start_turn(text)
        self.event(TurnStarted(text=text))
        self.ctx.add({"role": "assistant", "content": answer})
        self.event(AssistantMessage(text=answer))
        self.event(TurnComplete(final_text=answer, iterations=1))

    def close(self) -> Path:
        self.journal.close()
        return self.journal.path


def lines_of(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in trace_bytes(path).decode().splitlines()]


def conversation(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [line for line in lines if line["type"] != "summary"]


def test_a_session_becomes_claude_code_lines(tmp_path: Path) -> None:
    rec = Recorder(tmp_path)
    rec.ctx.start_turn("Count the rows of data.csv")
    rec.event(TurnStarted(text="Count the rows of data.csv"))
    rec.tool_round("call_1", "bash", '{"command": "wc -l data.csv"}', "240 data.csv")
    rec.tool_round("call_2", "read", '{"path": "missing.txt"}', "no such file", ok=False)
    rec.ctx.add({"role": "assistant", "content": "It has 240 rows."})
    rec.event(AssistantMessage(text="It has 240 rows."))
    rec.event(TurnComplete(final_text="It has 240 rows.", iterations=3))
    path = rec.close()

    lines = lines_of(path)
    assert lines[0] == {
        "type": "summary",
        "summary": "Count the rows of data.csv",
        "leafUuid": lines[-1]["uuid"],
    }
    body = conversation(lines)
    assert [line["type"] for line in body] == [
        "system",
        "user",
        "assistant",
        "user",
        "assistant",
        "user",
        "assistant",
    ]
    for previous, line in zip([None, *body], body, strict=False):
        assert line.keys() >= COMMON
        assert UUID.match(line["uuid"]) and ISO.match(line["timestamp"])
        assert line["parentUuid"] == (previous["uuid"] if previous else None)
        assert line["sessionId"] == SID and line["cwd"] == "/work/proj"
        assert line["isSidechain"] is False and line["userType"] == "external"
    assert body[0]["content"] == "You are a test agent."
    assert body[1]["message"] == {"role": "user", "content": "Count the rows of data.csv"}

    call = body[2]["message"]
    assert call["role"] == "assistant" and call["model"] == "org/model"
    assert call["content"] == [
        {"type": "tool_use", "id": "call_1", "name": "bash", "input": {"command": "wc -l data.csv"}}
    ]
    assert call["stop_reason"] == "tool_use" and call["id"].startswith("msg_")
    assert body[3]["message"]["content"] == [
        {
            "type": "tool_result",
            "tool_use_id": "call_1",
            "content": "240 data.csv",
            "is_error": False,
        }
    ]
    failed = body[5]["message"]["content"][0]
    assert failed["tool_use_id"] == "call_2" and failed["is_error"] is True
    final = body[6]["message"]
    assert final["content"] == [{"type": "text", "text": "It has 240 rows."}]
    assert final["stop_reason"] == "end_turn"
    times = [line["timestamp"] for line in body]
    assert times == sorted(times) and len(set(times)) > 1


def test_export_is_deterministic_and_written_owner_only(tmp_path: Path) -> None:
    rec = Recorder(tmp_path / "sessions")
    rec.turn("hello", "hi there")
    path = rec.close()
    out = write_trace(path, tmp_path / "out" / "trace.jsonl")
    assert out.read_bytes() == trace_bytes(path)
    assert (out.stat().st_mode & 0o777) == 0o600
    assert out.read_bytes().endswith(b"\n")
    assert not list((tmp_path / "out").glob(".*tmp"))


def test_compaction_keeps_the_full_history_and_adds_the_summary(tmp_path: Path) -> None:
    rec = Recorder(tmp_path)
    for n in range(4):
        rec.turn(f"question {n} " + "x" * 200, f"answer {n} " + "y" * 200)

    async def summarize(messages: list[dict[str, Any]], focus: str | None) -> str:
        return "They asked four questions."

    before, after = asyncio.run(rec.ctx.compact(summarize, force=True))
    rec.event(Compacted(before=before, after=after))
    rec.turn("question 4", "answer 4")
    path = rec.close()

    body = conversation(lines_of(path))
    users = [line["message"]["content"] for line in body if line["type"] == "user"]
    assert [u.split()[1] for u in users] == ["0", "1", "2", "3", "4"]  # nothing lost, no repeats
    boundary = [line for line in body if line.get("subtype") == "compact_boundary"]
    assert len(boundary) == 1
    assert boundary[0]["compactMetadata"] == {"preTokens": before, "postTokens": after}
    at = body.index(boundary[0])
    summary = body[at + 1]
    assert summary["type"] == "assistant"
    assert summary["message"]["content"][0]["text"].startswith(SUMMARY_PREFIX)
    assert summary["parentUuid"] == boundary[0]["uuid"]
    assert body[at + 2]["message"]["content"] == "question 4"


def test_an_undone_turn_stays_as_a_side_branch(tmp_path: Path) -> None:
    rec = Recorder(tmp_path)
    rec.turn("first", "one")
    rec.turn("oops", "wrong way")
    rec.ctx.undo()
    rec.turn("second", "two")
    path = rec.close()

    body = conversation(lines_of(path))
    by_text = {str(line["message"]["content"]): line for line in body if line["type"] in ("user",)}
    answers = {
        line["message"]["content"][0]["text"]: line for line in body if line["type"] == "assistant"
    }
    assert "oops" in by_text  # what happened is kept
    assert by_text["oops"]["parentUuid"] == answers["one"]["uuid"]
    assert by_text["second"]["parentUuid"] == answers["one"]["uuid"]  # hangs off the survivor
    assert answers["two"]["parentUuid"] == by_text["second"]["uuid"]


def test_reasoning_becomes_thinking_blocks_in_either_journal_order(tmp_path: Path) -> None:
    rec = Recorder(tmp_path)
    rec.ctx.start_turn("plan it")
    rec.event(TurnStarted(text="plan it"))
    # A call that only makes tool calls: the reasoning is journaled after the message.
    rec.event(ReasoningDelta(text="I should look first."))
    call = {"id": "c1", "type": "function", "function": {"name": "bash", "arguments": "{}"}}
    rec.ctx.add({"role": "assistant", "content": None, "tool_calls": [call]})
    rec.event(ToolCall(call_id="c1", tool="bash", args={}))
    rec.ctx.add({"role": "tool", "tool_call_id": "c1", "content": "ok"})
    # A call whose text streams: the reasoning is journaled before the message.
    rec.event(ReasoningDelta(text="Now I can answer."))
    rec.event(AssistantDelta(text="Done"))
    rec.ctx.add({"role": "assistant", "content": "Done."})
    rec.event(AssistantMessage(text="Done."))
    # A sub-agent's reasoning is not the conversation's.
    rec.event(ReasoningDelta(text="sub-agent musing", parent_id="c1"))
    rec.event(TurnComplete(final_text="Done.", iterations=2))
    path = rec.close()

    assistants = [line for line in lines_of(path) if line["type"] == "assistant"]
    first, second = (a["message"]["content"] for a in assistants)
    assert first[0] == {"type": "thinking", "thinking": "I should look first."}
    assert first[1]["type"] == "tool_use"
    assert second == [
        {"type": "thinking", "thinking": "Now I can answer."},
        {"type": "text", "text": "Done."},
    ]
    assert b"sub-agent musing" not in trace_bytes(path)


def test_injected_messages_odd_arguments_and_a_torn_line(tmp_path: Path) -> None:
    rec = Recorder(tmp_path)
    rec.ctx.start_turn("go")
    call = {"id": "c9", "type": "function", "function": {"name": "bash", "arguments": "{broken"}}
    rec.ctx.add({"role": "assistant", "content": "Trying.", "tool_calls": [call]})
    rec.ctx.add({"role": "tool", "tool_call_id": "c9", "content": "invalid arguments"})
    rec.ctx.inject("You repeated the same call; try something else.")
    rec.ctx.add({"role": "assistant", "content": ""})  # an empty answer says nothing
    path = rec.close()
    with path.open("a") as handle:
        handle.write('{"kind": "message", "message": {"role": "user", "cont')

    body = conversation(lines_of(path))
    assistant = body[2]["message"]["content"]
    assert assistant[0] == {"type": "text", "text": "Trying."}
    assert assistant[1]["input"] == {"_raw": "{broken"}
    guard = body[-1]
    assert guard["type"] == "user" and guard["isMeta"] is True
    assert "isMeta" not in body[1]
    assert len(body) == 5


def test_model_switches_are_followed(tmp_path: Path) -> None:
    from ml_intern_tui.core.protocol import Ready

    rec = Recorder(tmp_path, model="first/model")
    rec.turn("a", "b")
    rec.event(Ready(model="second/model", mode="ask", tools=[], cwd="/w", context_limit=1000))
    rec.turn("c", "d")
    path = rec.close()
    models = [r["message"]["model"] for r in trace_records(path) if r["type"] == "assistant"]
    assert models == ["first/model", "second/model"]
