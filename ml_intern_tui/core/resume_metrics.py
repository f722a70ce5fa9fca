"""A resumed session's job curves: each job's recorded ``job_metrics`` deltas merged into one.

The journal keeps every delta a job sent (a few a second over hours), so replaying them
one by one would cost the first frame. ``merged_metrics`` folds them as a view would
(a ``reset`` or a new axis starts the curves over), keeps at most ``MAX_SERIES`` metrics
and ``MAX_POINTS`` points per metric (every other point dropped when full, the newest
always kept, as the tracker thins a long run), the last progress and step, and returns
one ``job_metrics`` per job, marked ``reset`` so a view that folds it starts clean.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ml_intern_tui.core.protocol import EventBase, JobMetrics, JobProgress

MAX_SERIES = 48
MAX_POINTS = 2000


@dataclass
class _Fold:
    first: JobMetrics
    axis: str
    series: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    progress: JobProgress | None = None
    step: float | None = None

    def add(self, event: JobMetrics) -> None:
        if event.reset or event.axis != self.axis:
            self.series.clear()
            self.axis = event.axis
        for name, points in event.series.items():
            kept = self.series.get(name)
            if kept is None:
                if len(self.series) >= MAX_SERIES:
                    continue
                kept = self.series[name] = []
            kept.extend(points)
            if len(kept) > MAX_POINTS:
                # Halve from the newest backwards: the latest value stays exact.
                self.series[name] = kept[::-1][::2][::-1]
        self.progress = event.progress or self.progress
        self.step = event.step if event.step is not None else self.step

    def event(self) -> JobMetrics:
        return JobMetrics(
            session_id=self.first.session_id,
            ts=self.first.ts,
            job_id=self.first.job_id,
            source=self.first.source,
            axis=self.axis,  # type: ignore[arg-type]  # an axis a JobMetrics carried
            series=self.series,
            progress=self.progress,
            step=self.step,
            reset=True,
        )


def merged_metrics(events: Sequence[EventBase]) -> dict[str, JobMetrics]:
    """Each job's ``job_metrics`` in ``events`` as one event with its whole (capped) curves."""
    folds: dict[str, _Fold] = {}
    for event in events:
        if isinstance(event, JobMetrics):
            fold = folds.get(event.job_id)
            if fold is None:
                fold = folds[event.job_id] = _Fold(first=event, axis=event.axis)
            fold.add(event)
    return {job_id: fold.event() for job_id, fold in folds.items() if fold.series or fold.progress}
