"""One job's training metrics: series read from its log, bounded in memory, sent as deltas.

A :class:`MetricsTracker` reads each log line with :func:`~.metric_lines.parse_line` and
keeps one :class:`Series` per metric against the job's step axis:

- ``step`` when the log says the step (``step=``, ``global_step``, ``iter``) or shows a
  training progress bar (its ``n`` is the ``Trainer``'s global step);
- ``epoch`` when it only says the epoch (``epoch 3/12 loss=…``);
- ``index`` (the metric line's number) when it says neither.

The axis only ever moves up that list (index → epoch → step); when it does, the series
kept so far are dropped and the next delta says ``reset`` so a view starts over.

A job's log is untrusted, so everything is capped: the number of series (later keys are
counted and ignored), the points kept per series (every other point is dropped when
full, so a long run keeps its whole shape at a coarser grain), and the points one delta
carries per series.
"""

from __future__ import annotations

import math
from array import array
from collections import deque
from dataclasses import dataclass, field
from typing import Literal

from ml_intern_tui.jobs.metric_lines import LineMetrics, Progress, parse_line, parse_progress

Axis = Literal["step", "epoch", "index"]
_AXIS_RANK: dict[str, int] = {"index": 0, "epoch": 1, "step": 2}

MAX_SERIES = 48
"""Metrics followed per job; more distinct keys are counted and ignored."""
MAX_POINTS = 2000
"""Points kept per series; past that every other one is dropped."""
MAX_DELTA_POINTS = 100
"""Points one ``job_metrics`` event carries per series (thinned evenly, newest kept)."""
RECENT_POINTS = 64
"""Most recent raw values kept per series for trends and divergence checks."""


@dataclass(slots=True)
class Series:
    """One metric's points (decimated when long) and running statistics."""

    name: str
    xs: array[float] = field(default_factory=lambda: array("d"))
    ys: array[float] = field(default_factory=lambda: array("d"))
    stride: int = 1
    count: int = 0
    """Points ever seen (kept or not)."""
    last: float = math.nan
    last_x: float = math.nan
    low: float = math.inf
    high: float = -math.inf
    nonfinite: int = 0
    """NaN or infinite values seen."""
    recent: deque[float] = field(default_factory=lambda: deque(maxlen=RECENT_POINTS))

    def add(self, x: float, y: float) -> None:
        self.count += 1
        self.last, self.last_x = y, x
        self.recent.append(y)
        if math.isfinite(y):
            self.low = min(self.low, y)
            self.high = max(self.high, y)
        else:
            self.nonfinite += 1
        if (self.count - 1) % self.stride:
            return
        self.xs.append(x)
        self.ys.append(y)
        if len(self.xs) >= MAX_POINTS:
            self.xs = self.xs[::2]
            self.ys = self.ys[::2]
            self.stride *= 2

    def points(self) -> list[tuple[float, float]]:
        return list(zip(self.xs, self.ys, strict=True))

    def trend(self) -> tuple[str, float] | None:
        """``("falling", -0.12)``: the recent half's mean against the half before it."""
        values = [v for v in self.recent if math.isfinite(v)]
        if len(values) < 4:
            return None
        half = len(values) // 2
        before = sum(values[:half]) / half
        after = sum(values[half:]) / (len(values) - half)
        scale = max(abs(before), abs(after), 1e-12)
        change = (after - before) / scale
        if abs(change) < 0.02:
            return "flat", change
        return ("rising" if change > 0 else "falling"), change


@dataclass
class TrackioLink:
    """Where a job logs with trackio, as trackio's own start-up lines say."""

    project: str = ""
    directory: str = ""
    run: str = ""
    remote: str = ""
    """The Space, dataset or bucket the project syncs to, if any."""
    problem: str = ""
    """Why its store cannot be followed right now (one line), if it cannot."""

    def describe(self) -> str:
        text = f"trackio: project {self.project or '?'}"
        if self.run:
            text += f", run {self.run}"
        if self.remote:
            text += f" (synced to {self.remote})"
        if self.problem:
            text += f" — not followed: {self.problem}"
        return text + " — read its curves with trackio_metrics"


_TRACKIO_LINES = (
    ("* Trackio project initialized: ", "project"),
    ("* Trackio metrics logged to: ", "directory"),
    ("* Created new run: ", "run"),
    ("* Resumed existing run: ", "run"),
    ("* Trackio metrics will be synced to Hugging Face Dataset: ", "remote"),
    ("* Trackio metrics will be synced to Hugging Face Bucket: ", "remote"),
)


@dataclass
class Delta:
    """What changed since the last delta (the body of a ``job_metrics`` event)."""

    axis: Axis
    points: dict[str, list[tuple[float, float]]]
    progress: Progress | None
    reset: bool
    step: float | None


def thin(points: list[tuple[float, float]], limit: int) -> list[tuple[float, float]]:
    """At most ``limit`` points spread evenly over ``points``, the last one always kept."""
    if len(points) <= limit:
        return points
    stride = len(points) / limit
    picked = [points[int(i * stride)] for i in range(limit - 1)]
    picked.append(points[-1])
    return picked


class MetricsTracker:
    """Follows one job's metrics from its log lines."""

    def __init__(self, *, max_series: int = MAX_SERIES) -> None:
        self.max_series = max_series
        self.axis: Axis | None = None
        self.series: dict[str, Series] = {}
        self.progress: Progress | None = None
        self.dropped_keys = 0
        self.metric_lines = 0
        self.last_x: float | None = None
        self._pending: dict[str, list[tuple[float, float]]] = {}
        self._progress_changed = False
        self._reset = False
        self._last_progress_text = ""
        self._dropped: set[str] = set()
        self.trackio: TrackioLink | None = None

    # ----------------------------------------------------------------- reading

    def feed(self, lines: list[str]) -> bool:
        """Read log lines; True when they brought a metric point or progress."""
        changed = False
        for line in lines:
            if line.startswith("* "):  # trackio announces itself this way
                self._trackio_line(line)
            parsed = parse_line(line)
            if parsed is not None:
                changed = self._observe(parsed) or changed
        return changed

    def _trackio_line(self, line: str) -> None:
        for prefix, attribute in _TRACKIO_LINES:
            if line.startswith(prefix):
                link = self.trackio or TrackioLink()
                value = line[len(prefix) :].strip()[:300]
                setattr(link, attribute, "".join(c for c in value if c.isprintable()))
                self.trackio = link
                return

    def feed_progress(self, text: str) -> bool:
        """Read a progress bar still being redrawn (not yet a log line)."""
        if not text or text == self._last_progress_text:
            return False
        self._last_progress_text = text
        progress = parse_progress(text)
        return progress is not None and self._observe_progress(progress)

    def _observe(self, parsed: LineMetrics) -> bool:
        changed = False
        if parsed.progress is not None:
            changed = self._observe_progress(parsed.progress)
        if not parsed.values and parsed.step is None and parsed.epoch is None:
            return changed
        wanted: Axis = (
            "step"
            if parsed.step is not None or self.progress is not None
            else "epoch"
            if parsed.epoch is not None
            else "index"
        )
        if self.axis is None or _AXIS_RANK[wanted] > _AXIS_RANK[self.axis]:
            if self.axis is not None and self.series:
                self._start_over()
            self.axis = wanted
        x = self._x_for(parsed)
        if x is None:
            return changed
        self.last_x = x
        values = parsed.values
        if parsed.epoch is not None and self.axis != "epoch":
            values.setdefault("epoch", parsed.epoch)
        if not values:
            return changed
        self.metric_lines += 1
        for name, value in values.items():
            self._add(name, x, value)
        return True

    def add_points(self, points: dict[str, list[tuple[float, float]]]) -> bool:
        """Points read elsewhere (a trackio store), on the step axis."""
        self.axis = "step"
        added = False
        for name, pairs in points.items():
            for x, value in pairs:
                added = self._add(name, x, value) or added
                self.last_x = x if self.last_x is None else max(self.last_x, x)
        return added

    def _add(self, name: str, x: float, value: float) -> bool:
        series = self.series.get(name)
        if series is None:
            if len(self.series) >= self.max_series:
                # Distinct ignored keys, counted up to a bound (a hostile log has no end).
                if name not in self._dropped and len(self._dropped) < 4 * self.max_series:
                    self._dropped.add(name)
                    self.dropped_keys += 1
                return False
            series = self.series[name] = Series(name)
        elif series.last_x == x and series.last == value:
            return False  # the same point again (the epoch on a train and an eval line)
        series.add(x, value)
        pending = self._pending.setdefault(name, [])
        pending.append((x, value))
        if len(pending) > 4 * MAX_DELTA_POINTS:
            self._pending[name] = thin(pending, 2 * MAX_DELTA_POINTS)
        return True

    def _x_for(self, parsed: LineMetrics) -> float | None:
        if self.axis == "step":
            if parsed.step is not None:
                return parsed.step
            if self.progress is not None:
                return self.progress.n
            return self.last_x
        if self.axis == "epoch":
            return parsed.epoch if parsed.epoch is not None else self.last_x
        return float(self.metric_lines + 1)

    def _observe_progress(self, progress: Progress) -> bool:
        """Follow the training bar: a shorter bar (evaluation, a test pass) never replaces it.

        The Trainer's evaluation bar runs between training steps and after the last one;
        its points belong at the training step. (A second, shorter training run in the
        same job therefore keeps the first one's bar: a known limit.)
        """
        main = self.progress
        shorter = main is not None and main.total is not None and (progress.total or 0) < main.total
        if shorter:
            return False
        if main == progress:
            return False
        self.progress = progress
        self._progress_changed = True
        if self.axis == "index" and self.series:
            self._start_over()
            self.axis = "step"
        return True

    def _start_over(self) -> None:
        self.series.clear()
        self._pending.clear()
        self._dropped.clear()
        self.dropped_keys = 0
        self.metric_lines = 0
        self.last_x = None
        self._reset = True

    # ----------------------------------------------------------------- output

    @property
    def has_pending(self) -> bool:
        return bool(self._pending) or self._progress_changed or self._reset

    def take_delta(self) -> Delta | None:
        """The points and progress gathered since the last call, or ``None``."""
        if not self.has_pending:
            return None
        points = {name: thin(pts, MAX_DELTA_POINTS) for name, pts in self._pending.items()}
        delta = Delta(
            axis=self.axis or "step",
            points=points,
            progress=self.progress if self._progress_changed else None,
            reset=self._reset,
            step=self.last_x if self.axis == "step" else None,
        )
        self._pending = {}
        self._progress_changed = False
        self._reset = False
        return delta

    def latest(self) -> dict[str, float]:
        """The last value of every series."""
        return {name: series.last for name, series in self.series.items()}
