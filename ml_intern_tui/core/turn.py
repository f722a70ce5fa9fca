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

from ml_intern_tui.core import guards, known_secrets
from ml_intern_tui.core.approval import Verdict, to_item
from ml_intern_tui.core.context import CompactionError
from ml_intern_tui.core.llm import ContextOverflowError, LLMError, LLMResponse, ToolCallRequest
from ml_intern_tui.core.overflow import (
    MAX_OVERFLOW_RETRIES,
    cut_notices,
    learn_from_overflow,
    outgrow_window,
    overflow_target,
    roll_back_turn,
)
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
    ToolCall,
    ToolProgress,
    ToolResultEvent,
    TurnComplete,
)
from ml_intern_tui.core.reasoning_heal import ReasoningHeal
from ml_intern_tui.core.services import Services
from ml_intern_tui.core.session import LoopSettings, PendingCall, Session
from ml_intern_tui.core.spend_guard import SpendGuard, without_question
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
SUMMARY_INPUT_SHARE = 0.6
"""Of the context window, the most the transcript given to the summariser may take."""


@dataclass
class _Running:
    """Calls started in this batch and not finished yet (for interrupt clean-up)."""

    calls: dict[str, str] = field(default_factory=dict)


class TurnRunner:
    """Runs the iterations of a turn for one session."""

    def __init__(self, session: Session, settings: LoopSettings, services: Services) -> None:
        self.s = session
        self.settings = settings
        self.services = services
        self._partial: list[str] = []
        self.running = _Running()
        self.doom = guards.DoomLoopDetector()
        self.continuation = guards.ContinuationGuard()
        self.pending_verdicts: dict[str, Verdict] = {}
        """Why the policy could not approve each pending call by itself."""
        self.sent_raw = 0
        """Our count of the last request sent to the model (the server's corrects it)."""
        self.compaction_problem = ""
        """Why the last compaction failed (when it was not reported as an error)."""
        self.money = SpendGuard(session)
        self.reasoning = ReasoningHeal()

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
        self.s.publish(self.s.spend.event(self.s.policy.budget_usd))

    def finish(self, text: str, reason: str) -> None:
        self.s.publish(
            TurnComplete(final_text=text, iterations=self.s.iterations, reason=reason)  # type: ignore[arg-type]
        )

    async def summarize(self, messages: list[dict[str, Any]], focus: str | None) -> str:
        """Summarise ``messages`` with the session's model (used by compaction)."""
        # ~3 characters a token: a transcript this long fits the window with room to answer.
        budget = max(4000, int(self.s.context.limit * SUMMARY_INPUT_SHARE * 3))
        transcript = bounded_transcript(messages, budget)
        request = SUMMARY_REQUEST + (f"\nFocus especially on: {focus}" if focus else "")
        response = await self.s.llm.complete(
            [
                {"role": "system", "content": "You write faithful, compact handoff summaries."},
                {"role": "user", "content": transcript + "\n\n" + request},
            ],
            None,
            stream=False,
        )
        self.s.spend.add_call(response.cost, response.cost_usd)
        self.publish_spend()
        if not response.content.strip():
            raise CompactionError("the model returned an empty summary; try /compact again")
        return response.content

    async def compact(
        self,
        *,
        focus: str | None = None,
        force: bool = False,
        fit: bool = False,
        target: int | None = None,
        report: bool = True,
    ) -> bool:
        """Compact the context; publishes the outcome. False when it failed.

        With ``report=False`` a failure is not published as an error: the caller says it
        (``compaction_problem`` holds why).
        """
        context = self.s.context
        try:
            before, after = await context.compact(
                self.summarize, focus=focus, force=force, fit=fit, target=target
            )
        except CompactionError as exc:
            if 0 < exc.after < exc.before:  # kept (undoable) but still over the threshold
                self.s.publish(Compacted(before=exc.before, after=exc.after, undoable=True))
                self._announce_cuts()
            self.compaction_problem = str(exc)
            if report:
                self.s.publish(Error(kind="compaction", message=str(exc), recoverable=True))
            self.publish_usage()
            return False
        if after != before:
            self.s.publish(Compacted(before=before, after=after, undoable=True))
            self._announce_cuts()
        elif force:
            self.s.publish(Notice(text="Nothing to compact yet."))
        self.publish_usage()
        return True

    def _announce_cuts(self) -> None:
        for notice in cut_notices(self.s, self.s.context.cuts):
            self.s.publish(notice)

    async def recover_overflow(self, exc: ContextOverflowError, attempt: int) -> bool:
        """After an overflow error: learn, compact to fit. False when the turn ended."""
        learn_from_overflow(self.s, exc, self.sent_raw, self.settings.context_limit)
        if attempt >= MAX_OVERFLOW_RETRIES:
            return self.give_up(f"it was still too long after {attempt} compactions ({exc})")
        self.s.publish(Notice(level="warning", text=f"Context overflow: {exc}. Compacting."))
        target = overflow_target(self.s, exc, attempt)
        if not await self.compact(force=True, fit=True, target=target, report=False):
            return self.give_up(self.compaction_problem)
        return True

    def give_up(self, why: str) -> bool:
        """End a turn that cannot fit the window: it is taken back. Always False."""
        if not roll_back_turn(self.s, why):
            self.s.publish(Error(kind="context_overflow", message=why, recoverable=True))
        self.finish("", "error")
        return False

    # -------------------------------------------------------------------- turn

    async def run(self) -> None:
        """Iterate until the turn ends or suspends for approval."""
        overflow_retries = 0
        while True:
            if self.money.take_declined():
                self.finish("", "budget")
                return
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
            # A compaction that cannot get under the threshold does not stop the call: the
            # window we know may be stale (a server restarted with more), the server judges.
            await self.s.context.count_in_thread()  # a resumed history: off the loop
            if self.s.context.needs_compaction() and not await self.compact(report=False):
                self.s.publish(
                    Notice(level="warning", text=f"Compaction: {self.compaction_problem}")
                )
            self.apply_guards()
            question = await self.money.question()
            if question is not None:  # yolo cannot check the budget: ask a person first
                self.s.pending.append(question[0])
                self.pending_verdicts[question[0].call_id] = question[1]
                self.request_approval()
                return

            try:
                response = await self.call_model()
            except ContextOverflowError as exc:
                if not await self.recover_overflow(exc, overflow_retries):
                    return
                overflow_retries += 1
                continue
            except LLMError as exc:
                if await self.reasoning.heal(self.s, exc, self.services.effort):
                    continue  # a refused reasoning setting, fixed: the call is made again
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

        await self.reasoning.before_call(self.s, self.services.effort)
        await self.s.context.count_in_thread()
        self.sent_raw = self.s.context.raw_tokens()
        response = await self.s.llm.complete(
            self.s.context.for_llm(),
            self.s.router.specs() or None,
            stream=self.settings.stream,
            on_text=on_text,
            on_reasoning=on_reasoning,
            on_retry=on_retry,
        )
        self.partial_text = ""
        self.reasoning.after_call(self.s)
        if response.usage.prompt_tokens:  # the server's count calibrates ours
            self.s.context.observe(self.sent_raw, response.usage.prompt_tokens)
            outgrow_window(self.s, response.usage.prompt_tokens)
        self.money.count_call(response)
        self.publish_spend()
        return response

    def apply_guards(self) -> None:
        notes = self.services.notes
        if notes is not None and (text := notes.drain()):
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
        if response.thinking_blocks:  # Anthropic wants them back within the tool loop
            message["thinking_blocks"] = response.thinking_blocks
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
            files_dir=self.s.files_dir,
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
                await tool.prepare(args, ctx)
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
                self.add_tool_message(call.id, content)
                self.s.publish(event)
        await self.s.context.count_in_thread()  # a long output is counted off the loop
        self.publish_usage()

    def add_tool_message(self, call_id: str, content: str) -> None:
        """Put a tool's output into the conversation, known secret values scrubbed first:
        what a command printed of the environment never reaches a request body."""
        known_secrets.refresh()  # a token saved since the last call (``hf auth login``)
        content = known_secrets.scrub(content)
        self.s.context.add({"role": "tool", "tool_call_id": call_id, "content": content})

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
        pending = self.money.answer(pending, decisions)
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
            self.add_tool_message(call.call_id, content)
            self.s.publish(event)
        await self.s.context.count_in_thread()
        self.publish_usage()

    def abandon_pending(self, reason: str, status: str = "abandoned") -> None:
        """Close pending calls without running them (new input, interrupt, new session)."""
        self.s.pending = without_question(self.s.pending)
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


def bounded_transcript(messages: list[dict[str, Any]], max_chars: int) -> str:
    """``render_transcript`` within ``max_chars``: long messages cut shorter, then the middle."""
    text = ""
    for per_message in (4000, 2000, 1000, 500, 250):
        text = render_transcript(messages, per_message)
        if len(text) <= max_chars:
            return text
    half = max_chars // 2
    gap = "\n\n[... the middle of the transcript was left out to fit the context window ...]\n\n"
    return text[:half] + gap + text[-half:]


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
