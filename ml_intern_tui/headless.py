"""Headless mode: run one prompt to the end and print it, as text or JSON lines.

Text output is the assistant's Markdown as plain text on stdout, and only that (so
``ml-intern-tui -p … > answer.md`` keeps just the answer); each tool call, its result and
plan/job progress are one line each on stderr.
``--json`` prints every event, one per line, exactly as the journal keeps them. A resumed
session's past (its ``history`` event, ``core/resume.py``) is not output: text mode
prints only the "Resumed session … (N messages, model)" notice, on stderr when it is a
terminal, and ``--json`` prints the ``history`` line only with ``--json-history``. Exit
codes (see ``cli.py``): 0 done, 1 agent error, 3 stopped for a human (an approval this
mode may not grant, or the budget), 130 interrupted.

Both outputs are redacted as the journal is (``core/redact_events.py``: streamed prose
comes out word by word, a line that may hold a secret once it is whole, so a secret
split between two deltas is still caught), and nothing a terminal would act on is
written: text output shows control characters and escape sequences visibly
(``safety/terminal.py``), ``--json`` escapes them.

MCP servers connect in the background (a slow one never delays the app), but a one-shot
run has a single first turn: the prompt waits until every enabled server is ready or has
failed, within the servers' own connection limits and at most ``MCP_WAIT_CAP_S``. A
server that fails is one warning line on stderr; the run goes on without its tools.
When auto mode has no OS sandbox here, that is one warning line on stderr too, always.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import signal
import sys
from collections.abc import Callable
from typing import Any, TextIO, cast

from ml_intern_tui.core.effort import NOTICE_PREFIXES
from ml_intern_tui.core.money import usd
from ml_intern_tui.core.protocol import (
    JOB_FINISHED_STATUSES,
    ApprovalItem,
    ApprovalRequired,
    AssistantDelta,
    AssistantMessage,
    Compacted,
    Error,
    EventBase,
    History,
    Interrupt,
    Interrupted,
    JobMetrics,
    JobUpdated,
    LoopWarning,
    McpStatus,
    Notice,
    PlanUpdated,
    Ready,
    SandboxStatus,
    Shutdown,
    Spend,
    ToolCall,
    ToolResultEvent,
    TurnComplete,
    UserInput,
    event_to_json,
)
from ml_intern_tui.core.redact import redact_text
from ml_intern_tui.core.redact_events import EventRedactor
from ml_intern_tui.exit_codes import EXIT_AGENT_ERROR, EXIT_INTERRUPTED, EXIT_NEEDS_HUMAN, EXIT_OK
from ml_intern_tui.job_lines import LatestMetrics
from ml_intern_tui.safety.terminal import TerminalSafeWriter, json_terminal_safe


class TextPrinter:
    """Renders events as readable text: the answer on stdout; tool, plan and job lines
    on stderr (always), status and notices on stderr when it is a terminal."""

    def __init__(
        self,
        out: TextIO,
        err: TextIO,
        *,
        streaming: bool,
        hide: Callable[[EventBase], bool] = lambda _event: False,
    ) -> None:
        self.out = out
        self.err = err
        self.hide = hide
        """Events someone else already reported (an MCP failure's notice)."""
        # Status lines (model, retries, notices) are for a person watching; a script
        # reading stderr gets only the final one-line outcome.
        self.show_status = err.isatty()
        self.streaming = streaming
        self.at_line_start = True
        self.streamed = False
        self.spend: Spend | None = None
        self.job_metrics = LatestMetrics()
        """Each job's last values: the line printed when it ends shows them."""

    def _write(self, text: str) -> None:
        if text:
            self.out.write(text)
            self.at_line_start = text.endswith("\n")
            self.out.flush()

    def _line(self, text: str) -> None:
        if not self.at_line_start:
            self._write("\n")
        self._write(text + "\n")

    def _progress(self, text: str) -> None:
        """A tool or plan line: on stderr, always (stdout holds only the answer)."""
        if not self.at_line_start:  # the two may share a terminal: never mid-answer
            self._write("\n")
        self.err.write(text + "\n")
        self.err.flush()

    def __call__(self, event: EventBase) -> None:
        if isinstance(event, AssistantDelta):
            self.streamed = True
            self._write(event.text)
        elif isinstance(event, AssistantMessage):
            if not self.streamed:
                self._line(event.text)
            elif not self.at_line_start:
                self._write("\n")
            self.streamed = False
        elif isinstance(event, ToolCall):
            self._progress(f"▸ {event.tool}  {_short_args(event.args)}")
        elif isinstance(event, ToolResultEvent):
            mark = "✓" if event.ok else "✗"
            self._progress(f"  {mark} {event.summary}")
        elif isinstance(event, PlanUpdated):
            done = sum(1 for i in event.items if i.status == "completed")
            self._progress(f"  plan: {done}/{len(event.items)} done")
        elif isinstance(event, JobUpdated):
            done = event.status.lower() in JOB_FINISHED_STATUSES
            metrics = self.job_metrics.line(event.job_id) if done else ""
            self._progress(f"  job {event.job_id}: {event.status}{metrics}")
        elif isinstance(event, JobMetrics):
            self.job_metrics.add(event)
        elif isinstance(event, Spend):
            self.spend = event
        elif not self.show_status or self.hide(event):
            return
        elif isinstance(event, TurnComplete) and self.spend is not None:
            self.err.write(f"· spent {spend_line(self.spend)}\n")
        elif isinstance(event, Notice | LoopWarning):
            text = event.text if isinstance(event, Notice) else f"{event.kind}: {event.detail}"
            self.err.write(f"· {text}\n")
        elif isinstance(event, Compacted):
            self.err.write(f"· context compacted: {event.before:,} → {event.after:,} tokens\n")
        elif isinstance(event, Ready):
            self.err.write(f"· model {event.model} · mode {event.mode} · {event.cwd}\n")


def spend_line(spend: Spend) -> str:
    """The run's spend for a person: never $0.00 for calls nobody could price."""
    total = spend.llm_usd + spend.jobs_usd
    money = usd(total)
    if spend.unpriced_calls:
        noun = "call" if spend.unpriced_calls == 1 else "calls"
        money = (
            f"unpriced ({spend.unpriced_calls} model {noun} with no known price)"
            if total <= 0
            else f"{money} + {spend.unpriced_calls} unpriced model {noun}"
        )
    elif spend.estimated_calls:
        money = f"~{money} (estimated)"
    if spend.cached_tokens and spend.prompt_tokens:
        money += f", {spend.cached_tokens / spend.prompt_tokens:.0%} of input from cache"
    return money


def _short_args(args: dict[str, Any], limit: int = 100) -> str:
    """The arguments a person wants to see on one line."""
    if isinstance(args.get("todos"), list):
        return f"{len(args['todos'])} items"
    parts = [
        str(args[key]).replace("\n", " ")
        for key in ("operation", "command", "path", "query", "job_id", "repo_id")
        if isinstance(args.get(key), str | int) and args.get(key) != ""
    ]
    text = " ".join(parts) if parts else json.dumps(args, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def what_would_run(item: ApprovalItem, mode: str | None) -> str:
    """The one line that says what would let a stopped call run (not always a mode)."""
    reason = item.blocked_reason or ""
    kind = item.kind
    if kind in ("protected", "manual"):
        return (
            "no flag lets it run: it always needs a person; run it in the app "
            "(ml-intern-tui) and approve it there"
        )
    if kind == "local":
        return "rerun with --mode auto to let contained local work run"
    if kind == "unsandboxed":
        if "no OS sandbox" in reason or "none on this machine" in item.details:
            return (
                "install bubblewrap (sudo apt-get install bubblewrap) so it runs in the OS "
                "sandbox under --mode auto, or rerun with --mode yolo to run it unconfined"
            )
        if "needs the network" in reason or " run_network" in item.remember_scope:
            return (
                "rerun with --mode yolo, or let sandboxed commands use the network "
                '([sandbox] network = "allow" in your config)'
            )
        return "rerun with --mode yolo to let it run outside the sandbox"
    if kind == "irreversible":
        return "rerun with --mode yolo to let what cannot be undone run (nothing else will)"
    if kind == "spend":
        if mode == "yolo":
            return "rerun with a higher --budget USD to let it spend"
        return "rerun with --mode yolo --budget USD to let it spend"
    return "rerun with --mode auto (local work) or --mode yolo --budget USD to let it run"


class Outcome:
    """Watches events for the one that ends a headless run."""

    def __init__(self) -> None:
        self.code: int | None = None
        self.message: str | None = None
        self.done = asyncio.Event()
        self.ready = asyncio.Event()
        self.last_error: Error | None = None
        self.mode: str | None = None

    def _end(self, code: int, message: str | None = None) -> None:
        if self.code is None:
            self.code = code
            self.message = message
            self.done.set()

    def __call__(self, event: EventBase) -> None:
        if isinstance(event, Ready):
            self.mode = event.mode
            self.ready.set()
        elif isinstance(event, Error):
            self.last_error = event
            if not self.ready.is_set() or not event.recoverable:
                self._end(EXIT_AGENT_ERROR, event.message)
        elif isinstance(event, ApprovalRequired):
            lines = [
                f"stopped: {item.tool} needs approval — {item.title}"
                + (f" ({item.blocked_reason})" if item.blocked_reason else "")
                for item in event.items
            ]
            if any(item.tool == "model" for item in event.items):  # the unpriced-model stop
                lines.append("rerun with a priced model (--model) or without --budget")
            else:
                advice = [what_would_run(item, self.mode) for item in event.items]
                lines += list(dict.fromkeys(advice))
            self._end(EXIT_NEEDS_HUMAN, "\n".join(lines))
        elif isinstance(event, Interrupted):
            self._end(EXIT_INTERRUPTED, "interrupted")
        elif isinstance(event, TurnComplete):
            if event.reason == "done":
                self._end(EXIT_OK)
            elif event.reason == "budget":
                self._end(EXIT_NEEDS_HUMAN, "stopped: the budget is spent (raise it with --budget)")
            elif event.reason == "iteration_cap":
                self._end(
                    EXIT_AGENT_ERROR,
                    f"stopped: iteration cap reached after {event.iterations} model calls",
                )
            else:
                message = (
                    self.last_error.message if self.last_error else "the turn ended with an error"
                )
                self._end(EXIT_AGENT_ERROR, message)


class SandboxWarning:
    """Says on stderr, once and even when stderr is not a terminal, that there is no sandbox.

    The matching notice (for the app's chat) is then not printed again.
    """

    def __init__(self, err: TextIO) -> None:
        self.err = err
        self.text: str | None = None

    def __call__(self, event: EventBase) -> None:
        if not isinstance(event, SandboxStatus) or self.text is not None:
            return
        if event.mode == "off" or event.active:
            return
        self.text = f"no OS sandbox: {event.problem}"
        self.err.write(
            f"ml-intern-tui: warning: {self.text}; shell commands run unconfined, so auto "
            "mode asks before any that is not read-only\n"
        )
        self.err.flush()

    def hides(self, event: EventBase) -> bool:
        return (
            self.text is not None
            and isinstance(event, Notice)
            and event.text.startswith("No OS sandbox:")
        )


class ReasoningWarning:
    """Says on stderr, always, when the model gets less reasoning than asked (a probe or
    a heal lowered the effort, or stored thinking was dropped): the run goes on, but a
    script should know. The matching notice is then not printed again."""

    def __init__(self, err: TextIO) -> None:
        self.err = err
        self.said: set[str] = set()

    def __call__(self, event: EventBase) -> None:
        if not isinstance(event, Notice) or not self._matches(event) or event.text in self.said:
            return
        self.said.add(event.text)
        self.err.write(f"ml-intern-tui: warning: {redact_text(event.text)}\n")
        self.err.flush()

    @staticmethod
    def _matches(event: EventBase) -> bool:
        return (
            isinstance(event, Notice)
            and event.level == "warning"
            and event.text.startswith(NOTICE_PREFIXES)
        )

    def hides(self, event: EventBase) -> bool:
        return self._matches(event)


MCP_WAIT_CAP_S = 60.0
"""The longest a run waits for MCP servers before its first prompt, whatever their limits."""
MCP_WAIT_SLACK_S = 2.0
"""Added to a server's own limits: the supervisor reports a failure just after them."""
_SETTLED = ("ready", "failed", "disabled")


class McpWait:
    """Follows the MCP servers' states (``McpStatus`` events) for the first prompt.

    A server that fails is reported once, on stderr, as it happens (also later in the
    run, when a lost server cannot reconnect); its notice, meant for the app's /mcp
    screen, is then not printed again.
    """

    def __init__(self, servers: dict[str, Any], err: TextIO) -> None:
        self.servers = {name: cfg for name, cfg in servers.items() if getattr(cfg, "enabled", True)}
        self.err = err
        self.states: dict[str, McpStatus] = {}
        self.warned: set[str] = set()
        self.changed = asyncio.Event()

    def __call__(self, event: EventBase) -> None:
        if not isinstance(event, McpStatus) or event.server not in self.servers:
            return
        self.states[event.server] = event
        self.changed.set()
        if event.state == "failed" and event.server not in self.warned:
            self.warned.add(event.server)
            why = " ".join(event.error.split()) or "no reason given"
            self._warn(f"MCP server {event.server!r} failed: {why}; going on without its tools")

    def _warn(self, text: str) -> None:
        self.err.write(f"ml-intern-tui: warning: {redact_text(text)}\n")
        self.err.flush()

    def hides(self, event: EventBase) -> bool:
        """The manager's notice about a failure already warned of here."""
        return isinstance(event, Notice) and any(
            event.text.startswith(f"MCP server {name!r} failed:") for name in self.warned
        )

    def pending(self) -> list[str]:
        """Enabled servers neither ready nor failed yet."""
        return [
            name
            for name in self.servers
            if name not in self.states or self.states[name].state not in _SETTLED
        ]

    def budget(self, backoff: tuple[float, ...]) -> float:
        """Seconds the slowest server may take to settle: every attempt and pause, capped."""
        longest = max(
            (
                float(getattr(cfg, "connect_timeout_s", 30.0)) * (len(backoff) + 1)
                + sum(backoff)
                + MCP_WAIT_SLACK_S
                for cfg in self.servers.values()
            ),
            default=0.0,
        )
        return min(longest, MCP_WAIT_CAP_S)

    async def wait(self, runtime: Any, stop: list[asyncio.Future[Any]], *, status: bool) -> None:
        """Until every enabled server settled, the budget ran out, or ``stop`` finished."""
        manager = next((s for s in runtime.background if getattr(s, "name", "") == "mcp"), None)
        if manager is None or not self.pending():
            return
        budget = self.budget(tuple(getattr(manager, "backoff", ())))
        if status:
            names = ", ".join(self.pending())
            self.err.write(f"· waiting for MCP servers: {names} (up to {budget:g}s)\n")
            self.err.flush()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + budget
        while self.pending() and loop.time() < deadline and not any(f.done() for f in stop):
            self.changed.clear()
            changed = asyncio.ensure_future(self.changed.wait())
            try:
                await asyncio.wait(
                    {changed, *stop},
                    timeout=deadline - loop.time(),
                    return_when=asyncio.FIRST_COMPLETED,
                )
            finally:
                changed.cancel()
        if any(f.done() for f in stop):
            return
        for name in self.pending():
            self._warn(
                f"MCP server {name!r} is not ready after {budget:g}s; going on without its "
                "tools for now"
            )


async def _warm_up(runtime: Any) -> None:
    warm_up = getattr(runtime, "warm_up", None)
    if warm_up is not None:
        with contextlib.suppress(Exception):  # only a warm-up
            await warm_up()
    # The libraries just loaded (litellm: millions of objects) live as long as the run:
    # out of the cyclic collector's reach, a full collection no longer walks them all
    # (each one held the loop for 0.2-0.5 s, mid-turn). The app's GC governor does this.
    gc.freeze()


def run_headless(
    runtime: Any, prompt: str, *, json_mode: bool = False, history: bool = False
) -> int:
    """Run ``prompt`` on ``runtime`` to the end; returns the exit code.

    ``history``: with ``json_mode``, print a resumed session's ``history`` event too.
    """
    return asyncio.run(_run(runtime, prompt, json_mode, sys.stdout, sys.stderr, history=history))


async def _run(
    runtime: Any, prompt: str, json_mode: bool, out: TextIO, err: TextIO, *, history: bool = False
) -> int:
    outcome = Outcome()
    err = cast(TextIO, TerminalSafeWriter(err))
    if not json_mode:
        out = cast(TextIO, TerminalSafeWriter(out))
    mcp_settings = getattr(getattr(runtime.settings, "mcp", None), "servers", None) or {}
    mcp = McpWait(mcp_settings, err)
    sandbox = SandboxWarning(err)
    reasoning = ReasoningWarning(err)
    show: Callable[[EventBase], None]
    if json_mode:

        def show(event: EventBase) -> None:
            out.write(json_terminal_safe(event_to_json(event)) + "\n")
            out.flush()
    else:
        show = TextPrinter(
            out,
            err,
            streaming=runtime.settings.stream,
            hide=lambda event: mcp.hides(event) or sandbox.hides(event) or reasoning.hides(event),
        )
    redactor = EventRedactor()

    def printer(event: EventBase) -> None:
        if isinstance(event, History) and not (json_mode and history):
            return  # the past of a resumed session is not this run's output
        for scrubbed in redactor(event):
            show(scrubbed)

    runtime.bus.add_listener(mcp)
    runtime.bus.add_listener(sandbox)
    runtime.bus.add_listener(reasoning)
    runtime.bus.add_listener(printer)
    runtime.bus.add_listener(outcome)

    loop = asyncio.get_running_loop()
    interrupted = False
    submitted = False

    def on_sigint() -> None:
        nonlocal interrupted
        if interrupted or not submitted:  # a second Ctrl+C, or nothing to interrupt yet
            outcome._end(EXIT_INTERRUPTED, "interrupted")
            return
        interrupted = True
        runtime.submit(Interrupt())

    try:
        loop.add_signal_handler(signal.SIGINT, on_sigint)
    except (NotImplementedError, RuntimeError):  # pragma: no cover - non-main thread
        pass

    # The model's call path warms up while the session starts (the first call then
    # costs what later ones do).
    warm = asyncio.create_task(_warm_up(runtime))
    task = asyncio.create_task(runtime.run())
    ready = asyncio.create_task(outcome.ready.wait())
    done = asyncio.create_task(outcome.done.wait())
    await asyncio.wait({ready, task, done}, return_when=asyncio.FIRST_COMPLETED)
    if outcome.ready.is_set() and outcome.code is None:
        await mcp.wait(runtime, [task, done], status=err.isatty())
    if outcome.ready.is_set() and outcome.code is None and not task.done():
        submitted = True
        runtime.submit(UserInput(text=prompt))
        await asyncio.wait({task, done}, return_when=asyncio.FIRST_COMPLETED)
    for waiter in (ready, done, warm):
        waiter.cancel()
    runtime.submit(Shutdown())
    try:
        await asyncio.wait_for(task, timeout=15)
    except (TimeoutError, asyncio.CancelledError):
        task.cancel()
    with contextlib.suppress(Exception):
        loop.remove_signal_handler(signal.SIGINT)
    runtime.bus.remove_listener(printer)
    for scrubbed in redactor.flush():  # a stream cut off without a final event
        show(scrubbed)
    if not json_mode and isinstance(show, TextPrinter) and not show.at_line_start:
        out.write("\n")
    code = outcome.code if outcome.code is not None else EXIT_AGENT_ERROR
    if outcome.message and code != EXIT_OK:
        message = redact_text(outcome.message)
        err.write(f"ml-intern-tui: {message}\n" if "\n" not in message else message + "\n")
    if task.done() and not task.cancelled() and task.exception() is not None:
        err.write(f"ml-intern-tui: internal error: {redact_text(str(task.exception()))}\n")
        return EXIT_AGENT_ERROR
    return code
