"""Resuming a saved session: what comes back for the model, and for the screen as events.

For the model (``restore_session``): the conversation rebuilt from the journal's
records, the context window a server stated, the token calibration, the plan, and the
spend with what the session's jobs cost. Nothing of it is counted on the event loop: a
5,000-message history takes a second to count, so the gauge shows what the session last
showed (its last ``context_usage``) until the count, done in a thread, replaces it.

How a resumed session reaches the screen (DESIGN.md: "a resumed session arrives as
events"): the core reads the journal, restores the conversation for the model, then
publishes ``ready`` (``resumed=True``) and, in the same step, one ``history`` event
holding the session's recorded events, oldest first (the pattern of Codex, whose
session-configured event carries the initial messages UIs seed from). Front ends fold
them with the code that renders live events, so a notice is worded in one place, and
nobody but the core reads the journal or a job's log file.

Why one envelope and not a ``history`` flag on every event: a consumer that does not
know about history ignores one event type instead of having to check a flag on every
event. The journal does not record it (it already holds every event in it), Slack
notifications and trace uploads do not take a finished turn of last week for news, and
headless ``--json`` prints it only with ``--json-history``. Order needs no care either:
``ready`` and ``history`` are published together, so no live event of the resumed
session can come between them or before them, and a front end never holds events back.

What it holds:

- the conversation as the chat, the tool tree and the transcript show it: turns (user
  text), answers, reasoning (one event per stretch, as the journal keeps it), tool calls
  and results with their ``parent_id`` nesting, notices, errors, loop warnings,
  compactions, interruptions, turn ends and undos;
- the last ``plan_updated``;
- each job's last ``job_updated``, then a ``job_log`` with the tail of its log file (read
  by the jobs layer), then one ``job_metrics`` with its curves (its recorded deltas
  merged and capped, ``core/resume_metrics.py``). A job the session left unfinished and this process does not follow
  has status ``unknown`` and a last line saying so; jobs this process still follows are
  left out (their live events are newer);
- a ``tool_result`` for every call the session left without one, at the time of the
  session's last event: ``abandoned`` when it waited for an approval (that question died
  with the session), ``cancelled`` when it was running.

Left out: state that is published again, live, right after ``history`` (``ready``,
``context_usage`` with the learned window, ``spend`` with the jobs' costs), superseded
plan and job updates, approval questions (a front end must never ask them again), and
answers to front-end questions (permissions, model catalog, MCP and sandbox status).

Bounds: a long session's chat shows only its last ``ui.max_chat_blocks`` blocks and
building a block is what costs, so ``chat_from`` marks where the chat starts folding to
come out with exactly those blocks (worked out by ``ChatCount``, which counts blocks as
``tui/widgets/chat.py`` makes them, with a margin). The tool tree shows the turns that
fit in ``TREE_NODES`` nodes (a turn and each of its calls are one each), from
``tree_from``, numbered after ``turns_before``. The transcript (``/export``) gets every
event; a job's log comes back as its last 2,000 lines (``JobRegistry.saved_log_tail``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Container, Sequence
from dataclasses import dataclass, field
from typing import Any

from ml_intern_tui.core.calibration import TokenCalibration
from ml_intern_tui.core.context import rebuild
from ml_intern_tui.core.cost import SpendTracker
from ml_intern_tui.core.journal import missing_system_slot
from ml_intern_tui.core.overflow import learned_notes
from ml_intern_tui.core.protocol import (
    JOB_FINISHED_STATUSES,
    ApprovalRequired,
    AssistantMessage,
    Compacted,
    ContextUsage,
    Error,
    EventBase,
    History,
    Interrupted,
    JobLog,
    JobUpdated,
    LoopWarning,
    Notice,
    PlanItem,
    PlanUpdated,
    ReasoningDelta,
    Spend,
    ToolCall,
    ToolResultEvent,
    TurnComplete,
    TurnStarted,
    Undone,
)
from ml_intern_tui.core.resume_metrics import merged_metrics
from ml_intern_tui.core.session import Session, StoredSession

CONVERSATION = (
    TurnStarted,
    AssistantMessage,
    ReasoningDelta,
    ToolCall,
    ToolResultEvent,
    Compacted,
    LoopWarning,
    Notice,
    Error,
    Interrupted,
    TurnComplete,
    Undone,
)
"""Recorded events that go into the history as they are, in order."""

TREE_NODES = 500
"""Tool-tree nodes (turns and calls) a resumed tree gets back, whole turns, the newest:
a node costs about 0.25 ms to build and lay out, and thousands of them would delay the
first usable frame."""
CHAT_MARGIN = 5
"""Blocks folded beyond the chat's limit: should the count here drift from the chat's,
the chat still gets its blocks (it keeps the last ones and drops the rest unbuilt)."""
NOT_FOLLOWED = "[the session ended while this job ran; it is not followed now]"
NOT_RUN = "not run: the session ended before it was approved"
NOT_FINISHED = "did not finish: the session ended while it ran"


def job_finished(status: str) -> bool:
    """Whether a job status means the job will not change any more."""
    return status.lower() in JOB_FINISHED_STATUSES


@dataclass
class ChatCount:
    """Counts chat blocks as the chat makes them, remembering where each one starts.

    The chat (``tui/widgets/chat.py``) makes one block per user message, reasoning
    stretch, non-empty answer and notice, and one per run of consecutive top-level tool
    calls; an undone turn takes its blocks, from the user's message on, with it.
    Sub-agent events (``parent_id``) stay in the tool tree.
    """

    starts: list[int] = field(default_factory=list)
    """Index of the event that started each block on screen, oldest first."""
    users: list[bool] = field(default_factory=list)
    _tools_open: bool = False
    _reasoning_open: bool = False

    def _block(self, index: int, *, user: bool = False) -> None:
        self.starts.append(index)
        self.users.append(user)

    def _end(self) -> None:
        self._tools_open = self._reasoning_open = False

    def _notice(self, index: int) -> None:
        self._end()
        self._block(index)

    def add(self, index: int, event: EventBase) -> None:
        """Count ``event`` (the ``index``-th of the history)."""
        if getattr(event, "parent_id", None) is not None:
            return
        if isinstance(event, TurnStarted):
            self._end()
            if event.text:
                self._block(index, user=True)
        elif isinstance(event, ReasoningDelta):
            if not self._reasoning_open:
                self._tools_open = False
                self._reasoning_open = True
                self._block(index)
        elif isinstance(event, AssistantMessage):
            self._reasoning_open = False
            if event.text.strip():
                self._tools_open = False
                self._block(index)
        elif isinstance(event, ToolCall):
            if not self._tools_open:
                self._end()
                self._tools_open = True
                self._block(index)
        elif isinstance(event, Undone):
            self._end()
            if event.what == "turn" and True in self.users:
                cut = len(self.users) - 1 - self.users[::-1].index(True)
                del self.starts[cut:], self.users[cut:]
            self._block(index)
        elif isinstance(event, TurnComplete):
            self._end()
            if event.reason in ("iteration_cap", "budget"):
                self._block(index)
        elif isinstance(event, Compacted | LoopWarning | Notice | Error | Interrupted):
            self._notice(index)

    def start_of_last(self, blocks: int) -> int:
        """Where folding must start to make the last ``blocks`` blocks (0: from the top)."""
        if blocks <= 0 or len(self.starts) <= blocks:
            return 0
        return self.starts[-blocks]


def _tree_start(events: Sequence[EventBase], nodes: int) -> tuple[int, int]:
    """(index of the first turn the tree shows, user turns before it)."""
    turns = [i for i, e in enumerate(events) if isinstance(e, TurnStarted) and e.text]
    if not turns or len(turns) + sum(isinstance(e, ToolCall) for e in events) <= nodes:
        return 0, 0
    bounds = [*turns[1:], len(events)]
    counted, first = 0, len(turns) - 1
    for position in range(len(turns) - 1, -1, -1):  # newest turn first, always shown
        counted += 1 + sum(
            isinstance(e, ToolCall) for e in events[turns[position] : bounds[position]]
        )
        if counted > nodes and position < len(turns) - 1:
            break
        first = position
    return (turns[first], first) if first else (0, 0)


def _unfinished_calls(events: Sequence[EventBase], ended: float) -> list[ToolResultEvent]:
    """A result for every call the session left without one (it can never finish now)."""
    open_calls: dict[str, ToolCall] = {}
    asked: set[str] = set()
    for event in events:
        if isinstance(event, ToolCall):
            open_calls[event.call_id] = event
        elif isinstance(event, ToolResultEvent):
            open_calls.pop(event.call_id, None)
        elif isinstance(event, ApprovalRequired):
            asked.update(item.call_id for item in event.items)
    results: list[ToolResultEvent] = []
    for call in open_calls.values():
        waiting = call.call_id in asked
        results.append(
            ToolResultEvent(
                session_id=call.session_id,
                call_id=call.call_id,
                ok=False,
                summary=NOT_RUN if waiting else NOT_FINISHED,
                output="",
                status="abandoned" if waiting else "cancelled",
                parent_id=call.parent_id,
                ts=max(ended, call.ts),
            )
        )
    return results


def _tail(log_tail: Callable[[str], list[str]] | None, job_id: str) -> list[str]:
    """A job's log tail; a log that cannot be read costs its lines, never the resume."""
    if log_tail is None:
        return []
    try:
        return list(log_tail(job_id))
    except Exception:
        return []


def _jobs(
    events: Sequence[EventBase],
    log_tail: Callable[[str], list[str]] | None,
    followed: Container[str],
) -> list[EventBase]:
    latest: dict[str, JobUpdated] = {}
    for event in events:
        if isinstance(event, JobUpdated):
            latest[event.job_id] = event
    curves = merged_metrics(events)
    out: list[EventBase] = []
    for job in latest.values():
        if job.job_id in followed:
            continue  # this process follows it: its live state is newer
        lines = _tail(log_tail, job.job_id)
        if not job_finished(job.status):
            job = job.model_copy(update={"status": "unknown"})
            lines.append(NOT_FOLLOWED)
        out.append(job)
        if lines:
            out.append(JobLog(session_id=job.session_id, job_id=job.job_id, lines=lines))
        if job.job_id in curves:
            out.append(curves[job.job_id])
    return out


def session_history(
    events: Sequence[EventBase],
    *,
    chat_blocks: int,
    tree_nodes: int = TREE_NODES,
    log_tail: Callable[[str], list[str]] | None = None,
    followed: Container[str] = frozenset(),
) -> History:
    """The ``history`` event for a session whose journal recorded ``events``.

    ``log_tail(job_id)`` gives the end of a job's log file; ``followed`` names the jobs
    this process follows now. Blocking when ``log_tail`` reads files: call it in a thread.
    """
    last_plan = next((e for e in reversed(events) if isinstance(e, PlanUpdated)), None)
    kept = [e for e in events if isinstance(e, CONVERSATION) or e is last_plan]
    ended = max((e.ts for e in events), default=0.0)
    kept.extend(_unfinished_calls(events, ended))
    count = ChatCount()
    for index, event in enumerate(kept):
        count.add(index, event)
    tree_from, turns_before = _tree_start(kept, tree_nodes)
    recorded: list[Any] = [*kept, *_jobs(events, log_tail, followed)]  # concrete events
    return History(
        events=recorded,
        chat_from=count.start_of_last(chat_blocks + CHAT_MARGIN),
        tree_from=tree_from,
        turns_before=turns_before,
    )


def restore_session(
    session: Session, stored: StoredSession, *, cap: int | None
) -> tuple[list[dict[str, Any]], Any]:
    """Put a saved session back into ``session`` (fresh, built for its model).

    Restores the conversation, the window a server stated (never above ``cap``, the
    user's ``[context] limit``), the token calibration, the plan and the spend. Returns
    the messages restored (without the system prompt) and the system prompt the journal
    had (``None`` when it kept none).
    """
    records = stored.records
    if missing_system_slot(records):  # an older journal: its undo lengths count one
        records = [{"kind": "message", "message": {"role": "system", "content": ""}}, *records]
    messages = rebuild(records)
    stored_system = None
    if messages and messages[0].get("role") == "system":
        stored_system = messages[0].get("content")
        messages = messages[1:]
    session.context.restore(messages)
    window, points = learned_notes(records, session.model)
    if window:  # a window the server stated earlier in this session
        session.context.limit = min(window, cap) if cap else window
        session.windows[session.model] = session.context.limit
    session.context.calibration = TokenCalibration(tuple(p) for p in points if len(p) == 2)
    session.state.plan = restore_plan(stored.events)
    restore_spend(session.spend, stored.events)
    return messages, stored_system


def last_usage(events: Sequence[EventBase]) -> int | None:
    """What the session's context gauge last showed, if a ``context_usage`` was recorded."""
    return next((e.used for e in reversed(events) if isinstance(e, ContextUsage)), None)


def restore_plan(events: Sequence[EventBase]) -> list[PlanItem]:
    """The plan as the last ``plan_updated`` event left it."""
    plan: list[PlanItem] = []
    for event in events:
        if isinstance(event, PlanUpdated):
            plan = list(event.items)
    return plan


def restore_spend(spend: SpendTracker, events: Sequence[EventBase]) -> None:
    """Put a resumed session's spend back: the figures of its last ``spend`` event (none
    recorded: nothing spent) and each of its jobs' cost as its last update reported it."""
    last = next((e for e in reversed(events) if isinstance(e, Spend)), None)
    costs = {e.job_id: e.cost_usd for e in events if isinstance(e, JobUpdated)}
    spend.restore(last or Spend(llm_usd=0.0, jobs_usd=0.0), job_costs=costs)


async def restore_off_loop(
    session: Session, stored: StoredSession, *, cap: int | None
) -> tuple[list[dict[str, Any]], Any]:
    """``restore_session`` in a worker thread: rebuilding a long conversation from its
    records takes a while (~30 ms for 5,000 messages), and ``session`` is not attached
    yet (nothing else touches it meanwhile), so the event loop need not wait on it.
    The tool schemas' token count is taken there too (the session's first, ~40 ms: the
    usage published once its history is counted would otherwise take it on the loop)."""

    def restore() -> tuple[list[dict[str, Any]], Any]:
        restored = restore_session(session, stored, cap=cap)
        session.context.overhead()
        return restored

    return await asyncio.to_thread(restore)


async def build_history(events: Sequence[EventBase], *, chat_blocks: int, jobs: Any) -> History:
    """``session_history`` with this process's jobs (``jobs/registry.py``), off the loop.

    The registry names the jobs it follows now and reads a job's log tail from its file.
    """
    followed = {job.id for job in jobs.list()} if jobs is not None else set()
    return await asyncio.to_thread(
        session_history,
        events,
        chat_blocks=chat_blocks,
        log_tail=getattr(jobs, "saved_log_tail", None),
        followed=followed,
    )
