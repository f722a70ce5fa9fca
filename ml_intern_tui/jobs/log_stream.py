"""One job's output on its way out: memory tail, full log file, batched events, metrics.

Lines are kept (the newest in memory, all of them on disk), batched into ``job_log``
events, and read for metrics by the job's :class:`~.metrics.MetricsTracker`, whose deltas
go out as ``job_metrics`` events at most once per ``metrics_interval_s``.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from typing import IO, TYPE_CHECKING

from ml_intern_tui.core.protocol import JobLog, JobMetrics, JobProgress
from ml_intern_tui.core.redact_stream import StreamRedactor
from ml_intern_tui.jobs.local import Redraw
from ml_intern_tui.jobs.metrics import Delta, MetricsTracker

if TYPE_CHECKING:
    from ml_intern_tui.jobs.registry import JobRecord, JobRegistry


class LogStream:
    """One job's lines: memory tail, full file on disk, batched ``job_log`` events."""

    def __init__(self, registry: JobRegistry, record: JobRecord) -> None:
        self._registry = registry
        self._record = record
        self._pending: list[str] = []
        self._timer: asyncio.TimerHandle | None = None
        self._file: IO[str] | None = None
        self._redactor = StreamRedactor()  # the log file outlives the session: no secrets
        if record.log_path is not None:
            record.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._file = record.log_path.open("a", encoding="utf-8")
        if registry.extract_metrics and record.metrics is None:
            record.metrics = MetricsTracker()
        self._metrics_timer: asyncio.TimerHandle | None = None
        self._metrics_sent_at = -math.inf

    def add(self, lines: list[str]) -> None:
        if not lines:
            return
        record = self._record
        record.tail.extend(lines)
        record.lines_total += len(lines)
        record.last_output_at = time.monotonic()
        if self._file is not None:
            self._file.write(self._redactor.feed("".join(line + "\n" for line in lines)))
            self._file.flush()
        self._pending.extend(lines)
        if self._timer is None:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(self._registry.batch_interval_s, self.flush)
        self._registry._output(record)
        tracker = record.metrics
        if tracker is not None:
            if tracker.feed(lines):
                self._schedule_metrics()
            if tracker.trackio is not None:
                self._registry._trackio_seen(record)

    def add_output(self, items: list[str]) -> None:
        """Lines and, in their places, progress redraws (:class:`~.local.Redraw`)."""
        start = 0
        for index, item in enumerate(items):
            if isinstance(item, Redraw):
                self.add(items[start:index])
                self.redrawing(item)
                start = index + 1
        self.add(items[start:] if start else items)

    def redrawing(self, text: str) -> None:
        """A progress bar redrawn in place (tqdm between two log lines)."""
        record = self._record
        if not text or record.metrics is None:
            return
        if record.metrics.feed_progress(text):
            record.last_output_at = time.monotonic()
            self._registry._output(record)
            self._schedule_metrics()

    def _schedule_metrics(self) -> None:
        if self._metrics_timer is not None:
            return
        loop = asyncio.get_running_loop()
        delay = max(0.0, self._metrics_sent_at + self._registry.metrics_interval_s - loop.time())
        self._metrics_timer = loop.call_later(delay, self.flush_metrics)

    def flush_metrics(self) -> None:
        """Publish what the tracker gathered since the last ``job_metrics`` (if anything)."""
        if self._metrics_timer is not None:
            self._metrics_timer.cancel()
            self._metrics_timer = None
        tracker = self._record.metrics
        delta = tracker.take_delta() if tracker is not None else None
        if delta is None or tracker is None:
            return
        with contextlib.suppress(RuntimeError):
            self._metrics_sent_at = asyncio.get_running_loop().time()
        self._registry._emit(metrics_event(self._record.id, delta))
        if delta.points:
            self._registry._metrics_changed(self._record, tracker)

    def flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._pending:
            lines, self._pending = self._pending, []
            self._registry._emit(JobLog(job_id=self._record.id, lines=lines))

    def close(self) -> None:
        self.flush()
        self.flush_metrics()
        if self._file is not None:
            self._file.write(self._redactor.flush())
            self._file.close()
            self._file = None


def metrics_event(job_id: str, delta: Delta) -> JobMetrics:
    """The ``job_metrics`` event of one delta."""
    progress = delta.progress
    return JobMetrics(
        job_id=job_id,
        axis=delta.axis,
        series=delta.points,
        progress=None
        if progress is None
        else JobProgress(
            n=progress.n,
            total=progress.total,
            fraction=progress.fraction,
            elapsed_s=progress.elapsed_s,
            eta_s=progress.eta_s,
            rate=progress.rate,
        ),
        step=delta.step,
        reset=delta.reset,
    )
