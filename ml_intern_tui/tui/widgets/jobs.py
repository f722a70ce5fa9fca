"""The jobs panel: every background job, and the live log tail of the selected one."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Log, OptionList
from textual.widgets.option_list import Option

from ml_intern_tui.core import protocol as p

if TYPE_CHECKING:
    from ml_intern_tui.tui.screens.job_plot import JobPlotScreen
from ml_intern_tui.tui.formatting import (
    format_duration,
    format_usd,
    job_is_running,
    one_line,
    strip_ansi,
)
from ml_intern_tui.tui.job_curves import JobCurves
from ml_intern_tui.tui.messages import AgentEvent, AgentHistory, history_failed
from ml_intern_tui.tui.widgets.job_metrics import JobMetricsView

LOG_LINES = 5_000
"""Lines kept per job on screen; the full log is on disk (the core keeps it)."""

_STATUS_STYLE = {
    "running": "$warning",
    "completed": "$success",
    "succeeded": "$success",
    "failed": "$error",
    "error": "$error",
}


class TailLog(Log):
    """A ``Log`` that keeps following its tail when it is made shorter.

    Textual's ``Log`` follows new lines only while it is scrolled to its end; when the
    pane above it grows (the sparklines appear, a job's line wraps) the log gets shorter,
    its end moves down and it would stop following for good. It remembers whether the
    user left it at the end, and goes back there on a resize.
    """

    following = True

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self.following = new_value >= self.max_scroll_y

    def on_resize(self) -> None:
        if self.following:
            self.scroll_end(animate=False, immediate=True, x_axis=False)


@dataclass
class JobView:
    """What the UI knows about one job."""

    job_id: str
    kind: str
    status: str
    title: str = ""
    flavor: str | None = None
    cost_usd: float = 0.0
    url: str | None = None
    started_at: float | None = None
    ended_at: float | None = None
    lines: deque[str] = field(default_factory=lambda: deque(maxlen=LOG_LINES))
    followed: bool = True
    """False for a job of a resumed session that nothing follows any more."""
    curves: JobCurves = field(default_factory=JobCurves)
    """Its metrics, folded from ``job_metrics`` (the sparklines and the plot view)."""

    @property
    def running(self) -> bool:
        return job_is_running(self.status) and self.followed


class JobsPanel(Vertical):
    """A list of jobs (status, elapsed, cost) above a ``Log`` of the selected job."""

    EVENT_TYPES = frozenset({"job_updated", "job_log", "job_metrics", "ready"})
    HISTORY_TYPES = frozenset({"job_updated", "job_log", "job_metrics"})
    """A resumed session's jobs: each one's last state, curves and the end of its log."""

    COMPACT_BELOW = 12
    """Pane height under which only one sparkline is drawn (80x24 and the like)."""

    BINDINGS = [
        Binding("x", "cancel_job", "Cancel job", id="jobs.cancel"),
        Binding("end", "follow", "Follow log", id="jobs.follow", show=False),
        Binding("p", "plots", "Plots", id="jobs.plots"),
    ]

    DEFAULT_CSS = """
    JobsPanel {
        height: 1fr;
        & > OptionList { height: auto; max-height: 6; border: none; padding: 0; background: transparent; }
        & > OptionList:focus { border: none; background-tint: transparent; }
        & > Log { height: 1fr; min-height: 3; background: $surface; scrollbar-size-horizontal: 0; }
        &.-empty > Log { display: none; }
    }
    """

    class CancelRequested(Message):
        """The user asked to cancel a job (the app confirms, then submits ``job_cancel``)."""

        def __init__(self, job: JobView) -> None:
            super().__init__()
            self.job = job

    def __init__(self, *, clock: Callable[[], float] = time.time, id: str | None = None) -> None:
        super().__init__(id=id, classes="-empty")
        self.clock = clock
        self.jobs: dict[str, JobView] = {}
        self.selected: str | None = None
        self._user_selected = False
        self.detail: JobPlotScreen | None = None
        """The open plot view (it is told when its job's curves or log grow)."""

    def compose(self) -> ComposeResult:
        yield OptionList(Option("No jobs yet.", id="__none__", disabled=True), id="job-list")
        yield JobMetricsView(id="job-metrics")
        yield TailLog(max_lines=LOG_LINES, id="job-log", auto_scroll=True)

    def on_mount(self) -> None:
        self.border_title = "Jobs"
        self.set_interval(1.0, self._tick)

    @property
    def job_list(self) -> OptionList:
        return self.query_one("#job-list", OptionList)

    @property
    def log_view(self) -> Log:
        return self.query_one("#job-log", Log)

    @property
    def metrics_view(self) -> JobMetricsView:
        return self.query_one("#job-metrics", JobMetricsView)

    @property
    def running_count(self) -> int:
        return sum(1 for job in self.jobs.values() if job.running)

    # ------------------------------------------------------------------ render

    def _prompt(self, job: JobView) -> Content:
        end = job.ended_at if job.ended_at is not None else self.clock()
        elapsed = format_duration(end - job.started_at) if job.started_at else "–"
        status = job.status.lower()
        glyph = (
            "●"
            if job.running
            else ("✓" if status in {"completed", "succeeded", "success", "done"} else "■")
        )
        style = _STATUS_STYLE.get(status, "$warning" if job.running else "$text-muted")
        name = job.title or job.job_id
        parts: list[Content | str | tuple[str, str]] = [
            (glyph, style),
            " ",
            (one_line(name, 28), "bold"),
            " ",
            (job.status, style),
            " ",
            (elapsed, "$text-muted"),
        ]
        if job.kind == "hf" or job.cost_usd:
            parts += [" ", (format_usd(job.cost_usd), "$text-muted")]
        if job.flavor:
            parts += [" ", (job.flavor, "$text-muted")]
        progress = job.curves.progress
        if progress is not None and progress.fraction is not None:
            parts += [" ", (f"{progress.fraction:.0%}", "$text-muted")]
        return Content.assemble(*parts)

    def _refresh_title(self) -> None:
        running = self.running_count
        self.border_title = f"Jobs · {running} running" if running else "Jobs"

    def _tick(self) -> None:
        for job in self.jobs.values():
            if job.running and job.started_at is not None:
                self.job_list.replace_option_prompt(job.job_id, self._prompt(job))

    # ------------------------------------------------------------------ events

    def on_agent_event(self, message: AgentEvent) -> None:
        event = message.event
        if isinstance(event, p.JobUpdated):
            self._on_job_updated(event)
        elif isinstance(event, p.JobLog):
            self._on_job_log(event)
        elif isinstance(event, p.JobMetrics):
            self._on_job_metrics(event)

    def _on_job_updated(self, event: p.JobUpdated, *, followed: bool = True) -> None:
        job = self.jobs.get(event.job_id)
        options = self.job_list
        started = job is None or not job.running
        if job is None:
            job = JobView(
                job_id=event.job_id, kind=event.kind, status=event.status, followed=followed
            )
            self.jobs[event.job_id] = job
            if len(self.jobs) == 1:
                options.clear_options()
                self.remove_class("-empty")
            options.add_option(Option(self._prompt(job), id=job.job_id))
        job.status = event.status
        job.kind = event.kind
        job.title = event.title or job.title
        job.flavor = event.flavor
        job.cost_usd = event.cost_usd
        job.url = event.url
        job.started_at = event.started_at or job.started_at or event.ts
        job.ended_at = event.ended_at or (job.ended_at if not job.running else None)
        if not job.running and job.ended_at is None:
            job.ended_at = event.ts
        options.replace_option_prompt(job.job_id, self._prompt(job))
        self._refresh_title()
        # A job takes the log view when it starts running; not on every update (a
        # sandbox's cost meter would steal it back), and not because the one shown has
        # ended: the end of a training log is what the user wants to read.
        shown = self.jobs.get(self.selected or "")
        if self.selected is None or (
            not self._user_selected and job.running and (started or shown is None)
        ):
            self.select(job.job_id, by_user=False)

    def _on_job_log(self, event: p.JobLog) -> None:
        job = self.jobs.get(event.job_id)
        if job is None:
            return
        # Under a flood only the tail can be shown; skip cleaning what would be pruned.
        lines = [strip_ansi(line) for line in event.lines[-LOG_LINES:]]
        job.lines.extend(lines)
        if event.job_id == self.selected:
            self.log_view.write_lines(lines)
        if self.detail is not None and self.detail.job is job:
            self.detail.job_changed(logged=lines)

    def _on_job_metrics(self, event: p.JobMetrics) -> None:
        job = self.jobs.get(event.job_id)
        if job is None:
            return
        job.curves.apply(event)
        if event.progress is not None:
            self.job_list.replace_option_prompt(job.job_id, self._prompt(job))
        if event.job_id == self.selected:
            self._show_curves(job)
        if self.detail is not None and self.detail.job is job:
            self.detail.job_changed()

    def on_agent_history(self, message: AgentHistory) -> None:
        """Show a resumed session's jobs as it last saw them; nothing follows them now.

        Jobs already on the panel are this process's own (followed live, newer): the
        history does not touch them. The core marks a job the session left running
        ``unknown`` (an HF job may still run on the Hub) and says so in its log.
        """
        known = set(self.jobs)
        try:
            for event in message.events(self.HISTORY_TYPES):
                if isinstance(event, p.JobUpdated) and event.job_id not in known:
                    self._on_job_updated(event, followed=False)
                elif isinstance(event, p.JobLog) and event.job_id not in known:
                    self._on_job_log(event)
                elif isinstance(event, p.JobMetrics) and event.job_id not in known:
                    self._on_job_metrics(event)
        except Exception as exc:  # a damaged history must not take the app down
            history_failed(self, exc)
        self._refresh_title()

    # --------------------------------------------------------------- selection

    def select(self, job_id: str, *, by_user: bool = True) -> None:
        job = self.jobs.get(job_id)
        if job is None:
            return
        self._user_selected = self._user_selected or by_user
        if self.selected != job_id:
            self.selected = job_id
            log = self.log_view
            log.clear()
            log.write_lines(list(job.lines), scroll_end=True)
            self._show_curves(job)
        options = self.job_list
        index = options.get_option_index(job_id)
        if options.highlighted != index:
            options.highlighted = index

    @on(OptionList.OptionHighlighted, "#job-list")
    @on(OptionList.OptionSelected, "#job-list")
    def _picked(self, event: OptionList.OptionHighlighted | OptionList.OptionSelected) -> None:
        event.stop()
        job_id = event.option.id
        if job_id and job_id in self.jobs and job_id != self.selected:
            self.select(job_id, by_user=True)
        if isinstance(event, OptionList.OptionSelected) and job_id in self.jobs:
            self.action_plots()  # Enter on a job opens its plots

    def _show_curves(self, job: JobView | None) -> None:
        """Draw ``job``'s progress and sparklines (none when it has no metrics)."""
        self.metrics_view.show(job.curves if job else None)

    def on_resize(self) -> None:
        compact = self.size.height < self.COMPACT_BELOW
        view = self.metrics_view
        if compact != view.compact:
            view.compact = compact
            self._show_curves(self.jobs.get(self.selected or ""))

    def action_plots(self) -> None:
        """Open the selected job's plot view (every metric against step, and its log)."""
        job = self.jobs.get(self.selected or "")
        if job is None:
            self.notify("No job selected.", severity="warning")
            return
        from ml_intern_tui.tui.screens.job_plot import JobPlotScreen

        screen = JobPlotScreen(job)
        self.detail = screen
        self.app.push_screen(screen, lambda _result: self._detail_closed(screen))

    def _detail_closed(self, screen: JobPlotScreen) -> None:
        if self.detail is screen:
            self.detail = None

    def action_follow(self) -> None:
        self.log_view.scroll_end(animate=False)

    def action_cancel_job(self) -> None:
        job = self.jobs.get(self.selected or "")
        if job is None:
            self.notify("No job selected.", severity="warning")
        elif not job.followed:
            self.notify(
                f"{job.title or job.job_id} is from a resumed session and is not followed; "
                "ask the agent to check it.",
                severity="warning",
                markup=False,  # a job's title is the model's words
            )
        elif not job.running:
            self.notify(f"{job.title or job.job_id} is already {job.status}.", markup=False)
        else:
            self.post_message(self.CancelRequested(job))
