"""The context manager: token accounting, compaction, undo, journal records, resume."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ml_intern_tui.core.context import (
    SUMMARY_PREFIX,
    CompactionError,
    ContextManager,
    is_real_user,
    rebuild,
    strip_private,
)
from ml_intern_tui.core.guards import NOT_COMPLETED_TAG

Message = dict[str, Any]


def count(messages: list[Message]) -> int:
    """One token per character of content and tool-call arguments."""
    total = 0
    for m in messages:
        total += len(str(m.get("content") or ""))
        for c in m.get("tool_calls") or []:
            total += len(c["function"]["arguments"])
    return total


class Summarizer:
    """A fake summariser that records what it was asked."""

    def __init__(self, text: str = "S", error: Exception | None = None) -> None:
        self.text = text
        self.error = error
        self.calls: list[tuple[list[Message], str | None]] = []

    async def __call__(self, messages: list[Message], focus: str | None) -> str:
        self.calls.append((messages, focus))
        if self.error is not None:
            raise self.error
        return self.text


def call(cid: str, name: str = "bash", args: str = "{}") -> dict[str, Any]:
    return {"id": cid, "type": "function", "function": {"name": name, "arguments": args}}


def step(cm: ContextManager, cid: str, output: str = "out", *, name: str = "bash") -> None:
    cm.add({"role": "assistant", "content": None, "tool_calls": [call(cid, name)]})
    cm.add({"role": "tool", "tool_call_id": cid, "name": name, "content": output})


def make(limit: int = 10_000, **kwargs: Any) -> tuple[ContextManager, list[dict[str, Any]]]:
    records: list[dict[str, Any]] = []
    cm = ContextManager("SYS", limit=limit, counter=count, on_change=records.append, **kwargs)
    return cm, records


def long_session(cm: ContextManager, rounds: int = 6, size: int = 100) -> None:
    cm.start_turn("the task")
    for i in range(rounds):
        step(cm, f"c{i}", "x" * size)
    cm.add({"role": "assistant", "content": "done with round one"})
    cm.start_turn("second request")
    step(cm, "d1", "y" * size)


def assert_tool_blocks_intact(messages: list[Message]) -> None:
    """Every tool result follows its assistant call and every call has its result."""
    pending: set[str] = set()
    for m in messages:
        if m["role"] == "tool":
            assert m["tool_call_id"] in pending, f"orphaned tool result {m['tool_call_id']}"
            pending.discard(m["tool_call_id"])
        else:
            assert not pending, f"calls without results: {pending}"
            pending = {c["id"] for c in m.get("tool_calls") or []}
    assert not pending


# ---------------------------------------------------------------- tokens


def test_token_count_includes_tool_outputs_immediately() -> None:
    cm, _ = make()
    cm.start_turn("hi")
    before = cm.tokens()
    cm.add({"role": "tool", "tool_call_id": "x", "content": "z" * 1000})
    assert cm.tokens() == before + 1000


def test_token_count_is_cached_and_counter_sees_no_private_keys() -> None:
    seen: list[list[Message]] = []

    def counter(messages: list[Message]) -> int:
        seen.append(messages)
        return count(messages)

    cm = ContextManager("SYS", limit=100, counter=counter)
    cm.start_turn("hello")
    cm.tokens()
    cm.tokens()
    cm.usage()
    # An empty request once, then each message once, alone.
    assert seen == [
        [],
        [{"role": "system", "content": "SYS"}],
        [{"role": "user", "content": "hello"}],
    ]
    assert all(not k.startswith("_") for m in seen for message in m for k in message)
    cm.inject("guard text")
    assert cm.tokens() == len("SYS") + len("hello") + len("guard text")
    assert seen[3:] == [[{"role": "user", "content": "guard text"}]]


def test_counting_after_each_call_costs_the_new_messages_only() -> None:
    """A long session: every message is counted once however many calls are made."""
    counted: list[int] = []

    def counter(messages: list[Message]) -> int:
        counted.append(len(messages))
        return count(messages)

    cm = ContextManager("SYS", limit=10**9, counter=counter)
    cm.start_turn("go")
    for n in range(200):
        step(cm, f"c{n}", f"output {n}")
        cm.tokens()
    assert len(counted) == 1 + 2 + 400  # empty request, system, user, 200 calls + results
    assert max(counted) == 1
    assert cm.tokens() == count(cm.messages)


def test_incremental_count_equals_litellms_whole_count() -> None:
    """litellm's counter adds up per message: the cached shares give its exact figure."""
    import json

    from ml_intern_tui.core.llm import count_tokens

    def litellm_count(messages: list[Message]) -> int:
        return count_tokens("openai/fake", messages)

    cm = ContextManager("You are careful.", limit=10**6, counter=litellm_count)
    cm.start_turn("Read the data, then train.")
    for n in range(5):
        arguments = json.dumps({"path": f"data_{n}.csv", "limit": n})
        call = {
            "id": f"c{n}",
            "type": "function",
            "function": {"name": "read", "arguments": arguments},
        }
        cm.add({"role": "assistant", "content": None, "tool_calls": [call]})
        cm.add({"role": "tool", "tool_call_id": f"c{n}", "content": "col,label\n" * (n + 3)})
    cm.add({"role": "assistant", "content": "Done: **0.91** accuracy. ✓"})
    assert cm.raw_tokens() == litellm_count(strip_private(cm.messages))


def test_shares_of_messages_taken_back_are_forgotten() -> None:
    cm, _ = make()
    cm.start_turn("one")
    step(cm, "c1", "a" * 50)
    first = cm.tokens()
    cm.start_turn("two")
    step(cm, "c2", "b" * 70)
    assert cm.tokens() > first + len("two") + 70
    cm.undo()
    assert cm.tokens() == first
    assert len(cm._shares) == len(cm.messages)


async def test_a_big_new_message_is_counted_off_the_event_loop() -> None:
    import threading

    threads: list[str] = []

    def counter(messages: list[Message]) -> int:
        if messages:
            threads.append(threading.current_thread().name)
        return count(messages)

    cm = ContextManager("SYS", limit=10**9, counter=counter)
    cm.start_turn("small")
    await cm.count_in_thread()
    assert set(threads) == {threading.current_thread().name}  # small: counted inline
    threads.clear()
    cm.add({"role": "tool", "tool_call_id": "x", "content": "y" * 100_000})
    await cm.count_in_thread()
    assert len(threads) == 1 and threads[0] != threading.current_thread().name
    assert cm.tokens() == len("SYS") + len("small") + 100_000
    assert len(threads) == 1  # the share was kept: not counted again


async def test_a_resumed_history_is_counted_once_off_the_loop_when_two_ask() -> None:
    """The background count after a resume and the first turn's count overlap: the
    history is counted once, in a worker thread, and the turn finds the total."""
    import asyncio
    import threading
    import time

    loop_thread = threading.current_thread().name
    counted: list[str] = []

    def counter(messages: list[Message]) -> int:
        if messages:
            counted.append(threading.current_thread().name)
            time.sleep(0.0005)  # a real tokenizer takes a while: the two asks overlap
        return count(messages)

    cm = ContextManager("SYS", limit=10**9, counter=counter)
    history: list[Message] = [{"role": "user", "content": "go"}]
    for n in range(300):
        history.append({"role": "assistant", "content": f"step {n} " + "z" * 200})
    cm.restore(history)
    await asyncio.gather(cm.count_in_thread(), cm.count_in_thread())
    assert cm.needs_compaction() is False
    assert len(counted) == 1 + len(history)  # every message once (the system prompt too)
    assert loop_thread not in counted
    assert cm.tokens() == count(cm.messages)


def test_usage_threshold_and_needs_compaction() -> None:
    cm, _ = make(limit=100, threshold_ratio=0.5)
    assert cm.usage() == (3, 100, 50)
    assert not cm.needs_compaction()
    cm.start_turn("x" * 60)
    assert cm.needs_compaction()
    cm.limit = 1000
    assert cm.threshold == 500 and not cm.needs_compaction()
    cm.threshold = 10
    assert cm.needs_compaction()


# ---------------------------------------------------------------- compaction


async def test_compaction_keeps_system_first_user_and_tail() -> None:
    cm, _ = make(limit=800)
    long_session(cm)
    original = cm.messages
    summarize = Summarizer("what happened")
    before, after = await cm.compact(summarize)
    assert before == count(original) and after == cm.tokens() and after < before
    compacted = cm.messages
    assert compacted[0] == {"role": "system", "content": "SYS"}
    assert compacted[1]["content"] == "the task" and compacted[1]["_origin"] == "user"
    summary = compacted[2]
    assert summary["role"] == "assistant" and summary["_origin"] == "summary"
    assert summary["content"].startswith(SUMMARY_PREFIX) and "what happened" in summary["content"]
    tail = compacted[3:]
    assert tail == original[len(original) - len(tail) :]
    assert len(tail) >= cm.keep_recent
    summarised, focus = summarize.calls[0]
    assert focus is None
    assert len(summarised) == len(original) - 2 - len(tail)
    assert all(not k.startswith("_") for m in summarised for k in m)


@pytest.mark.parametrize("keep_recent", range(1, 10))
async def test_tail_never_orphans_tool_results(keep_recent: int) -> None:
    cm, _ = make(limit=10_000, keep_recent=keep_recent)
    cm.start_turn("task")
    for i in range(4):
        cm.add(
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [call(f"a{i}"), call(f"b{i}"), call(f"c{i}")],
            }
        )
        for prefix in "abc":
            cm.add({"role": "tool", "tool_call_id": f"{prefix}{i}", "content": "r" * 60})
    await cm.compact(Summarizer(), force=True)
    compacted = cm.messages
    assert_tool_blocks_intact(compacted[1:])
    assert compacted[3]["role"] != "tool"


async def test_tail_that_starts_with_tool_results_right_after_the_head() -> None:
    cm, _ = make(limit=500, keep_recent=2)
    cm.start_turn("task")
    cm.add({"role": "tool", "tool_call_id": "stray", "content": "o" * 200})
    cm.add({"role": "tool", "tool_call_id": "stray2", "content": "o" * 200})
    cm.add({"role": "assistant", "content": "text"})
    before, after = await cm.compact(Summarizer(), force=True)
    assert after < before
    assert all(m["role"] != "tool" for m in cm.messages)


async def test_oversized_messages_become_placeholders() -> None:
    cm, _ = make(limit=100_000, per_message_cap=500, keep_recent=3)
    cm.start_turn("the task")
    for i in range(5):
        step(cm, f"c{i}", "small")
    big_args = json.dumps({"content": "w" * 900})
    cm.add({"role": "assistant", "content": None, "tool_calls": [call("big", "write", big_args)]})
    cm.add({"role": "tool", "tool_call_id": "big", "name": "write", "content": "q" * 800})
    cm.add({"role": "assistant", "content": "ok"})
    await cm.compact(Summarizer(), force=True)
    tail = cm.messages[3:]
    asst, tool = tail[0], tail[1]
    assert asst["_origin"] == "placeholder" and asst["tool_calls"][0]["id"] == "big"
    assert "cut for compaction" in asst["tool_calls"][0]["function"]["arguments"]
    json.loads(asst["tool_calls"][0]["function"]["arguments"])  # still valid JSON
    assert tool["role"] == "tool" and tool["tool_call_id"] == "big" and tool["name"] == "write"
    assert (
        tool["content"]
        == "[cut for compaction: 800 tokens; the full text is in the session journal]"
    )
    assert tail[2]["content"] == "ok"


async def test_oversized_first_user_message_stays_an_undoable_turn() -> None:
    cm, _ = make(limit=100_000, per_message_cap=100, keep_recent=1)
    cm.start_turn("t" * 300)
    step(cm, "a")
    step(cm, "b")
    cm.start_turn("next")
    await cm.compact(Summarizer(), force=True)
    assert "300 tokens" in cm.messages[1]["content"]
    assert is_real_user(cm.messages[1])
    cm.restore(cm.messages)
    assert cm.turn_count() == 2


async def test_newest_user_message_is_never_a_placeholder_when_it_fits() -> None:
    cm, _ = make(limit=100_000, per_message_cap=100, keep_recent=1)
    cm.start_turn("t" * 300)
    step(cm, "a")
    step(cm, "b")
    await cm.compact(Summarizer(), force=True)
    assert cm.messages[1]["content"] == "t" * 300
    assert cm.last_user_text() == "t" * 300


async def test_no_compaction_below_threshold_unless_forced() -> None:
    cm, _ = make(limit=100_000)
    long_session(cm)
    summarize = Summarizer()
    tokens = cm.tokens()
    assert await cm.compact(summarize) == (tokens, tokens)
    assert summarize.calls == []
    before, after = await cm.compact(summarize, force=True)
    assert len(summarize.calls) == 1
    assert before == tokens and after < before


async def test_focus_hint_reaches_the_summarizer() -> None:
    cm, _ = make()
    long_session(cm)
    summarize = Summarizer()
    await cm.compact(summarize, focus="the dataset columns", force=True)
    assert summarize.calls[0][1] == "the dataset columns"


async def test_nothing_to_summarise_is_a_no_op() -> None:
    cm, records = make()
    cm.start_turn("hi")
    cm.add({"role": "assistant", "content": "hello"})
    summarize = Summarizer()
    n = len(records)
    assert await cm.compact(summarize, force=True) == (cm.tokens(), cm.tokens())
    assert summarize.calls == [] and len(records) == n
    assert cm.undo() == ("turn", "hi")


async def test_summarizer_failure_leaves_history_unchanged() -> None:
    cm, _ = make(limit=500)
    long_session(cm)
    original = cm.messages
    with pytest.raises(CompactionError, match="RuntimeError: provider down"):
        await cm.compact(Summarizer(error=RuntimeError("provider down")))
    assert cm.messages == original
    assert cm.undo() == ("turn", "second request")


async def test_empty_summary_is_a_failure() -> None:
    cm, _ = make(limit=500)
    long_session(cm)
    original = cm.messages
    with pytest.raises(CompactionError, match="empty"):
        await cm.compact(Summarizer("   "))
    assert cm.messages == original


async def test_compaction_still_over_threshold_keeps_a_working_context() -> None:
    # The tail is too small to be cut (under fitting.MIN_KEEP) yet over the threshold.
    cm, _ = make(limit=250, keep_recent=2)
    long_session(cm, rounds=6, size=100)
    step(cm, "huge", "h" * 190)
    before = cm.tokens()
    with pytest.raises(CompactionError, match="still over the threshold") as info:
        await cm.compact(Summarizer("short"))
    assert info.value.before == before and info.value.after == cm.tokens() < before
    assert str(info.value).count("\n") == 0
    # The session keeps working: new messages, an LLM view, and the compaction can be undone.
    cm.start_turn("continue")
    assert cm.for_llm()[-1] == {"role": "user", "content": "continue"}
    assert cm.undo() == ("turn", "continue")
    assert cm.undo()[0] == "compaction"
    assert cm.tokens() == before


async def test_compaction_that_does_not_help_is_not_applied() -> None:
    # A summary longer than the middle, and nothing big enough to cut (the tool schemas
    # alone fill the window): the history stays as it was.
    cm, _ = make(limit=300, keep_recent=2, overhead=lambda: 400)
    cm.start_turn("the task")
    cm.add({"role": "assistant", "content": "a"})
    cm.start_turn("b")
    step(cm, "c", "out")
    original = cm.messages
    with pytest.raises(CompactionError) as info:
        await cm.compact(Summarizer("s" * 100))
    assert info.value.after == info.value.before
    assert cm.messages == original


# ---------------------------------------------------------------- undo


def test_undo_turn_goes_back_past_injected_messages() -> None:
    cm, _ = make()
    cm.start_turn("first")
    step(cm, "a")
    cm.inject("[SYSTEM: CONTINUATION GUARD] keep going")
    cm.add({"role": "assistant", "content": "done"})
    after_first = cm.messages
    cm.start_turn("second")
    step(cm, "b")
    cm.inject("[SYSTEM: REPETITION GUARD] stop")
    step(cm, "c")
    cm.inject("[SYSTEM: OUTPUT TRUNCATED] smaller", origin="truncation")
    assert cm.turn_count() == 2
    assert cm.last_user_text() == "second"
    assert cm.undo() == ("turn", "second")
    assert cm.messages == after_first
    assert cm.undo() == ("turn", "first")
    assert cm.messages == [{"role": "system", "content": "SYS"}]
    assert cm.undo() == ("nothing", "")
    assert cm.last_user_text() is None


def test_inject_refuses_user_origin() -> None:
    cm, _ = make()
    with pytest.raises(ValueError):
        cm.inject("sneaky", origin="user")


async def test_undo_after_compaction_restores_previous_messages() -> None:
    cm, _ = make(limit=1000)
    long_session(cm)
    original = cm.messages
    await cm.compact(Summarizer(), force=True)
    assert cm.messages != original
    assert cm.undo() == ("compaction", "")
    assert cm.messages == original
    assert cm.undo() == ("turn", "second request")


async def test_undo_compaction_keeps_messages_added_after_it() -> None:
    cm, _ = make(limit=1000)
    long_session(cm)
    original = cm.messages
    await cm.compact(Summarizer(), force=True)
    cm.add({"role": "assistant", "content": "after compaction"})
    assert cm.undo() == ("compaction", "")
    assert cm.messages == [*original, {"role": "assistant", "content": "after compaction"}]


# ---------------------------------------------------------------- journal and resume


async def test_records_rebuild_the_same_messages() -> None:
    cm, records = make(limit=1000)

    def check() -> None:
        replayed = rebuild(json.loads(json.dumps(records)))  # as read back from a journal
        assert replayed == cm.messages

    long_session(cm)
    check()
    cm.inject("[SYSTEM: REPETITION GUARD] stop")
    cm.undo()
    check()
    await cm.compact(Summarizer(), force=True)
    check()
    step(cm, "e")
    check()
    cm.undo()
    check()
    cm.replace_system_prompt("NEW SYS")
    check()
    cm.restore(cm.messages[:3])
    check()
    assert {r["kind"] for r in records} == {"message", "truncate", "replace", "system"}


def test_journal_attached_after_construction() -> None:
    cm = ContextManager("SYS", limit=100, counter=count)
    records: list[dict[str, Any]] = []
    cm.on_change = records.append
    cm.start_turn("hi")
    cm.restore(rebuild(records))  # resume from a journal that lacks the system prompt
    assert cm.messages == [
        {"role": "system", "content": "SYS"},
        {"role": "user", "content": "hi", "_origin": "user"},
    ]


def test_rebuild_ignores_unknown_records() -> None:
    assert rebuild(
        [{"kind": "message", "message": {"role": "user", "content": "a"}}, {"kind": "future"}]
    ) == [{"role": "user", "content": "a"}]


def test_restore_rebuilds_turns_from_real_user_messages() -> None:
    source, _ = make()
    source.start_turn("one")
    step(source, "a")
    source.inject("guard")
    source.start_turn("two")
    step(source, "b")
    cm, records = make()
    cm.restore(source.messages)
    assert records[-1] == {"kind": "replace", "messages": source.messages}
    assert cm.turn_count() == 2
    assert cm.undo() == ("turn", "two")
    assert cm.undo() == ("turn", "one")
    assert cm.messages == [{"role": "system", "content": "SYS"}]


def test_restore_without_system_prompt_keeps_the_current_one() -> None:
    cm, _ = make()
    cm.restore([{"role": "user", "content": "hi", "_origin": "user"}])
    assert cm.messages[0] == {"role": "system", "content": "SYS"}
    assert cm.turn_count() == 1


def test_replace_system_prompt() -> None:
    cm, _ = make()
    cm.start_turn("hi")
    cm.replace_system_prompt("other")
    assert cm.messages[0] == {"role": "system", "content": "other"}
    assert cm.tokens() == len("other") + len("hi")


# ---------------------------------------------------------------- for_llm


def test_for_llm_strips_private_keys_and_patches_dangling_calls() -> None:
    cm, _ = make()
    cm.start_turn("go")
    cm.inject("note")
    cm.add({"role": "assistant", "content": None, "tool_calls": [call("a"), call("b")], "_meta": 1})
    cm.add({"role": "tool", "tool_call_id": "a", "content": "ok"})
    sent = cm.for_llm()
    assert all(not k.startswith("_") for m in sent for k in m)
    assert [m["role"] for m in sent] == ["system", "user", "user", "assistant", "tool", "tool"]
    assert sent[-1]["tool_call_id"] == "b" and sent[-1]["content"].startswith(NOT_COMPLETED_TAG)
    assert cm.messages[2]["_origin"] == "guard"  # the history itself keeps its bookkeeping
    assert len(cm.messages) == 5


async def test_messages_added_during_the_summary_call_are_kept() -> None:
    cm, records = make(limit=10_000)
    long_session(cm)

    async def slow_summary(messages: list[Message], focus: str | None) -> str:
        cm.add({"role": "assistant", "content": "arrived meanwhile"})
        return "S"

    await cm.compact(slow_summary, force=True)
    assert cm.messages[-1] == {"role": "assistant", "content": "arrived meanwhile"}
    assert rebuild(records) == cm.messages


async def test_undo_during_the_summary_call_abandons_the_compaction() -> None:
    cm, _ = make(limit=10_000)
    long_session(cm)

    async def racing_summary(messages: list[Message], focus: str | None) -> str:
        cm.undo()
        return "S"

    with pytest.raises(CompactionError, match="rewritten"):
        await cm.compact(racing_summary, force=True)
    assert cm.last_user_text() == "the task"
    assert all(m.get("_origin") != "summary" for m in cm.messages)
