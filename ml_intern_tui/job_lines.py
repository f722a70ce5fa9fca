"""The last metric values of each job, for the one line headless text mode prints when a job ends.

``--json`` carries every ``job_metrics`` delta; a person reading text output gets the
outcome instead: ``job job-1a2b: completed · loss 0.2778 · eval_accuracy 0.896 · lr 1e-05``.
Bounded: ``MAX_JOBS`` jobs and ``MAX_METRICS`` values each are kept.
"""

from __future__ import annotations

import math

from ml_intern_tui.core.protocol import JobMetrics

MAX_JOBS = 100
MAX_METRICS = 48
SHOWN = 4


def _rank(name: str) -> tuple[int, str]:
    lower = name.lower()
    evaluation = lower.startswith(("eval", "val", "test"))
    if "loss" in lower and not evaluation:
        return 0, lower
    if evaluation:
        return 1, lower
    if lower in ("lr", "learning_rate") or lower == "epoch":
        return 3, lower
    return 2, lower


def _value(value: float) -> str:
    if not math.isfinite(value):
        return str(value)
    return f"{value:.4g}"


class LatestMetrics:
    """Each job's latest value per metric, from ``job_metrics`` deltas."""

    def __init__(self) -> None:
        self.jobs: dict[str, dict[str, float]] = {}

    def add(self, event: JobMetrics) -> None:
        latest = self.jobs.get(event.job_id)
        if latest is None:
            if len(self.jobs) >= MAX_JOBS:
                self.jobs.pop(next(iter(self.jobs)))
            latest = self.jobs[event.job_id] = {}
        if event.reset:
            latest.clear()
        for name, points in event.series.items():
            if points and (name in latest or len(latest) < MAX_METRICS):
                latest[name] = float(points[-1][1])

    def line(self, job_id: str) -> str:
        """`` · loss 0.2778 · eval_accuracy 0.896`` (empty when the job reported none)."""
        latest = self.jobs.get(job_id) or {}
        names = sorted(latest, key=_rank)[:SHOWN]
        return "".join(f" · {name} {_value(latest[name])}" for name in names)
