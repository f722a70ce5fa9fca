"""The jobs pane's sparklines and progress, and the plot view, fed by ``job_metrics``."""

from __future__ import annotations

import math

from rich.text import Text
from textual.widgets import Log, Sparkline, Static
from textual_plotext import PlotextPlot

from ml_intern_tui.core import protocol as p
from ml_intern_tui.tui.app import MLInternApp
from ml_intern_tui.tui.job_curves import MAX_POINTS, JobCurves, format_value
from ml_intern_tui.tui.screens.job_plot import JobPlotScreen, ema
from ml_intern_tui.tui.widgets.job_metrics import JobMetricsView, MetricRow, ProgressLine, bar
from tui import scenes
from tui.conftest import wait_for
from tui.fake_runtime import FakeRuntime

JOB = "job-1a2b"


def metrics(
    start: int,
    count: int,
    *,
    reset: bool = False,
    progress: p.JobProgress | None = None,
    loss: float | None = None,
) -> p.JobMetrics:
    steps = range(start, start + count)
    return p.JobMetrics(
        job_id=JOB,
        series={
            "loss": [(s, loss if loss is not None else 2.0 / (1 + s)) for s in steps],
            "eval_accuracy": [(s, 0.5 + s / 1000) for s in steps if s % 5 == 0],
            "learning_rate": [(s, 5e-5 * (1 - s / 1000)) for s in steps],
            "grad_norm": [(s, 1.0) for s in steps],
        },
        step=start + count - 1,
        progress=progress,
        reset=reset,
    )


def row_texts(view: JobMetricsView) -> list[str]:
    return [str(row.query_one(Static).content) for row in view.query(MetricRow) if row.display]


def test_curves_fold_deltas_reset_and_stay_bounded() -> None:
    curves = JobCurves()
    curves.apply(metrics(0, 10))
    assert curves.main() == ["loss", "eval_accuracy", "learning_rate"]
    assert len(curves.curves["loss"].xs) == 10
    curves.apply(metrics(10, 5))
    assert list(curves.curves["loss"].xs)[-1] == 14
    curves.apply(p.JobMetrics(job_id=JOB, axis="epoch", series={"loss": [(1.0, 0.3)]}))
    assert curves.axis == "epoch" and list(curves.curves) == ["loss"]  # a new axis: over
    curves.apply(p.JobMetrics(job_id=JOB, axis="epoch", series={"loss": [(2, 0.2)]}, reset=True))
    assert list(curves.curves["loss"].ys) == [0.2]
    for start in range(0, 3 * MAX_POINTS, 100):
        curves.apply(
            p.JobMetrics(
                job_id=JOB, axis="epoch", series={"loss": [(start + i, i) for i in range(100)]}
            )
        )
    loss = curves.curves["loss"]
    assert len(loss.xs) <= MAX_POINTS and loss.xs[-1] == 3 * MAX_POINTS - 1  # newest kept
    assert loss.xs[0] < MAX_POINTS  # the whole run's shape, at a coarser grain


def test_the_per_step_loss_is_drawn_before_its_per_epoch_summary() -> None:
    """The demo's script logs ``loss`` per step and ``epoch_loss``/``val_acc`` per epoch."""
    curves = JobCurves()
    curves.apply(
        p.JobMetrics(
            job_id=JOB,
            series={
                "loss": [(s, 1.0 / s) for s in range(4, 25, 4)],
                "lr": [(s, 0.5) for s in range(4, 25, 4)],
                "epoch_loss": [(12, 0.6), (24, 0.5)],
                "val_acc": [(12, 0.7), (24, 0.8)],
                "epoch": [(12, 1), (24, 2)],
            },
            step=24,
        )
    )
    assert curves.main() == ["loss", "val_acc", "lr"]
    assert curves.main(1) == ["loss"]
    assert curves.ordered() == ["loss", "epoch_loss", "val_acc", "lr", "epoch"]


def test_values_read_in_a_few_characters() -> None:
    assert format_value(0.27781) == "0.2778"
    assert format_value(3e-5) == "3.00e-5"
    assert format_value(math.nan) == "nan" and format_value(-math.inf) == "-inf"
    assert bar(0.5, 10) == "█████     " and bar(1.0, 4) == "████" and bar(math.nan, 3) == "   "


def test_ema_smooths_without_start_bias() -> None:
    assert ema([1.0, 1.0, 1.0], 0.9) == [1.0, 1.0, 1.0]
    smoothed = ema([0.0, 10.0, 0.0, 10.0], 0.6)
    assert smoothed[0] == 0.0 and 0 < smoothed[-1] < 10
    assert ema([3.0, 4.0], 0.0) == [3.0, 4.0]


async def test_sparklines_grow_as_metrics_arrive(app: MLInternApp, runtime: FakeRuntime) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        scenes.job(runtime, lines=5)
        await wait_for(pilot, lambda: app.jobs.selected == JOB)
        view = app.jobs.metrics_view
        assert not view.has_class("-shown")  # no metrics yet: nothing drawn
        progress = p.JobProgress(n=370, total=1000, fraction=0.37, eta_s=106, rate=5.9)
        runtime.publish(metrics(0, 20, progress=progress))
        await wait_for(pilot, lambda: view.has_class("-shown") and view.names)
        assert view.names == ["loss", "eval_accuracy", "learning_rate"]
        sparks = [row.query_one(Sparkline) for row in view.query(MetricRow)]
        assert len(sparks[0].data or []) == 20
        texts = row_texts(view)
        assert texts[0].startswith("loss") and texts[0].endswith(format_value(2.0 / 20))
        line = view.query_one(ProgressLine)
        assert (
            line.display
            and "37% 370/1000" in str(line.render())
            and "ETA 1m46s" in str(line.render())
        )
        runtime.publish(metrics(20, 30))
        await wait_for(pilot, lambda: len(sparks[0].data or []) == 50)
        # The axis changed: the curves start over.
        runtime.publish(metrics(0, 3, reset=True))
        await wait_for(pilot, lambda: len(sparks[0].data or []) == 3)


async def test_nan_loss_is_shown_not_drawn(app: MLInternApp, runtime: FakeRuntime) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        scenes.job(runtime, lines=1)
        await wait_for(pilot, lambda: app.jobs.selected == JOB)
        runtime.publish(metrics(0, 10))
        view = app.jobs.metrics_view
        await wait_for(pilot, lambda: view.names)
        runtime.publish(metrics(10, 2, loss=math.nan))
        await wait_for(pilot, lambda: row_texts(view)[0].endswith("nan"))
        spark = view.query(MetricRow).first().query_one(Sparkline)
        assert len(spark.data or []) == 10 and all(math.isfinite(v) for v in spark.data or [])


async def test_compact_pane_draws_one_sparkline(runtime: FakeRuntime) -> None:
    app = MLInternApp(runtime)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("ctrl+t")  # narrow: the side panes replace the chat
        scenes.job(runtime, lines=3)
        runtime.publish(metrics(0, 10, progress=p.JobProgress(n=10, total=100, fraction=0.1)))
        view = app.jobs.metrics_view
        await wait_for(pilot, lambda: view.names and app.jobs.size.height > 0)
        await wait_for(pilot, lambda: view.compact and view.names == ["loss"])
        assert view.query_one(ProgressLine).display


async def test_enter_opens_the_plot_view_and_keys_switch(
    app: MLInternApp, runtime: FakeRuntime
) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        scenes.job(runtime, lines=5)
        runtime.publish(metrics(0, 30))
        await wait_for(pilot, lambda: app.jobs.metrics_view.names)
        app.jobs.job_list.focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, JobPlotScreen))
        screen = app.screen
        assert isinstance(screen, JobPlotScreen)
        await wait_for(pilot, lambda: screen.metric == "loss")
        plot = screen.query_one(PlotextPlot)
        tabs = screen.query_one("#plot-metrics", Static)
        assert "eval_accuracy" in str(tabs.content) and "learning_rate" in str(tabs.content)
        assert screen.query_one("#plot-log", Log).line_count == 5  # the log below
        await pilot.press("right")
        assert screen.metric == "eval_accuracy"
        await pilot.press("left", "left")
        assert screen.metric == screen.names[-1]
        await pilot.press("s")
        assert screen.smoothing == 0.6
        assert "EMA 0.6" in str(screen.query_one("#plot-title", Static).content)
        await pilot.press("s", "s", "s")
        assert screen.smoothing == 0.0
        # Live: new points and log lines reach the open view.
        runtime.publish(metrics(30, 10), p.JobLog(job_id=JOB, lines=["step 40 loss=0.05"]))
        await wait_for(pilot, lambda: screen.query_one("#plot-log", Log).line_count == 6)
        await wait_for(pilot, lambda: screen.drawn == ("learning_rate", 40))
        drawn = plot.render()
        assert isinstance(drawn, Text)
        assert "learning_rate (last" in drawn.plain and "step" in drawn.plain
        assert plot.size.height >= 8 and any(c in drawn.plain for c in "⠁⠂⠄⡀⢀⠈⠐⠠")
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, JobPlotScreen))
        assert app.jobs.detail is None


async def test_a_resumed_session_shows_its_jobs_curves(
    app: MLInternApp, runtime: FakeRuntime
) -> None:
    from ml_intern_tui.core.journal import Journal
    from ml_intern_tui.paths import sessions_dir

    session = "20231114-100000-eeeeee"
    journal = Journal.create(sessions_dir(), session, {"model": "m", "cwd": "/w"})
    recorded: list[p.EventBase] = [
        p.JobUpdated(job_id=JOB, kind="local", status="completed", title="train.py"),
        *[metrics(start, 25) for start in range(0, 100, 25)],
        p.JobMetrics(job_id=JOB, series={"loss": [(100, math.nan)]}, step=100),
    ]
    for event in recorded:
        event.session_id = session
        journal.record_event(event)
    journal.close()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.header.session_id == "s-test")
        runtime.session_id = session
        runtime.publish(*runtime.resumed(session))
        await wait_for(pilot, lambda: JOB in app.jobs.jobs and app.jobs.metrics_view.names)
        view = app.jobs.metrics_view
        assert view.names == ["loss", "eval_accuracy", "learning_rate"]
        spark = view.query(MetricRow).first().query_one(Sparkline)
        assert len(spark.data or []) == 100  # every recorded point, NaN left out of the line
        assert row_texts(view)[0].endswith("nan")


async def test_the_log_keeps_following_when_the_sparklines_appear(
    app: MLInternApp, runtime: FakeRuntime
) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        scenes.job(runtime, lines=10)  # fits the log before the sparklines take rows
        log = app.jobs.log_view
        await wait_for(pilot, lambda: log.line_count == 10)
        runtime.publish(metrics(0, 10, progress=p.JobProgress(n=10, total=60, fraction=1 / 6)))
        await wait_for(pilot, lambda: app.jobs.metrics_view.names)
        for i in range(11, 40):  # wider than the pane, as a tqdm line is
            runtime.publish(
                p.JobLog(job_id=JOB, lines=[f"{i:3d}%|{'#' * 20}| {i}/60 [00:01<00:02, 5.00it/s]"])
            )
            await pilot.pause()
        await wait_for(pilot, lambda: log.line_count == 39)
        await wait_for(pilot, lambda: log.max_scroll_y > 0 and log.is_vertical_scroll_end)


async def test_the_log_follows_what_came_while_the_plot_view_was_open(
    app: MLInternApp, runtime: FakeRuntime
) -> None:
    async with app.run_test(size=(120, 40)) as pilot:
        scenes.job(runtime, lines=10)
        runtime.publish(metrics(0, 10))
        log = app.jobs.log_view
        await wait_for(pilot, lambda: app.jobs.metrics_view.names and log.line_count == 10)
        app.jobs.action_plots()
        await wait_for(pilot, lambda: isinstance(app.screen, JobPlotScreen))
        runtime.publish(p.JobLog(job_id=JOB, lines=[f"step={i}" for i in range(11, 40)]))
        await wait_for(pilot, lambda: log.line_count == 39)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, JobPlotScreen))
        await wait_for(pilot, lambda: log.max_scroll_y > 0 and log.is_vertical_scroll_end)
