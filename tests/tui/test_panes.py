"""Tool tree, plan, jobs and status line, fed by events."""

from __future__ import annotations

from textual.widgets import Log

from ml_intern_tui.core import protocol as p
from ml_intern_tui.tui.app import MLInternApp
from ml_intern_tui.tui.screens.confirm import ConfirmScreen
from ml_intern_tui.tui.screens.tool_detail import ToolDetailScreen
from ml_intern_tui.tui.widgets.diff_view import DiffView
from ml_intern_tui.tui.widgets.status_line import gauge
from tui import scenes
from tui.conftest import wait_for
from tui.fake_runtime import FakeRuntime


async def test_tool_tree_nests_and_shows_status(app: MLInternApp, runtime: FakeRuntime) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        runtime.publish(p.TurnStarted(text="go"))
        scenes.nested_tools(runtime)
        tree = app.tools
        await wait_for(
            pilot, lambda: "c4" in tree.records and tree.records["c4"].status == "failed"
        )
        research = tree.nodes["c2"]
        assert [child.data.call_id for child in research.children if child.data] == ["c2a", "c2b"]
        assert tree.records["c2a"].status == "ok"
        assert tree.records["c2b"].status == "running"
        label = str(tree.nodes["c1"].label)
        assert label.startswith("✓ bash 0.4s") and "5 lines" in label
        assert str(tree.nodes["c2b"].label).startswith("● github_find_examples 2.4s")
        failed = tree.nodes["c4"]
        assert failed.is_expanded and "No such file" in str(failed.children[0].label)
        assert str(failed.label).startswith("✗ read")


async def test_progress_and_interrupt_update_labels(app: MLInternApp, runtime: FakeRuntime) -> None:
    async with app.run_test() as pilot:
        runtime.publish(
            p.ToolCall(call_id="b", tool="bash", args={"command": "sleep 100"}, ts=scenes.at(0)),
            p.ToolProgress(call_id="b", text="still sleeping"),
        )
        await wait_for(
            pilot,
            lambda: (
                "still sleeping" in str(app.tools.nodes.get("b") and app.tools.nodes["b"].label)
            ),
        )
        runtime.publish(p.Interrupted(ts=scenes.at(2)))
        await wait_for(pilot, lambda: app.tools.records["b"].status == "cancelled")
        assert str(app.tools.nodes["b"].label).startswith("■ bash 2.0s")


async def test_turns_group_calls_and_older_turns_collapse(
    app: MLInternApp, runtime: FakeRuntime
) -> None:
    async with app.run_test() as pilot:
        runtime.publish(p.TurnStarted(text="one"), p.ToolCall(call_id="x", tool="read", args={}))
        runtime.publish(p.TurnStarted(text="two"), p.ToolCall(call_id="y", tool="read", args={}))
        await wait_for(pilot, lambda: "y" in app.tools.nodes)
        first, second = app.tools.root.children
        assert not first.is_expanded and second.is_expanded
        assert app.tools.nodes["y"].parent is second


async def test_undone_turn_is_marked_and_collapsed(app: MLInternApp, runtime: FakeRuntime) -> None:
    async with app.run_test() as pilot:
        runtime.publish(p.TurnStarted(text="one"), p.ToolCall(call_id="x", tool="read", args={}))
        runtime.publish(p.Undone(what="turn", text="one"))
        turns = app.tools.root.children
        await wait_for(pilot, lambda: turns and "(undone)" in str(turns[0].label))
        assert not app.tools.root.children[0].is_expanded


async def test_selecting_a_call_shows_args_and_diff(app: MLInternApp, runtime: FakeRuntime) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        runtime.publish(p.TurnStarted(text="go"))
        scenes.nested_tools(runtime)
        await wait_for(pilot, lambda: "c4" in app.tools.nodes)
        app.tools.focus()
        app.tools.move_cursor(app.tools.nodes["c3"])
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ToolDetailScreen))
        screen = app.screen
        diff = screen.query_one(DiffView)
        assert "+EPOCHS = 12" in diff.diff
        assert '"path": "train.py"' in str(screen.query(".mono").first().render())
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, ToolDetailScreen))


async def test_plan_counts_done(app: MLInternApp, runtime: FakeRuntime) -> None:
    async with app.run_test() as pilot:
        scenes.plan(runtime)
        plan = app.query_one("#plan")
        await wait_for(pilot, lambda: "1/4 done" in str(plan.border_title))
        assert "Write a baseline script" in str(plan.render())
        runtime.publish(p.PlanUpdated(items=[p.PlanItem(id="1", content="x", status="completed")]))
        await wait_for(pilot, lambda: "1/1 done" in str(plan.border_title))


async def test_jobs_list_and_log_tail(app: MLInternApp, runtime: FakeRuntime) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        scenes.job(runtime, lines=50)
        jobs = app.jobs
        await wait_for(pilot, lambda: len(jobs.jobs) == 2 and jobs.jobs["job-1a2b"].lines)
        assert jobs.selected == "job-1a2b"  # the running job is shown first
        assert "1 running" in str(jobs.border_title)
        log = jobs.query_one(Log)
        await wait_for(pilot, lambda: log.line_count == 50)
        assert log.lines[-1].startswith("epoch 50/30")
        assert "\x1b" not in "".join(log.lines)  # ANSI stripped
        assert app.status.running_jobs == 1
        # Select the other job: its (empty) log replaces the tail.
        jobs.select("hf-77")
        await pilot.pause()
        assert log.line_count == 0
        runtime.publish(p.JobLog(job_id="job-1a2b", lines=["hidden while not selected"]))
        await wait_for(
            pilot, lambda: jobs.jobs["job-1a2b"].lines[-1] == "hidden while not selected"
        )
        assert log.line_count == 0


async def test_job_log_follow_pauses_when_scrolled(app: MLInternApp, runtime: FakeRuntime) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        scenes.job(runtime, lines=200)
        log = app.jobs.query_one(Log)
        await wait_for(pilot, lambda: log.line_count == 200 and log.max_scroll_y > 0)
        await wait_for(pilot, lambda: log.scroll_y == log.max_scroll_y)
        log.scroll_to(y=0, animate=False)
        await pilot.pause()
        runtime.publish(p.JobLog(job_id="job-1a2b", lines=["new line"]))
        await wait_for(pilot, lambda: log.line_count == 201)
        assert log.scroll_y == 0
        app.jobs.action_follow()
        await wait_for(pilot, lambda: log.scroll_y == log.max_scroll_y)


async def test_cancel_job_asks_first(app: MLInternApp, runtime: FakeRuntime) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        scenes.job(runtime)
        await wait_for(pilot, lambda: app.jobs.selected == "job-1a2b")
        app.jobs.job_list.focus()
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("n")
        assert not runtime.ops_of(p.JobCancel)
        await pilot.press("x")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_for(pilot, lambda: runtime.ops_of(p.JobCancel))
        assert runtime.ops_of(p.JobCancel)[0].job_id == "job-1a2b"


async def test_status_line_keeps_context_and_spend_apart(
    app: MLInternApp, runtime: FakeRuntime
) -> None:
    async with app.run_test(size=(160, 40)) as pilot:
        scenes.usage(runtime)
        await wait_for(pilot, lambda: app.status.llm_usd == 0.42)
        text = str(app.status.render())
        assert "62% 79k/128k" in text
        assert "$1.52/$5.00" in text and "LLM $0.42 + jobs $1.10" in text
        assert "ask" in text and "test/model" in text


def test_gauge_colour_follows_the_threshold() -> None:
    low = gauge(10, 100, 90)
    near = gauge(80, 100, 90)
    over = gauge(95, 100, 90)
    assert "$success" in str(low.spans[0].style)
    assert "$warning" in str(near.spans[0].style)
    assert "$error" in str(over.spans[0].style)
    assert "│" in low.plain  # the compaction mark
