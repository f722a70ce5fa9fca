"""Session ops through the real runtime with the scripted model (fast, no server)."""

from __future__ import annotations

import json
from pathlib import Path

from fakes.openai_server import FakeOpenAI, Reply

from ml_intern_tui.config.rules_store import RulesStore
from ml_intern_tui.core.protocol import (
    Approval,
    ApprovalDecision,
    JobCancel,
    ListPermissions,
    New,
    RemovePermission,
    SetBudget,
    SetMode,
    SetModel,
    UserInput,
)


async def test_new_starts_a_fresh_session_with_a_new_id(harness_factory) -> None:
    h = await harness_factory("scripted/echo")
    first = h.of("ready")[0].session_id
    h.submit(UserInput(text="hello"))
    assert (await h.wait_for("turn_complete")).final_text == "You said: hello"
    mark = h.mark()
    h.submit(New())
    ready = await h.wait_for("ready", after=mark)
    assert ready.session_id != first and ready.messages == 0
    assert [m["role"] for m in h.messages] == ["system"]


async def test_set_model_mode_and_budget_are_announced(harness_factory) -> None:
    h = await harness_factory("scripted/echo")
    h.submit(SetModel(model="scripted/demo"))
    ready = await h.wait_for("ready", lambda e: e.model == "scripted/demo")
    assert ready.context_limit == 32_000
    h.submit(SetModel(model="vllm/"))
    error = await h.wait_for("error", lambda e: e.kind == "model")
    assert "vllm/" in error.message
    h.submit(SetMode(mode="yolo"))
    await h.wait_for("ready", lambda e: e.mode == "yolo")
    h.submit(SetBudget(budget_usd=2.5))
    spend = await h.wait_for("spend", lambda e: e.budget_usd == 2.5)
    assert spend.llm_usd == 0


async def test_remember_stores_a_visible_rule_that_can_be_removed(
    fake_openai: FakeOpenAI, harness_factory, workspace: Path
) -> None:
    fake_openai.enqueue(
        Reply(text="", tool_calls=[("bash", json.dumps({"command": "touch one.txt"}))]),
        Reply(text="made one"),
        Reply(text="", tool_calls=[("bash", json.dumps({"command": "touch one.txt.bak"}))]),
        Reply(text="made a copy"),
        Reply(text="", tool_calls=[("bash", json.dumps({"command": "touch one.txt; rm -f x"}))]),
        Reply(text="asked"),
    )
    h = await harness_factory(mode="ask")
    h.submit(UserInput(text="one"))
    request = await h.wait_for("approval_required")
    scope = request.items[0].remember_scope
    assert scope.startswith("bash") and "touch" in scope
    h.submit(
        Approval(
            decisions=[
                ApprovalDecision(call_id=request.items[0].call_id, approved=True, remember=True)
            ]
        )
    )
    await h.wait_for("turn_complete")
    # Stored in the user's own store for this project, never in the project's files.
    store = RulesStore()
    assert [r.describe() for r in store.load(workspace)[0]] == [scope]
    assert not (workspace / ".ml-intern").exists()

    mark = h.mark()
    h.submit(UserInput(text="again"))  # matches the remembered scope: runs without asking
    await h.wait_for("turn_complete", after=mark)
    assert len(h.of("approval_required")) == 1 and (workspace / "one.txt.bak").exists()

    mark = h.mark()
    h.submit(UserInput(text="chained"))  # the rule covers the first command only: asks
    chained = await h.wait_for("approval_required", after=mark)
    h.submit(
        Approval(decisions=[ApprovalDecision(call_id=chained.items[0].call_id, approved=False)])
    )
    await h.wait_for("turn_complete", after=mark)

    h.submit(ListPermissions())
    listed = await h.wait_for("permissions")
    assert listed.rules == [scope]
    assert "your answer for this project" in listed.sources[scope] and not listed.fixed
    mark = h.mark()
    h.submit(RemovePermission(rule=scope))
    emptied = await h.wait_for("permissions", after=mark)
    assert emptied.rules == []
    assert store.load(workspace)[0] == []


async def test_job_cancel_stops_a_background_job(fake_openai: FakeOpenAI, harness_factory) -> None:
    fake_openai.enqueue(
        Reply(
            text="", tool_calls=[("bash", json.dumps({"command": "sleep 30", "background": True}))]
        ),
        Reply(text="started"),
    )
    h = await harness_factory(mode="auto")
    h.submit(UserInput(text="go"))
    started = await h.wait_for("job_updated", lambda e: e.status == "running")
    await h.wait_for("turn_complete")
    h.submit(JobCancel(job_id=started.job_id))
    await h.wait_for(
        "job_updated", lambda e: e.job_id == started.job_id and e.status == "cancelled"
    )
    h.submit(JobCancel(job_id="job-nope"))
    assert "No job job-nope" in (await h.wait_for("notice", lambda e: "job-nope" in e.text)).text
