"""The op/event protocol between the agent core and its front ends.

Ops go in (a front end submits them), events come out (the bus carries them). Both are
pydantic models discriminated by ``type`` and serialise to one JSON object per line: that
is what ``--json`` prints, what the journal keeps and what the UI renders.
"""

from __future__ import annotations

import math
import time
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_serializer

from ml_intern_tui.core.custom_commands import CustomCommand
from ml_intern_tui.core.login_op import Login  # noqa: F401
from ml_intern_tui.core.ops import (  # noqa: F401  (the ops are part of the protocol)
    Approval,
    ApprovalDecision,
    ApprovalMode,
    Compact,
    ExportTrace,
    Interrupt,
    JobCancel,
    ListModels,
    ListPermissions,
    McpReconnect,
    New,
    Op,
    RemovePermission,
    Resume,
    SetBudget,
    SetEffort,
    SetMode,
    SetModel,
    ShareTraces,
    Shutdown,
    Undo,
    UserInput,
)
from ml_intern_tui.core.session_ops import (  # noqa: F401
    DeleteSession,
    ExportSession,
    ForkSession,
    ListSessions,
)
from ml_intern_tui.core.shell_op import UserShell  # noqa: F401
from ml_intern_tui.core.space_ops import SpaceSandboxStatus, SpaceSandboxStop  # noqa: F401

Risk = Literal["low", "medium", "high"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ------------------------------------------------------------------------ events


class EventBase(_Model):
    session_id: str = ""
    seq: int = 0
    """Stamped by the bus: strictly increasing per bus."""
    ts: float = Field(default_factory=time.time)


class Ready(EventBase):
    type: Literal["ready"] = "ready"
    model: str
    mode: ApprovalMode
    tools: list[str]
    cwd: str
    context_limit: int
    resumed: bool = False
    messages: int = 0
    """Number of conversation messages restored (0 for a fresh session)."""


class TurnStarted(EventBase):
    type: Literal["turn_started"] = "turn_started"
    text: str = ""
    """The user's message; empty when a turn suspended for approval goes on."""


class AssistantDelta(EventBase):
    type: Literal["assistant_delta"] = "assistant_delta"
    text: str
    parent_id: str | None = None


class AssistantMessage(EventBase):
    type: Literal["assistant_message"] = "assistant_message"
    text: str
    parent_id: str | None = None


class ReasoningDelta(EventBase):
    type: Literal["reasoning_delta"] = "reasoning_delta"
    text: str
    parent_id: str | None = None


class ToolCall(EventBase):
    type: Literal["tool_call"] = "tool_call"
    call_id: str
    tool: str
    args: dict[str, Any]
    parent_id: str | None = None


class ToolProgress(EventBase):
    type: Literal["tool_progress"] = "tool_progress"
    call_id: str
    text: str


class ToolResultEvent(EventBase):
    type: Literal["tool_result"] = "tool_result"
    call_id: str
    ok: bool
    summary: str
    output: str
    truncated: bool = False
    status: Literal["ok", "failed", "rejected", "cancelled", "abandoned"] = "ok"
    data: dict[str, Any] | None = None
    """Structured payload for the UI (diff, table rows, job id); never sent to the model."""
    parent_id: str | None = None


class ApprovalItem(_Model):
    call_id: str
    tool: str
    title: str
    details: str
    risk: Risk = "medium"
    cost_estimate_usd: float | None = None
    remember_scope: str
    """Human-readable scope a "remember" answer would store, e.g. ``bash: python train.py*``."""
    blocked_reason: str | None = None
    """Why the current mode could not approve it by itself (budget, always-manual...)."""
    kind: str | None = None
    """The consent it needs (``local``, ``unsandboxed``, ``irreversible``, ``spend``,
    ``protected``, ``manual``): what would let it run differs."""


class ApprovalRequired(EventBase):
    type: Literal["approval_required"] = "approval_required"
    items: list[ApprovalItem]


class PlanItem(_Model):
    id: str
    content: str
    status: Literal["pending", "in_progress", "completed"]


class PlanUpdated(EventBase):
    type: Literal["plan_updated"] = "plan_updated"
    items: list[PlanItem]


class ContextUsage(EventBase):
    type: Literal["context_usage"] = "context_usage"
    used: int
    limit: int
    threshold: int


class Spend(EventBase):
    type: Literal["spend"] = "spend"
    llm_usd: float
    """Priced model calls only: ``unpriced_calls`` are not in it (never read it as all)."""
    jobs_usd: float
    budget_usd: float | None = None
    unpriced_calls: int = 0
    """Model calls whose price nobody knows (a model missing from every price list)."""
    estimated_calls: int = 0
    """Router calls priced by the cheapest live provider: the router did not say who served."""
    llm_calls: int = 0
    prompt_tokens: int = 0
    """Input tokens of all model calls, cached and cache-write tokens included."""
    completion_tokens: int = 0
    cached_tokens: int = 0
    """Input tokens read from the provider's prompt cache."""
    cache_write_tokens: int = 0
    """Input tokens written to the prompt cache."""
    cache_saved_usd: float = 0.0
    """What prompt caching saved against paying the input price for every token."""


class Compacted(EventBase):
    type: Literal["compacted"] = "compacted"
    before: int
    after: int
    undoable: bool = True


class LoopWarning(EventBase):
    type: Literal["loop_warning"] = "loop_warning"
    kind: str
    detail: str


JOB_FINISHED_STATUSES = frozenset(
    {
        "completed",
        "succeeded",
        "success",
        "done",
        "failed",
        "error",
        "cancelled",
        "canceled",
        "timeout",
        "stopped",
        "exited",
        "deleted",
    }
)
"""Job statuses (local or HF, lower-cased) that mean the job will not change any more."""


class JobUpdated(EventBase):
    type: Literal["job_updated"] = "job_updated"
    job_id: str
    kind: Literal["local", "hf"]
    status: str
    flavor: str | None = None
    cost_usd: float = 0.0
    url: str | None = None
    title: str = ""
    started_at: float | None = None
    ended_at: float | None = None


class JobLog(EventBase):
    type: Literal["job_log"] = "job_log"
    job_id: str
    lines: list[str]


class JobProgress(_Model):
    """A job's progress bar: steps done, of how many, time left."""

    n: float
    total: float | None = None
    fraction: float | None = None
    """``n / total`` between 0 and 1, when the total is known."""
    elapsed_s: float | None = None
    eta_s: float | None = None
    rate: float | None = None
    """Steps per second."""


class JobMetrics(EventBase):
    """New metric points of one job since its previous ``job_metrics`` (at most ~4 a second).

    ``series`` maps each metric to its new ``[x, value]`` points on ``axis`` (NaN and
    infinities are written as the strings ``"NaN"``, ``"Infinity"``). ``reset`` says the
    points sent before are void (the axis changed): a view starts its curves over.
    """

    type: Literal["job_metrics"] = "job_metrics"
    job_id: str
    source: Literal["log", "trackio"] = "log"
    axis: Literal["step", "epoch", "index"] = "step"
    series: dict[str, list[tuple[float, float]]] = {}
    progress: JobProgress | None = None
    """Sent when it changed."""
    step: float | None = None
    """The job's latest step (``axis`` ``step`` only)."""
    reset: bool = False

    @field_serializer("series", when_used="json")
    def _finite_json(self, series: dict[str, list[tuple[float, float]]]) -> dict[str, Any]:
        # JSON has no NaN: a diverged loss must still reach a script, so it is spelled out.
        return {
            name: [[x, y if math.isfinite(y) else _NONFINITE[str(y)]] for x, y in points]
            for name, points in series.items()
        }


_NONFINITE = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}


JobAlertKind = Literal["stalled", "diverging", "finished", "failed"]


class Notice(EventBase):
    type: Literal["notice"] = "notice"
    level: Literal["info", "warning", "error", "success"] = "info"
    text: str
    job_id: str | None = None
    """The job a job alert is about."""
    alert: JobAlertKind | None = None
    """Set on job alerts (a UI may ring the bell; Slack sends them as ``job_alert``)."""


class Error(EventBase):
    type: Literal["error"] = "error"
    kind: str
    message: str
    recoverable: bool = True


class Interrupted(EventBase):
    type: Literal["interrupted"] = "interrupted"


class TurnComplete(EventBase):
    type: Literal["turn_complete"] = "turn_complete"
    final_text: str
    iterations: int
    reason: Literal["done", "iteration_cap", "error", "approval_pending", "budget"] = "done"


class Undone(EventBase):
    type: Literal["undone"] = "undone"
    what: Literal["turn", "compaction", "nothing"] = "turn"
    text: str = ""
    """The user text that was undone (so a UI can put it back in the prompt)."""


class Permissions(EventBase):
    type: Literal["permissions"] = "permissions"
    rules: list[str]
    """Each remembered rule as ``tool [operation]: pattern``; the text names it for removal."""
    sources: dict[str, str] = {}
    """Rule → where it comes from (your answers for this project, your config, …)."""
    fixed: dict[str, str] = {}
    """Rule → how to remove it, for rules the app cannot remove (a project file's)."""


class SessionSaved(EventBase):
    type: Literal["session_saved"] = "session_saved"
    path: str


class McpToolInfo(_Model):
    name: str
    """The name the model calls: ``<server>__<tool>``."""
    description: str = ""
    note: str = ""
    """Why the model is not offered it (only in ``McpStatus.withheld``)."""


class McpStatus(EventBase):
    """One MCP server's state; published at start-up and on every change."""

    type: Literal["mcp_status"] = "mcp_status"
    server: str
    state: Literal["connecting", "ready", "failed", "disabled"]
    transport: str = ""
    target: str = ""
    """The URL (without its query) or the command line it runs."""
    trusted: bool = False
    tools: list[McpToolInfo] = []
    """The tools registered for the model (kept while it reconnects, gone once failed)."""
    withheld: list[McpToolInfo] = []
    """The server's tools the model is not offered, each with a ``note`` saying why."""
    error: str = ""
    """The last error, kept while it reconnects and once it failed."""
    attempt: int = 0
    """Connection attempt in progress (``connecting``), 0 otherwise."""


class SandboxStatus(EventBase):
    """How shell commands run in this app run; published once, after the start-up probe."""

    type: Literal["sandbox_status"] = "sandbox_status"
    mode: str
    """``auto`` (sandbox when bubblewrap works) or ``off``."""
    network: str
    """``ask``, ``allow`` or ``deny``: the network of sandboxed commands."""
    active: bool
    """Commands run in the sandbox."""
    problem: str | None = None
    """Why bubblewrap cannot run here (mode ``auto`` only)."""
    summary: str = ""
    """One line for ``/status``."""


class ModelInfo(_Model):
    """One model as ``/model`` lists it."""

    id: str
    current: bool = False
    kind: Literal["router", "native", "local", "scripted"] = "router"
    in_catalog: bool | None = None
    """Router models: whether the router's catalog has it (``None``: catalog unknown)."""
    providers: list[str] = []
    """Live providers (router models)."""
    provider: str | None = None
    """The provider the prices are for (pinned, else the cheapest live one)."""
    price_in: float | None = None
    """USD per million input tokens (``None``: unknown)."""
    price_out: float | None = None
    context: int | None = None
    tools: bool | None = None
    warnings: list[str] = []


class ModelCatalog(EventBase):
    """The answer to ``list_models``: the suggested models with what the catalog says."""

    type: Literal["model_catalog"] = "model_catalog"
    models: list[ModelInfo]
    source: str = ""
    """Where the facts come from (``router catalog, fetched 3 min ago``) or why none."""


class EffortStatus(EventBase):
    """The reasoning effort for the current model: asked for, sent, and why."""

    type: Literal["effort"] = "effort"
    model: str
    preference: str | None = None
    """What the user asked for (``/effort``, ``reasoning_effort``); ``None``: off."""
    level: str | None = None
    """What the next call sends (``None``: no effort parameter)."""
    state: Literal["off", "not_sent", "unknown", "probing", "probed", "unsupported"] = "unknown"
    """``not_sent``: local and scripted models never get one; ``unknown``: not checked
    (or the check could not tell); ``probed``: the model accepted ``level``;
    ``unsupported``: the model takes no effort parameter."""
    accepted: list[str] = []
    refused: list[str] = []
    note: str = ""


class SlashCommands(EventBase):
    """The custom slash commands found at start (``core/custom_commands.py``)."""

    type: Literal["slash_commands"] = "slash_commands"
    commands: list[CustomCommand]


class SavedSession(_Model):
    """One saved session as the sessions browser lists it (from its journal)."""

    session_id: str
    title: str
    """The first user message, on one line."""
    model: str
    created: float
    updated: float
    messages: int
    cost_usd: float | None = None
    prompt: str = ""
    last_answer: str = ""
    cwd: str = ""
    forked_from: str = ""
    unpriced_calls: int = 0


class SessionList(EventBase):
    """The answer to ``list_sessions``: the sessions worth listing, newest first."""

    type: Literal["session_list"] = "session_list"
    sessions: list[SavedSession]
    directory: str
    """Where the journals are kept."""
    error: str = ""
    """Why the directory could not be read (then ``sessions`` is empty)."""


class SessionAction(EventBase):
    """The answer to ``fork_session``, ``delete_session`` or ``export_session``."""

    type: Literal["session_action"] = "session_action"
    action: Literal["fork", "delete", "export"]
    session_id: str
    error: str = ""
    """Why it failed (empty: it was done)."""
    new_id: str = ""
    """The fork's id."""
    path: str = ""
    """The exported file."""


class CredentialStatus(EventBase):
    """The credentials the session's model lacks, each line naming its fix
    (``core/first_run.py``): sent at start, after ``/login`` and a model switch; empty
    when nothing is missing (the app's banner then goes)."""

    type: Literal["credential_status"] = "credential_status"
    model: str
    missing: list[str] = Field(default_factory=list)


class ShutdownEvent(EventBase):
    type: Literal["shutdown"] = "shutdown"


class History(EventBase):
    """A resumed session's recorded past, published once, right after its ``ready``.

    An envelope, not a flag on each event: what does not know it ignores it (the journal
    does not record it again, notifications and trace uploads do not take it for news,
    ``--json`` prints it only with ``--json-history``). ``core/resume.py`` says what it
    holds and how it is bounded.
    """

    type: Literal["history"] = "history"
    events: list[Event]
    """The recorded events the front ends show, oldest first."""
    chat_from: int = 0
    """Index of the first event the chat needs: from there on, its last blocks
    (``ui.max_chat_blocks``) come out as from all of them."""
    tree_from: int = 0
    """Index of the first event of the turns the tool tree shows (a turn boundary)."""
    turns_before: int = 0
    """User turns that began before ``tree_from`` (the tree numbers its turns after them)."""


Event = Annotated[
    Ready
    | TurnStarted
    | AssistantDelta
    | AssistantMessage
    | ReasoningDelta
    | ToolCall
    | ToolProgress
    | ToolResultEvent
    | ApprovalRequired
    | PlanUpdated
    | ContextUsage
    | Spend
    | Compacted
    | LoopWarning
    | JobUpdated
    | JobLog
    | JobMetrics
    | Notice
    | Error
    | Interrupted
    | TurnComplete
    | Undone
    | Permissions
    | SessionSaved
    | McpStatus
    | SandboxStatus
    | ModelCatalog
    | EffortStatus
    | SlashCommands
    | SessionList
    | SessionAction
    | CredentialStatus
    | ShutdownEvent
    | History,
    Field(discriminator="type"),
]
History.model_rebuild()
EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)

AnyEvent = EventBase
"""Annotation for "some event": every concrete event subclasses ``EventBase``."""


def event_to_json(event: EventBase) -> str:
    """One event as one compact JSON line (no trailing newline)."""
    return event.model_dump_json(exclude_none=False)


def event_from_json(line: str) -> EventBase:
    """Parse one JSON line back into its event class."""
    result: EventBase = EVENT_ADAPTER.validate_json(line)
    return result
