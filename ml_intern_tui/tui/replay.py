"""Put a resumed session back on screen from its journal: chat, tool tree, plan and jobs.

The core restores the conversation for the model and announces it with a ``ready``
event (``resumed=True``); what the panes showed is in the journal as recorded events.
Reading and folding them happens in a thread (a journal may hold thousands of events);
the panes are then rebuilt in one pass each, the chat only for its last blocks. Live
events that arrive meanwhile are held and delivered afterwards, so nothing new is shown
above the history. The journal is read through ``core.journal``, never written.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.widget import Widget

from ml_intern_tui.core import protocol as p
from ml_intern_tui.core.journal import JournalError, find_session, load
from ml_intern_tui.safety.terminal import safe_event, terminal_safe, terminal_safe_value
from ml_intern_tui.tui.formatting import format_tokens
from ml_intern_tui.tui.hints import error_hint
from ml_intern_tui.tui.slash import sessions_directory
from ml_intern_tui.tui.transcript import Transcript
from ml_intern_tui.tui.widgets.blocks.notice import Level

if TYPE_CHECKING:
    from ml_intern_tui.tui.app import MLInternApp

JOB_LOG_TAIL_BYTES = 512 * 1024
JOB_LOG_TAIL_LINES = 2_000
"""What is read back of a job's log file: its end, as the jobs pane would show it."""


@dataclass
class ChatItem:
    """One chat block to build: ``user``, ``assistant``, ``reasoning``, ``tools`` or ``notice``."""

    kind: str
    text: str = ""
    level: Level = "info"
    hint: str = ""
    tools: list[str] = field(default_factory=list)


@dataclass
class Restored:
    """What a saved session's panes showed, read from its journal and ready to apply."""

    session_id: str
    events: list[p.EventBase]
    """The recorded events up to the resume (the tool tree is rebuilt from all of them)."""
    chat: list[ChatItem]
    transcript: Transcript
    plan: list[p.PlanItem] | None
    jobs: list[p.JobUpdated]
    """The last update of each job, in the order the jobs first appeared."""
    job_logs: dict[str, list[str]]
    ended: float
    """When the last recorded event happened (calls left running are cut off there)."""


# ------------------------------------------------------------------- reading


def events_before(events: list[p.EventBase], ready: p.Ready | None) -> list[p.EventBase]:
    """The events recorded before the ``ready`` that announced this resume.

    The core's journal writes that ``ready`` before any front end sees it, so it is
    found by its stamp; a journal without it is history through and through.
    """
    if ready is None:
        return events
    for index in range(len(events) - 1, -1, -1):
        event = events[index]
        if isinstance(event, p.Ready) and event.seq == ready.seq and event.ts == ready.ts:
            return events[:index]
    return events


def notice_for(event: p.EventBase) -> tuple[str, Level, str] | None:
    """The chat notice an event stands for (the same words the live chat uses)."""
    if isinstance(event, p.Notice):
        return event.text, event.level, ""
    if isinstance(event, p.Error):
        return (
            f"{event.kind}: {event.message}",
            "error",
            error_hint(event.kind, event.message, event.recoverable),
        )
    if isinstance(event, p.LoopWarning):
        return (
            f"Possible loop ({event.kind}): {event.detail}",
            "warning",
            "Esc interrupts; then tell the agent what to do differently.",
        )
    if isinstance(event, p.Compacted):
        text = f"Context compacted: {format_tokens(event.before)} → {format_tokens(event.after)} tokens."
        return text, "info", "/undo restores it." if event.undoable else ""
    if isinstance(event, p.Interrupted):
        return "Interrupted.", "warning", ""
    if isinstance(event, p.TurnComplete) and event.reason == "iteration_cap":
        return (
            f"Stopped after {event.iterations} iterations (the iteration cap).",
            "warning",
            "Send “continue” to let the agent go on.",
        )
    if isinstance(event, p.TurnComplete) and event.reason == "budget":
        return (
            "Stopped: the spending budget is used up.",
            "warning",
            "/budget USD raises it; /cost shows what was spent.",
        )
    return None


def chat_items(events: list[p.EventBase], limit: int) -> list[ChatItem]:
    """The chat as it stood at the end of ``events``: its last ``limit`` blocks."""
    items: list[ChatItem] = []
    tools_open = False  # consecutive calls share one "⚙ a · b" line, as in the live chat
    for event in events:
        if getattr(event, "parent_id", None) is not None:
            continue  # a sub-agent's output lives in the tool tree
        if isinstance(event, p.ToolCall):
            if tools_open:
                items[-1].tools.append(event.tool)
            else:
                items.append(ChatItem("tools", tools=[event.tool]))
                tools_open = True
            continue
        if isinstance(event, p.TurnStarted):
            if event.text:
                items.append(ChatItem("user", event.text))
        elif isinstance(event, p.ReasoningDelta):
            if items and items[-1].kind == "reasoning":
                items[-1].text += event.text
            else:
                items.append(ChatItem("reasoning", event.text))
        elif isinstance(event, p.AssistantMessage):
            if event.text.strip():
                items.append(ChatItem("assistant", event.text))
        elif isinstance(event, p.Undone):
            items = _undo(items, event)
        elif (notice := notice_for(event)) is not None:
            text, level, hint = notice
            items.append(ChatItem("notice", text, level, hint))
        elif not isinstance(event, p.TurnComplete):
            continue  # events the chat does not show leave a run of tool calls open
        tools_open = False
        if len(items) > 2 * limit:
            del items[:-limit]
    return items[-limit:]


def _undo(items: list[ChatItem], event: p.Undone) -> list[ChatItem]:
    if event.what == "turn":
        last_user = max((i for i, item in enumerate(items) if item.kind == "user"), default=None)
        if last_user is not None:
            items = items[:last_user]
        text = "Undid the last turn."
    elif event.what == "compaction":
        text = "Compaction undone: the full history is back."
    else:
        return [*items, ChatItem("notice", "Nothing to undo.")]
    return [*items, ChatItem("notice", text, "success")]


def _latest_jobs(events: list[p.EventBase]) -> list[p.JobUpdated]:
    latest: dict[str, p.JobUpdated] = {}
    for event in events:
        if isinstance(event, p.JobUpdated):
            latest[event.job_id] = event
    return list(latest.values())


def read_log_tail(path: Path, lines: int = JOB_LOG_TAIL_LINES) -> list[str]:
    """The last ``lines`` lines of a job's log file (empty when there is none)."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - JOB_LOG_TAIL_BYTES))
            data = handle.read()
    except OSError:
        return []
    text = data.decode("utf-8", errors="replace")
    if size > JOB_LOG_TAIL_BYTES:
        text = text.partition("\n")[2]  # the first line read is most likely cut
    return text.splitlines()[-lines:]


def transcript_of(meta: dict[str, Any], events: list[p.EventBase]) -> Transcript:
    """The Markdown transcript of recorded events (what ``/export`` writes)."""
    transcript = Transcript(
        session_id=str(meta.get("session_id") or ""), model=str(meta.get("model") or "")
    )
    for event in events:
        transcript.record(event)
    return transcript


def read_session(
    path: Path, *, ready: p.Ready | None, max_blocks: int, jobs_dir: Path | None
) -> Restored:
    """Read and fold a journal (blocking: run it in a thread)."""
    loaded = load(path)
    # Read from disk, not from the bus: made terminal-safe here as ``deliver`` does live.
    events = [safe_event(e) for e in events_before(loaded.events, ready)]
    plan: list[p.PlanItem] | None = None
    for event in events:
        if isinstance(event, p.PlanUpdated):
            plan = list(event.items)
    jobs = _latest_jobs(events)
    logs: dict[str, list[str]] = {}
    if jobs_dir is not None:
        for job in jobs:
            if Path(job.job_id).name == job.job_id and (
                tail := read_log_tail(jobs_dir / f"{job.job_id}.log")
            ):
                logs[job.job_id] = [terminal_safe(line) for line in tail]
    return Restored(
        session_id=str(loaded.meta.get("session_id") or path.stem),
        events=events,
        chat=chat_items(events, max_blocks),
        transcript=transcript_of(loaded.meta, events),
        plan=plan,
        jobs=jobs,
        job_logs=logs,
        ended=events[-1].ts if events else 0.0,
    )


def export_journal(path: Path, target: Path) -> Path:
    """Write a saved session's transcript as Markdown (secrets scrubbed, terminal-safe)."""
    loaded = load(path)
    events = [safe_event(e) for e in loaded.events]
    return transcript_of(terminal_safe_value(loaded.meta), events).export(target)


def jobs_directory(settings: Any) -> Path:
    """Where job logs are kept: ``jobs/`` beside the sessions directory (as the agent does)."""
    return sessions_directory(settings).parent / "jobs"


# ------------------------------------------------------------------ applying


def chat_blocks(items: list[ChatItem]) -> list[Widget]:
    """The chat's widgets for ``items``, finished (nothing streams; reasoning collapsed)."""
    from ml_intern_tui.tui.widgets.blocks.assistant import AssistantBlock
    from ml_intern_tui.tui.widgets.blocks.notice import NoticeBlock
    from ml_intern_tui.tui.widgets.blocks.reasoning import ReasoningBlock
    from ml_intern_tui.tui.widgets.blocks.tools import ToolMention
    from ml_intern_tui.tui.widgets.blocks.user import UserBlock

    blocks: list[Widget] = []
    for item in items:
        if item.kind == "user":
            blocks.append(UserBlock(item.text))
        elif item.kind == "assistant":
            answer = AssistantBlock(item.text)
            answer.finished = True
            blocks.append(answer)
        elif item.kind == "reasoning":
            blocks.append(ReasoningBlock(collapsed=True, text=item.text))
        elif item.kind == "tools":
            mention = ToolMention(item.tools[0])
            for tool in item.tools[1:]:
                mention.add(tool)
            blocks.append(mention)
        else:
            blocks.append(NoticeBlock(item.text, item.level, hint=item.hint))
    return blocks


class SessionReplay:
    """Holds live events while a resumed session's history is put back on the panes."""

    def __init__(self, app: MLInternApp) -> None:
        self.app = app
        self._held: list[p.EventBase] | None = None
        self.completed = 0
        """Replays finished (tests wait on it)."""

    def hold(self, event: p.EventBase) -> bool:
        """Keep ``event`` for later while a replay runs; False when none does."""
        if self._held is None:
            return False
        self._held.append(event)
        return True

    def start(self, ready: p.Ready) -> None:
        """Rebuild the panes for the session ``ready`` announced as resumed."""
        self._held = []
        self.app.run_worker(self._run(ready), group="replay", exit_on_error=False)

    async def _run(self, ready: p.Ready) -> None:
        app = self.app
        try:
            directory = sessions_directory(app.runtime.settings)
            path = await asyncio.to_thread(find_session, directory, ready.session_id)
            restored = await asyncio.to_thread(
                read_session,
                path,
                ready=ready,
                max_blocks=app.prefs.max_chat_blocks,
                jobs_dir=jobs_directory(app.runtime.settings),
            )
            self._apply(restored, ready)
        except JournalError as exc:
            app.local_notice(f"The chat of this session could not be shown again: {exc}", "warning")
        except Exception as exc:  # a damaged journal must not take the app down
            app.local_notice(
                f"The chat of this session could not be shown again: {type(exc).__name__}: {exc}",
                "warning",
            )
        finally:
            self._release()

    def _apply(self, restored: Restored, ready: p.Ready) -> None:
        """Queue each pane's rebuild behind the ``ready`` it is still handling."""
        app = self.app
        blocks = chat_blocks(restored.chat)
        self._later(app.chat, app.chat.restore, blocks)
        self._later(app.tools, app.tools.restore, restored.events, ended=restored.ended)
        if restored.jobs:
            self._later(app.jobs, app.jobs.restore, restored.jobs, restored.job_logs)
        if restored.plan is not None:
            from ml_intern_tui.tui.widgets.plan import PlanPanel

            plan = app.main_screen.query_one(PlanPanel)
            self._later(plan, plan.set_items, restored.plan)
        restored.transcript.record(ready)
        app.transcript = restored.transcript

    def _later(self, widget: Widget, method: Callable[..., Any], *args: Any, **kw: Any) -> None:
        async def run() -> None:
            try:
                result = method(*args, **kw)
                if isinstance(result, Awaitable):
                    await result
            except Exception as exc:
                self.app.local_notice(
                    f"Part of the session could not be shown again: {type(exc).__name__}: {exc}",
                    "warning",
                )

        widget.call_later(run)

    def _release(self) -> None:
        held, self._held = self._held or [], None
        self.completed += 1
        for index, event in enumerate(held):
            self.app.deliver(event)
            if self._held is not None:  # that event started another replay: it keeps the rest
                self._held.extend(held[index + 1 :])
                return
