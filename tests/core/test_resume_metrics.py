"""A resumed session's job curves: recorded ``job_metrics`` deltas merged, capped, reset."""

from __future__ import annotations

import math
from pathlib import Path

from ml_intern_tui.core import protocol as p
from ml_intern_tui.core.journal import Journal, load
from ml_intern_tui.core.resume import session_history
from ml_intern_tui.core.resume_metrics import MAX_POINTS, MAX_SERIES, merged_metrics


def delta(job: str, points: dict[str, list[tuple[float, float]]], **kw: object) -> p.JobMetrics:
    return p.JobMetrics(job_id=job, series=points, **kw)  # type: ignore[arg-type]


def test_deltas_merge_into_one_event_per_job_after_the_last_reset() -> None:
    progress = p.JobProgress(n=30, total=100, fraction=0.3)
    events: list[p.EventBase] = [
        delta("a", {"loss": [(0, 9.0)]}, axis="index"),
        delta("a", {"loss": [(1, 1.0), (2, 0.9)]}, reset=True, step=2),
        delta("b", {"acc": [(1, 0.5)]}),
        delta("a", {"loss": [(3, 0.8)], "lr": [(3, 1e-4)]}, step=3, progress=progress),
        delta("a", {}, progress=None),
    ]
    merged = merged_metrics(events)
    a = merged["a"]
    assert a.reset and a.axis == "step" and a.step == 3 and a.progress == progress
    assert a.series == {"loss": [(1, 1.0), (2, 0.9), (3, 0.8)], "lr": [(3, 1e-4)]}
    assert merged["b"].series == {"acc": [(1, 0.5)]}


def test_a_long_run_is_capped_and_keeps_its_newest_point() -> None:
    events: list[p.EventBase] = []
    for start in range(0, 5 * MAX_POINTS, 100):
        series = {f"m{i}": [(start + k, float(k)) for k in range(100)] for i in range(60)}
        events.append(delta("a", series))
    merged = merged_metrics(events)["a"]
    assert len(merged.series) == MAX_SERIES
    loss = merged.series["m0"]
    assert len(loss) <= MAX_POINTS and loss[-1][0] == 5 * MAX_POINTS - 1
    assert loss[0][0] < MAX_POINTS  # the whole run's shape, coarser


def test_history_brings_each_jobs_curves_back_through_the_journal(tmp_path: Path) -> None:
    journal = Journal.create(tmp_path, "s1", {"model": "m", "cwd": "/w"})
    recorded: list[p.EventBase] = [
        p.JobUpdated(job_id="job-a", kind="local", status="completed", title="train"),
        delta("job-a", {"loss": [(1, 2.0), (2, math.nan)]}),
        delta("job-a", {"loss": [(3, math.inf)]}),
        delta("job-live", {"loss": [(1, 1.0)]}),
    ]
    for event in recorded:
        event.session_id = "s1"
        journal.record_event(event)
    journal.close()
    events = load(journal.path).events
    history = session_history(events, chat_blocks=50, followed={"job-live"})
    metrics = [e for e in history.events if isinstance(e, p.JobMetrics)]
    assert [m.job_id for m in metrics] == ["job-a"]  # a followed job's live events are newer
    ys = [y for _x, y in metrics[0].series["loss"]]
    assert ys[0] == 2.0 and math.isnan(ys[1]) and ys[2] == math.inf  # NaN survives JSON
    kinds = [e.type for e in history.events if getattr(e, "job_id", None) == "job-a"]  # type: ignore[attr-defined]
    assert kinds == ["job_updated", "job_metrics"]
