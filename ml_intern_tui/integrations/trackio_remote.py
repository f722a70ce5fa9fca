"""Reading trackio projects backed by a Space: the parquet files their HF dataset holds.

A trackio Space persisting to a dataset (``trackio.init(space_id=…, dataset_id=…)``)
exports each project's SQLite store to parquet and commits the files to the dataset's
root: ``<project>.parquet`` (one row per ``trackio.log``: ``id``, ``run_id``,
``timestamp``, ``run_name``, ``step``, ``log_id``, ``space_id``, then one column per
metric, flattened), ``<project>_configs.parquet`` (one row per run: ``run_name`` and
its config keys), and sidecars this module ignores (``_system``, ``_traces``,
artifacts, ``media/``). The Space's card links the dataset (``datasets:`` in its
README); trackio's older default was ``<space_id>-dataset``.

The few files needed are downloaded through huggingface_hub's session (size-capped,
cached by content id) and turned into a database in trackio's own local layout, so
:mod:`.trackio_store` reads them exactly like a local project. A dataset is data a
stranger wrote: sizes, column counts and decompressed sizes are bounded, non-numeric
columns are skipped, names are cleaned where they are shown, and every failure is one
:class:`~.trackio_store.TrackioError` line.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import sqlite3
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ml_intern_tui.integrations.trackio_store import TrackioError, canonical_project, clean

if TYPE_CHECKING:
    from ml_intern_tui.core.services import HubService

MAX_FILE_BYTES = 64 * 2**20
"""Largest parquet file downloaded (a project's whole history is far smaller)."""
MAX_UNCOMPRESSED_BYTES = 256 * 2**20
"""Largest decompressed size a parquet file may declare (no decompression bombs)."""
MAX_COLUMNS = 2000
MAX_ROWS = 1_000_000
MAX_PROJECTS = 50
DOWNLOAD_DEADLINE_S = 120.0
STRUCTURAL = ("id", "run_id", "timestamp", "run_name", "step", "log_id", "space_id")
"""The columns trackio writes before the flattened metrics."""
SIDECARS = (
    "_system",
    "_configs",
    "_traces",
    "_artifacts",
    "_artifact_versions",
    "_artifact_aliases",
    "_run_artifact_links",
    "_external_run_artifact_links",
)
PYARROW_HINT = (
    "reading a Space-backed trackio project needs pyarrow: "
    "`pip install pyarrow` (or `pip install 'ml-intern-tui[trackio]'`)"
)
_REPO_ID = re.compile(r"[A-Za-z0-9][\w.-]{0,95}/[A-Za-z0-9][\w.-]{0,95}")
_URL_PREFIX = re.compile(r"^(?:https?://[^/]+/)?(?:(?:datasets|spaces)/)?")
_NONFINITE = {math.inf: "Infinity", -math.inf: "-Infinity"}


@dataclass(frozen=True)
class RemoteFile:
    """One file at the dataset's root, as the Hub lists it."""

    path: str
    size: int
    oid: str


def default_cache() -> Path:
    """Where the databases made from Space-backed projects are kept."""
    from ml_intern_tui.paths import cache_dir

    return cache_dir() / "trackio"


def repo_id(value: str, kind: str) -> str:
    """``org/name`` from what a user or a log gave (a Hub URL works too)."""
    text = _URL_PREFIX.sub("", value.strip()).strip("/")
    if not _REPO_ID.fullmatch(text) or ".." in text:
        raise TrackioError(f"{clean(value)!r} is not a {kind} id: use the form org/name")
    return text


def hub_message(exc: BaseException, hub: HubService, label: str) -> str:
    """One line saying why a Hub call about ``label`` failed and what to do."""
    from huggingface_hub.errors import GatedRepoError, HfHubHTTPError, RepositoryNotFoundError

    if isinstance(exc, GatedRepoError):
        return f"{label} is gated: request access on the Hub, then try again"
    if isinstance(exc, RepositoryNotFoundError):
        if not hub.token:
            return (
                f"{label} was not found or is private: set HF_TOKEN (or run `hf auth login`) "
                "with read access to it"
            )
        return f"{label} was not found, or your token cannot read it (check the id)"
    if isinstance(exc, HfHubHTTPError):
        status = exc.response.status_code if exc.response is not None else "?"
        if status == 401:
            return "the Hub rejected the token (401): check HF_TOKEN or run `hf auth login`"
        detail = clean(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        return f"reading {label} failed ({status}): {detail}"
    return f"cannot reach the Hub at {hub.endpoint} for {label}: {type(exc).__name__}"


def _call(hub: HubService, label: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except TrackioError:
        raise
    except Exception as exc:
        raise TrackioError(hub_message(exc, hub, label)) from None


def dataset_for_space(hub: HubService, space_id: str) -> list[str]:
    """The datasets a trackio Space may persist to, most likely first."""
    space_id = repo_id(space_id, "Space")
    info = _call(hub, f"Space {space_id}", hub.api.space_info, space_id)
    linked: list[str] = []
    card = getattr(info, "card_data", None)
    for source in (getattr(card, "datasets", None), getattr(info, "datasets", None)):
        for item in source if isinstance(source, list) else []:
            with contextlib.suppress(TrackioError):
                if isinstance(item, str) and repo_id(item, "dataset") not in linked:
                    linked.append(repo_id(item, "dataset"))
    fallback = f"{space_id}-dataset"
    return linked + ([fallback] if fallback not in linked else [])


def list_files(hub: HubService, dataset_id: str) -> dict[str, RemoteFile]:
    """The files at the dataset's root (where trackio commits its parquet files)."""
    label = f"dataset {dataset_id}"

    def listing() -> dict[str, RemoteFile]:
        found: dict[str, RemoteFile] = {}
        for entry in hub.api.list_repo_tree(dataset_id, repo_type="dataset", recursive=False):
            if len(found) >= 5000:
                break
            size = getattr(entry, "size", None)
            if size is None:  # a folder
                continue
            lfs = getattr(entry, "lfs", None)
            oid = str(getattr(lfs, "sha256", None) or getattr(entry, "blob_id", "") or "")
            found[entry.path] = RemoteFile(entry.path, int(size), oid)
        return found

    files: dict[str, RemoteFile] = _call(hub, label, listing)
    return files


def project_names(files: dict[str, RemoteFile]) -> list[str]:
    """The trackio projects among the dataset's root files (sidecars left out)."""
    stems = {p[: -len(".parquet")] for p in files if p.endswith(".parquet") and "/" not in p}
    names = []
    for stem in sorted(stems):
        if not stem or any(stem.endswith(s) and stem[: -len(s)] in stems for s in SIDECARS):
            continue
        names.append(stem)
    return names[:MAX_PROJECTS]


def download(hub: HubService, dataset_id: str, file: RemoteFile, dest: Path) -> None:
    """Fetch ``file`` to ``dest`` (atomically), refusing more than ``MAX_FILE_BYTES``."""
    label = f"{clean(file.path)} in dataset {dataset_id}"
    if file.size > MAX_FILE_BYTES:
        raise TrackioError(
            f"{label} is {file.size:,} bytes, over the {MAX_FILE_BYTES:,} bytes this tool "
            "downloads; open it on the Hub instead"
        )
    from huggingface_hub import get_session, hf_hub_url, hf_raise_for_status
    from huggingface_hub.utils import build_hf_headers  # type: ignore[attr-defined]

    url = hf_hub_url(dataset_id, file.path, repo_type="dataset", endpoint=hub.endpoint)
    headers = build_hf_headers(token=hub.token or False)
    partial = dest.with_name(f".{dest.name}.{uuid.uuid4().hex}.part")
    deadline = time.monotonic() + DOWNLOAD_DEADLINE_S

    def fetch() -> None:
        received = 0
        stream = get_session().stream(
            "GET", url, headers=headers, follow_redirects=True, timeout=30.0
        )
        with stream as response, partial.open("wb") as out:
            hf_raise_for_status(response)
            for chunk in response.iter_bytes():
                received += len(chunk)
                if received > MAX_FILE_BYTES:
                    raise TrackioError(
                        f"{label} is larger than the {MAX_FILE_BYTES:,} bytes this tool "
                        "downloads (the Hub listed it smaller); open it on the Hub instead"
                    )
                if time.monotonic() > deadline:
                    raise TrackioError(f"downloading {label} took over {DOWNLOAD_DEADLINE_S:.0f} s")
                out.write(chunk)

    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        _call(hub, label, fetch)
        os.replace(partial, dest)
    finally:
        partial.unlink(missing_ok=True)


def _pyarrow() -> tuple[Any, Any]:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise TrackioError(PYARROW_HINT) from None
    return pa, pq


def _read_columns(path: Path, label: str, wanted: Any) -> dict[str, list[Any]]:
    """Columns chosen by ``wanted(schema)`` from a parquet file, after bounds checks."""
    pa, pq = _pyarrow()
    try:
        parquet = pq.ParquetFile(path)
        meta = parquet.metadata
        if meta.num_columns > MAX_COLUMNS:
            raise TrackioError(f"{label} has {meta.num_columns} columns (at most {MAX_COLUMNS})")
        declared = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
        if declared > MAX_UNCOMPRESSED_BYTES or meta.num_rows > MAX_ROWS:
            raise TrackioError(
                f"{label} holds {meta.num_rows:,} rows ({declared:,} bytes decompressed), "
                f"over the {MAX_ROWS:,} rows / {MAX_UNCOMPRESSED_BYTES:,} bytes read here"
            )
        names = [field.name for field in parquet.schema_arrow]
        once = [n for n in names if names.count(n) == 1]  # a repeated name is ambiguous
        columns = wanted(pa, {n: parquet.schema_arrow.field(n).type for n in once})
        table = parquet.read(columns=columns)
        data: dict[str, list[Any]] = table.to_pydict()
        return data
    except TrackioError:
        raise
    except (pa.ArrowException, OSError, ValueError, TypeError, KeyError, IndexError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise TrackioError(f"cannot read {label} as trackio parquet: {clean(first)}") from None


def _numeric(pa: Any, kind: Any) -> bool:
    return bool(
        pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind)
    )


def _json_value(value: object) -> object:
    """A metric value as trackio's local store keeps it (non-finite numbers as strings)."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else _NONFINITE[value]
    return value


def materialize(metrics: Path, configs: Path | None, db_path: Path, project: str) -> None:
    """Turn a project's parquet files into a database in trackio's local layout."""
    label = f"{clean(project)}.parquet"

    def metric_columns(pa: Any, types: dict[str, Any]) -> list[str]:
        if "run_name" not in types or "step" not in types:
            raise TrackioError(f"{label} is not a trackio project (no run_name/step columns)")
        keep = [c for c in ("id", "run_name", "step", "timestamp") if c in types]
        return keep + [n for n, t in types.items() if n not in STRUCTURAL and _numeric(pa, t)]

    data = _read_columns(metrics, label, metric_columns)
    names = [n for n in data if n not in STRUCTURAL]
    rows = []
    ids = data.get("id")
    for i, run in enumerate(data["run_name"]):
        step = data["step"][i]
        if run is None or not isinstance(step, int | float) or not math.isfinite(step):
            continue
        values = {n: _json_value(data[n][i]) for n in names if data[n][i] is not None}
        row_id = ids[i] if ids is not None and isinstance(ids[i], int) else i + 1
        stamp = data["timestamp"][i] if "timestamp" in data else ""
        rows.append((row_id, str(run), int(step), str(stamp or ""), json.dumps(values)))
    config_rows = _config_rows(configs, project) if configs is not None else []
    tmp = db_path.with_name(f".{db_path.name}.{uuid.uuid4().hex}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        with contextlib.closing(sqlite3.connect(tmp)) as conn:
            conn.execute(
                "CREATE TABLE metrics (id INTEGER PRIMARY KEY, run_name TEXT, step INTEGER, "
                "timestamp TEXT, metrics TEXT)"
            )
            conn.execute("CREATE TABLE configs (run_name TEXT, config TEXT)")
            conn.executemany("INSERT OR REPLACE INTO metrics VALUES (?, ?, ?, ?, ?)", rows)
            conn.executemany("INSERT INTO configs VALUES (?, ?)", config_rows)
            conn.commit()
        os.replace(tmp, db_path)
    finally:
        tmp.unlink(missing_ok=True)


def _config_rows(path: Path, project: str) -> list[tuple[str, str]]:
    label = f"{clean(project)}_configs.parquet"

    def scalar_columns(pa: Any, types: dict[str, Any]) -> list[str]:
        if "run_name" not in types:
            return []
        scalar = [
            n
            for n, t in types.items()
            if n not in (*STRUCTURAL, "created_at") and (_numeric(pa, t) or pa.types.is_string(t))
        ]
        return ["run_name", *scalar[:200]]

    try:
        data = _read_columns(path, label, scalar_columns)
    except TrackioError:
        return []  # a run's config is a nicety; the curves still read
    rows = []
    for i, run in enumerate(data.get("run_name", [])[:10_000]):
        config = {
            k: _json_value(v[i]) for k, v in data.items() if k != "run_name" and v[i] is not None
        }
        if run is not None:
            rows.append((str(run), json.dumps(config, default=str)))
    return rows


class RemoteProjects:
    """One dataset's trackio projects, mirrored as local databases under ``cache_root``.

    Blocking (run it in a thread). Each project is downloaded again only when the Hub
    lists new contents for its files.
    """

    def __init__(self, hub: HubService, dataset_id: str, cache_root: Path) -> None:
        self.hub = hub
        self.dataset_id = repo_id(dataset_id, "dataset")
        self.directory = cache_root / self.dataset_id.replace("/", "--")
        self._files: dict[str, RemoteFile] | None = None

    @classmethod
    def open(
        cls,
        hub: HubService,
        cache_root: Path,
        *,
        space_id: str | None = None,
        dataset_id: str | None = None,
    ) -> RemoteProjects:
        """The dataset named, or the one the Space ``space_id`` persists its projects to."""
        if dataset_id:
            return cls(hub, dataset_id, cache_root)
        if not space_id:
            raise TrackioError("pass space_id or dataset_id for a Space-backed trackio project")
        candidates = dataset_for_space(hub, space_id)
        errors: list[str] = []
        for candidate in candidates:
            remote = cls(hub, candidate, cache_root)
            try:
                remote.refresh()
            except TrackioError as exc:
                errors.append(str(exc))
                continue
            return remote
        if len(candidates) > 1:
            raise TrackioError(errors[0])  # the dataset the Space's card links
        space = repo_id(space_id, "Space")
        hint = "" if hub.token else "; if it is private, set HF_TOKEN (or run `hf auth login`)"
        raise TrackioError(
            f"Space {space} links no dataset and {candidates[0]} was not found{hint}. "
            f"Recent trackio keeps a Space's data in a storage bucket ({space}-bucket), which "
            "is not read here; pass dataset_id= when the project syncs to a dataset"
        )

    def refresh(self) -> dict[str, RemoteFile]:
        """List the dataset's root again."""
        self._files = list_files(self.hub, self.dataset_id)
        return self._files

    @property
    def files(self) -> dict[str, RemoteFile]:
        return self._files if self._files is not None else self.refresh()

    def projects(self) -> list[str]:
        """The projects the dataset holds (names as trackio wrote them)."""
        return project_names(self.files)

    def find(self, project: str) -> str:
        """The dataset's name for ``project`` (exact, else the same file-safe name)."""
        names = self.projects()
        if project in names:
            return project
        for name in names:
            if canonical_project(name) == canonical_project(project):
                return name
        known = ", ".join(clean(n) for n in names[:30]) or "none"
        raise TrackioError(
            f"no trackio project {clean(project)!r} in dataset {self.dataset_id} (projects: {known})"
        )

    def sync(self, project: str, *, refresh: bool = False) -> Path:
        """A local database of ``project``, downloaded again only when it changed."""
        if refresh:
            self.refresh()
        name = self.find(project)
        metrics = self.files[f"{name}.parquet"]
        configs = self.files.get(f"{name}_configs.parquet")
        safe = canonical_project(name)
        db_path = self.directory / f"{safe}.db"
        stamp = self.directory / f"{safe}.source"
        key = f"{metrics.path}:{metrics.oid}:{configs.oid if configs else ''}"
        with contextlib.suppress(OSError):
            if metrics.oid and db_path.is_file() and stamp.read_text() == key:
                return db_path
        downloads = self.directory / "downloads"
        unique = uuid.uuid4().hex  # the tool and a job's follower may sync at once
        local_metrics = downloads / f"{safe}.{unique}.parquet"
        local_configs = downloads / f"{safe}_configs.{unique}.parquet" if configs else None
        try:
            download(self.hub, self.dataset_id, metrics, local_metrics)
            if configs is not None and local_configs is not None:
                try:
                    download(self.hub, self.dataset_id, configs, local_configs)
                except TrackioError:
                    local_configs = None  # the curves still read without the configs
            materialize(local_metrics, local_configs, db_path, name)
        finally:
            local_metrics.unlink(missing_ok=True)
            if local_configs is not None:
                local_configs.unlink(missing_ok=True)
        stamp.write_text(key)
        return db_path
