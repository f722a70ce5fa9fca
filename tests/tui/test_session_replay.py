"""Resuming restores the chat, tool tree, plan, jobs and status from the journal."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from ml_intern_tui.core import protocol as p
from ml_intern_tui.core.journal import Journal
from ml_intern_tui.core.resume import TREE_NODES
from ml_intern_tui.paths import data_dir, sessions_dir
from ml_intern_tui.tui.app import MLInternApp
from ml_intern_tui.tui.screens.confirm import ConfirmScreen
from ml_intern_tui.tui.screens.sessions import SessionsScreen
from ml_intern_tui.tui.widgets.blocks.assistant import AssistantBlock
from ml_intern_tui.tui.widgets.blocks.notice import NoticeBlock
from ml_intern_tui.tui.widgets.blocks.reasoning import ReasoningBlock
from ml_intern_tui.tui.widgets.blocks.tools import ToolMention
from ml_intern_tui.tui.widgets.blocks.user import UserBlock
from ml_intern_tui.tui.widgets.chat_older import EarlierMarker
from ml_intern_tui.tui.widgets.plan import PlanPanel
from tui.conftest import fixed_clock, wait_for
from tui.fake_runtime import T0, FakeRuntime
from tui.test_sessions_screen import NOW, message, open_browser, save


def at(seconds: float) -> float:
    return T0 - 600 + seconds


def rich_session(session_id: str = "20231114-100000-dddddd") -> Path:
    """Everything the panes show: reasoning, answers, nested calls, plan, jobs, approvals."""
    jobs = data_dir() / "jobs"
    jobs.mkdir(parents=True, exist_ok=True)
    (jobs / "job-1a2b3c.log").write_text("".join(f"epoch {i}/3\n" for i in range(1, 4)))
    j = Journal.create(sessions_dir(), session_id, {"model": "openai/gpt-4o", "cwd": "/w"})
    ev: list[p.EventBase] = [
        p.Ready(
            model="openai/gpt-4o", mode="ask", tools=[], cwd="/w", context_limit=1000, ts=at(0)
        ),
        p.TurnStarted(text="Train a sentiment baseline", ts=at(1)),
        p.ReasoningDelta(text="Look at ", ts=at(1.1)),
        p.ReasoningDelta(text="the data first.", ts=at(1.2)),
        p.AssistantDelta(text="I'll", ts=at(1.3)),
        p.AssistantMessage(text="I'll **plan** first.", ts=at(1.4)),
        p.ToolCall(call_id="c1", tool="plan", args={}, ts=at(2)),
        p.PlanUpdated(
            items=[
                p.PlanItem(id="1", content="Inspect the data", status="completed"),
                p.PlanItem(id="2", content="Train", status="in_progress"),
            ],
            ts=at(2.1),
        ),
        p.ToolResultEvent(call_id="c1", ok=True, summary="2 items", output="ok", ts=at(2.2)),
        p.ToolCall(call_id="c2", tool="research", args={"task": "baselines"}, ts=at(3)),
        p.ToolCall(call_id="c2a", tool="read", args={"path": "a"}, parent_id="c2", ts=at(3.1)),
        p.ToolResultEvent(
            call_id="c2a", ok=True, summary="6 lines", output="x", parent_id="c2", ts=at(3.5)
        ),
        p.ToolResultEvent(call_id="c2", ok=True, summary="use tf-idf", output="y", ts=at(4)),
        p.ToolCall(call_id="c3", tool="bash", args={"command": "python t.py"}, ts=at(5)),
        p.JobUpdated(job_id="job-1a2b3c", kind="local", status="running", title="t.py", ts=at(5)),
        p.JobUpdated(
            job_id="hf-77",
            kind="hf",
            status="completed",
            title="eval",
            cost_usd=1.5,
            started_at=at(0),
            ended_at=at(100),
            ts=at(6),
        ),
        p.Spend(llm_usd=0.25, jobs_usd=1.5, ts=at(6)),
        p.TurnComplete(final_text="", iterations=3, ts=at(7)),
        p.TurnStarted(text="Now push it", ts=at(8)),
        p.ToolCall(call_id="c4", tool="hf_repo_git", args={"op": "push"}, ts=at(9)),
        p.ApprovalRequired(
            items=[
                p.ApprovalItem(
                    call_id="c4", tool="hf_repo_git", title="Push", details="", remember_scope="x"
                )
            ],
            ts=at(9),
        ),
        p.TurnComplete(final_text="", iterations=1, reason="approval_pending", ts=at(9.5)),
    ]
    for event in ev:
        event.session_id = session_id
        j.record_event(event)
    j.append(message("user", "Train a sentiment baseline"))
    j.close()
    os.utime(j.path, (NOW - 60, NOW - 60))
    return j.path


async def resume_into(
    app: MLInternApp, runtime: FakeRuntime, pilot: Pilot[Any], session_id: str
) -> None:
    """What the core does on ``resume``: announce the session, its history, then its state."""
    await wait_for(pilot, lambda: runtime.ops_of(p.Resume))
    assert runtime.ops_of(p.Resume)[-1].session_id == session_id
    events = runtime.resumed(session_id, ts=NOW)
    runtime.session_id = session_id
    runtime.publish(*events)


def resumed_chat(app: MLInternApp) -> bool:
    """The history is on screen and the live notice after it too."""
    blocks = app.chat.blocks
    return bool(blocks) and "Resumed session" in str(getattr(blocks[-1], "text", ""))


async def test_resume_restores_chat_tools_plan_jobs_and_status(
    app: MLInternApp, runtime: FakeRuntime
) -> None:
    rich_session()
    async with app.run_test(size=(140, 45)) as pilot:
        await open_browser(app, pilot, 1)
        await pilot.press("enter")
        await resume_into(app, runtime, pilot, "20231114-100000-dddddd")
        await wait_for(pilot, lambda: resumed_chat(app) and len(app.jobs.jobs) == 2)
        blocks = app.chat.blocks
        kinds = [type(b).__name__ for b in blocks]
        assert kinds == [
            "UserBlock",
            "ReasoningBlock",
            "AssistantBlock",
            "ToolMention",
            "UserBlock",
            "ToolMention",
            "NoticeBlock",
        ]
        user, reasoning, answer, tools = blocks[0], blocks[1], blocks[2], blocks[3]
        assert isinstance(user, UserBlock) and user.text == "Train a sentiment baseline"
        assert isinstance(reasoning, ReasoningBlock) and reasoning.collapsed
        assert reasoning._fragments == ["Look at the data first."]
        assert isinstance(answer, AssistantBlock) and answer.text == "I'll **plan** first."
        assert isinstance(tools, ToolMention) and tools.tools == ["plan", "research", "bash"]

        tree = app.tools
        statuses = {cid: r.status for cid, r in tree.records.items()}
        assert statuses == {
            "c1": "ok",
            "c2": "ok",
            "c2a": "ok",
            "c3": "cancelled",
            "c4": "abandoned",
        }
        assert tree.nodes["c2a"].parent is tree.nodes["c2"]
        assert "did not finish" in tree.records["c3"].summary
        assert tree.records["c3"].ended == at(9.5)
        assert len(tree.root.children) == 2  # two turns

        plan = app.main_screen.query_one(PlanPanel)
        assert [i.content for i in plan.items] == ["Inspect the data", "Train"]

        jobs = app.jobs.jobs
        assert jobs["job-1a2b3c"].status == "unknown" and not jobs["job-1a2b3c"].running
        assert list(jobs["job-1a2b3c"].lines)[:3] == ["epoch 1/3", "epoch 2/3", "epoch 3/3"]
        assert jobs["hf-77"].status == "completed" and jobs["hf-77"].cost_usd == 1.5
        assert app.jobs.running_count == 0
        app.jobs.select("job-1a2b3c")
        app.jobs.action_cancel_job()  # nothing follows it: no question, no op
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen) and not runtime.ops_of(p.JobCancel)

        assert app.status.model == "test/model" and app.status.used == 500
        assert app.status.llm_usd == 0.25
        assert app.status.jobs_usd == 1.5  # the session's jobs cost, restored with it
        assert app.status.running_jobs == 0  # nothing of the history runs now
        assert not app.busy and not app.drawer.is_open  # its approval died with it
        assert app.header.session_id == "20231114-100000-dddddd"
        markdown = app.transcript.to_markdown()
        assert "Train a sentiment baseline" in markdown and "Now push it" in markdown


async def test_live_events_come_after_the_history_and_a_new_session_starts_clean(
    app: MLInternApp, runtime: FakeRuntime
) -> None:
    rich_session()
    async with app.run_test(size=(140, 45)) as pilot:
        await wait_for(pilot, lambda: app.header.session_id == "s-test")
        app.run_slash("resume", "20231114-100000-dddddd")
        await resume_into(app, runtime, pilot, "20231114-100000-dddddd")
        runtime.publish(p.TurnStarted(text="continue please", ts=NOW + 1))
        await wait_for(pilot, lambda: len(app.chat.query(UserBlock)) == 3)
        texts = [b.text for b in app.chat.query(UserBlock)]
        assert texts[-1] == "continue please"  # after the history, never above it
        assert len(app.tools.root.children) == 3
        assert app.busy  # the live turn; the history's turns never made it busy
        # /new: the next ready is not a resume, the panes start over.
        runtime.session_id = "s-new"
        runtime.publish(runtime.ready(session_id="s-new"))
        await wait_for(pilot, lambda: not app.chat.query(UserBlock))
        assert not app.tools.records


async def test_a_session_resumed_again_keeps_its_screen(
    app: MLInternApp, runtime: FakeRuntime
) -> None:
    """``/resume`` of the open session: the core sends its history again, the panes keep
    what they show (nothing twice); a history nobody resumed is ignored too."""
    rich_session()
    async with app.run_test(size=(140, 45)) as pilot:
        await wait_for(pilot, lambda: app.header.session_id == "s-test")
        app.run_slash("resume", "20231114-100000-dddddd")
        await resume_into(app, runtime, pilot, "20231114-100000-dddddd")
        await wait_for(pilot, lambda: resumed_chat(app) and len(app.jobs.jobs) == 2)
        before = [type(b).__name__ for b in app.chat.blocks]
        runtime.publish(*runtime.resumed("20231114-100000-dddddd", ts=NOW))
        stray = runtime.resumed("20231114-100000-dddddd", ts=NOW)[1]
        runtime.publish(stray, p.Notice(text="after all that", ts=NOW))
        await wait_for(pilot, lambda: "after all that" in str(app.chat.blocks[-1].text))
        after = [type(b).__name__ for b in app.chat.blocks]
        assert after == [*before, "NoticeBlock", "NoticeBlock"]  # two live notices, no history
        assert len(app.tools.root.children) == 2


async def test_a_resume_without_history_shows_live_events(
    app: MLInternApp, runtime: FakeRuntime
) -> None:
    """A resumed ``ready`` with no history after it (a core without a journal): the panes
    start empty and live events flow; nothing waits for a history."""
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.header.session_id == "s-test")
        runtime.publish(runtime.ready(resumed=True, session_id="nowhere"))
        runtime.publish(p.Notice(text="after the resume"))
        await wait_for(
            pilot, lambda: any("after the resume" in b.text for b in app.chat.query(NoticeBlock))
        )
        assert app.header.session_id == "nowhere"


async def test_long_sessions_resume_quickly_within_the_block_limit(
    app: MLInternApp, runtime: FakeRuntime
) -> None:
    save("20231114-100000-eeeeee", "a long one", turns=1500, updated=NOW - 60)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.header.session_id == "s-test")
        started = time.monotonic()
        app.run_slash("resume", "20231114-100000-eeeeee")
        await resume_into(app, runtime, pilot, "20231114-100000-eeeeee")
        await wait_for(pilot, lambda: resumed_chat(app))
        limit = app.settings.ui.max_chat_blocks
        # The newest blocks are mounted; the older ones wait above them, counted.
        await wait_for(pilot, lambda: len(app.chat.blocks) + app.chat.waiting == limit)
        assert 0 < app.chat.waiting < limit
        marker = app.chat.query_one(EarlierMarker)
        assert f"{app.chat.waiting} earlier entries" in str(marker.render())
        for _ in range(50):  # the user scrolls to the top, again and again: a chunk a time
            if not app.chat.waiting:
                break
            app.chat.scroller.scroll_home(animate=False, immediate=True)
            await pilot.pause(0.02)
        await wait_for(pilot, lambda: len(app.chat.blocks) == limit)
        assert app.chat.waiting == 0 and len(app.chat.query(EarlierMarker)) == 0
        elapsed = time.monotonic() - started
        assert elapsed < 8, f"resuming 1500 turns took {elapsed:.1f}s"
        assert resumed_chat(app)  # the live notice stays last
        first_user = app.chat.blocks[1]  # 2 blocks a turn: 199 of the history, the notice
        assert isinstance(first_user, UserBlock) and first_user.text == "a long one (again 1401)"
        last_user = [b for b in app.chat.blocks if isinstance(b, UserBlock)][-1]
        assert last_user.text == "a long one (again 1499)"
        # The tree: the newest turns, numbered as they were, under a line for the rest.
        turns = app.tools.root.children
        assert len(turns) == 1 + TREE_NODES
        assert str(turns[0].label) == f"{1500 - TREE_NODES} earlier turns not shown"
        assert str(turns[-1].label).startswith("Turn 1500")
        assert app.transcript.to_markdown().count("**You**") == 1500  # /export has it all


# ------------------------------------------------------- with the real agent


async def test_a_real_session_comes_back_after_a_restart(tmp_path: Path) -> None:
    """Run a scripted session with the real runtime, restart, resume it from the browser."""
    from ml_intern_tui.config.schema import AppConfig
    from ml_intern_tui.demo.scripted import register_scenario
    from ml_intern_tui.demo.steps import Scenario, Step
    from ml_intern_tui.runtime.agent import build_runtime

    workspace = tmp_path / "work"
    workspace.mkdir()
    (workspace / "notes.txt").write_text("hello from the notes\n")
    todos = {"todos": [{"id": "1", "content": "Read the notes", "status": "completed"}]}
    register_scenario(
        Scenario(
            name="resume-e2e",
            steps=[
                Step(reasoning="Plan, then read.", text="Planning.", tool_calls=[("plan", todos)]),
                Step(text="Reading.", tool_calls=[("read", {"path": "notes.txt"})]),
                Step(text="## Done\n\nThe notes say **hello**."),
            ],
        )
    )
    settings = AppConfig.model_validate({"model": "scripted/resume-e2e"})
    first = build_runtime(settings, cwd=workspace)
    done = asyncio.Event()
    first.bus.add_listener(lambda e: done.set() if isinstance(e, p.TurnComplete) else None)
    task = asyncio.create_task(first.run())
    first.submit(p.UserInput(text="What do my notes say?"))
    await asyncio.wait_for(done.wait(), 30)
    first.submit(p.Shutdown())
    await asyncio.wait_for(task, 30)

    second = build_runtime(
        AppConfig.model_validate({"model": "scripted/resume-e2e"}), cwd=workspace
    )
    app = MLInternApp(second, clock=fixed_clock)
    async with app.run_test(size=(140, 45)) as pilot:
        await wait_for(pilot, lambda: app.header.session_id != "", tries=3000)
        fresh = app.header.session_id
        app.run_slash("resume")
        await wait_for(pilot, lambda: isinstance(app.screen, SessionsScreen))
        screen = app.screen
        assert isinstance(screen, SessionsScreen)
        await wait_for(pilot, lambda: screen.table.row_count == 2)
        assert screen.highlighted == fresh  # the new, empty session is the newest
        await pilot.press("down", "enter")
        await wait_for(
            pilot,
            lambda: "hello" in "".join(a.text for a in app.chat.query(AssistantBlock)),
            tries=3000,
        )
        assert [b.text for b in app.chat.query(UserBlock)] == ["What do my notes say?"]
        assert app.chat.query(ReasoningBlock).first()._fragments == ["Plan, then read."]
        assert {r.tool: r.status for r in app.tools.records.values()} == {
            "plan": "ok",
            "read": "ok",
        }
        plan = app.main_screen.query_one(PlanPanel)
        await wait_for(pilot, lambda: [i.content for i in plan.items] == ["Read the notes"])
        assert app.header.session_id != fresh
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: not app.is_running, tries=1000)


# ------------------------------------------------------------------ snapshot


def test_resumed_session_snapshot(snap_compare: Any) -> None:
    """A resumed session on screen: chat, nested tool tree, plan, jobs with their log tail."""
    rich_session()
    runtime = FakeRuntime()
    app = MLInternApp(runtime, clock=fixed_clock)

    async def run_before(pilot: Pilot[Any]) -> None:
        app.prompt.cursor_blink = False
        await wait_for(pilot, lambda: app.header.session_id == "s-test")
        app.run_slash("resume", "20231114-100000-dddddd")
        await resume_into(app, runtime, pilot, "20231114-100000-dddddd")
        await wait_for(pilot, lambda: "c4" in app.tools.nodes and len(app.jobs.jobs) == 2)
        await wait_for(pilot, lambda: resumed_chat(app))
        await wait_for(pilot, lambda: app.jobs.log_view.line_count == 4)
        await pilot.pause()

    assert snap_compare(app, terminal_size=(140, 45), run_before=run_before)


async def test_resume_at_start_shows_the_history(runtime: FakeRuntime) -> None:
    """``--resume``: the first ``ready`` of the app is the resumed one."""
    rich_session()
    runtime.session_id = "20231114-100000-dddddd"
    runtime.at_start = runtime.resumed("20231114-100000-dddddd", ts=NOW)
    app = MLInternApp(runtime, clock=fixed_clock)
    async with app.run_test(size=(140, 45)) as pilot:
        await wait_for(pilot, lambda: resumed_chat(app) and len(app.jobs.jobs) == 2)
        assert [type(b).__name__ for b in app.chat.blocks][:3] == [
            "UserBlock",
            "ReasoningBlock",
            "AssistantBlock",
        ]
        assert not app.chat.query(".welcome")
        assert len(app.tools.root.children) == 2
