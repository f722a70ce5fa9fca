"""The approval drawer: one key per answer, items in order, one op per request."""

from __future__ import annotations

import pytest

from ml_intern_tui.core import protocol as p
from ml_intern_tui.tui.app import MLInternApp
from ml_intern_tui.tui.widgets.tool_tree import ToolTree
from tui import scenes
from tui.conftest import wait_for
from tui.fake_runtime import FakeRuntime


def approvals(runtime: FakeRuntime) -> list[p.Approval]:
    return runtime.ops_of(p.Approval)


@pytest.fixture
def bells(app: MLInternApp, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    rung: list[int] = []
    monkeypatch.setattr(app, "bell", lambda: rung.append(1))
    return rung


async def test_opens_takes_focus_rings_and_approves_with_y(
    app: MLInternApp, runtime: FakeRuntime, bells: list[int]
) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        scenes.approval(runtime)
        await wait_for(pilot, lambda: app.drawer.is_open)
        assert app.focused is app.drawer
        assert bells == [1]
        assert app.tools.records["a1"].status == "waiting"
        await pilot.press("y")
        await wait_for(pilot, lambda: approvals(runtime))
        (op,) = approvals(runtime)
        assert op.decisions == [p.ApprovalDecision(call_id="a1", approved=True)]
        assert not app.drawer.is_open
        assert app.focused is app.prompt


async def test_items_are_answered_in_order_and_sent_together(
    app: MLInternApp, runtime: FakeRuntime
) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        scenes.approval(runtime, two=True)
        await wait_for(pilot, lambda: app.drawer.is_open)
        assert "1 of 2" in str(app.drawer.border_title)
        await pilot.press("n")
        assert not approvals(runtime)  # one op for the whole request
        assert app.drawer.current is not None and app.drawer.current.call_id == "a2"
        assert "2 of 2" in str(app.drawer.border_title)
        await pilot.press("y")
        await wait_for(pilot, lambda: approvals(runtime))
        assert [(d.call_id, d.approved) for d in approvals(runtime)[0].decisions] == [
            ("a1", False),
            ("a2", True),
        ]


async def test_approve_all(app: MLInternApp, runtime: FakeRuntime) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        scenes.approval(runtime, two=True)
        await wait_for(pilot, lambda: app.drawer.is_open)
        await pilot.press("a")
        await wait_for(pilot, lambda: approvals(runtime))
        assert all(d.approved for d in approvals(runtime)[0].decisions)
        assert len(approvals(runtime)[0].decisions) == 2


async def test_reject_with_feedback(app: MLInternApp, runtime: FakeRuntime) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        scenes.approval(runtime)
        await wait_for(pilot, lambda: app.drawer.is_open)
        await pilot.press("f")
        assert app.drawer.mode == "feedback"
        await pilot.press(*"use fewer epochs", "enter")
        await wait_for(pilot, lambda: approvals(runtime))
        (decision,) = approvals(runtime)[0].decisions
        assert decision == p.ApprovalDecision(
            call_id="a1", approved=False, feedback="use fewer epochs"
        )
        assert app.focused is app.prompt


async def test_feedback_can_be_abandoned_with_escape(
    app: MLInternApp, runtime: FakeRuntime
) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        scenes.approval(runtime)
        await wait_for(pilot, lambda: app.drawer.is_open)
        await pilot.press("f", "x", "escape")
        assert app.drawer.mode == "choose"
        assert app.focused is app.drawer
        assert not approvals(runtime)


async def test_remember_shows_the_scope_before_saving(
    app: MLInternApp, runtime: FakeRuntime
) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        scenes.approval(runtime)
        await wait_for(pilot, lambda: app.drawer.is_open)
        await pilot.press("r")
        keys = app.drawer.query_one("#approval-keys")
        assert "bash: python train.py*" in str(keys.render())
        assert not approvals(runtime)
        await pilot.press("n")  # cancel: back to choosing, nothing sent
        assert app.drawer.mode == "choose" and not approvals(runtime)
        await pilot.press("r", "enter")
        await wait_for(pilot, lambda: approvals(runtime))
        (decision,) = approvals(runtime)[0].decisions
        assert decision.approved and decision.remember


async def test_drawer_shows_cost_risk_and_blocked_reason(
    app: MLInternApp, runtime: FakeRuntime
) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        scenes.approval(runtime, two=True)
        await wait_for(pilot, lambda: app.drawer.is_open)
        await pilot.press("y")
        meta = str(app.drawer.query_one("#approval-meta").render())
        assert "high" in meta and "$2.00" in meta and "always-manual" in meta
        details = str(app.drawer.query_one("#approval-details").render())
        assert "a10g-small" in details


async def test_chat_and_tree_stay_reachable_while_open(
    app: MLInternApp, runtime: FakeRuntime
) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        scenes.conversation(runtime)
        scenes.approval(runtime)
        await wait_for(pilot, lambda: app.drawer.is_open)
        await pilot.press("escape")  # back to the prompt; the request stays open
        assert app.focused is app.prompt and app.drawer.is_open
        assert not app.busy  # the agent waits on the user
        await pilot.press("ctrl+n")
        assert app.focused is app.chat.scroller
        await pilot.press("ctrl+n")
        assert isinstance(app.focused, ToolTree)
        await pilot.press("escape")  # Esc with nothing running goes back to the drawer
        assert app.drawer.has_focus
        await pilot.press("y")
        await wait_for(pilot, lambda: approvals(runtime))


async def test_abandoned_request_closes_the_drawer(app: MLInternApp, runtime: FakeRuntime) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        scenes.approval(runtime)
        await wait_for(pilot, lambda: app.drawer.is_open)
        runtime.publish(
            p.ToolResultEvent(
                call_id="a1", ok=False, status="abandoned", summary="Not run", output=""
            )
        )
        await wait_for(pilot, lambda: not app.drawer.is_open)
        # The drawer hands focus back with a message of its own, a moment after closing.
        await wait_for(pilot, lambda: app.focused is app.prompt)
        assert app.tools.records["a1"].status == "abandoned"
        assert not approvals(runtime)
