"""``plan``: the agent's to-do list, replaced whole on every call and shown in the Plan pane."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ml_intern_tui.core.protocol import PlanItem, PlanUpdated
from ml_intern_tui.core.tool import Tool, ToolContext, ToolResult

_MARKS = {"completed": "[x]", "in_progress": "[~]", "pending": "[ ]"}


class PlanTodo(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, description="Short stable id of the step (e.g. '1', 'eval').")
    content: str = Field(min_length=1, description="What the step is, in a few words.")
    status: Literal["pending", "in_progress", "completed"] = Field(
        description="pending, in_progress (the step being worked on) or completed."
    )


class PlanArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    todos: list[PlanTodo] = Field(
        description="The whole plan, in order; it replaces the previous one. An empty list "
        "clears it."
    )

    @field_validator("todos")
    @classmethod
    def _unique_ids(cls, todos: list[PlanTodo]) -> list[PlanTodo]:
        seen: set[str] = set()
        for todo in todos:
            if todo.id in seen:
                raise ValueError(f"duplicate id {todo.id!r}; every step needs its own id")
            seen.add(todo.id)
        return todos


class PlanTool(Tool):
    """Replace the session's plan and show it to the user."""

    name = "plan"
    description = (
        "Set your plan for multi-step work: the full list of steps with their status. Each "
        "call replaces the whole plan. Keep one step in_progress at a time, mark steps "
        "completed as soon as they are done."
    )
    Args = PlanArgs
    read_only = True

    async def run(self, args: PlanArgs, ctx: ToolContext) -> ToolResult:
        items = [PlanItem(id=t.id, content=t.content, status=t.status) for t in args.todos]
        ctx.state.plan = items
        ctx.publish(PlanUpdated(session_id=ctx.session_id, items=items))
        done = sum(item.status == "completed" for item in items)
        if not items:
            return ToolResult(summary="plan cleared", output="Plan cleared.")
        lines = ["Plan updated:"]
        lines += [f"{_MARKS[item.status]} {item.id}. {item.content}" for item in items]
        lines.append(f"{done}/{len(items)} done")
        active = [item for item in items if item.status == "in_progress"]
        if len(active) > 1:
            lines.append(
                f"Note: {len(active)} steps are in progress; keep one at a time when you can."
            )
        summary = f"{done}/{len(items)} done"
        if active:
            summary += f" · {active[0].content}"
        return ToolResult(
            summary=summary,
            output="\n".join(lines),
            data={"items": [item.model_dump() for item in items]},
        )
