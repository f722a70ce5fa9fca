"""One turn of the agent: LLM call → tool calls → approvals → repeat.

A turn ends when the model answers without tool calls (after the continuation guard had
its say), when it needs a human (the turn is suspended with its pending calls), at the
iteration cap, over budget, or on an error. Interruption is asyncio cancellation of the
task running ``TurnRunner.run``: the LLM stream is closed, running tools are cancelled
(their subprocess groups killed) and the history is left consistent.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from ml_intern_tui.core import guards
from ml_intern_tui.core.approval import Verdict, to_item
from ml_intern_tui.core.context import CompactionError
from ml_intern_tui.core.llm import ContextOverflowError, LLMError, LLMResponse, ToolCallRequest
from ml_intern_tui.core.notes import NOTES_SERVICE, SystemNotes
from ml_intern_tui.core.protocol import (
    ApprovalRequired,
    AssistantDelta,
    AssistantMessage,
    Compacted,
    ContextUsage,
    Error,
    LoopWarning,
    Notice,
    ReasoningDelta,
    Spend,
    ToolCall,
    ToolProgress,
    ToolResultEvent,
    TurnComplete,
)
from ml_intern_tui.core.session import LoopSettings, PendingCall, Session
from ml_intern_tui.core.tool import (
    BadArguments,
    ToolContext,
    ToolError,
    ToolResult,
    cut_text,
    parse_arguments,
)

log = logging.getLogger(__name__)

SUMMARY_REQUEST = (
    "[[summarize-conversation]]\n"
    "Summarize the conversation transcript above for the agent that continues it. Keep: "
    "the user's goal and constraints, decisions and why, files written (paths), jobs "
    "started (ids, status), results and numbers, problems hit and how they were solved, "
    "and the next steps. Be concise and factual."
)
MAX_OVERFLOW_RETRIES = 2


@dataclass
class _Running:
    """Calls started in this batch and not finished yet (for interrupt clean-up)."""

    calls: dict[str, str] = field(default_factory=dict)


class TurnRunner:
    """Runs the iterations of a turn for one session."""

    def __init__(self, session: Session, settings: LoopSettings, services: dict[str, Any]) -> None:
        self.s = session
        self.settings = settings
        self.services = services
        self._partial: list[str] = []
        self.running = _Running()
        self.doom = guards.DoomLoopDetector()
        self.continuation = guards.ContinuationGuard()
        self.pending_verdicts: dict[str, Verdict] = {}
        """Why the policy could not approve each pending call by itself."""

    # ------------------------------------------------------------------ helpers

    @property
    def partial_text(self) -> str:
        """The answer streamed so far in this model call (kept if the turn is interrupted)."""
        return "".join(self._partial)

    @partial_text.setter
    def partial_text(self, text: str) -> None:
        # Fragments are kept in a list: ``str +=`` on an attribute copies the whole text
        # for each fragment, quadratic over a long answer.
        self._partial = [text] if text else []

    def publish_usage(self) -> None:
        used, limit, threshold = self.s.context.usage()
        self.s.publish(ContextUsage(used=used, limit=limit, threshold=threshold))

    def publish_spend(self) -> None:
        self.s.publish(
            Spend(
                llm_usd=round(self.s.spend.llm_usd, 6),
                jobs_usd=round(self.s.spend.jobs_usd, 6),
                budget_usd=self.s.policy.budget_usd,
            )
        )

    def finish(self, text: str, reason: str) -> None:
        self.s.publish(
            TurnComplete(final_text=text, iterations=self.s.iterations, reason=reason)  # type: ignore[arg-type]
        )

    async def summarize(self, messages: list[dict[str, Any]], focus: str | None) -> str:
        """Summarise ``messages`` with the session's model (used by compaction)."""
        transcript = render_transcript(messages)
        request = SUMMARY_REQUEST + (f"\nFocus especially on: {focus}" if focus else "")
        response = await self.s.llm.complete(
            [
                {"role": "system", "content": "You write faithful, compact handoff summaries."},
                {"role": "user", "content": transcript + "\n\n" + request},
            ],
            None,
            stream=False,
        )
        self.s.spend.add_llm(response.cost_usd)
        if not response.content.strip():
            raise CompactionError("the model returned an empty summary; try /compact again")
        return response.content

    async def compact(self, *, focus: str | None = None, force: bool = False) -> bool:
        """Compact the context; publishes the outcome. False when it failed."""
        try:
            before, after = await self.s.context.compact(self.summarize, focus=focus, force=force)
        except CompactionError as exc:
            if 0 < exc.after < exc.before:  # kept (undoable) but still over the threshold
                self.s.publish(Compacted(before=exc.before, after=exc.after, undoable=True))
            self.s.publish(Error(kind="compaction", message=str(exc), recoverable=True))
            self.publish_usage()
            return False
        if after != before:
            self.s.publish(Compacted(before=before, after=after, undoable=True))
        elif force:
            self.s.publish(Notice(text="Nothing to compact yet."))
        self.publish_usage()
        return True

    # -------------------------------------------------------------------- turn

    async def run(self) -> None:
        """Iterate until the turn ends or suspends for approval."""
        overflow_retries = 0
        while True:
            if self.s.iterations >= self.settings.max_iterations:
                self.s.publish(
                    Notice(
                        level="warning",
                        text=(
                            f"Stopped after {self.settings.max_iterations} model calls in this turn "
                            "(iteration cap). Send a message to continue."
                        ),
                    )
                )
                self.finish("", "iteration_cap")
                return
            if self.s.policy.over_budget():
                self.s.publish(
                    Notice(
                        level="warning",
                        text=(
                            f"Spend ${self.s.spend.total():.2f} reached the budget "
                            f"${self.s.policy.budget_usd:.2f}; raise it with /budget to continue."
                        ),
                    )
                )
                self.finish("", "budget")
                return
            compacted_ok = not self.s.context.needs_compaction() or await self.compact()
            if not compacted_ok and self.s.context.tokens() >= self.s.context.limit:
                self.finish("", "error")
                return
            self.apply_guards()

            try:
                response = await self.call_model()
            except ContextOverflowError as exc:
                overflow_retries += 1
                self.s.publish(
                    Notice(level="warning", text=f"Context overflow: {exc}. Compacting.")
                )
                if overflow_retries > MAX_OVERFLOW_RETRIES or not await self.compact(force=True):
                    self.s.publish(
                        Error(kind="context_overflow", message=str(exc), recoverable=True)
                    )
                    self.finish("", "error")
                    return
                continue
            except LLMError as exc:
                self.s.publish(Error(kind=exc.kind, message=str(exc), recoverable=True))
                self.finish("", "error")
                return
            self.s.iterations += 1
            if not await self.handle_response(response):
                return

    async def call_model(self) -> LLMResponse:
        self.partial_text = ""

        def on_text(text: str) -> None:
            self._partial.append(text)
            self.s.publish(AssistantDelta(text=text))

        def on_reasoning(text: str) -> None:
            self.s.publish(ReasoningDelta(text=text))

        def on_retry(message: str) -> None:
            self.partial_text = ""
            self.s.publish(Notice(level="warning", text=message))

        response = await self.s.llm.complete(
            self.s.context.for_llm(),
            self.s.router.specs() or None,
            stream=self.settings.stream,
            on_text=on_text,
            on_reasoning=on_reasoning,
            on_retry=on_retry,
        )
        self.partial_text = ""
        self.s.spend.add_llm(response.cost_usd)
        self.publish_spend()
        return response

    def apply_guards(self) -> None:
        notes = self.services.get(NOTES_SERVICE)
        if isinstance(notes, SystemNotes) and (text := notes.drain()):
            self.s.context.inject(text, origin="notes")  # background jobs, since the last call
        finding = self.doom.check(self.s.context.messages)
        if finding is not None:
            self.s.context.inject(finding.prompt)
            self.s.publish(LoopWarning(kind=finding.kind, detail=finding.detail))
        prompt = guards.malformed_repetition(self.s.context.messages)
        if prompt:
            self.s.context.inject(prompt)
            self.s.publish(
                LoopWarning(kind="malformed_arguments", detail="repeated invalid tool arguments")
            )

    async def handle_response(self, response: LLMResponse) -> bool:
        """Record the response and run its tools. False when the turn ended or suspended."""
        text = response.content
        calls = response.tool_calls
        if response.finish_reason == "length" and calls:
            if text:
                self.s.context.add({"role": "assistant", "content": text})
                self.s.publish(AssistantMessage(text=text))
            names = [c.name for c in calls]
            self.s.context.inject(guards.truncated_output_prompt(names))
            self.s.publish(
                LoopWarning(kind="output_truncated", detail=f"dropped calls: {', '.join(names)}")
            )
            return True

        message: dict[str, Any] = {"role": "assistant", "content": text or None}
        if calls:
            message["tool_calls"] = [
                {
                    "id": c.id,
                    "type": "function",
                    "function": {"name": c.name, "arguments": c.arguments},
                }
                for c in calls
            ]
        # Journaling a long answer (scrubbing it, then its event) and counting the context
        # each take a while: let the UI have the loop between them.
        self.s.context.add(message)
        await asyncio.sleep(0)
        if text:
            self.s.publish(AssistantMessage(text=text))
        await self.s.context.count_in_thread()
        self.publish_usage()

        if not calls:
            unfinished = self.s.state.unfinished_plan()
            if self.continuation.should_nudge(False, unfinished):
                self.s.context.inject(guards.continuation_prompt(unfinished))
                self.s.publish(
                    LoopWarning(
                        kind="continuation", detail=f"{len(unfinished)} plan items unfinished"
                    )
                )
                return True
            self.finish(text, "done")
            return False
        self.continuation.should_nudge(True, [])
        await self.dispatch(calls)
        if self.s.pending:
            self.request_approval()
            return False
        return True

    # ------------------------------------------------------------------- tools

    def context_for(self, call_id: str) -> ToolContext:
        def progress(text: str) -> None:
            self.s.publish(ToolProgress(call_id=call_id, text=text))

        return ToolContext(
            call_id=call_id,
            session_id=self.s.session_id,
            cwd=self.s.cwd,
            state=self.s.state,
            publish=self.s.publish,
            progress=progress,
            services=self.services,
            output_budget=self.settings.output_budget,
        )

    async def dispatch(self, calls: list[ToolCallRequest]) -> None:
        """Validate, classify and run the calls of one assistant message."""
        to_run: list[tuple[str, str, Any]] = []
        results: dict[str, tuple[str, ToolResultEvent]] = {}
        for call in calls:
            tool = self.s.router.get(call.name)
            parsed_args = _loads(call.arguments)
            self.s.publish(ToolCall(call_id=call.id, tool=call.name, args=parsed_args))
            if tool is None:
                known = ", ".join(self.s.router.names())
                results[call.id] = self.failure(
                    call.id,
                    f"{guards.MALFORMED_PREFIX}{call.name}: no such tool. Available: {known}",
                )
                continue
            try:
                args = parse_arguments(tool, call.arguments)
            except BadArguments as exc:
                results[call.id] = self.failure(
                    call.id, f"{guards.MALFORMED_PREFIX}{call.name}: {exc}. The call was not run."
                )
                continue
            ctx = self.context_for(call.id)
            try:
                request = tool.approval(args, ctx)
            except ToolError as exc:
                results[call.id] = self.failure(call.id, f"Error: {exc}")
                continue
            verdict = self.s.policy.decide(call.name, request, call_id=call.id)
            if verdict.action == "run" or request is None:
                to_run.append((call.id, call.name, args))
            else:
                self.s.pending.append(PendingCall(call.id, call.name, args, request))
                self.pending_verdicts[call.id] = verdict
        finished = await self.run_tools(to_run)
        results.update(finished)
        for call in calls:
            if call.id in results:
                content, event = results[call.id]
                self.s.context.add({"role": "tool", "tool_call_id": call.id, "content": content})
                self.s.publish(event)
        self.publish_usage()

    def failure(
        self, call_id: str, message: str, status: str = "failed"
    ) -> tuple[str, ToolResultEvent]:
        summary = message.splitlines()[0][:120] if message else status
        return message, ToolResultEvent(
            call_id=call_id,
            ok=False,
            summary=summary,
            output=message,
            status=status,  # type: ignore[arg-type]
        )

    async def run_tools(
        self, batch: list[tuple[str, str, Any]]
    ) -> dict[str, tuple[str, ToolResultEvent]]:
        """Run calls concurrently; results by call id."""
        if not batch:
            return {}
        for call_id, name, _ in batch:
            self.running.calls[call_id] = name
        outcomes = await asyncio.gather(
            *(self.run_one(cid, name, args) for cid, name, args in batch)
        )
        return dict(zip([cid for cid, _, _ in batch], outcomes, strict=True))

    async def run_one(self, call_id: str, name: str, args: Any) -> tuple[str, ToolResultEvent]:
        tool = self.s.router.get(name)
        assert tool is not None
        started = time.monotonic()
        try:
            result = await tool.run(args, self.context_for(call_id))
        except ToolError as exc:
            result = ToolResult(ok=False, summary=str(exc)[:120], output=f"Error: {exc}")
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a tool bug must not end the session
            log.exception("tool %s crashed", name)
            result = ToolResult(
                ok=False,
                summary=f"{type(exc).__name__}: {exc}"[:120],
                output=f"Error: the {name} tool failed unexpectedly: {type(exc).__name__}: {exc}",
            )
        finally:
            self.s.spend.release(call_id)
        # Forgotten only when finished: after a cancellation after_interrupt() needs it.
        self.running.calls.pop(call_id, None)
        output, was_cut = cut_text(result.output, self.settings.output_budget)
        elapsed = time.monotonic() - started
        event = ToolResultEvent(
            call_id=call_id,
            ok=result.ok,
            summary=result.summary,
            output=output,
            truncated=result.truncated or was_cut,
            status="ok" if result.ok else "failed",
            data={**(result.data or {}), "elapsed_s": round(elapsed, 3)},
        )
        return output if result.ok or output.startswith("Error") else f"Error: {output}", event

    def request_approval(self) -> None:
        items = [
            to_item(p.call_id, p.tool, p.request, self.pending_verdicts.get(p.call_id))
            for p in self.s.pending
        ]
        self.s.publish(ApprovalRequired(items=items))

    async def resolve_approvals(self, decisions: dict[str, tuple[bool, str | None, bool]]) -> None:
        """Run approved pending calls, record rejections, then the turn continues."""
        pending, self.s.pending = self.s.pending, []
        self.pending_verdicts.clear()
        to_run: list[tuple[str, str, Any]] = []
        results: dict[str, tuple[str, ToolResultEvent]] = {}
        for call in pending:
            approved, feedback, remember = decisions.get(call.call_id, (False, None, False))
            if approved:
                if remember:
                    self.s.policy.remember(call.tool, call.request)
                self.s.publish(ToolProgress(call_id=call.call_id, text="approved"))
                to_run.append((call.call_id, call.tool, call.args))
            else:
                note = "The user rejected this call; it was not run."
                if feedback:
                    note += f" Their feedback: {_clean(feedback)}"
                results[call.call_id] = self.failure(call.call_id, note, status="rejected")
        results.update(await self.run_tools(to_run))
        for call in pending:
            content, event = results[call.call_id]
            self.s.context.add({"role": "tool", "tool_call_id": call.call_id, "content": content})
            self.s.publish(event)
        self.publish_usage()

    def abandon_pending(self, reason: str, status: str = "abandoned") -> None:
        """Close pending calls without running them (new input, interrupt, new session)."""
        for call in self.s.pending:
            content, event = self.failure(call.call_id, reason, status=status)
            self.s.context.add({"role": "tool", "tool_call_id": call.call_id, "content": content})
            self.s.publish(event)
        self.s.pending = []

    def after_interrupt(self) -> None:
        """Leave the history consistent after the turn task was cancelled."""
        if self.partial_text.strip():
            self.s.context.add({"role": "assistant", "content": self.partial_text})
            self.s.publish(AssistantMessage(text=self.partial_text))
        self.partial_text = ""
        for call_id in list(self.running.calls):
            content, event = self.failure(
                call_id, "Cancelled by the user (interrupt).", "cancelled"
            )
            self.s.context.add({"role": "tool", "tool_call_id": call_id, "content": content})
            self.s.publish(event)
        self.running.calls.clear()
        self.abandon_pending("Not run: the user interrupted the turn.", status="cancelled")


def _loads(raw: str) -> dict[str, Any]:
    try:
        value = json.loads(raw) if raw.strip() else {}
    except json.JSONDecodeError:
        return {"_raw": raw[:2000]}
    return value if isinstance(value, dict) else {"_value": value}


def _clean(text: str) -> str:
    return "".join(ch for ch in text if ch.isprintable() or ch in "\n\t").strip()


def render_transcript(messages: list[dict[str, Any]], per_message: int = 4000) -> str:
    """Messages as plain text for the summariser (long contents cut)."""
    lines: list[str] = []
    for message in messages:
        role = str(message.get("role", "?")).upper()
        content = str(message.get("content") or "")
        if len(content) > per_message:
            content = content[: per_message // 2] + "\n[...]\n" + content[-per_message // 2 :]
        if message.get("tool_calls"):
            calls = ", ".join(
                f"{c['function']['name']}({c['function']['arguments'][:300]})"
                for c in message["tool_calls"]
            )
            content = f"{content}\n[tool calls: {calls}]".strip()
        lines.append(f"{role}: {content}")
    return "\n\n".join(lines)
