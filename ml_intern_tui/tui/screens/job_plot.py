"""One job's plot view: a full plot of each metric against step, and the log below.

Opened with Enter (or ``p``) on a job in the jobs pane; it follows the job live (the pane
tells it when curves or log grow, and it redraws at most ``REDRAW_S`` apart). Keys:
←/→ (or ``[``/``]``) switch the metric, ``s`` cycles the EMA smoothing (off, 0.6, 0.9,
0.99; the raw curve stays drawn, faint, under the smoothed one), Esc or ``q`` goes back.

Metric names and log lines come from the job (untrusted): the app made every event
terminal-safe before the pane stored it, and names are drawn as plain text.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Log, Static
from textual_plotext import PlotextPlot

from ml_intern_tui.tui.formatting import one_line
from ml_intern_tui.tui.job_curves import Curve, format_value
from ml_intern_tui.tui.widgets.job_metrics import progress_text
from ml_intern_tui.tui.widgets.jobs import LOG_LINES, JobView

SMOOTHING = (0.0, 0.6, 0.9, 0.99)
"""EMA weights ``s`` cycles through (0 is off)."""
REDRAW_S = 0.25


def ema(values: list[float], weight: float) -> list[float]:
    """Exponential moving average with the start-up bias removed (as TensorBoard smooths).

    ``weight`` 0 returns the values; near 1 smooths hard. Without the bias correction
    the first points would be pulled towards 0.
    """
    if weight <= 0:
        return list(values)
    out: list[float] = []
    average = 0.0
    for count, value in enumerate(values, start=1):
        average = weight * average + (1 - weight) * value
        out.append(average / (1 - weight**count))
    return out


class JobPlotScreen(Screen[None]):
    """A job's metrics as plots, one at a time, over its log."""

    BINDINGS = [
        Binding("escape,q", "dismiss", "Back", id="plot.back"),
        # Priority: the log below would take ←/→ to scroll sideways.
        Binding(
            "right,right_square_bracket", "metric(1)", "Next metric", id="plot.next", priority=True
        ),
        Binding(
            "left,left_square_bracket", "metric(-1)", "Previous", id="plot.previous", priority=True
        ),
        Binding("s", "smoothing", "Smoothing", id="plot.smoothing", priority=True),
    ]

    DEFAULT_CSS = """
    JobPlotScreen {
        layout: vertical;
        & #plot-title { height: 1; padding: 0 1; text-style: bold; }
        & #plot-metrics { height: auto; max-height: 3; padding: 0 1; }
        & PlotextPlot { height: 2fr; min-height: 8; }
        & #plot-log { height: 1fr; min-height: 3; border-top: solid $panel-lighten-2; }
    }
    """

    def __init__(self, job: JobView) -> None:
        super().__init__()
        self.job = job
        self.metric: str | None = None
        """The metric plotted now (None until the job reports one)."""
        self.smoothing = 0.0
        self.drawn: tuple[str, int] = ("", 0)
        """The metric and the number of points the plot shows now."""
        self._dirty = True

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("", id="plot-title", markup=False)
            yield Static("", id="plot-metrics", markup=False)
            yield PlotextPlot(id="plot")
            yield Log(max_lines=LOG_LINES, id="plot-log", auto_scroll=True)
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one("#plot-log", Log).write_lines(list(self.job.lines), scroll_end=True)
        self._redraw()
        self.set_interval(REDRAW_S, self._redraw_if_dirty)

    @property
    def names(self) -> list[str]:
        return self.job.curves.ordered()

    # ---------------------------------------------------------------- updates

    def job_changed(self, *, logged: list[str] | None = None) -> None:
        """The job's curves grew (or it logged ``logged``): redraw soon."""
        if logged and self.is_mounted:
            self.query_one("#plot-log", Log).write_lines(logged)
        self._dirty = True

    def _redraw_if_dirty(self) -> None:
        if self._dirty:
            self._redraw()

    def _redraw(self) -> None:
        self._dirty = False
        names = self.names
        if self.metric not in names:
            self.metric = names[0] if names else None
        self._draw_title()
        self._draw_tabs(names)
        self._draw_plot()

    def _draw_title(self) -> None:
        job = self.job
        curves = job.curves
        parts: list[str | tuple[str, str]] = [
            (one_line(job.title or job.job_id, 40), "bold"),
            "  ",
            (job.status, "$text-muted"),
        ]
        if curves.progress is not None:
            parts += ["  ", (progress_text(curves.progress), "$text-muted")]
        if self.smoothing:
            parts += ["  ", (f"EMA {self.smoothing:g}", "$accent")]
        self.query_one("#plot-title", Static).update(Content.assemble(*parts))

    def _draw_tabs(self, names: list[str]) -> None:
        if not names:
            self.query_one("#plot-metrics", Static).update(
                Content.styled("No metrics yet: they appear when the job logs them.", "$text-muted")
            )
            return
        parts: list[str | tuple[str, str]] = []
        for name in names:
            value = format_value(self.job.curves.curves[name].last)
            label = f" {one_line(name, 24)} {value} "
            parts += [(label, "reverse bold" if name == self.metric else "$text-muted"), " "]
        self.query_one("#plot-metrics", Static).update(Content.assemble(*parts))

    def _draw_plot(self) -> None:
        widget = self.query_one(PlotextPlot)
        plt = widget.plt
        plt.clear_data()
        plt.clear_figure()
        curve = self.job.curves.curves.get(self.metric or "")
        if curve is None:
            plt.title("waiting for metrics")
            self.drawn = ("", 0)
            widget.refresh()
            return
        xs, ys = curve.finite()
        title = self._plot_title(curve, len(xs))
        plt.title(title)
        plt.xlabel(self.job.curves.axis)
        if xs:
            if self.smoothing:
                plt.plot(xs, ys, marker="braille", color="gray")
                plt.plot(xs, ema(ys, self.smoothing), marker="braille", color="cyan+")
            else:
                plt.plot(xs, ys, marker="braille", color="cyan+")
        self.drawn = (curve.name, len(xs))
        widget.refresh()

    def _plot_title(self, curve: Curve, drawn: int) -> str:
        title = f"{one_line(curve.name, 40)} (last {format_value(curve.last)})"
        if curve.nonfinite:
            title += f", {curve.nonfinite} NaN/inf not drawn"
        if not drawn:
            title += ": nothing finite to draw yet"
        return title

    # ---------------------------------------------------------------- actions

    def action_metric(self, step: int) -> None:
        names = self.names
        if not names:
            return
        index = names.index(self.metric) if self.metric in names else 0
        self.metric = names[(index + step) % len(names)]
        self._redraw()

    def action_smoothing(self) -> None:
        index = SMOOTHING.index(self.smoothing) if self.smoothing in SMOOTHING else 0
        self.smoothing = SMOOTHING[(index + 1) % len(SMOOTHING)]
        self._redraw()
