"""Guards: dangling tool calls, repetition, malformed arguments, continuation, truncation."""

from __future__ import annotations

import copy
import json
from typing import Any

from ml_intern_tui.core.guards import (
    CONTINUATION_TAG,
    MALFORMED_PREFIX,
    MALFORMED_TAG,
    NOT_COMPLETED_TAG,
    REPETITION_TAG,
    TRUNCATION_TAG,
    ContinuationGuard,
    DoomLoopDetector,
    continuation_prompt,
    malformed_repetition,
    malformed_result,
    malformed_tool,
    patch_dangling_tool_calls,
    truncated_output_prompt,
)
from ml_intern_tui.core.protocol import PlanItem

Message = dict[str, Any]


def call(call_id: str, name: str, args: Any = None) -> dict[str, Any]:
    arguments = args if isinstance(args, str) else json.dumps(args or {})
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def assistant(*calls: dict[str, Any], content: str | None = None) -> Message:
    return {"role": "assistant", "content": content, "tool_calls": list(calls)}


def result(call_id: str, content: str) -> Message:
    return {"role": "tool", "tool_call_id": call_id, "content": content}


BASE: list[Message] = [
    {"role": "system", "content": "sys"},
    {"role": "user", "content": "do it"},
]


class Conversation:
    """Builds a history of tool calls with fresh ids."""

    def __init__(self) -> None:
        self.messages: list[Message] = copy.deepcopy(BASE)
        self.n = 0

    def step(self, name: str, args: Any, output: str) -> None:
        self.n += 1
        cid = f"c{self.n}"
        self.messages += [assistant(call(cid, name, args)), result(cid, output)]

    def user(self, text: str) -> None:
        self.messages.append({"role": "user", "content": text})


# ---------------------------------------------------------------- dangling calls


def test_complete_history_is_unchanged() -> None:
    history = [
        *BASE,
        assistant(call("a", "read")),
        result("a", "ok"),
        {"role": "assistant", "content": "done"},
    ]
    assert patch_dangling_tool_calls(history) == history


def test_missing_result_gets_stub_after_existing_results() -> None:
    history = [
        *BASE,
        assistant(call("a", "read"), call("b", "bash"), call("c", "write")),
        result("b", "ran"),
        {"role": "user", "content": "next"},
    ]
    original = copy.deepcopy(history)
    patched = patch_dangling_tool_calls(history)
    assert history == original  # input untouched
    assert [m["role"] for m in patched] == [
        "system",
        "user",
        "assistant",
        "tool",
        "tool",
        "tool",
        "user",
    ]
    assert patched[3] == result("b", "ran")
    stubs = patched[4:6]
    assert [s["tool_call_id"] for s in stubs] == ["a", "c"]
    assert [s["name"] for s in stubs] == ["read", "write"]
    assert all(s["content"].startswith(NOT_COMPLETED_TAG) for s in stubs)
    assert "interrupted" in stubs[0]["content"]


def test_orphan_and_duplicate_results_are_dropped() -> None:
    history = [
        *BASE,
        result("ghost", "no call made me"),
        assistant(call("a", "read")),
        result("a", "first"),
        result("a", "second"),
        result("zzz", "unknown"),
    ]
    patched = patch_dangling_tool_calls(history)
    tools = [m for m in patched if m["role"] == "tool"]
    assert tools == [result("a", "first")]


def test_late_result_moves_up_to_its_call() -> None:
    history = [
        *BASE,
        assistant(call("a", "bash")),
        {"role": "user", "content": "hurry"},
        result("a", "late"),
    ]
    patched = patch_dangling_tool_calls(history)
    assert patched[2:] == [history[2], result("a", "late"), {"role": "user", "content": "hurry"}]


# ---------------------------------------------------------------- doom loop


def test_three_identical_calls_are_a_repeat() -> None:
    conv = Conversation()
    conv.step("bash", {"command": "ls"}, "a.txt")
    conv.step("bash", {"command": "ls"}, "a.txt")
    assert DoomLoopDetector().check(conv.messages) is None
    conv.step("bash", {"command": "ls"}, "a.txt")
    finding = DoomLoopDetector().check(conv.messages)
    assert finding is not None
    assert finding.kind == "repeat"
    assert "bash" in finding.detail and "3 times" in finding.detail
    assert finding.prompt.startswith(REPETITION_TAG)


def test_argument_key_order_does_not_hide_a_repeat() -> None:
    conv = Conversation()
    conv.step("read", '{"path": "x", "limit": 5}', "same")
    conv.step("read", '{"limit": 5, "path": "x"}', "same")
    conv.step("read", '{ "limit":5,"path":"x" }', "same")
    assert DoomLoopDetector().check(conv.messages) is not None


def test_cycle_of_two_tools_repeated_twice() -> None:
    conv = Conversation()
    for _ in range(2):
        conv.step("read", {"path": "a.py"}, "content")
        conv.step("bash", {"command": "python a.py"}, "Error: boom")
    finding = DoomLoopDetector().check(conv.messages)
    assert finding is not None
    assert finding.kind == "cycle"
    assert "read → bash" in finding.detail
    assert finding.prompt.startswith(REPETITION_TAG)


def test_polling_with_changing_output_is_not_a_loop() -> None:
    conv = Conversation()
    for i in range(6):
        conv.step("hf_jobs", {"operation": "status", "job_id": "j1"}, f"RUNNING step {i}")
    assert DoomLoopDetector().check(conv.messages) is None


def test_old_repetition_out_of_window_is_ignored() -> None:
    conv = Conversation()
    for _ in range(3):
        conv.step("bash", {"command": "ls"}, "same")
    for i in range(20):
        conv.step("read", {"path": f"f{i}"}, f"text {i}")
    assert DoomLoopDetector().check(conv.messages) is None


def test_same_loop_is_not_reported_twice() -> None:
    conv = Conversation()
    for _ in range(3):
        conv.step("bash", {"command": "ls"}, "same")
    detector = DoomLoopDetector()
    finding = detector.check(conv.messages)
    assert finding is not None
    assert detector.check(conv.messages) is None
    conv.user(finding.prompt)  # what the loop injects
    assert detector.check(conv.messages) is None
    # A fresh detector (e.g. after resume) also sees the guard message in the history.
    assert DoomLoopDetector().check(conv.messages) is None


def test_loop_reported_again_when_it_continues_after_the_guard() -> None:
    conv = Conversation()
    for _ in range(3):
        conv.step("bash", {"command": "ls"}, "same")
    detector = DoomLoopDetector()
    finding = detector.check(conv.messages)
    assert finding is not None
    conv.user(finding.prompt)
    conv.step("bash", {"command": "ls"}, "same")
    again = detector.check(conv.messages)
    assert again is not None and again.kind == "repeat"
    assert "4 times" in again.detail


def test_loop_reported_again_when_it_continues_without_injection() -> None:
    conv = Conversation()
    for _ in range(3):
        conv.step("bash", {"command": "ls"}, "same")
    detector = DoomLoopDetector()
    assert detector.check(conv.messages) is not None
    conv.step("bash", {"command": "ls"}, "same")
    assert detector.check(conv.messages) is not None


def test_cycle_reported_again_only_when_it_continues() -> None:
    conv = Conversation()
    for _ in range(2):
        conv.step("read", {"path": "a.py"}, "content")
        conv.step("bash", {"command": "python a.py"}, "boom")
    detector = DoomLoopDetector()
    finding = detector.check(conv.messages)
    assert finding is not None
    conv.user(finding.prompt)
    assert detector.check(conv.messages) is None
    conv.step("read", {"path": "a.py"}, "content")
    again = detector.check(conv.messages)
    assert again is not None and again.kind == "cycle"


def test_different_work_after_a_report_does_not_refire_the_old_loop() -> None:
    conv = Conversation()
    for _ in range(3):
        conv.step("bash", {"command": "ls"}, "same")
    detector = DoomLoopDetector()
    finding = detector.check(conv.messages)
    assert finding is not None
    conv.user(finding.prompt)
    conv.step("read", {"path": "new.py"}, "fresh")
    assert detector.check(conv.messages) is None


def test_detector_starts_over_when_history_shrinks() -> None:
    conv = Conversation()
    for _ in range(3):
        conv.step("bash", {"command": "ls"}, "same")
    detector = DoomLoopDetector()
    assert detector.check(conv.messages) is not None
    shorter = [*BASE, *conv.messages[2:6]]  # e.g. after undo: two calls remain
    assert detector.check(shorter) is None
    shorter += [assistant(call("x", "bash", {"command": "ls"})), result("x", "same")]
    assert detector.check(shorter) is not None


# ---------------------------------------------------------------- malformed arguments


def test_malformed_result_round_trips_the_tool_name() -> None:
    text = malformed_result("write", "Expecting ',' delimiter")
    assert text.startswith(MALFORMED_PREFIX)
    assert malformed_tool(text) == "write"
    assert malformed_tool("all good") is None
    assert malformed_tool(None) is None


def malformed_step(conv: Conversation, tool: str) -> None:
    conv.n += 1
    cid = f"m{conv.n}"
    conv.messages += [
        assistant(call(cid, tool, "{}")),
        result(cid, malformed_result(tool, "bad json")),
    ]


def test_two_malformed_results_for_the_same_tool_prompt_a_correction() -> None:
    conv = Conversation()
    malformed_step(conv, "write")
    assert malformed_repetition(conv.messages) is None
    malformed_step(conv, "write")
    prompt = malformed_repetition(conv.messages)
    assert prompt is not None
    assert prompt.startswith(MALFORMED_TAG)
    assert "`write`" in prompt and "heredoc" in prompt and "smaller" in prompt


def test_malformed_results_for_different_tools_or_a_success_in_between() -> None:
    conv = Conversation()
    malformed_step(conv, "write")
    malformed_step(conv, "edit")
    assert malformed_repetition(conv.messages) is None
    conv = Conversation()
    malformed_step(conv, "write")
    conv.step("write", {"path": "a", "content": "b"}, "wrote 1 byte")
    assert malformed_repetition(conv.messages) is None


def test_malformed_guard_is_not_repeated_until_new_failures() -> None:
    conv = Conversation()
    malformed_step(conv, "write")
    malformed_step(conv, "write")
    prompt = malformed_repetition(conv.messages)
    assert prompt is not None
    conv.user(prompt)
    assert malformed_repetition(conv.messages) is None
    malformed_step(conv, "write")
    malformed_step(conv, "write")
    assert malformed_repetition(conv.messages) is not None


# ---------------------------------------------------------------- continuation


def plan(n: int) -> list[PlanItem]:
    return [PlanItem(id=str(i), content=f"step {i}", status="pending") for i in range(1, n + 1)]


def test_continuation_prompt_lists_four_items_and_the_rest() -> None:
    items = plan(6)
    items[0] = PlanItem(id="1", content="step 1", status="in_progress")
    text = continuation_prompt(items)
    assert text.startswith(CONTINUATION_TAG)
    assert "1. step 1 [in_progress]" in text
    assert "4. step 4 [pending]" in text
    assert "5. step 5" not in text
    assert "... and 2 more" in text
    assert "tool call" in text


def test_continuation_prompt_without_overflow_line() -> None:
    assert "more" not in continuation_prompt(plan(2))


def test_continuation_guard_limit_and_reset() -> None:
    guard = ContinuationGuard(limit=2)
    open_items = plan(2)
    assert guard.should_nudge(False, open_items) is True
    assert guard.should_nudge(False, open_items) is True
    assert guard.should_nudge(False, open_items) is False  # give up: the turn ends
    assert guard.should_nudge(False, open_items) is True  # next turn starts fresh
    assert guard.should_nudge(True, open_items) is False  # tool calls reset the count
    assert guard.should_nudge(False, open_items) is True
    assert guard.should_nudge(False, open_items) is True
    assert guard.should_nudge(False, open_items) is False


def test_continuation_guard_ignores_finished_plans() -> None:
    guard = ContinuationGuard()
    assert guard.should_nudge(False, []) is False
    assert guard.count == 0


# ---------------------------------------------------------------- truncation


def test_truncated_output_prompt_names_the_dropped_tools() -> None:
    text = truncated_output_prompt(["write", "bash"])
    assert text.startswith(TRUNCATION_TAG)
    assert "`write`" in text and "`bash`" in text
    assert "smaller pieces" in text
    assert "same large payload" in text
