"""Following a job's trackio run: rows it adds to its local store become ``job_metrics``.

A script that logs only to trackio prints no metrics, so its curves would never reach
the screen. When the job's log names its trackio project, run and store (trackio's own
``* Trackio …`` lines), the registry starts a :class:`TrackioFollower`: every few seconds
it reads the rows added since the last look (read-only, in a thread) into a
:class:`~.metrics.MetricsTracker` of their own, and publishes the delta with
``source="trackio"``. New rows count as activity, so such a job is not called stalled.
The store's path comes from an untrusted log: it is followed only inside the job's
directory or trackio's default store.

A job logging to a trackio Space that persists to a dataset (``* Trackio metrics will be
synced to Hugging Face Dataset: org/name``) writes no local store; its run is followed in
that dataset instead, less often (the Space commits its export every few minutes), each
poll refreshing a local copy when the Hub lists new contents.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ml_intern_tui.core.protocol import JobMetrics
from ml_intern_tui.integrations import trackio_remote, trackio_store
from ml_intern_tui.jobs.metrics import MetricsTracker, TrackioLink

if TYPE_CHECKING:
    from ml_intern_tui.core.services import HubService

log = logging.getLogger(__name__)

TRACKIO_POLL_S = 2.0
REMOTE_POLL_S = 30.0
"""How often a Space-backed run's dataset is listed again."""


def remote_dataset(link: TrackioLink) -> str | None:
    """The dataset a job's trackio run syncs to, when its log names one we can read."""
    if not link.remote or not link.project or not link.run or "/buckets/" in link.remote:
        return None
    try:
        return trackio_remote.repo_id(link.remote, "dataset")
    except trackio_store.TrackioError:
        return None


def store_directory(link: TrackioLink, cwd: Path | None) -> Path | None:
    """The store a job's log names, when it is one we may read (else ``None``)."""
    if not link.directory or not link.project or not link.run or link.remote:
        return None
    directory = Path(link.directory).expanduser()
    if not directory.is_absolute():
        if cwd is None:
            return None
        directory = cwd / directory
    directory = directory.resolve()
    allowed = [trackio_store.default_dir().expanduser().resolve()]
    if cwd is not None:
        allowed.append(cwd.resolve())
    return directory if any(directory.is_relative_to(root) for root in allowed) else None


class TrackioFollower:
    """Reads one run's new rows into ``tracker`` and hands each delta to ``emit``."""

    def __init__(
        self,
        job_id: str,
        link: TrackioLink,
        directory: Path,
        emit: Callable[[JobMetrics], None],
        *,
        on_rows: Callable[[MetricsTracker], None] = lambda _tracker: None,
        poll_s: float = TRACKIO_POLL_S,
        refresh: Callable[[], Path] | None = None,
    ) -> None:
        self.job_id = job_id
        self.link = link
        self.run_name = link.run
        self.path = trackio_store.project_path(directory, link.project)
        self.emit = emit
        self.on_rows = on_rows
        self.poll_s = poll_s
        self.refresh = refresh
        """For a Space-backed run: brings the local copy up to date, returns its path."""
        self.tracker = MetricsTracker()
        self.after_id = 0
        self._failed = False

    async def follow(self) -> None:
        """Poll until cancelled."""
        while True:
            await self.poll()
            await asyncio.sleep(self.poll_s)

    async def poll(self) -> bool:
        """Read what was added since the last poll; True when there was something."""
        try:
            self.after_id, points = await asyncio.to_thread(self._read)
        except trackio_store.TrackioError as exc:
            if not self._failed:
                log.debug("trackio store of %s unreadable: %s", self.job_id, exc)
            self._failed = True
            if self.refresh is not None:  # a dataset that may stay unreadable: say why
                self.link.problem = str(exc)
            return False
        self.link.problem = ""
        if not points or not self.tracker.add_points(points):
            return False
        delta = self.tracker.take_delta()
        if delta is not None:
            self.emit(
                JobMetrics(
                    job_id=self.job_id,
                    source="trackio",
                    axis="step",
                    series=delta.points,
                    step=delta.step,
                )
            )
        self.on_rows(self.tracker)
        return True

    def _read(self) -> tuple[int, dict[str, list[tuple[float, float]]]]:
        if self.refresh is not None:
            self.path = self.refresh()
        return trackio_store.read_since(self.path, self.run_name, self.after_id)


def remote_follower(
    job_id: str,
    link: TrackioLink,
    hub: HubService,
    emit: Callable[[JobMetrics], None],
    *,
    on_rows: Callable[[MetricsTracker], None],
    poll_s: float = REMOTE_POLL_S,
) -> TrackioFollower | None:
    """A follower reading the job's run from the dataset its Space syncs to, if named."""
    dataset = remote_dataset(link)
    if dataset is None:
        return None
    remote = trackio_remote.RemoteProjects(hub, dataset, trackio_remote.default_cache())
    return TrackioFollower(
        job_id,
        link,
        remote.directory,
        emit,
        on_rows=on_rows,
        poll_s=poll_s,
        refresh=lambda: remote.sync(link.project, refresh=True),
    )
