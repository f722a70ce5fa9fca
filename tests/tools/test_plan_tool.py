"""plan: replaces the session plan, publishes it, reports progress."""

from __future__ import annotations

from typing import Any

import pytest

from ml_intern_tui.core.protocol import PlanItem, PlanUpdated
from ml_intern_tui.core.tool import BadArguments, ToolContext, parse_arguments
from ml_intern_tui.tools.plan import PlanArgs, PlanTool


async def run_plan(ctx: ToolContext, todos: list[dict[str, str]]):  # type: ignore[no-untyped-def]
    args = parse_arguments(PlanTool(), {"todos": todos})
    assert isinstance(args, PlanArgs)
    return await PlanTool().run(args, ctx)


async def test_plan_updates_state_and_publishes(ctx: ToolContext, recorder: Any) -> None:
    result = await run_plan(
        ctx,
        [
            {"id": "1", "content": "Inspect dataset", "status": "completed"},
            {"id": "2", "content": "Write train.py", "status": "in_progress"},
            {"id": "3", "content": "Launch job", "status": "pending"},
        ],
    )
    assert result.ok
    assert result.output.splitlines() == [
        "Plan updated:",
        "[x] 1. Inspect dataset",
        "[~] 2. Write train.py",
        "[ ] 3. Launch job",
        "1/3 done",
    ]
    assert result.summary == "1/3 done · Write train.py"
    assert [item.id for item in ctx.state.plan] == ["1", "2", "3"]
    assert ctx.state.unfinished_plan()[0].content == "Write train.py"
    (event,) = recorder.events
    assert isinstance(event, PlanUpdated) and event.session_id == "sess-1"
    assert event.items == ctx.state.plan
    assert isinstance(event.items[0], PlanItem)


async def test_each_call_replaces_the_whole_plan(ctx: ToolContext, recorder: Any) -> None:
    await run_plan(ctx, [{"id": "a", "content": "one", "status": "pending"}])
    result = await run_plan(ctx, [])
    assert ctx.state.plan == [] and result.output == "Plan cleared."
    assert len(recorder.events) == 2


async def test_several_in_progress_steps_are_allowed_with_a_note(ctx: ToolContext) -> None:
    result = await run_plan(
        ctx,
        [
            {"id": "a", "content": "one", "status": "in_progress"},
            {"id": "b", "content": "two", "status": "in_progress"},
        ],
    )
    assert result.ok and "Note: 2 steps are in progress" in result.output


@pytest.mark.parametrize(
    ("todos", "message"),
    [
        ([{"id": "1", "content": "x", "status": "done"}], "todos.0.status: Input should be"),
        ([{"id": "1", "content": "x"}], "todos.0.status: Field required"),
        (
            [
                {"id": "1", "content": "x", "status": "pending"},
                {"id": "1", "content": "y", "status": "pending"},
            ],
            "duplicate id '1'",
        ),
        ([{"id": "1", "content": "x", "status": "pending", "extra": 1}], "extra: Extra inputs"),
    ],
)
def test_bad_plans_are_explained(todos: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(BadArguments, match=message):
        parse_arguments(PlanTool(), {"todos": todos})
