"""What the UI keeps of one job's metrics: the curves folded from ``job_metrics`` deltas.

The core's tracker already caps what it sends; the view still bounds what it keeps (a
long run streams deltas for hours): at most ``MAX_CURVES`` metrics, and ``MAX_POINTS``
points each, halved (every other point dropped) when full so a long run keeps its whole
shape at a coarser grain. A ``reset`` (the job's axis changed) starts every curve over.
"""

from __future__ import annotations

import math
from array import array
from dataclasses import dataclass, field

from ml_intern_tui.core import protocol as p

MAX_CURVES = 48
MAX_POINTS = 2000


@dataclass(slots=True)
class Curve:
    """One metric's points against the job's axis (non-finite values kept, drawn apart)."""

    name: str
    xs: array[float] = field(default_factory=lambda: array("d"))
    ys: array[float] = field(default_factory=lambda: array("d"))
    last: float = math.nan
    nonfinite: int = 0

    def add(self, x: float, y: float) -> None:
        self.last = y
        if not math.isfinite(y):
            self.nonfinite += 1
        self.xs.append(x)
        self.ys.append(y)
        if len(self.xs) > MAX_POINTS:
            # Keep the newest point: it is the one the label shows.
            self.xs = self.xs[-1::-2][::-1]
            self.ys = self.ys[-1::-2][::-1]

    def finite(self) -> tuple[list[float], list[float]]:
        """The points a plot can draw (NaN and infinities left out)."""
        xs: list[float] = []
        ys: list[float] = []
        for x, y in zip(self.xs, self.ys, strict=True):
            if math.isfinite(y) and math.isfinite(x):
                xs.append(x)
                ys.append(y)
        return xs, ys

    def values(self) -> list[float]:
        """The finite values, oldest first (what a sparkline draws)."""
        return [y for y in self.ys if math.isfinite(y)]


def metric_rank(name: str) -> tuple[int, int, str]:
    """Sort key: training loss first, then eval metrics, others, learning rate, epoch.

    Within a kind, a per-step metric comes before a per-epoch summary of it (``loss``
    before ``epoch_loss``): the compact view draws one of each kind, and the per-step
    curve is the one that moves while the job runs.
    """
    lower = name.lower()
    per_epoch = 1 if "epoch" in lower and lower != "epoch" else 0
    evaluation = lower.startswith(("eval", "val", "test"))
    if "loss" in lower and not evaluation:
        group = 0
    elif evaluation:
        group = 1
    elif lower == "epoch":
        group = 5
    elif lower in ("lr", "learning_rate") or "learning_rate" in lower:
        group = 4
    elif lower in ("grad_norm", "step", "global_step"):
        group = 3
    else:
        group = 2
    return group, per_epoch, lower


@dataclass
class JobCurves:
    """Every metric curve of one job, its axis and its progress."""

    axis: str = "step"
    curves: dict[str, Curve] = field(default_factory=dict)
    progress: p.JobProgress | None = None
    step: float | None = None
    ignored: int = 0
    """Metrics past ``MAX_CURVES`` (not kept)."""

    def apply(self, event: p.JobMetrics) -> None:
        """Fold one ``job_metrics`` delta in (a ``reset`` starts the curves over)."""
        if event.reset or event.axis != self.axis:
            self.curves.clear()
            self.axis = event.axis
        for name, points in event.series.items():
            curve = self.curves.get(name)
            if curve is None:
                if len(self.curves) >= MAX_CURVES:
                    self.ignored += 1
                    continue
                curve = self.curves[name] = Curve(name)
            for x, y in points:
                curve.add(float(x), float(y))
        if event.progress is not None:
            self.progress = event.progress
        if event.step is not None:
            self.step = event.step

    @property
    def empty(self) -> bool:
        return not self.curves and self.progress is None

    def ordered(self) -> list[str]:
        """Metric names, most telling first."""
        return sorted(self.curves, key=metric_rank)

    def main(self, limit: int = 3) -> list[str]:
        """The metrics a compact view draws: the loss, an eval metric, the learning rate.

        Picks one of each kind when the job logs it, then fills up with the next most
        telling metrics.
        """
        names = self.ordered()
        chosen: list[str] = []
        for group in (0, 1, 4):
            match = next((n for n in names if metric_rank(n)[0] == group), None)
            if match is not None:
                chosen.append(match)
        for name in names:
            if name not in chosen and metric_rank(name)[0] != 5:
                chosen.append(name)
        return sorted(chosen[:limit], key=metric_rank)


def format_value(value: float) -> str:
    """A metric value in a few characters (``0.2778``, ``3e-05``, ``nan``)."""
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e5):
        return f"{value:.2e}".replace("e-0", "e-").replace("e+0", "e+")
    return f"{value:.4g}"
