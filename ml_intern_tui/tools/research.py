"""``research``: a read-only sub-agent that investigates one question and returns a brief.

Own message list and budget; the session's model (``llm_factory`` service) with only the
session's read-only tools (``router`` service): it never writes, uploads, spends or runs
commands, and other tools are refused. Its calls run without approval, concurrently, and
their events carry ``parent_id`` = the research call's id (the tool tree nests them). Its
LLM cost is added to the session spend (``spend`` service).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import re
import time
from collections import Counter
from dataclasses import replace
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ml_intern_tui.core.guards import DoomLoopDetector
from ml_intern_tui.core.llm import LLMError, LLMResponse, ToolCallRequest, context_limit
from ml_intern_tui.core.money import usd
from ml_intern_tui.core.protocol import AssistantMessage, ToolCall, ToolProgress, ToolResultEvent
from ml_intern_tui.core.tool import (
    BadArguments,
    Tool,
    ToolContext,
    ToolError,
    ToolResult,
    ToolRouter,
    cut_text,
    parse_arguments,
    require,
)

log = logging.getLogger(__name__)
Status = Literal["ok", "failed", "cancelled"]

TOOL_OUTPUT_CHARS = 8000
"""Characters of one tool output the sub-agent's model sees."""
DEFAULT_TOKEN_BUDGET = 150_000
WRAP_UP_AT = 0.8
"""Share of the token budget after which the sub-agent is told to wrap up."""
BUDGET_TAG = "[SYSTEM: RESEARCH BUDGET]"
WRAP_UP_PROMPT = (
    f"{BUDGET_TAG} You are close to the end of your research budget. Make at most one more "
    "round of tool calls, then write your final summary with its Sources section."
)
FINAL_PROMPT = (
    BUDGET_TAG + " Stop researching now: the {reason} is reached. Do not call tools. Write "
    "your final summary from what you found so far, with its Sources section, and say what "
    "remains unverified."
)
EXCLUDED_TOOLS = frozenset({"research", "plan", "jobs"})
"""Read-only tools research still may not use: itself (no recursion) and the session's
own plan and jobs, which belong to the main agent."""
MIXED_TOOLS = frozenset({"hf_repo_files"})
"""Tools with read operations (list, read) and writing ones (upload, delete): research
may call them, and every call that would need a person's approval is refused."""

SYSTEM_PROMPT = """\
You are the research sub-agent of an assistant that does machine-learning engineering.
The main agent hands you one question; you investigate it with read-only tools and hand
back a short, sourced brief it can act on. Today is {date}.

How to work:
- Start from the literature and the official documentation: which method, model and
  settings are known to work, and why.
- Then check the concrete material: the datasets (their columns and formats) and working
  code, above all the example scripts and notebooks kept in the library's own repository.
- Tie every result to its exact recipe: model, dataset, method, the key hyper-parameters
  (learning rate, batch size, epochs, sequence length) and the hardware when stated.
- Prefer current, maintained sources; say when something looks outdated or uncertain.
- Be economical: read the relevant sections and files, not everything. Stop as soon as
  the question is answered.

You cannot write files, run commands, upload or spend money. When something needs that,
say what the main agent should do.

Tools available to you: {tools}.

Your final answer (a message without tool calls) is a concise summary of about 300-800
words: the answer first, then the recipe(s) and the code patterns worth reusing, then
open questions. Cite every claim with its source (URL or repository path) inline, and end
with a "Sources" section listing each source on its own line."""

_URL_RE = re.compile(r"https?://[^\s<>()\[\]\"'`]+")


class ResearchArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    task: str = Field(
        min_length=1,
        description=(
            "The question to investigate, self-contained (e.g. 'best GRPO recipe for a 0.5B "
            "model on GSM8K: hyper-parameters, dataset format, working example code')."
        ),
    )
    context: str | None = Field(
        None,
        description="What is known already: the user's goal, constraints, model and dataset names.",
    )
    max_iterations: int = Field(
        20, ge=1, le=60, description="Model calls the sub-agent may make (default 20, at most 60)."
    )


def _loads(raw: str) -> dict[str, Any]:
    try:
        value = json.loads(raw) if raw.strip() else {}
    except json.JSONDecodeError:
        return {"_raw": raw[:2000]}
    return value if isinstance(value, dict) else {"_value": value}


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def activity(calls: list[ToolCallRequest]) -> str:
    """A progress line for a batch of calls: ``calling github_read_file ×2, hf_papers…``."""
    counts = Counter(call.name for call in calls)
    return (
        "calling " + ", ".join(f"{n}{f' ×{k}' if k > 1 else ''}" for n, k in counts.items()) + "…"
    )


def extract_sources(text: str) -> list[str]:
    """The entries of the answer's "Sources" section, else every URL it cites."""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if re.fullmatch(r"\s*(#+\s*)?\**sources\**:?\**\s*", line, flags=re.IGNORECASE):
            entries = [
                re.sub(r"^\s*(?:[-*•]|\d+[.)])\s*", "", item).strip() for item in lines[index + 1 :]
            ]
            found = [entry for entry in entries if entry]
            if found:
                return list(dict.fromkeys(found))
    return list(dict.fromkeys(url.rstrip(".,;:") for url in _URL_RE.findall(text)))


class ResearchTool(Tool):
    """Investigate a question with a read-only sub-agent and return a sourced summary."""

    name = "research"
    description = (
        "Delegate a research question to a sub-agent with its own context: it reads papers, "
        "docs, datasets and example code with read-only tools and returns a concise summary "
        "with sources (recipes, hyper-parameters, code patterns). Use it before writing "
        "training code for an unfamiliar method; it cannot write, run commands or spend."
    )
    Args = ResearchArgs
    read_only = True

    def __init__(
        self,
        *,
        token_budget: int = DEFAULT_TOKEN_BUDGET,
        tool_output_chars: int = TOOL_OUTPUT_CHARS,
    ) -> None:
        self.token_budget = token_budget
        self.tool_output_chars = tool_output_chars

    async def run(self, args: ResearchArgs, ctx: ToolContext) -> ToolResult:
        llm = require(ctx.services.llm_factory, "llm_factory")()
        router: ToolRouter = require(ctx.services.router, "router")
        tools = router.subset(
            lambda t: (t.read_only or t.name in MIXED_TOOLS) and t.name not in EXCLUDED_TOOLS
        )
        budget = self.token_budget
        route = getattr(llm, "route", None)
        if route is not None:  # stay well inside the model's own window
            limit = await asyncio.to_thread(context_limit, route.litellm_model)
            budget = min(budget, int(limit * 0.9))
        run = _ResearchRun(args, ctx, llm, tools, budget, self.tool_output_chars)
        return await run.execute()


class _ResearchRun:
    """One research call: the sub-agent's conversation, its counters and its events."""

    def __init__(
        self,
        args: ResearchArgs,
        ctx: ToolContext,
        llm: Any,
        tools: ToolRouter,
        token_budget: int,
        output_chars: int,
    ) -> None:
        self.args, self.ctx, self.llm, self.tools = args, ctx, llm, tools
        self.token_budget, self.output_chars = token_budget, output_chars
        self.spend = ctx.services.spend
        self.calls = self.iterations = self.tokens = self.loop_warnings = 0
        self.cost, self.nudged = 0.0, False
        self.unpriced = 0
        self.consulted: list[str] = []
        self.doom = DoomLoopDetector()
        names = ", ".join(tools.names()) or "none"
        task = f"Research task: {args.task}"
        if args.context:
            task += f"\n\nContext from the main agent:\n{args.context}"
        date = dt.date.today().isoformat()
        self.messages: list[dict[str, Any]] = [
            {"role": "system", "content": SYSTEM_PROMPT.format(date=date, tools=names)},
            {"role": "user", "content": task},
        ]

    # ------------------------------------------------------------------ loop

    async def execute(self) -> ToolResult:
        self.ctx.progress(f"researching: {_short(self.args.task)}")
        specs = self.tools.specs() or None
        stop_reason = ""
        final: str | None = None
        while final is None:
            if self.iterations >= self.args.max_iterations:
                stop_reason = f"iteration limit ({self.args.max_iterations})"
            elif self.tokens >= self.token_budget:
                stop_reason = f"token budget ({self.token_budget:,})"
            elif self.loop_warnings > 1:
                stop_reason = "repetition guard"
            if stop_reason:
                break
            self._apply_guards()
            response = await self._ask(specs)
            if not response.tool_calls:
                final = response.content.strip()
                break
            self._record(response)
            await self._run_calls(response.tool_calls)
        if final is None:
            final = await self._forced_answer(stop_reason)
        return self._result(final, stop_reason)

    def _apply_guards(self) -> None:
        finding = self.doom.check(self.messages)
        if finding is not None:
            self.loop_warnings += 1
            self.messages.append({"role": "user", "content": finding.prompt})
            self.ctx.progress(f"loop warning: {finding.detail}")
        left = self.args.max_iterations - self.iterations
        near_budget = self.tokens >= self.token_budget * WRAP_UP_AT
        if not self.nudged and (near_budget or (left <= 2 and self.args.max_iterations > 3)):
            self.nudged = True
            self.messages.append({"role": "user", "content": WRAP_UP_PROMPT})

    async def _ask(self, specs: list[dict[str, Any]] | None) -> LLMResponse:
        try:
            response: LLMResponse = await self.llm.complete(self.messages, specs, stream=False)
        except LLMError as exc:
            raise ToolError(
                f"research stopped after {self.calls} tool calls: the model call failed: {exc}"
            ) from exc
        self.iterations += 1
        self.cost += response.cost_usd
        self.unpriced += response.cost is not None and not response.cost.priced
        if self.spend is not None:  # unpriced sub-agent calls count as unpriced, not free
            self.spend.add_call(response.cost, response.cost_usd)
        used = response.usage.total_tokens or len(json.dumps(self.messages)) // 4
        self.tokens = max(self.tokens, used)
        self.ctx.progress(f"{self.tokens / 1000:.1f}k tokens · {_count(self.calls, 'tool call')}")
        return response

    def _record(self, response: LLMResponse) -> None:
        calls = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in response.tool_calls
        ]
        message = {"role": "assistant", "content": response.content or None, "tool_calls": calls}
        if response.thinking_blocks:  # Claude wants them back within the tool loop
            message["thinking_blocks"] = response.thinking_blocks
        self.messages.append(message)
        if response.content.strip():
            self.ctx.publish(AssistantMessage(text=response.content, parent_id=self.ctx.call_id))

    async def _forced_answer(self, reason: str) -> str:
        self.ctx.progress(f"wrapping up: {reason} reached")
        self.messages.append({"role": "user", "content": FINAL_PROMPT.format(reason=reason)})
        try:
            response = await self._ask(None)
        except ToolError as exc:
            log.info("forced research summary failed: %s", exc)
            return ""
        return response.content.strip()

    # ------------------------------------------------------------------ tools

    async def _run_calls(self, calls: list[ToolCallRequest]) -> None:
        self.ctx.progress(activity(calls))
        outputs = await asyncio.gather(*(self._run_one(call) for call in calls))
        for call, output in zip(calls, outputs, strict=True):
            self.messages.append({"role": "tool", "tool_call_id": call.id, "content": output})
            self.tokens += len(output) // 4

    def _sub_context(self, sub_id: str) -> ToolContext:
        def progress(text: str) -> None:
            self.ctx.publish(ToolProgress(call_id=sub_id, text=text))

        # Same cwd, state, services and publish; its own id, progress and output budget.
        return replace(self.ctx, call_id=sub_id, progress=progress, output_budget=self.output_chars)

    async def _run_one(self, call: ToolCallRequest) -> str:
        sub_id = f"{self.ctx.call_id}/{call.id}"  # model ids repeat across agents; keep unique
        raw_args = _loads(call.arguments)
        self.ctx.publish(
            ToolCall(call_id=sub_id, tool=call.name, args=raw_args, parent_id=self.ctx.call_id)
        )
        self.calls += 1
        self.consulted.append(f"{call.name} {_short(json.dumps(raw_args), 100)}")
        started = time.monotonic()
        try:
            result = await self._execute(call, sub_id)
        except asyncio.CancelledError:
            cancelled = ToolResult(ok=False, summary="cancelled", output="Cancelled: interrupted.")
            self._publish_result(sub_id, cancelled, "cancelled", started)
            raise
        return self._publish_result(sub_id, result, "ok" if result.ok else "failed", started)

    def _publish_result(
        self, sub_id: str, result: ToolResult, status: Status, started: float
    ) -> str:
        """Publish a nested call's result; returns the output its model sees."""
        output, was_cut = cut_text(result.output, self.output_chars)
        if not result.ok and not output.startswith(("Error", "Cancelled")):
            output = f"Error: {output}"
        self.ctx.publish(
            ToolResultEvent(
                call_id=sub_id,
                ok=result.ok,
                summary=result.summary,
                output=output,
                truncated=result.truncated or was_cut,
                status=status,
                data={**(result.data or {}), "elapsed_s": round(time.monotonic() - started, 3)},
                parent_id=self.ctx.call_id,
            )
        )
        return output

    async def _execute(self, call: ToolCallRequest, sub_id: str) -> ToolResult:
        tool = self.tools.get(call.name)
        if tool is None:
            allowed = ", ".join(self.tools.names()) or "none"
            return _failure(
                f"`{call.name}` is not available to research: only read-only tools are "
                f"({allowed}). Research never writes, uploads, spends or runs commands; say "
                "in your summary what the main agent should do instead."
            )
        try:
            args = parse_arguments(tool, call.arguments)
            ctx = self._sub_context(sub_id)
            if tool.approval(args, ctx) is not None:
                return _failure(
                    f"this `{call.name}` call needs a human's approval, which research cannot "
                    "ask for; leave it to the main agent."
                )
            return await tool.run(args, ctx)
        except BadArguments as exc:
            return _failure(f"{exc}. The call was not run.")
        except ToolError as exc:
            return _failure(str(exc))
        except Exception as exc:  # a tool bug must not end the research
            log.exception("tool %s crashed inside research", call.name)
            return _failure(f"the {call.name} tool crashed: {type(exc).__name__}: {exc}")

    def _result(self, final: str, stop_reason: str) -> ToolResult:
        data: dict[str, Any] = {
            "sources": extract_sources(final),
            "calls": self.calls,
            "cost_usd": round(self.cost, 6),
            "unpriced_calls": self.unpriced,
            "iterations": self.iterations,
            "tokens": self.tokens,
            "consulted": self.consulted,
        }
        calls = _count(self.calls, "call")
        money = usd(self.cost)
        if self.unpriced:
            money = "unpriced" if self.cost <= 0 else f"{money}+unpriced"
        head = f"researched: {_short(self.args.task)} · {calls} · {money}"
        if not final:
            lines = "\n".join(f"- {item}" for item in self.consulted) or "- nothing"
            output = (
                f"Research stopped ({stop_reason or 'empty answer'}) before the sub-agent wrote "
                f"a summary. Tool calls it made:\n{lines}"
            )
            return ToolResult(ok=False, summary=head + " · no summary", output=output, data=data)
        if stop_reason:
            final += (
                f"\n\n(Research stopped at its {stop_reason}; the summary covers what it found.)"
            )
            data["stopped"] = stop_reason
        return ToolResult(summary=head, output=final, data=data)


def _failure(message: str) -> ToolResult:
    return ToolResult(ok=False, summary=_short(message, 120), output=f"Error: {message}")
