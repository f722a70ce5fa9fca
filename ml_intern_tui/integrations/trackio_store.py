"""Reading trackio's local store directly: projects, runs and metric series, read-only.

trackio (Hugging Face's local-first experiment tracker) keeps one SQLite database per
project, ``<TRACKIO_DIR>/<project>.db`` (``TRACKIO_DIR`` defaults to
``$HF_HOME/trackio``). Its ``metrics`` table has one row per ``trackio.log`` call:
``run_name`` (and ``run_id`` since schema 2), ``step``, ``timestamp`` and ``metrics``, a
JSON object in which NaN and infinities are the strings ``"NaN"``, ``"Infinity"``,
``"-Infinity"``; ``configs`` holds each run's config as JSON.

Nothing here imports trackio: the files are opened read-only with ``sqlite3`` (the job
writing them may be running). A database is data a job wrote, so names are cleaned of
control characters and bounded, values that are not numbers are skipped, and the rows
read per call are capped.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

MAX_ROWS = 200_000
"""Most recent rows of one run read per call."""
MAX_NAME_CHARS = 120
MAX_METRICS_PER_RUN = 200
_NONFINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


class TrackioError(Exception):
    """A store or project that cannot be read; the message is one line for the model."""


def default_dir(env: dict[str, str] | None = None) -> Path:
    """Where trackio writes by default: ``$TRACKIO_DIR``, else ``$HF_HOME/trackio``."""
    env = dict(os.environ) if env is None else env
    if env.get("TRACKIO_DIR"):
        return Path(env["TRACKIO_DIR"]).expanduser()
    if env.get("HF_HOME"):
        return Path(env["HF_HOME"]).expanduser() / "trackio"
    cache = Path(env["XDG_CACHE_HOME"]) if env.get("XDG_CACHE_HOME") else Path.home() / ".cache"
    return cache / "huggingface" / "trackio"


def canonical_project(name: str) -> str:
    """The file name trackio derives from a project name (letters, digits, ``-``, ``_``)."""
    safe = "".join(c for c in name if c.isalnum() or c in "-_").rstrip()
    return safe or "default"


def clean(text: str) -> str:
    """A name from the store, printable and bounded."""
    text = "".join(c if c.isprintable() else "?" for c in str(text))
    return text if len(text) <= MAX_NAME_CHARS else text[: MAX_NAME_CHARS - 1] + "…"


def number(value: object) -> float | None:
    """A metric value as trackio stores it, or ``None`` for media, tables, text..."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and value in _NONFINITE:
        return _NONFINITE[value]
    return None


@dataclass
class RunInfo:
    """One run of a project, as its rows say."""

    name: str
    rows: int
    first_step: int | None
    last_step: int | None
    last_logged: str
    metrics: list[str] = field(default_factory=list)
    config: dict[str, object] = field(default_factory=dict)


@dataclass
class ProjectInfo:
    name: str
    path: Path
    runs: int
    rows: int
    last_logged: str


@contextlib.contextmanager
def _open(path: Path) -> Iterator[sqlite3.Connection]:
    """A read-only connection (the writer may be a running job)."""
    if not path.is_file():
        raise TrackioError(f"no trackio database at {path}")
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=2.0)
    except sqlite3.Error as exc:
        raise TrackioError(f"cannot open {path.name}: {exc}") from None
    try:
        conn.execute("PRAGMA query_only = ON")
        yield conn
    except sqlite3.DatabaseError as exc:
        raise TrackioError(f"cannot read {path.name} as a trackio database: {exc}") from None
    finally:
        conn.close()


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}


def _is_store(conn: sqlite3.Connection) -> bool:
    return {"run_name", "step", "metrics"} <= _columns(conn, "metrics")


def project_path(directory: Path, project: str) -> Path:
    """The database of ``project`` in ``directory`` (the name cannot leave the directory)."""
    return directory / f"{canonical_project(project)}.db"


def list_projects(directories: list[Path]) -> list[ProjectInfo]:
    """Every trackio project in ``directories``, most recently logged first."""
    found: dict[str, ProjectInfo] = {}
    for directory in directories:
        if not directory.is_dir():
            continue
        for path in sorted(directory.glob("*.db"))[:500]:
            if path.stem.startswith("registry-") or path.stem in found:
                continue
            try:
                with _open(path) as conn:
                    if not _is_store(conn):
                        continue
                    runs, rows, last = conn.execute(
                        "SELECT COUNT(DISTINCT run_name), COUNT(*), MAX(timestamp) FROM metrics"
                    ).fetchone()
            except TrackioError:
                continue
            found[path.stem] = ProjectInfo(clean(path.stem), path, runs or 0, rows or 0, last or "")
    return sorted(found.values(), key=lambda p: p.last_logged, reverse=True)


def find_project(directories: list[Path], project: str) -> Path:
    """The database of ``project`` in the first directory that has it."""
    for directory in directories:
        path = project_path(directory, project)
        if path.is_file():
            return path
    known = ", ".join(p.name for p in list_projects(directories)) or "none"
    raise TrackioError(f"no trackio project {project!r} (projects: {known})")


def list_runs(path: Path) -> list[RunInfo]:
    """The runs of one project, most recently logged first."""
    with _open(path) as conn:
        if not _is_store(conn):
            raise TrackioError(f"{path.name} is not a trackio project database")
        rows = conn.execute(
            "SELECT run_name, COUNT(*), MIN(step), MAX(step), MAX(timestamp) "
            "FROM metrics GROUP BY run_name ORDER BY MAX(id) DESC LIMIT 200"
        ).fetchall()
        runs = [RunInfo(clean(r[0]), r[1], r[2], r[3], r[4] or "") for r in rows]
        configs = {}
        if {"run_name", "config"} <= _columns(conn, "configs"):
            for name, raw in conn.execute("SELECT run_name, config FROM configs LIMIT 1000"):
                configs[clean(name)] = _json_object(raw)
        for run in runs:
            keys: dict[str, None] = {}
            for (raw,) in conn.execute(
                "SELECT metrics FROM metrics WHERE run_name = ? ORDER BY id DESC LIMIT 50",
                (run.name,),
            ):
                for key, value in _json_object(raw).items():
                    if not key.startswith("_") and number(value) is not None:
                        keys.setdefault(clean(key))
            run.metrics = sorted(keys)[:MAX_METRICS_PER_RUN]
            run.config = {
                k: v for k, v in configs.get(run.name, {}).items() if not str(k).startswith("_")
            }
    return runs


def read_run(path: Path, run: str | None) -> tuple[str, dict[str, list[tuple[float, float]]]]:
    """``(run name, {metric: [(step, value)…]})`` for ``run`` (default: the latest run)."""
    with _open(path) as conn:
        if not _is_store(conn):
            raise TrackioError(f"{path.name} is not a trackio project database")
        if run is None:
            latest = conn.execute(
                "SELECT run_name FROM metrics ORDER BY id DESC LIMIT 1"
            ).fetchone()
            if latest is None:
                raise TrackioError(f"project {path.stem!r} has no logged metrics yet")
            run = str(latest[0])
        rows = conn.execute(
            "SELECT step, metrics FROM (SELECT id, step, metrics FROM metrics "
            "WHERE run_name = ? ORDER BY id DESC LIMIT ?) ORDER BY id",
            (run, MAX_ROWS),
        ).fetchall()
        if not rows:
            names = [r[0] for r in conn.execute("SELECT DISTINCT run_name FROM metrics LIMIT 50")]
            raise TrackioError(
                f"no run {clean(run)!r} in project {path.stem!r} "
                f"(runs: {', '.join(clean(n) for n in names) or 'none'})"
            )
    series: dict[str, list[tuple[float, float]]] = {}
    for step, raw in rows:
        for key, value in _json_object(raw).items():
            if key.startswith("_"):
                continue
            y = number(value)
            if y is None:
                continue
            name = clean(key)
            points = series.get(name)
            if points is None:
                if len(series) >= MAX_METRICS_PER_RUN:
                    continue
                points = series[name] = []
            points.append((float(step), y))
    return clean(run), series


def read_since(
    path: Path, run: str, after_id: int, limit: int = 5000
) -> tuple[int, dict[str, list[tuple[float, float]]]]:
    """Rows of ``run`` logged after row ``after_id``: ``(last row id, {metric: points})``.

    For following a run while it is written; a missing database is simply no rows yet.
    """
    if not path.is_file():
        return after_id, {}
    with _open(path) as conn:
        if not _is_store(conn):
            return after_id, {}
        rows = conn.execute(
            "SELECT id, step, metrics FROM metrics WHERE run_name = ? AND id > ? "
            "ORDER BY id LIMIT ?",
            (run, after_id, limit),
        ).fetchall()
    series: dict[str, list[tuple[float, float]]] = {}
    for row_id, step, raw in rows:
        after_id = max(after_id, int(row_id))
        for key, value in _json_object(raw).items():
            y = number(value)
            if key.startswith("_") or y is None:
                continue
            name = clean(key)
            if name in series or len(series) < MAX_METRICS_PER_RUN:
                series.setdefault(name, []).append((float(step), y))
    return after_id, series


def _json_object(raw: object) -> dict[str, object]:
    if isinstance(raw, bytes | bytearray | memoryview):
        raw = bytes(raw).decode("utf-8", "replace")
    if not isinstance(raw, str):
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
