"""``notify``: the agent posts a message to the user's Slack.

Registered only when at least one destination has ``allow_agent = true`` (see
``tools.notify_tools``): a tool the model cannot use would cost prompt tokens and invite
failing calls. It posts only to those destinations, so it asks for no approval; the
event notifications (approvals, errors, finished turns and jobs) need no tool at all.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ml_intern_tui.core.services import NotifierService
from ml_intern_tui.core.tool import Tool, ToolContext, ToolError, ToolResult

MAX_MESSAGE_CHARS = 10_000


class NotifyArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message: str = Field(
        min_length=1,
        max_length=MAX_MESSAGE_CHARS,
        description="What to tell the user, in Markdown: what happened, key numbers or "
        "links, and what (if anything) they should do.",
    )
    destination: str | None = Field(
        None, description="Destination name; omit to post to every destination you may use."
    )
    title: str | None = Field(
        None, max_length=150, description="A short headline (default: 'Message from the agent')."
    )
    level: Literal["info", "success", "warning", "error"] = Field(
        "info", description="info, success, warning or error (sets the message's icon)."
    )


class NotifyTool(Tool):
    """Post a message to the Slack destinations that allow the agent."""

    name = "notify"
    description = (
        "Send the user a message on Slack, e.g. when long work (a training job, an "
        "evaluation) has finished or failed, or when you are blocked and they may be "
        "away. Keep it short and useful; do not repeat what the automatic notifications "
        "already send (approvals, errors, the end of each turn)."
    )
    Args = NotifyArgs
    read_only = False  # it talks to the outside world: not for the research sub-agent

    def __init__(self, destinations: list[str]) -> None:
        self.destinations = list(destinations)

    def spec(self) -> dict[str, Any]:
        spec = super().spec()
        function = spec["function"]
        names = ", ".join(self.destinations)
        function["description"] = f"{self.description} Destinations: {names}."
        prop = function["parameters"]["properties"]["destination"]
        prop["anyOf"] = [{"type": "string", "enum": self.destinations}, {"type": "null"}]
        return spec

    async def run(self, args: NotifyArgs, ctx: ToolContext) -> ToolResult:
        notifier: NotifierService | None = ctx.services.notifier
        allowed = notifier.agent_destinations() if notifier is not None else []
        if notifier is None or not allowed:
            raise ToolError(
                "no notification destination allows the agent; the user can set "
                "allow_agent = true on one in [notifications.destinations.NAME]"
            )
        if args.destination is not None and args.destination not in allowed:
            known = {d.name for d in notifier.destinations()}
            why = (
                "does not allow the agent (allow_agent = false)"
                if args.destination in known
                else "does not exist"
            )
            raise ToolError(
                f"destination {args.destination!r} {why}; use one of: {', '.join(allowed)}"
            )
        outcome = await notifier.post(
            args.message,
            title=args.title or "Message from the agent",
            level=args.level,
            destination=args.destination,
        )
        lines = []
        for name, error, delivered in outcome:
            if error is not None:
                lines.append(f"{name}: failed ({error})")
            elif delivered:
                lines.append(f"{name}: sent")
            else:
                lines.append(f"{name}: queued (Slack is slow to accept it; retrying in background)")
        failed = sum(error is not None for _, error, _ in outcome)
        sent = [name for name, error, delivered in outcome if error is None and delivered]
        if len(sent) == len(outcome):
            summary = f"sent to {', '.join(sent)}"
        else:
            summary = "failed" if failed == len(outcome) else f"{len(sent)}/{len(outcome)} sent"
        return ToolResult(
            ok=failed < len(outcome),
            summary=summary,
            output="\n".join(lines),
            data={"destinations": [name for name, _, _ in outcome]},
        )
