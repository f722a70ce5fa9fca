"""Job alerts: a job that stalled, diverged or ended, told to the person and to the agent.

The registry calls :class:`JobWatch` when a job's metrics change, when it ends, and
periodically for stalls. Each condition is reported once (a stall again only after the
job produced output in between; a diverging metric once per job):

- a ``notice`` event with ``job_id`` and ``alert`` set (the chat shows it; the notifier
  sends stalls and divergence to Slack as ``job_alert``, endings already go as
  ``job_finished``);
- a one-line note for the agent's next model call (:class:`~ml_intern_tui.core.notes.SystemNotes`),
  withdrawn if the agent looks at the job with the ``jobs`` tool before then.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ml_intern_tui.core.notes import SystemNotes
from ml_intern_tui.core.protocol import EventBase, JobAlertKind, Notice
from ml_intern_tui.jobs.metrics import MetricsTracker, Series

if TYPE_CHECKING:
    from ml_intern_tui.jobs.registry import JobRecord

DEFAULT_STALL_AFTER_S = 600.0
DEFAULT_DIVERGE_FACTOR = 3.0
DEFAULT_DIVERGE_WINDOW = 20
MAX_LATEST_IN_NOTE = 4


def duration(seconds: float) -> str:
    """``75`` → ``1m15s``; ``3700`` → ``1h01m``."""
    seconds = max(int(seconds), 0)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def number(value: float) -> str:
    """A metric value, short: 4 significant digits, NaN and infinities spelled out."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return f"{value:.4g}"


def is_loss(name: str) -> bool:
    return "loss" in name.lower()


def where(tracker: MetricsTracker | None) -> str:
    """``at step 370/1000 (37%)`` — how far the job got, as the log tells it."""
    if tracker is None:
        return ""
    progress = tracker.progress
    if progress is not None and progress.total:
        fraction = progress.fraction or 0.0
        return f"at step {progress.n:g}/{progress.total:g} ({fraction:.0%})"
    if tracker.last_x is not None and tracker.axis in ("step", "epoch"):
        return f"at {tracker.axis} {tracker.last_x:g}"
    if progress is not None:
        return f"at step {progress.n:g}"
    return ""


def latest_values(tracker: MetricsTracker | None, limit: int = MAX_LATEST_IN_NOTE) -> str:
    """``loss 0.41, eval_loss 0.52`` — losses first, then the other metrics."""
    if tracker is None or not tracker.series:
        return ""
    names = sorted(tracker.series, key=lambda n: (not is_loss(n), n == "epoch"))
    return ", ".join(f"{n} {number(tracker.series[n].last)}" for n in names[:limit])


@dataclass
class _JobState:
    stalled: bool = False
    diverged: set[str] = field(default_factory=set)
    nonfinite_seen: dict[str, int] = field(default_factory=dict)
    ended: bool = False


class JobWatch:
    """Decides when a job needs attention and says so once."""

    def __init__(
        self,
        publish: Callable[[EventBase], None],
        notes: SystemNotes | None = None,
        *,
        stall_after_s: float | None = DEFAULT_STALL_AFTER_S,
        diverge_factor: float = DEFAULT_DIVERGE_FACTOR,
        diverge_window: int = DEFAULT_DIVERGE_WINDOW,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._publish = publish
        self.notes = notes
        self.stall_after_s = stall_after_s
        self.diverge_factor = diverge_factor
        self.diverge_window = diverge_window
        self.clock = clock
        self._states: dict[str, _JobState] = {}

    @classmethod
    def from_settings(
        cls, settings: Any, publish: Callable[[EventBase], None], notes: SystemNotes | None
    ) -> JobWatch:
        """A watch configured by ``[jobs]`` (``settings`` is a ``JobsConfig``)."""
        return cls(
            publish,
            notes,
            stall_after_s=settings.stall_after_s,
            diverge_factor=settings.diverge_factor,
            diverge_window=settings.diverge_window,
        )

    def _state(self, job_id: str) -> _JobState:
        return self._states.setdefault(job_id, _JobState())

    # ------------------------------------------------------------------ inputs

    def output(self, record: JobRecord) -> None:
        """The job printed something: a stall it was in is over."""
        state = self._states.get(record.id)
        if state is None or not state.stalled:
            return
        state.stalled = False
        key = f"{record.id}:stalled"
        if self.notes is not None and self.notes.waiting(key):
            self.notes.withdraw(key)  # the agent never read it: nothing to take back
        elif self.notes is not None:
            self.notes.add(f"{record.id}:resumed", f"Job {record.id} is producing output again.")

    def metrics(self, record: JobRecord, tracker: MetricsTracker, *, source: str = "log") -> None:
        """New points arrived (from the log, or from trackio): look for a diverging loss."""
        state = self._state(record.id)
        if state.ended:
            return
        for name, series in tracker.series.items():
            key = f"{source}:{name}"
            if key in state.diverged or not is_loss(name):
                continue
            reason = self._diverging(state, key, series)
            if reason is not None:
                state.diverged.add(key)
                place = where(tracker)
                text = f"Job {record.id} is diverging: {reason}" + (f" {place}" if place else "")
                self._alert(record, "diverging", "warning", text, note=text + ".")

    def _diverging(self, state: _JobState, key: str, series: Series) -> str | None:
        name = series.name
        seen = state.nonfinite_seen.get(key, 0)
        state.nonfinite_seen[key] = series.nonfinite
        if series.nonfinite > seen:
            bad = series.last if not math.isfinite(series.last) else math.nan
            return f"{name} is {number(bad)}"
        window = [v for v in list(series.recent)[-self.diverge_window :] if math.isfinite(v)]
        if len(window) < min(5, self.diverge_window):
            return None
        low = min(window[:-1])
        last = window[-1]
        if low > 0 and last > self.diverge_factor * low:
            return (
                f"{name} rose {last / low:.1f}× from {number(low)} to {number(last)} "
                f"over the last {len(window)} points"
            )
        return None

    def check_stalls(self, records: list[JobRecord]) -> None:
        """Report running jobs that printed nothing for ``stall_after_s``."""
        if self.stall_after_s is None:
            return
        now = self.clock()
        for record in records:
            if record.finished or record.status != "running":
                continue
            state = self._state(record.id)
            quiet = now - record.last_output_at
            if state.stalled or quiet < self.stall_after_s:
                continue
            state.stalled = True
            place = where(record.metrics)
            text = f"Job {record.id} stalled: no new output for {duration(quiet)}" + (
                f" {place}" if place else ""
            )
            latest = latest_values(record.metrics)
            note = text + (f" (last: {latest})" if latest else "") + "; it is still running."
            self._alert(record, "stalled", "warning", text, note=note)

    def finished(self, record: JobRecord, *, notice: bool) -> None:
        """The job ended: a notice (``notice``: local jobs; HF jobs have their own) and a note."""
        state = self._state(record.id)
        if state.ended:
            return
        state.ended = True
        if self.notes is not None:
            self.notes.withdraw(f"{record.id}:")
        status = record.status
        text = f"Job {record.id} {status}"
        if record.exit_code is not None and status != "cancelled":
            text += f" (exit {record.exit_code})"
        text += f" after {duration(record.duration_s())}"
        latest = latest_values(record.metrics)
        if latest:
            text += f" · {latest}"
        kind: JobAlertKind = "finished" if status == "completed" else "failed"
        level: Any = {"completed": "success", "failed": "error"}.get(status, "warning")
        if self.notes is not None and not record.seen_final:
            self.notes.add(f"{record.id}:ended", f"{text}. Title: {record.title}")
        if notice and status != "cancelled":
            self._publish(Notice(level=level, text=text, job_id=record.id, alert=kind))

    def acknowledge(self, record: JobRecord) -> None:
        """The agent looked at the job: what was waiting for it about this job is dropped."""
        if self.notes is None:
            return
        self.notes.withdraw(f"{record.id}:")

    # ------------------------------------------------------------------ output

    def _alert(
        self, record: JobRecord, kind: JobAlertKind, level: Any, text: str, *, note: str
    ) -> None:
        self._publish(Notice(level=level, text=text, job_id=record.id, alert=kind))
        if self.notes is not None:
            self.notes.add(f"{record.id}:{kind}", f"{note} Title: {record.title}")
