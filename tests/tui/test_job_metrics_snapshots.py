"""Snapshots of the jobs pane with training curves: 120×40 (three sparklines) and 80×24."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot

from ml_intern_tui.core import protocol as p
from ml_intern_tui.tui.app import MLInternApp
from tui import scenes
from tui.conftest import wait_for
from tui.fake_runtime import FakeRuntime
from tui.test_job_metrics_ui import metrics
from tui.test_snapshots import SnapCompare, before, make

PROGRESS = p.JobProgress(n=370, total=1000, fraction=0.37, eta_s=106, rate=5.9)


async def training(runtime: FakeRuntime, app: MLInternApp, pilot: Pilot[Any]) -> None:
    scenes.job(runtime, lines=30)
    runtime.publish(metrics(0, 120, progress=PROGRESS))
    await wait_for(pilot, lambda: app.jobs.metrics_view.names and app.jobs.log_view.line_count)


def test_jobs_pane_with_curves_120x40(snap_compare: SnapCompare) -> None:
    """Progress bar with ETA, loss / eval / learning-rate sparklines, the log below."""
    runtime, app = make()
    assert snap_compare(app, terminal_size=(120, 40), run_before=before(runtime, app, training))


def test_jobs_pane_with_curves_80x24(snap_compare: SnapCompare) -> None:
    """80×24 with the side panes shown: the progress bar and the loss sparkline only."""

    async def scene(runtime: FakeRuntime, app: MLInternApp, pilot: Pilot[Any]) -> None:
        await pilot.press("ctrl+t")
        await training(runtime, app, pilot)
        await wait_for(pilot, lambda: app.jobs.metrics_view.compact)

    runtime, app = make()
    assert snap_compare(app, terminal_size=(80, 24), run_before=before(runtime, app, scene))


def test_plot_view_120x40(snap_compare: SnapCompare) -> None:
    """The plot view: metric tabs, the loss plotted against step with EMA, the log below."""

    async def scene(runtime: FakeRuntime, app: MLInternApp, pilot: Pilot[Any]) -> None:
        await training(runtime, app, pilot)
        app.jobs.action_plots()
        await wait_for(pilot, lambda: app.screen.query("PlotextPlot"))
        await pilot.press("s")

    runtime, app = make()
    assert snap_compare(app, terminal_size=(120, 40), run_before=before(runtime, app, scene))
