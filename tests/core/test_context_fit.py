"""Compaction that always makes progress: cuts when there is no middle, rollback, notes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ml_intern_tui.core.context import CompactionError, ContextManager, rebuild
from ml_intern_tui.core.fitting import CUT_MARK, cut_message, plan_cuts
from ml_intern_tui.core.overflow import learned_notes

Message = dict[str, Any]
MARK_HEAD = CUT_MARK.split("{")[0]


def count(messages: list[Message]) -> int:
    """One token per character of content and tool-call arguments."""
    total = 0
    for m in messages:
        total += len(str(m.get("content") or ""))
        for c in m.get("tool_calls") or []:
            total += len(c["function"]["arguments"])
    return total


async def summarize(messages: list[Message], focus: str | None) -> str:
    return "short summary"


async def failing_summary(messages: list[Message], focus: str | None) -> str:
    raise RuntimeError("the summary request was too long as well")


def make(limit: int, **kwargs: Any) -> tuple[ContextManager, list[dict[str, Any]]]:
    records: list[dict[str, Any]] = []
    cm = ContextManager("SYS", limit=limit, counter=count, on_change=records.append, **kwargs)
    return cm, records


def paste(n: int) -> str:
    return "".join(f"{i:05d}|" for i in range(n // 6 + 1))[:n]


async def test_a_huge_first_message_is_cut_to_its_start_and_end() -> None:
    cm, _ = make(limit=2000)
    text = "START " + paste(6000) + " END"
    cm.start_turn(text)
    before, after = await cm.compact(summarize, force=True, fit=True)
    assert before > after and after <= cm.threshold
    sent = cm.messages[1]["content"]
    assert sent.startswith("START 00000|") and sent.endswith(" END")
    assert MARK_HEAD in sent and "tokens cut here" in sent
    [cut] = cm.cuts
    assert cut.newest_user and cut.before == len(text) and cut.after == len(sent)
    assert cm.last_user_text() == sent  # still the user's message, still a turn
    what, _ = cm.undo()
    assert what == "compaction" and cm.messages[1]["content"] == text


async def test_other_big_messages_are_cut_before_the_users_newest() -> None:
    cm, _ = make(limit=3000)
    cm.start_turn("look at the log")
    call = {"id": "c1", "type": "function", "function": {"name": "bash", "arguments": "{}"}}
    cm.add({"role": "assistant", "content": None, "tool_calls": [call]})
    cm.add({"role": "tool", "tool_call_id": "c1", "content": paste(4000)})
    cm.start_turn("and this: " + paste(900))
    await cm.compact(summarize, force=True)
    assert cm.messages[-1]["content"] == "and this: " + paste(900)  # untouched
    assert MARK_HEAD in cm.messages[3]["content"] and cm.tokens() <= cm.threshold
    assert [c.role for c in cm.cuts] == ["tool"] and not cm.cuts[0].newest_user


async def test_no_middle_and_nothing_to_cut_is_a_clear_error() -> None:
    cm, _ = make(limit=1000, overhead=lambda: 5000)  # the tool schemas alone overflow
    cm.start_turn("hi")
    with pytest.raises(CompactionError) as info:
        await cm.compact(summarize, force=True, fit=True)
    assert "tool definitions alone take" in str(info.value)


async def test_a_summary_that_cannot_be_written_drops_the_middle_when_it_must_fit() -> None:
    cm, _ = make(limit=1200, keep_recent=1)
    cm.start_turn("first")
    for i in range(6):
        cm.add({"role": "assistant", "content": f"answer {i} " + "x" * 300})
        cm.start_turn(f"q{i}")
    with pytest.raises(CompactionError):  # a plain compaction keeps the history
        await cm.compact(failing_summary, force=True)
    assert len(cm.messages) == 14
    await cm.compact(failing_summary, force=True, fit=True)
    contents = [m["content"] for m in cm.messages]
    assert contents[1] == "first" and contents[-1] == "q5"
    assert "earlier messages were removed" in contents[2]
    assert "too long as well" in contents[2]
    assert cm.tokens() <= cm.threshold


async def test_rollback_takes_back_the_turn_and_its_compactions() -> None:
    cm, records = make(limit=2000)
    cm.start_turn("earlier question")
    cm.add({"role": "assistant", "content": "earlier answer"})
    history = cm.messages
    cm.start_turn("poison " + paste(8000))
    await cm.compact(summarize, force=True, fit=True)
    assert cm.cuts
    assert cm.rollback_turn() == "poison " + paste(8000)
    assert cm.messages == history and cm.turn_count() == 1
    # The journal says the same: a resume does not bring the prompt back.
    assert [
        m["content"]
        for m in rebuild(
            [{"kind": "message", "message": {"role": "system", "content": "SYS"}}, *records]
        )
    ] == [m["content"] for m in history]
    assert cm.rollback_turn() == "earlier question" and len(cm.messages) == 1
    assert cm.rollback_turn() is None


def test_tokens_add_the_tool_schemas_and_follow_the_calibration() -> None:
    cm, records = make(limit=100_000, overhead=lambda: 1000)
    cm.model = "llamacpp/m"
    cm.start_turn("x" * 999)
    assert cm.raw_tokens() == 3 + 999 + 1000 and cm.tokens() == cm.raw_tokens()
    assert cm.observe(cm.raw_tokens(), 2600)
    assert cm.tokens() == 2600
    note = records[-1]
    assert note["kind"] == "token_calibration" and note["model"] == "llamacpp/m"
    assert not cm.observe(cm.raw_tokens(), 7)  # not the same prompt: ignored, not journaled
    assert records[-1] is note


def test_learned_notes_belong_to_their_model() -> None:
    records = [
        {"kind": "window", "limit": 8192, "model": "llamacpp/a"},
        {"kind": "window", "limit": 4096, "model": "llamacpp/b"},
        {"kind": "token_calibration", "points": [[4000, 9000]], "model": "llamacpp/a"},
        {"kind": "message", "message": {"role": "user", "content": "hi"}},
    ]
    assert learned_notes(records, "llamacpp/a") == (8192, [[4000, 9000]])
    assert learned_notes(records, "llamacpp/b") == (4096, [])
    outgrown = [*records, {"kind": "window", "limit": None, "model": "llamacpp/a"}]
    assert learned_notes(outgrown, "llamacpp/a")[0] is None
    # The notes do not disturb the history a journal rebuilds.
    assert rebuild(records) == [{"role": "user", "content": "hi"}]


def test_plan_cuts_biggest_first_never_below_the_floor_spare_last() -> None:
    sizes = [100, 5000, 300, 2000, 4000]
    assert plan_cuts(sizes, 3000, [1, 4, 3, 2]) == {1: 2000}
    assert plan_cuts(sizes, 6000, [1, 4, 3, 2], floor=200) == {1: 200, 4: 2800}
    assert plan_cuts(sizes, 99_999, [1, 4], floor=200) == {1: 200, 4: 200}
    assert plan_cuts(sizes, 0, [1]) == {}


def test_a_huge_tool_call_keeps_valid_json_arguments() -> None:
    args = json.dumps({"path": "big.py", "content": "y" * 5000})
    message = {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": "w", "type": "function", "function": {"name": "write", "arguments": args}}
        ],
    }
    cut = cut_message(message, 200, 5030)
    arguments = cut["tool_calls"][0]["function"]["arguments"]
    assert "tokens cut here" in json.loads(arguments)["note"]
    assert (
        cut["tool_calls"][0]["id"] == "w"
        and message["tool_calls"][0]["function"]["arguments"] == args
    )
