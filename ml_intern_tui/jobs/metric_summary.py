"""Metrics as the model reads them: a few lines of latest values, ranges and trends.

The ``jobs`` tool puts :func:`summary_lines` in a job's status and :func:`series_lines`
behind its ``metrics`` operation, so the agent reasons over curves instead of scrolling
log text. Both are short by construction (a cap on metrics and on points).
"""

from __future__ import annotations

import math

from ml_intern_tui.jobs.alerts import duration, number
from ml_intern_tui.jobs.metrics import MetricsTracker, Series, thin

MAX_SUMMARY_METRICS = 10
MAX_SERIES_POINTS = 60


def _rank(name: str) -> tuple[int, str]:
    lower = name.lower()
    if "loss" in lower:
        group = 0
    elif lower.startswith(("eval", "val", "test")):
        group = 1
    elif lower in ("epoch",):
        group = 4
    elif lower == "lr" or "learning_rate" in lower:
        group = 3
    else:
        group = 2
    return group, name


def ordered(tracker: MetricsTracker) -> list[str]:
    """Metric names, most telling first: losses, eval metrics, others, learning rate, epoch."""
    return sorted(tracker.series, key=_rank)


def progress_line(tracker: MetricsTracker) -> str | None:
    progress = tracker.progress
    if progress is None:
        return None
    parts = [f"step {progress.n:g}" + (f"/{progress.total:g}" if progress.total else "")]
    if progress.fraction is not None:
        parts[0] += f" ({progress.fraction:.0%})"
    if progress.rate:
        parts.append(f"{progress.rate:.3g} it/s")
    if progress.elapsed_s is not None:
        parts.append(f"elapsed {duration(progress.elapsed_s)}")
    if progress.eta_s is not None and progress.fraction != 1.0:
        parts.append(f"ETA {duration(progress.eta_s)}")
    return "progress: " + " · ".join(parts)


def describe_series(series: Series, axis: str) -> str:
    """``loss: last 0.41 at step 370 · min 0.39 · max 2.3 · falling -12% recently · 45 points``."""
    text = f"{series.name}: last {number(series.last)}"
    if math.isfinite(series.last_x) and axis != "index":
        text += f" at {axis} {series.last_x:g}"
    if series.low <= series.high:
        text += f" · min {number(series.low)} · max {number(series.high)}"
    trend = series.trend() if series.name.lower() not in ("epoch", "epochs") else None
    if trend is not None:
        word, change = trend
        text += f" · {word}" + ("" if word == "flat" else f" {change:+.0%}") + " recently"
    if series.nonfinite:
        text += f" · {series.nonfinite} NaN/inf"
    return text + f" · {series.count} points"


def summary_lines(tracker: MetricsTracker | None) -> list[str]:
    """Lines for a job's status; empty when its log showed no metrics."""
    if tracker is None or (
        not tracker.series and tracker.progress is None and tracker.trackio is None
    ):
        return []
    lines = []
    if (progress := progress_line(tracker)) is not None:
        lines.append(progress)
    names = ordered(tracker)
    axis = tracker.axis or "step"
    lines += [describe_series(tracker.series[name], axis) for name in names[:MAX_SUMMARY_METRICS]]
    if len(names) > MAX_SUMMARY_METRICS:
        rest = names[MAX_SUMMARY_METRICS:]
        lines.append(f"(+{len(rest)} more: {', '.join(rest[:20])}{' …' if len(rest) > 20 else ''})")
    if tracker.trackio is not None:
        lines.append(tracker.trackio.describe())
    if tracker.dropped_keys:
        more = "+" if tracker.dropped_keys >= 4 * tracker.max_series else ""
        lines.append(
            f"({tracker.dropped_keys}{more} further keys ignored: too many distinct metrics)"
        )
    return lines


def series_lines(
    tracker: MetricsTracker | None, name: str | None, limit: int = MAX_SERIES_POINTS
) -> list[str]:
    """One metric's curve as ``x value`` lines (thinned to ``limit``), or the names on offer."""
    if tracker is None or not tracker.series:
        return ["No metrics were read from this job's log (yet)."]
    if name is None or name not in tracker.series:
        known = ", ".join(ordered(tracker))
        head = f"No metric {name!r} in this job. " if name is not None else ""
        return [f"{head}Metrics: {known}. Pass metric=<name> for its curve."]
    series = tracker.series[name]
    axis = tracker.axis or "step"
    points = thin(series.points(), limit)
    lines = [f"{name} against {axis}: {len(points)} of {series.count} points"]
    lines += [f"{x:g}\t{number(y)}" for x, y in points]
    return lines
