"""The ops of the protocol: what a front end submits to the agent core.

Each is a pydantic model discriminated by ``type`` (one JSON object per line, like the
events of ``core/protocol.py``, which re-exports them: front ends import the protocol).
Ops for a background service (``mcp_reconnect``, ``share_traces``…) are taken by that
service's ``handle_op`` before the loop sees them.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from ml_intern_tui.core.login_op import Login
from ml_intern_tui.core.notify_ops import SlackTest
from ml_intern_tui.core.session_ops import DeleteSession, ExportSession, ForkSession, ListSessions
from ml_intern_tui.core.shell_op import UserShell
from ml_intern_tui.core.space_ops import SpaceSandboxStatus, SpaceSandboxStop

ApprovalMode = Literal["ask", "auto", "yolo"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UserInput(_Model):
    type: Literal["user_input"] = "user_input"
    text: str
    mentions: list[str] = Field(default_factory=list)  # @paths: attached by core/mentions


class ApprovalDecision(_Model):
    call_id: str
    approved: bool
    feedback: str | None = None
    remember: bool = False
    """Store a rule with the item's ``remember_scope`` so the same kind of call is
    approved without asking next time."""


class Approval(_Model):
    type: Literal["approval"] = "approval"
    decisions: list[ApprovalDecision]


class Interrupt(_Model):
    type: Literal["interrupt"] = "interrupt"


class Compact(_Model):
    type: Literal["compact"] = "compact"
    focus: str | None = None


class Undo(_Model):
    type: Literal["undo"] = "undo"


class New(_Model):
    type: Literal["new"] = "new"


class Resume(_Model):
    type: Literal["resume"] = "resume"
    session_id: str


class SetModel(_Model):
    type: Literal["set_model"] = "set_model"
    model: str


class SetMode(_Model):
    type: Literal["set_mode"] = "set_mode"
    mode: ApprovalMode


class SetBudget(_Model):
    type: Literal["set_budget"] = "set_budget"
    budget_usd: float | None


class SetEffort(_Model):
    """Set the reasoning effort asked of the model (``None``: send none)."""

    type: Literal["set_effort"] = "set_effort"
    level: Literal["minimal", "low", "medium", "high", "xhigh", "max"] | None


class JobCancel(_Model):
    type: Literal["job_cancel"] = "job_cancel"
    job_id: str


class ListPermissions(_Model):
    """Ask for the remembered approval rules (answered by a ``permissions`` event)."""

    type: Literal["list_permissions"] = "list_permissions"


class RemovePermission(_Model):
    """Forget a remembered approval rule, named as ``permissions`` lists it."""

    type: Literal["remove_permission"] = "remove_permission"
    rule: str


class ListModels(_Model):
    """Ask for the model list with catalog facts (answered by a ``model_catalog`` event)."""

    type: Literal["list_models"] = "list_models"


class McpReconnect(_Model):
    """Drop and reconnect one MCP server now (the ``/mcp`` screen's reconnect key)."""

    type: Literal["mcp_reconnect"] = "mcp_reconnect"
    server: str


class ShareTraces(_Model):
    """Upload this session's trace now, or set the traces dataset's visibility
    (``/share-traces``; the trace service answers with a ``notice``)."""

    type: Literal["share_traces"] = "share_traces"
    session_id: str = ""
    visibility: Literal["public", "private"] | None = None


class ExportTrace(_Model):
    """Write this session's trace (Claude Code JSONL) to ``path`` (``/export --format
    trace``; the trace service answers with a ``notice``)."""

    type: Literal["export_trace"] = "export_trace"
    session_id: str
    path: str
    """Absolute: the front end resolves a relative path against the session's cwd."""


class Shutdown(_Model):
    type: Literal["shutdown"] = "shutdown"


Op = Annotated[
    UserInput
    | Approval
    | Interrupt
    | Compact
    | Undo
    | New
    | Resume
    | SetModel
    | SetMode
    | SetBudget
    | SetEffort
    | JobCancel
    | ListPermissions
    | RemovePermission
    | ListModels
    | McpReconnect
    | ShareTraces
    | ExportTrace
    | SlackTest
    | SpaceSandboxStatus
    | SpaceSandboxStop
    | ListSessions
    | ForkSession
    | DeleteSession
    | ExportSession
    | Shutdown
    | UserShell
    | Login,
    Field(discriminator="type"),
]
