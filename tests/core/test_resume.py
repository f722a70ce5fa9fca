"""Resuming: the history event (what it holds and leaves out, its bounds) and the spend."""

from __future__ import annotations

from pathlib import Path

from ml_intern_tui.core import protocol as p
from ml_intern_tui.core.cost import SpendTracker
from ml_intern_tui.core.journal import Journal, load
from ml_intern_tui.core.resume import (
    NOT_FINISHED,
    NOT_FOLLOWED,
    NOT_RUN,
    ChatCount,
    restore_spend,
    session_history,
)


def types(events: list[p.EventBase]) -> list[str]:
    return [str(getattr(e, "type", "")) for e in events]


def stamped(*events: p.EventBase) -> list[p.EventBase]:
    """Events as a journal gives them back: in order, with rising stamps."""
    for index, event in enumerate(events, start=1):
        event.seq, event.ts = index, 1_000.0 + index
    return list(events)


def plan(*contents: str) -> p.PlanUpdated:
    return p.PlanUpdated(
        items=[p.PlanItem(id=str(i), content=c, status="pending") for i, c in enumerate(contents)]
    )


def test_it_holds_the_conversation_and_the_last_plan_and_leaves_restated_state_out() -> None:
    events = stamped(
        p.Ready(model="m", mode="ask", tools=[], cwd="/w", context_limit=100),
        p.ContextUsage(used=1, limit=100, threshold=90),
        p.TurnStarted(text="train it"),
        p.ReasoningDelta(text="first the data"),
        p.AssistantMessage(text="Planning."),
        p.ToolCall(call_id="c1", tool="plan", args={}),
        plan("inspect"),
        p.ToolResultEvent(call_id="c1", ok=True, summary="1 item", output="ok"),
        p.ToolCall(call_id="c2", tool="bash", args={"command": "rm -rf x"}),
        p.ApprovalRequired(
            items=[
                p.ApprovalItem(call_id="c2", tool="bash", title="t", details="", remember_scope="s")
            ]
        ),
        p.ToolResultEvent(call_id="c2", ok=True, summary="done", output=""),
        plan("inspect", "train"),
        p.Spend(llm_usd=0.5, jobs_usd=0.0),
        p.Permissions(rules=["bash: ls*"]),
        p.McpStatus(server="calc", state="ready"),
        p.Notice(text="Approval mode: auto"),
        p.TurnComplete(final_text="", iterations=2),
        p.SessionSaved(path="/x"),
    )
    history = session_history(events, chat_blocks=200)
    assert types(history.events) == [
        "turn_started",
        "reasoning_delta",
        "assistant_message",
        "tool_call",
        "tool_result",
        "tool_call",
        "tool_result",
        "plan_updated",
        "notice",
        "turn_complete",
    ]
    [last_plan] = [e for e in history.events if isinstance(e, p.PlanUpdated)]
    assert [i.content for i in last_plan.items] == ["inspect", "train"]
    recorded = {id(e) for e in events}
    assert all(id(e) in recorded for e in history.events)  # the recorded events, not copies
    assert (history.chat_from, history.tree_from, history.turns_before) == (0, 0, 0)
    # Published and read back as JSON, it is the same history.
    back = p.event_from_json(p.event_to_json(history))
    assert isinstance(back, p.History) and back.events == history.events


def test_calls_the_session_left_unfinished_end_there() -> None:
    events = stamped(
        p.TurnStarted(text="go"),
        p.ToolCall(call_id="r", tool="research", args={}),
        p.ToolCall(call_id="r1", tool="read", args={"path": "a"}, parent_id="r"),
        p.ToolCall(call_id="push", tool="hf_repo_git", args={}),
        p.ApprovalRequired(
            items=[
                p.ApprovalItem(
                    call_id="push", tool="hf_repo_git", title="Push", details="", remember_scope="x"
                )
            ]
        ),
        p.TurnComplete(final_text="", iterations=1, reason="approval_pending"),
        p.Spend(llm_usd=0.1, jobs_usd=0.0),  # the last thing recorded: the session ends here
    )
    history = session_history(events, chat_blocks=50)
    ends = {e.call_id: e for e in history.events if isinstance(e, p.ToolResultEvent)}
    assert {c: (e.status, e.summary, e.ok) for c, e in ends.items()} == {
        "r": ("cancelled", NOT_FINISHED, False),
        "r1": ("cancelled", NOT_FINISHED, False),
        "push": ("abandoned", NOT_RUN, False),
    }
    assert ends["r1"].parent_id == "r" and ends["push"].parent_id is None
    assert {e.ts for e in ends.values()} == {events[-1].ts}
    assert types(history.events)[-3:] == ["tool_result"] * 3  # after everything recorded


def test_jobs_come_back_as_last_seen_with_their_log_tail() -> None:
    events = stamped(
        p.JobUpdated(job_id="job-a", kind="local", status="running", title="train"),
        p.JobUpdated(job_id="hf-b", kind="hf", status="running", cost_usd=0.1),
        p.JobUpdated(job_id="job-live", kind="local", status="running"),
        p.JobUpdated(job_id="hf-b", kind="hf", status="COMPLETED", cost_usd=1.5),
        p.JobUpdated(job_id="job-quiet", kind="local", status="failed"),
    )
    tails = {"job-a": ["epoch 1", "epoch 2"], "hf-b": ["done"]}
    history = session_history(
        events, chat_blocks=50, log_tail=lambda job: tails.get(job, []), followed={"job-live"}
    )
    shown = [(e.type, e.job_id, getattr(e, "status", None)) for e in history.events]  # type: ignore[attr-defined]
    assert shown == [
        ("job_updated", "job-a", "unknown"),
        ("job_log", "job-a", None),
        ("job_updated", "hf-b", "COMPLETED"),
        ("job_log", "hf-b", None),
        ("job_updated", "job-quiet", "failed"),
    ]
    logs = {e.job_id: e.lines for e in history.events if isinstance(e, p.JobLog)}
    assert logs == {"job-a": ["epoch 1", "epoch 2", NOT_FOLLOWED], "hf-b": ["done"]}
    assert events[0].status == "running"  # the recorded event itself is left as it was


def test_chat_count_makes_blocks_as_the_chat_does() -> None:
    events = stamped(
        p.TurnStarted(text="one"),  # 0 user
        p.ReasoningDelta(text="a"),  # 1 reasoning
        p.ReasoningDelta(text="b"),  # 2 (same stretch)
        p.ToolCall(call_id="1", tool="read", args={}),  # 3 tools
        p.ToolResultEvent(call_id="1", ok=True, summary="", output=""),  # 4 (run stays open)
        p.AssistantMessage(text=""),  # 5 (empty: run stays open)
        p.ToolCall(call_id="2", tool="bash", args={}),  # 6 (same run)
        p.ToolCall(call_id="3", tool="read", args={}, parent_id="2"),  # 7 sub-agent: tree only
        p.AssistantMessage(text="answer"),  # 8 assistant
        p.TurnComplete(final_text="", iterations=1),  # 9
        p.TurnStarted(text="two"),  # 10 user
        p.Notice(text="n"),  # 11 notice
        p.Undone(what="turn"),  # 12 drops 10-11, adds its notice
        p.TurnComplete(final_text="", iterations=9, reason="iteration_cap"),  # 13 notice
    )
    count = ChatCount()
    for index, event in enumerate(events):
        count.add(index, event)
    assert count.starts == [0, 1, 3, 8, 12, 13]
    assert count.start_of_last(2) == 12 and count.start_of_last(6) == 0
    assert count.start_of_last(60) == 0


def test_the_chat_and_the_tree_are_bounded_by_where_they_start() -> None:
    turns: list[p.EventBase] = []
    for turn in range(30):
        turns.append(p.TurnStarted(text=f"turn {turn}"))
        for call in range(3):
            turns.append(p.ToolCall(call_id=f"{turn}-{call}", tool="read", args={}))
            turns.append(
                p.ToolResultEvent(call_id=f"{turn}-{call}", ok=True, summary="", output="")
            )
        turns.append(p.AssistantMessage(text=f"answer {turn}"))
        turns.append(p.TurnComplete(final_text="", iterations=3))
    events = stamped(*turns)
    history = session_history(events, chat_blocks=10, tree_nodes=20)
    # 3 blocks a turn (user, tools, answer): the last 10 (+5 spare) start with turn 25.
    first = history.events[history.chat_from]
    assert isinstance(first, p.TurnStarted) and first.text == "turn 25"
    one_more = session_history(events, chat_blocks=11)
    answer = one_more.events[one_more.chat_from]  # one block further up: turn 24's answer
    assert isinstance(answer, p.AssistantMessage) and answer.text == "answer 24"
    # 4 nodes a turn: five turns fit in 20.
    start = history.events[history.tree_from]
    assert isinstance(start, p.TurnStarted) and start.text == "turn 25"
    assert history.turns_before == 25
    # A turn bigger than the bound alone still comes back whole.
    alone = session_history(events, chat_blocks=10, tree_nodes=2)
    assert alone.turns_before == 29
    everything = session_history(events, chat_blocks=500, tree_nodes=500)
    assert (everything.chat_from, everything.tree_from, everything.turns_before) == (0, 0, 0)


def test_spend_comes_back_with_the_jobs_it_paid_for() -> None:
    spend = SpendTracker()
    spend.set_job_cost("job-of-another-session", 9.0)
    spend.add_llm(3.0)
    events = stamped(
        p.JobUpdated(job_id="hf-1", kind="hf", status="running", cost_usd=0.2),
        p.Spend(llm_usd=0.25, jobs_usd=0.2, llm_calls=4, unpriced_calls=1, prompt_tokens=900),
        p.JobUpdated(job_id="hf-1", kind="hf", status="completed", cost_usd=1.5),
        p.JobUpdated(job_id="job-2", kind="local", status="completed"),
    )
    restore_spend(spend, events)
    event = spend.event(None)
    assert (event.llm_usd, event.jobs_usd, event.llm_calls) == (0.25, 1.5, 4)
    assert (event.unpriced_calls, event.prompt_tokens) == (1, 900)
    restore_spend(spend, [])  # a session that never spent
    assert spend.total() == 0 and spend.event(None).llm_calls == 0


def test_a_journal_written_and_read_back_gives_the_same_history(tmp_path: Path) -> None:
    journal = Journal.create(tmp_path, "20260101-000000-aaaaaa", {"model": "m"})
    recorded = [
        p.TurnStarted(text="hi"),
        p.ReasoningDelta(text="think "),
        p.ReasoningDelta(text="more"),
        p.AssistantMessage(text="hello"),
        p.ToolCall(call_id="c", tool="bash", args={"command": "ls"}),
    ]
    for event in recorded:
        journal.record_event(event)
    journal.close()
    history = session_history(load(journal.path).events, chat_blocks=50)
    assert types(history.events) == [
        "turn_started",
        "reasoning_delta",
        "assistant_message",
        "tool_call",
        "tool_result",
    ]
    reasoning = history.events[1]
    assert isinstance(reasoning, p.ReasoningDelta) and reasoning.text == "think more"
    assert history.events[-1].status == "cancelled"  # type: ignore[attr-defined]
    # The journal never records a history: resuming twice does not double anything.
    again = Journal.open_existing(journal.path)
    again.record_event(history)
    again.close()
    assert "history" not in journal.path.read_text()
