"""The status line: context gauge, spend against budget, running jobs, mode, model."""

from __future__ import annotations

import time

from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static

from ml_intern_tui.core import protocol as p
from ml_intern_tui.tui.formatting import format_tokens, format_usd, job_is_running
from ml_intern_tui.tui.messages import AgentEvent
from ml_intern_tui.tui.money import spend_figure
from ml_intern_tui.tui.session_view import FOLDED, SessionView
from ml_intern_tui.tui.work_status import WorkStatus

GAUGE_WIDTH = 10
WARN_FRACTION = 0.8
"""Of the compaction threshold: from here the gauge turns to the warning colour."""


def gauge(used: int, limit: int, threshold: int, width: int = GAUGE_WIDTH) -> Content:
    """``▓▓▓▓░░│░░`` coloured by how close ``used`` is to ``threshold``."""
    if limit <= 0:
        return Content.styled("░" * width, "$text-muted")
    filled = min(width, round(width * used / limit))
    mark = min(width - 1, max(0, round(width * threshold / limit))) if threshold else None
    if threshold and used >= threshold:
        style = "bold $error"
    elif threshold and used >= threshold * WARN_FRACTION:
        style = "$warning"
    else:
        style = "$success"
    cells: list[tuple[str, str]] = []
    for i in range(width):
        if i == mark and i >= filled:
            cells.append(("│", "$text-muted"))
        elif i < filled:
            cells.append(("▓", style))
        else:
            cells.append(("░", "$text-muted"))
    return Content.assemble(*cells)


class StatusLine(Static):
    """One line of numbers that matter; context is kept apart from money.

    Model, mode, context and money come from the app's ``SessionView`` (folded before
    this widget gets the event); the turn's work and the running jobs are its own.
    """

    EVENT_TYPES = frozenset(
        {
            "ready",
            "context_usage",
            "spend",
            "job_updated",
            "turn_started",
            "turn_complete",
            "interrupted",
            "assistant_delta",
            "reasoning_delta",
            "tool_call",
            "tool_result",
            "approval_required",
        }
    )

    DEFAULT_CSS = """
    StatusLine {
        height: 1;
        padding: 0 1;
        background: $panel;
        color: $text-muted;
    }
    """

    running_jobs: reactive[int] = reactive(0)
    busy: reactive[bool] = reactive(False)
    queued: reactive[int] = reactive(0)

    def __init__(self, view: SessionView | None = None, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.view = view if view is not None else SessionView()
        self._job_states: dict[str, bool] = {}
        self.work = WorkStatus()
        """Elapsed time, tokens so far and the running tool of the turn (``work_status``)."""

    def on_mount(self) -> None:
        self.set_interval(1.0, self._tick, name="work-clock")

    def _tick(self) -> None:
        if self.busy and self.work.started is not None:
            self.refresh()

    def _attention(self, text: str, urgent: bool) -> None:
        attention = getattr(self.app, "attention", None)
        if attention is not None:
            attention.request(text, urgent=urgent)

    def on_agent_event(self, message: AgentEvent) -> None:
        event = message.event
        self.work.fold(event, self._attention)
        if isinstance(event, p.ToolCall | p.ToolResultEvent):  # the running tool changed
            self.refresh()  # (streamed tokens show with the next second's tick)
        elif str(getattr(event, "type", "")) in FOLDED:  # the view changed
            self.refresh()
        elif isinstance(event, p.JobUpdated):
            self._job_states[event.job_id] = job_is_running(event.status)
            self.running_jobs = sum(self._job_states.values())

    # The session's figures, as the view holds them (``/status`` and tests read these).
    @property
    def model(self) -> str:
        return self.view.model

    @property
    def mode(self) -> str:
        return self.view.mode

    @property
    def used(self) -> int:
        return self.view.used

    @property
    def limit(self) -> int:
        return self.view.limit

    @property
    def threshold(self) -> int:
        return self.view.threshold

    @property
    def spend(self) -> p.Spend | None:
        return self.view.spend

    @property
    def budget_usd(self) -> float | None:
        return self.view.budget_usd

    @property
    def llm_usd(self) -> float:
        return self.view.llm_usd

    @property
    def jobs_usd(self) -> float:
        return self.view.jobs_usd

    @property
    def unpriced_calls(self) -> int:
        return self.view.unpriced_calls

    def render(self) -> Content:
        # Drop the optional details, least useful first, until the line fits.
        for detail in (3, 2, 1, 0):
            line = self._line(detail)
            if line.cell_length <= self.size.width - 2:
                return line
        return line

    def _line(self, detail: int) -> Content:
        """detail 3: everything; 2: no model; 1: no spend breakdown; 0: no token counts."""
        sep = (" · ", "$text-muted")
        parts: list[Content | str | tuple[str, str]] = []
        if self.busy:
            parts += [("● working", "bold $warning")]
            clock = getattr(self.app, "clock", time.time)
            for part in self.work.parts(clock(), detail):
                parts += [" ", (part, "$warning")]
            parts += [sep]
        parts += ["ctx ", gauge(self.used, self.limit, self.threshold)]
        if self.limit:
            parts += [f" {round(100 * self.used / self.limit)}%"]
            if detail >= 1:
                parts += [f" {format_tokens(self.used)}/{format_tokens(self.limit)}"]
        spend = self.llm_usd + self.jobs_usd
        figure = spend_figure(self.view.spend_now())
        parts += [sep, (figure, "bold $warning" if self.unpriced_calls else "bold")]
        if self.budget_usd is not None:
            over = spend >= self.budget_usd
            parts += ["/", (format_usd(self.budget_usd), "bold $error" if over else "")]
        if self.jobs_usd and detail >= 2:
            llm, jobs = format_usd(self.llm_usd), format_usd(self.jobs_usd)
            parts += [(f" (LLM {llm} + jobs {jobs})", "$text-muted")]
        if self.running_jobs:
            noun = "job" if self.running_jobs == 1 else "jobs"
            parts += [sep, (f"{self.running_jobs} {noun} running", "$warning")]
        if self.queued:
            parts += [sep, (f"{self.queued} queued", "$accent")]
        parts += [sep, (self.mode, "bold $error" if self.mode == "yolo" else "bold $accent")]
        if self.model and detail >= 3:
            parts += [sep, self.model]
        return Content.assemble(*parts)
