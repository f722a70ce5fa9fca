"""Headless mode: run one prompt to the end and print it, as text or JSON lines.

Text output is the assistant's Markdown as plain text with each tool call as one line.
``--json`` prints every event, one per line, exactly as the journal keeps them. Exit
codes (see ``cli.py``): 0 done, 1 agent error, 3 stopped for a human (an approval this
mode may not grant, or the budget), 130 interrupted.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
from typing import Any, TextIO

from ml_intern_tui.cli import EXIT_AGENT_ERROR, EXIT_INTERRUPTED, EXIT_NEEDS_HUMAN, EXIT_OK
from ml_intern_tui.core.protocol import (
    ApprovalRequired,
    AssistantDelta,
    AssistantMessage,
    Compacted,
    Error,
    EventBase,
    Interrupt,
    Interrupted,
    JobUpdated,
    LoopWarning,
    Notice,
    PlanUpdated,
    Ready,
    Shutdown,
    ToolCall,
    ToolResultEvent,
    TurnComplete,
    UserInput,
    event_to_json,
)


class TextPrinter:
    """Renders events as readable text: answer on stdout, status on stderr."""

    def __init__(self, out: TextIO, err: TextIO, *, streaming: bool) -> None:
        self.out = out
        self.err = err
        # Status lines (model, retries, notices) are for a person watching; a script
        # reading stderr gets only the final one-line outcome.
        self.show_status = err.isatty()
        self.streaming = streaming
        self.at_line_start = True
        self.streamed = False

    def _write(self, text: str) -> None:
        if text:
            self.out.write(text)
            self.at_line_start = text.endswith("\n")
            self.out.flush()

    def _line(self, text: str) -> None:
        if not self.at_line_start:
            self._write("\n")
        self._write(text + "\n")

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
            self._line(f"▸ {event.tool}  {_short_args(event.args)}")
        elif isinstance(event, ToolResultEvent):
            mark = "✓" if event.ok else "✗"
            self._line(f"  {mark} {event.summary}")
        elif isinstance(event, PlanUpdated):
            done = sum(1 for i in event.items if i.status == "completed")
            self._line(f"  plan: {done}/{len(event.items)} done")
        elif isinstance(event, JobUpdated):
            self._line(f"  job {event.job_id}: {event.status}")
        elif not self.show_status:
            return
        elif isinstance(event, Notice | LoopWarning):
            text = event.text if isinstance(event, Notice) else f"{event.kind}: {event.detail}"
            self.err.write(f"· {text}\n")
        elif isinstance(event, Compacted):
            self.err.write(f"· context compacted: {event.before:,} → {event.after:,} tokens\n")
        elif isinstance(event, Ready):
            self.err.write(f"· model {event.model} · mode {event.mode} · {event.cwd}\n")


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


class Outcome:
    """Watches events for the one that ends a headless run."""

    def __init__(self) -> None:
        self.code: int | None = None
        self.message: str | None = None
        self.done = asyncio.Event()
        self.ready = asyncio.Event()
        self.last_error: Error | None = None

    def _end(self, code: int, message: str | None = None) -> None:
        if self.code is None:
            self.code = code
            self.message = message
            self.done.set()

    def __call__(self, event: EventBase) -> None:
        if isinstance(event, Ready):
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
            lines.append(
                "rerun with --mode auto (local work) or --mode yolo --budget USD to let it run"
            )
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


def run_headless(runtime: Any, prompt: str, *, json_mode: bool = False) -> int:
    """Run ``prompt`` on ``runtime`` to the end; returns the exit code."""
    return asyncio.run(_run(runtime, prompt, json_mode, sys.stdout, sys.stderr))


async def _run(runtime: Any, prompt: str, json_mode: bool, out: TextIO, err: TextIO) -> int:
    outcome = Outcome()
    if json_mode:

        def printer(event: EventBase) -> None:
            out.write(event_to_json(event) + "\n")
            out.flush()
    else:
        printer = TextPrinter(out, err, streaming=runtime.settings.stream)
    runtime.bus.add_listener(printer)
    runtime.bus.add_listener(outcome)

    loop = asyncio.get_running_loop()
    interrupted = False

    def on_sigint() -> None:
        nonlocal interrupted
        if interrupted:  # a second Ctrl+C: stop now
            outcome._end(EXIT_INTERRUPTED, "interrupted")
            return
        interrupted = True
        runtime.submit(Interrupt())

    try:
        loop.add_signal_handler(signal.SIGINT, on_sigint)
    except (NotImplementedError, RuntimeError):  # pragma: no cover - non-main thread
        pass

    task = asyncio.create_task(runtime.run())
    ready = asyncio.create_task(outcome.ready.wait())
    await asyncio.wait(
        {ready, task, asyncio.create_task(outcome.done.wait())}, return_when=asyncio.FIRST_COMPLETED
    )
    if outcome.ready.is_set() and outcome.code is None:
        runtime.submit(UserInput(text=prompt))
        await asyncio.wait(
            {task, asyncio.create_task(outcome.done.wait())}, return_when=asyncio.FIRST_COMPLETED
        )
    runtime.submit(Shutdown())
    try:
        await asyncio.wait_for(task, timeout=15)
    except (TimeoutError, asyncio.CancelledError):
        task.cancel()
    with contextlib.suppress(Exception):
        loop.remove_signal_handler(signal.SIGINT)
    if not json_mode and isinstance(printer, TextPrinter) and not printer.at_line_start:
        out.write("\n")
    code = outcome.code if outcome.code is not None else EXIT_AGENT_ERROR
    if outcome.message and code != EXIT_OK:
        err.write(
            f"ml-intern-tui: {outcome.message}\n"
            if "\n" not in outcome.message
            else outcome.message + "\n"
        )
    if task.done() and not task.cancelled() and task.exception() is not None:
        err.write(f"ml-intern-tui: internal error: {task.exception()}\n")
        return EXIT_AGENT_ERROR
    return code
