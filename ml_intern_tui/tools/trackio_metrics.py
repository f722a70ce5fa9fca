"""``trackio_metrics``: read trackio projects, runs and metric curves.

Read-only: the databases are opened with ``sqlite3`` in read-only mode (see
:mod:`ml_intern_tui.integrations.trackio_store`); trackio itself is never imported. The
store is looked for where trackio writes by default, and where this session's jobs said
they log (``* Trackio metrics logged to: DIR``) when that is inside the project. With
``space_id`` or ``dataset_id`` the project is one a trackio Space persists to its HF
dataset: its parquet files are fetched through the Hub client and read the same way (see
:mod:`ml_intern_tui.integrations.trackio_remote`).
"""

from __future__ import annotations

import asyncio
import importlib.util
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from ml_intern_tui.core.tool import Tool, ToolContext, ToolError, ToolResult
from ml_intern_tui.integrations import trackio_store as store
from ml_intern_tui.integrations.trackio_remote import RemoteProjects, default_cache
from ml_intern_tui.jobs.alerts import number
from ml_intern_tui.jobs.metric_summary import describe_series
from ml_intern_tui.jobs.metrics import Series, thin
from ml_intern_tui.jobs.trackio_follow import store_directory

if TYPE_CHECKING:
    from ml_intern_tui.core.services import HubService

INSTALL_HINT = (
    "trackio is not installed here: `pip install trackio`, then log from the training "
    "script with trackio.init(project=...) and trackio.log({...})."
)


class TrackioArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    operation: Literal["projects", "runs", "summary", "series"] = Field(
        description="projects: the trackio projects found; runs: a project's runs with "
        "their metrics and config; summary: latest/min/max/trend of every metric of a run; "
        "series: one metric's curve (step, value)."
    )
    project: str | None = Field(None, description="The trackio project (all but projects).")
    run: str | None = Field(None, description="The run name; default: the latest run.")
    metric: str | None = Field(None, description="For series: the metric (e.g. train/loss).")
    max_points: int = Field(60, ge=2, le=500, description="For series: points returned at most.")
    space_id: str | None = Field(
        None,
        description="A trackio Space (org/name) whose projects persist to an HF dataset: "
        "read that dataset instead of the local store.",
    )
    dataset_id: str | None = Field(
        None,
        description="The HF dataset (org/name) a trackio Space syncs to (as passed to "
        "trackio.init(dataset_id=...)); read it instead of the local store.",
    )


class TrackioMetricsTool(Tool):
    """Read metrics that training scripts logged with trackio."""

    name = "trackio_metrics"
    description = (
        "Read experiment metrics logged with trackio (Hugging Face's local experiment "
        "tracker) from its local store, or from the HF dataset a trackio Space syncs to "
        "(space_id or dataset_id): list projects and runs, summarise a run's metrics "
        "(latest, min, max, trend), or fetch one metric's curve. Read-only."
    )
    Args = TrackioArgs
    read_only = True

    async def run(self, args: TrackioArgs, ctx: ToolContext) -> ToolResult:
        try:
            if args.space_id or args.dataset_id:
                hub = ctx.services.hub
                if hub is None:
                    raise ToolError("no Hugging Face Hub client in this session")
                return await asyncio.to_thread(self._remote, args, hub)
            return await asyncio.to_thread(self._answer, args, search_dirs(ctx))
        except store.TrackioError as exc:
            raise ToolError(str(exc)) from None

    def _remote(self, args: TrackioArgs, hub: HubService) -> ToolResult:
        remote = RemoteProjects.open(
            hub, default_cache(), space_id=args.space_id, dataset_id=args.dataset_id
        )
        if args.operation == "projects":
            return _remote_projects(remote)
        if not args.project:
            raise ToolError(f"project is required for {args.operation}")
        path = remote.sync(args.project)
        return self._read(args, path)

    def _answer(self, args: TrackioArgs, directories: list[Path]) -> ToolResult:
        if args.operation == "projects":
            return _projects(directories)
        if not args.project:
            raise ToolError(f"project is required for {args.operation}")
        return self._read(args, store.find_project(directories, args.project))

    def _read(self, args: TrackioArgs, path: Path) -> ToolResult:
        if args.operation == "runs":
            return _runs(path)
        run, series = store.read_run(path, args.run)
        if args.operation == "summary":
            return _summary(path.stem, run, series)
        return _series(path.stem, run, series, args.metric, args.max_points)


def search_dirs(ctx: ToolContext) -> list[Path]:
    """The default store, then the stores this session's jobs named (when allowed)."""
    found = [store.default_dir()]
    registry = ctx.services.jobs
    for job in registry.list() if registry is not None else []:
        link = getattr(job.metrics, "trackio", None)
        if link is None:
            continue
        # A job's log is untrusted: only a store in its directory (or the default) is read.
        directory = store_directory(link, job.cwd or ctx.cwd)
        if directory is not None and directory not in found:
            found.append(directory)
    return found


def _projects(directories: list[Path]) -> ToolResult:
    projects = store.list_projects(directories)
    if not projects:
        where = ", ".join(str(d) for d in directories)
        text = f"No trackio projects in {where}."
        if importlib.util.find_spec("trackio") is None:
            text += " " + INSTALL_HINT
        return ToolResult(summary="no trackio projects", output=text)
    lines = [
        f"{p.name}: {p.runs} runs · {p.rows} logged rows · last logged {p.last_logged[:19] or '?'}"
        f" · {p.path}"
        for p in projects
    ]
    return ToolResult(summary=f"{len(projects)} trackio projects", output="\n".join(lines))


def _remote_projects(remote: RemoteProjects) -> ToolResult:
    where = f"dataset {remote.dataset_id}"
    names = remote.projects()
    if not names:
        text = f"No trackio projects in {where} (no <project>.parquet at its root)."
        return ToolResult(summary="no trackio projects", output=text)
    stems = {remote.sync(name).stem for name in names}
    projects = [p for p in store.list_projects([remote.directory]) if p.path.stem in stems]
    lines = [
        f"{p.name}: {p.runs} runs · {p.rows} logged rows · last logged {p.last_logged[:19] or '?'}"
        for p in projects
    ]
    lines.append(f"(from {where}; pass dataset_id={remote.dataset_id} with project=...)")
    return ToolResult(summary=f"{len(projects)} trackio projects", output="\n".join(lines))


def _runs(path: Path) -> ToolResult:
    runs = store.list_runs(path)
    if not runs:
        return ToolResult(summary="no runs", output=f"Project {path.stem!r} has no runs yet.")
    lines = [f"project {path.stem}: {len(runs)} runs, latest first"]
    for run in runs:
        steps = f"steps {run.first_step}–{run.last_step}" if run.rows else "no steps"
        line = f"- {run.name}: {steps} · {run.rows} rows · last logged {run.last_logged[:19]}"
        if run.metrics:
            line += f" · metrics: {', '.join(run.metrics[:30])}"
        if run.config:
            shown = [
                f"{store.clean(str(k))}={store.clean(str(v))[:40]}" for k, v in run.config.items()
            ]
            line += f" · config: {', '.join(shown[:15])}"
        lines.append(line)
    return ToolResult(summary=f"{path.stem}: {len(runs)} runs", output="\n".join(lines))


def _as_series(name: str, points: list[tuple[float, float]]) -> Series:
    series = Series(name)
    for x, y in points:
        series.add(x, y)
    return series


def _summary(project: str, run: str, series: dict[str, list[tuple[float, float]]]) -> ToolResult:
    if not series:
        return ToolResult(summary="no metrics", output=f"Run {run!r} logged no numeric metrics.")
    lines = [f"project {project}, run {run}: {len(series)} metrics against step"]
    lines += [
        describe_series(_as_series(name, pts), "step") for name, pts in sorted(series.items())
    ]
    return ToolResult(summary=f"{project}/{run}: {len(series)} metrics", output="\n".join(lines))


def _series(
    project: str,
    run: str,
    series: dict[str, list[tuple[float, float]]],
    metric: str | None,
    limit: int,
) -> ToolResult:
    if metric is None or metric not in series:
        head = f"No metric {metric!r} in run {run!r}. " if metric else ""
        raise ToolError(f"{head}Pass metric= one of: {', '.join(sorted(series)) or 'none'}")
    points = series[metric]
    shown = thin(points, limit)
    lines = [f"{metric} in {project}/{run} against step: {len(shown)} of {len(points)} points"]
    lines += [f"{x:g}\t{number(y)}" for x, y in shown]
    return ToolResult(summary=f"{metric}: {len(points)} points", output="\n".join(lines))
