"""The whole loop through real litellm + HTTP + SSE against the fake OpenAI server."""

from __future__ import annotations

import json
import os
from pathlib import Path

from fakes.openai_server import FakeOpenAI, Reply
from support import pids_with, wait_until

from ml_intern_tui.core.protocol import (
    Approval,
    ApprovalDecision,
    Compact,
    Interrupt,
    Undo,
    UserInput,
)


def tool_messages(body: dict) -> list[dict]:
    return [m for m in body["messages"] if m["role"] == "tool"]


async def test_text_and_parallel_tool_calls(
    fake_openai: FakeOpenAI, harness_factory, workspace: Path
) -> None:
    (workspace / "notes.txt").write_text("alpha\nbeta\n")
    fake_openai.enqueue(
        Reply(
            text="Looking at two things at once.",
            tool_calls=[
                ("bash", json.dumps({"command": "echo hello"})),
                ("read", json.dumps({"path": "notes.txt"})),
            ],
        ),
        Reply(text="Both done."),
    )
    h = await harness_factory()
    h.submit(UserInput(text="check the notes"))
    done = await h.wait_for("turn_complete")
    assert done.reason == "done" and done.final_text == "Both done."
    results = {r.call_id: r for r in h.of("tool_result")}
    assert len(results) == 2 and all(r.ok for r in results.values())
    second = fake_openai.requests[1].body
    outputs = [m["content"] for m in tool_messages(second)]
    assert any("hello" in o for o in outputs) and any("beta" in o for o in outputs)
    deltas = "".join(e.text for e in h.of("assistant_delta"))
    assert "Looking at two things" in deltas
    assert h.of("spend")[-1].llm_usd >= 0


async def test_rate_limit_then_success(fake_openai: FakeOpenAI, harness_factory) -> None:
    fake_openai.enqueue(Reply.rate_limited(retry_after=0.01), Reply(text="after the wait"))
    h = await harness_factory()
    h.submit(UserInput(text="hi"))
    done = await h.wait_for("turn_complete")
    assert done.final_text == "after the wait"
    assert fake_openai.requests_count == 2
    assert any("retry" in n.text.lower() or "rate" in n.text.lower() for n in h.of("notice"))


async def test_server_error_then_success(fake_openai: FakeOpenAI, harness_factory) -> None:
    fake_openai.enqueue(Reply.server_error(500), Reply(text="recovered"))
    h = await harness_factory()
    h.submit(UserInput(text="hi"))
    assert (await h.wait_for("turn_complete")).final_text == "recovered"
    assert fake_openai.requests_count == 2


async def test_persistent_server_error_is_an_error_and_session_survives(
    fake_openai: FakeOpenAI, harness_factory
) -> None:
    fake_openai.enqueue(*[Reply.server_error(500) for _ in range(3)], Reply(text="later fine"))
    h = await harness_factory()
    h.submit(UserInput(text="hi"))
    done = await h.wait_for("turn_complete")
    assert done.reason == "error"
    [error] = h.of("error")  # one error after the retries, not one per attempt
    assert error.kind == "server" and error.recoverable
    assert error.message.startswith("the model server at http://127.0.0.1:")
    assert "failed (HTTP 500: internal server error (fake))" in error.message
    assert error.message.endswith("try again later or switch model with /model")
    mark = h.mark()
    h.submit(UserInput(text="again"))
    assert (await h.wait_for("turn_complete", after=mark)).final_text == "later fine"


async def test_timeout_then_success(fake_openai: FakeOpenAI, harness_factory) -> None:
    fake_openai.enqueue(Reply(text="slow", delay_s=3), Reply(text="fast"))
    h = await harness_factory(
        llm={
            "timeout_s": 0.5,
            "max_retries": 2,
            "retry_base_delay_s": 0.01,
            "retry_max_delay_s": 0.05,
        }
    )
    h.submit(UserInput(text="hi"))
    assert (await h.wait_for("turn_complete")).final_text == "fast"


async def test_stream_cut_is_retried_without_duplicated_text(
    fake_openai: FakeOpenAI, harness_factory
) -> None:
    fake_openai.enqueue(
        Reply(text="hello brave new world", chunks=4, cut_after=2),
        Reply(text="hello brave new world"),
    )
    h = await harness_factory()
    h.submit(UserInput(text="hi"))
    done = await h.wait_for("turn_complete")
    assert done.final_text == "hello brave new world"
    assistant = [m for m in h.messages if m["role"] == "assistant"]
    assert [m["content"] for m in assistant] == ["hello brave new world"]
    assert fake_openai.requests_count == 2


async def test_malformed_tool_arguments_reach_the_model_as_an_error(
    fake_openai: FakeOpenAI, harness_factory
) -> None:
    fake_openai.enqueue(
        Reply(text="", tool_calls=[("bash", '{"command": "echo hi')]), Reply(text="fixed it")
    )
    h = await harness_factory()
    h.submit(UserInput(text="go"))
    done = await h.wait_for("turn_complete")
    assert done.final_text == "fixed it"
    result = h.of("tool_result")[0]
    assert not result.ok and "JSON" in result.output
    tool_msg = tool_messages(fake_openai.requests[1].body)[0]
    assert "not valid JSON" in tool_msg["content"]


async def test_context_overflow_compacts_and_continues(
    fake_openai: FakeOpenAI, harness_factory
) -> None:
    h = await harness_factory(context={"keep_recent": 1})
    for i in range(2):
        fake_openai.enqueue(Reply(text=f"answer {i} " + "words " * 50))
        mark = h.mark()
        h.submit(UserInput(text=f"question {i}"))
        await h.wait_for("turn_complete", after=mark)
    fake_openai.enqueue(
        Reply.context_overflow(),
        Reply(text="Summary: two questions answered."),
        Reply(text="continued fine"),
    )
    mark = h.mark()
    h.submit(UserInput(text="question 2"))
    done = await h.wait_for("turn_complete", after=mark)
    assert done.final_text == "continued fine"
    compacted = await h.wait_for("compacted", after=mark)
    assert compacted.after < compacted.before
    summary_request = fake_openai.requests[-2].body
    assert "summarize-conversation" in summary_request["messages"][-1]["content"]
    final_request = fake_openai.requests[-1].body
    assert any(
        "Summary: two questions" in (m.get("content") or "") for m in final_request["messages"]
    )


async def test_iteration_cap_ends_turn_visibly(fake_openai: FakeOpenAI, harness_factory) -> None:
    for i in range(4):
        fake_openai.enqueue(
            Reply(text="", tool_calls=[("bash", json.dumps({"command": f"echo {i}"}))])
        )
    h = await harness_factory(max_iterations=2)
    h.submit(UserInput(text="loop"))
    done = await h.wait_for("turn_complete")
    assert done.reason == "iteration_cap" and done.iterations == 2
    assert any("iteration cap" in n.text for n in h.of("notice"))
    assert fake_openai.requests_count == 2


async def test_interrupt_mid_stream_keeps_partial_text(
    fake_openai: FakeOpenAI, harness_factory
) -> None:
    fake_openai.enqueue(Reply(text="partial answer that never ends", chunks=6, hang_after=3))
    h = await harness_factory()
    h.submit(UserInput(text="talk"))
    await h.wait_for("assistant_delta")
    h.submit(Interrupt())
    await h.wait_for("interrupted", timeout=10)
    assistant = [m for m in h.messages if m["role"] == "assistant"]
    kept = assistant[-1]["content"] if assistant else ""
    assert kept and "partial answer that never ends".startswith(kept)
    assert fake_openai.disconnected.wait(5)
    fake_openai.release()


async def test_interrupt_mid_tool_kills_the_process_group(
    fake_openai: FakeOpenAI, harness_factory, workspace: Path
) -> None:
    # A sleep length nothing else uses: the command may run in the sandbox's own PID
    # namespace, where $! means nothing out here, so /proc finds it by its command line.
    marker = str(800_000 + os.getpid() % 99_999)
    command = f"sleep {marker} & wait"
    fake_openai.enqueue(Reply(text="", tool_calls=[("bash", json.dumps({"command": command}))]))
    h = await harness_factory(mode="auto")
    h.submit(UserInput(text="run it"))
    await h.wait_for("tool_call")
    await wait_until(lambda: bool(pids_with(marker)), 5, "the sleep child to start")
    h.submit(Interrupt())
    await h.wait_for("interrupted", timeout=10)
    result = h.of("tool_result")[-1]
    assert result.status == "cancelled"
    await wait_until(lambda: not pids_with(marker), 5, "the sleep child to die")
    tool_msg = [m for m in h.messages if m["role"] == "tool"][-1]
    assert "Cancelled" in tool_msg["content"]


async def test_undo_removes_the_real_user_turn(fake_openai: FakeOpenAI, harness_factory) -> None:
    fake_openai.enqueue(Reply(text="first"), Reply(text="second"))
    h = await harness_factory()
    for text in ("one", "two"):
        mark = h.mark()
        h.submit(UserInput(text=text))
        await h.wait_for("turn_complete", after=mark)
    h.submit(Undo())
    undone = await h.wait_for("undone")
    assert undone.what == "turn" and undone.text == "two"
    assert [m["content"] for m in h.messages if m["role"] == "user"] == ["one"]


async def test_approval_approve_and_reject_with_feedback(
    fake_openai: FakeOpenAI, harness_factory, workspace: Path
) -> None:
    fake_openai.enqueue(
        Reply(
            text="Creating two files.",
            tool_calls=[
                ("bash", json.dumps({"command": "touch a.txt"})),
                ("bash", json.dumps({"command": "touch b.txt"})),
            ],
        ),
        Reply(text="Done with a only."),
    )
    h = await harness_factory(mode="ask")
    h.submit(UserInput(text="make files"))
    request = await h.wait_for("approval_required")
    assert len(request.items) == 2
    first, second = (item.call_id for item in request.items)
    assert "touch a.txt" in request.items[0].title
    h.submit(
        Approval(
            decisions=[
                ApprovalDecision(call_id=first, approved=True),
                ApprovalDecision(call_id=second, approved=False, feedback="Not b, Please"),
            ]
        )
    )
    done = await h.wait_for("turn_complete")
    assert done.final_text == "Done with a only."
    assert (workspace / "a.txt").exists() and not (workspace / "b.txt").exists()
    statuses = {r.call_id: r.status for r in h.of("tool_result")}
    assert statuses == {first: "ok", second: "rejected"}
    rejected = next(
        m for m in tool_messages(fake_openai.requests[1].body) if m["tool_call_id"] == second
    )
    assert "Not b, Please" in rejected["content"]


async def test_new_input_abandons_pending_approval(
    fake_openai: FakeOpenAI, harness_factory, workspace: Path
) -> None:
    fake_openai.enqueue(
        Reply(text="", tool_calls=[("bash", json.dumps({"command": "touch x.txt"}))]),
        Reply(text="ok, skipping"),
    )
    h = await harness_factory(mode="ask")
    h.submit(UserInput(text="make x"))
    await h.wait_for("approval_required")
    h.submit(UserInput(text="never mind"))
    done = await h.wait_for("turn_complete")
    assert done.final_text == "ok, skipping"
    assert h.of("tool_result")[0].status == "abandoned"
    assert not (workspace / "x.txt").exists()


async def test_manual_compact_below_threshold_and_undo_it(
    fake_openai: FakeOpenAI, harness_factory
) -> None:
    h = await harness_factory(context={"keep_recent": 1})
    for i in range(3):
        fake_openai.enqueue(Reply(text=f"reply {i} " + "detail " * 40))
        mark = h.mark()
        h.submit(UserInput(text=f"q{i}"))
        await h.wait_for("turn_complete", after=mark)
    before = list(h.messages)
    fake_openai.enqueue(Reply(text="Summary of q0 and q1."))
    h.submit(Compact(focus="the replies"))
    compacted = await h.wait_for("compacted")
    assert compacted.after < compacted.before
    assert "the replies" in fake_openai.requests[-1].body["messages"][-1]["content"]
    h.submit(Undo())
    undone = await h.wait_for("undone")
    assert undone.what == "compaction"
    assert [m.get("content") for m in h.messages] == [m.get("content") for m in before]
