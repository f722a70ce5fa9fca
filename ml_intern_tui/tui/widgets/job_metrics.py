"""The selected job's training at a glance: a progress bar with ETA and metric sparklines.

Sits in the jobs pane between the job list and the log. One sparkline per main metric
(the training loss, an eval metric, the learning rate, as ``JobCurves.main`` picks them)
with its latest value; in a short pane (``-compact``) only the first. NaN and infinite
values are left out of the line and shown in the value, in the error colour: a diverged
loss must be seen, not drawn as a cliff.
"""

from __future__ import annotations

import math
import statistics

from textual.app import ComposeResult, RenderResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Sparkline, Static

from ml_intern_tui.core import protocol as p
from ml_intern_tui.tui.formatting import format_duration, one_line
from ml_intern_tui.tui.job_curves import JobCurves, format_value

ROWS = 3
"""Sparklines in a roomy pane (one in a compact one)."""
LABEL_WIDTH = 22

_EIGHTHS = " ▏▎▍▌▋▊▉"


def bar(fraction: float, width: int) -> str:
    """A progress bar of ``width`` cells filled to ``fraction`` (eighth-cell precision)."""
    fraction = min(1.0, max(0.0, fraction if math.isfinite(fraction) else 0.0))
    eighths = round(fraction * width * 8)
    full, part = divmod(eighths, 8)
    text = "█" * full + (_EIGHTHS[part] if part else "")
    return text.ljust(width)


def progress_text(progress: p.JobProgress) -> str:
    """``37% 370/1000 · ETA 1m46s · 5.9 it/s`` (the parts that are known)."""
    parts: list[str] = []
    count = f"{progress.n:g}" + (f"/{progress.total:g}" if progress.total else "")
    if progress.fraction is not None:
        count = f"{progress.fraction:.0%} {count}"
    parts.append(count)
    if progress.eta_s is not None and progress.fraction != 1.0:
        parts.append(f"ETA {format_duration(progress.eta_s)}")
    if progress.rate:
        parts.append(f"{progress.rate:.3g} it/s")
    return " · ".join(parts)


class ProgressLine(Widget):
    """One line: a bar (when the total is known) and the count, ETA and rate."""

    DEFAULT_CSS = """
    ProgressLine { height: 1; color: $text-muted; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.progress: p.JobProgress | None = None

    def show(self, progress: p.JobProgress | None) -> None:
        self.progress = progress
        self.display = progress is not None
        self.refresh()

    def render(self) -> RenderResult:
        progress = self.progress
        if progress is None:
            return ""
        text = progress_text(progress)
        room = self.size.width - len(text) - 1
        if progress.fraction is None or room < 6:
            return Content(text)
        done = progress.fraction >= 1.0
        return Content.assemble(
            (bar(progress.fraction, min(room, 40)), "$success" if done else "$primary"),
            " ",
            text,
        )


class MetricRow(Horizontal):
    """A metric's name and latest value, and its sparkline."""

    DEFAULT_CSS = f"""
    MetricRow {{
        height: 1;
        & > Static {{ width: {LABEL_WIDTH}; height: 1; }}
        & > Sparkline {{ width: 1fr; height: 1; }}
    }}
    """

    def compose(self) -> ComposeResult:
        yield Static("", markup=False)
        yield Sparkline([], summary_function=statistics.fmean)

    def show(self, name: str, curves: JobCurves) -> None:
        curve = curves.curves[name]
        value = format_value(curve.last)
        label = one_line(name, LABEL_WIDTH - len(value) - 2)
        style = "$error bold" if not math.isfinite(curve.last) else "bold"
        self.query_one(Static).update(Content.assemble((label, "$text-muted"), " ", (value, style)))
        self.query_one(Sparkline).data = curve.values()


class JobMetricsView(Vertical):
    """Progress and sparklines of one job (hidden when it has neither)."""

    DEFAULT_CSS = """
    JobMetricsView {
        height: auto;
        padding: 0 0 0 0;
        display: none;
        &.-shown { display: block; }
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.names: list[str] = []
        """The metrics drawn now, top to bottom."""
        self.compact = False

    def compose(self) -> ComposeResult:
        yield ProgressLine(id="job-progress")
        for _ in range(ROWS):
            yield MetricRow()

    def show(self, curves: JobCurves | None) -> None:
        """Draw ``curves`` (None or empty hides the view)."""
        if curves is None or curves.empty:
            self.names = []
            self.set_class(False, "-shown")
            return
        self.set_class(True, "-shown")
        self.query_one(ProgressLine).show(curves.progress)
        self.names = curves.main(1 if self.compact else ROWS)
        for index, row in enumerate(self.query(MetricRow)):
            if index < len(self.names):
                row.display = True
                row.show(self.names[index], curves)
            else:
                row.display = False
