"""``hf_dataset_inspect``: what a dataset looks like before anyone trains on it.

Hub datasets go through the dataset viewer API (``integrations/datasets_server.py``);
local CSV / JSONL / JSON files are read with the stdlib (Parquet only when ``pyarrow`` is
importable). Both end in the same report: structure, schema, sample rows, a check of
chat ``messages`` columns, and which TRL trainer formats (SFT, DPO, GRPO) the columns fit.
The sample rows also travel as ``ToolResult.data`` so the app can show them as a table.
"""

from __future__ import annotations

import asyncio
import csv
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ml_intern_tui.core.tool import Tool, ToolContext, ToolError, ToolResult, cut_text
from ml_intern_tui.integrations.datasets_server import (
    DatasetsServerClient,
    DatasetsServerError,
    datasets_server_url,
)
from ml_intern_tui.tools.dataset_checks import (
    cell_text,
    chat_sections,
    feature_type,
    infer_types,
    trainer_check,
)

TYPE_SAMPLE_ROWS = 1000
"""Rows parsed from a local file to infer column types and check chat columns."""
MAX_JSON_BYTES = 100_000_000
MAX_LISTED = 10
LOCAL_SUFFIXES = {".csv", ".tsv", ".jsonl", ".ndjson", ".json", ".parquet"}
_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*(/[\w.-]+)?")


class DatasetInspectArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dataset: str = Field(
        min_length=1,
        description="Hub dataset id (org/name), or a local .csv/.jsonl/.json/.parquet path.",
    )
    config: str | None = Field(None, description="Hub config (subset); default: the first one.")
    split: str | None = Field(None, description="Hub split; default: the first one (e.g. train).")
    sample_rows: int = Field(5, ge=1, le=50, description="How many sample rows to show (max 50).")


@dataclass
class Inspection:
    """What we learned about one dataset, whatever its source."""

    title: str
    config: str | None = None
    split: str | None = None
    num_rows: int | None = None
    sections: list[tuple[str, str]] = field(default_factory=list)
    types: dict[str, str] = field(default_factory=dict)
    """Column name -> type, in column order."""
    rows: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class HfDatasetInspectTool(Tool):
    """Inspect a Hub or local dataset: schema, samples, chat format, trainer fit."""

    name = "hf_dataset_inspect"
    description = (
        "Inspect a dataset before using it: a Hub dataset (org/name, via the dataset viewer) "
        "or a local CSV/JSONL/JSON/Parquet file. Shows configs and splits with row counts, "
        "column types, sample rows, parquet files, a check of chat 'messages' columns, and "
        "which trainer formats (SFT, DPO, GRPO) the columns satisfy. Always verify the "
        "columns of a dataset before training on it."
    )
    Args = DatasetInspectArgs
    read_only = True

    async def run(self, args: DatasetInspectArgs, ctx: ToolContext) -> ToolResult:
        raw = args.dataset.strip()
        path = _local_path(raw, ctx)
        if path is not None:
            result = await asyncio.to_thread(_inspect_local, path, args)
        elif _HUB_ID.fullmatch(raw):
            result = await _inspect_hub(raw, args, ctx)
        else:
            raise ToolError(f"{raw!r} is neither a Hub dataset id (org/name) nor a local file")
        return _report(result, args, ctx)


# ------------------------------------------------------------------ the Hub


async def _inspect_hub(dataset: str, args: DatasetInspectArgs, ctx: ToolContext) -> Inspection:
    hub = ctx.services.hub
    token = getattr(hub, "token", None) if hub is not None else None
    base = datasets_server_url(ctx.services.settings)
    found = Inspection(title=f"{dataset} (Hub, via {base})")
    failures: list[DatasetsServerError] = []

    def ok(result: Any) -> dict[str, Any] | None:
        if isinstance(result, DatasetsServerError):
            failures.append(result)
            found.warnings.append(str(result))
            return None
        if isinstance(result, BaseException):
            raise result
        return result  # type: ignore[no-any-return]

    async with DatasetsServerClient(base, token) as viewer:
        ctx.progress(f"asking the dataset viewer about {dataset}")
        phase1 = await asyncio.gather(
            viewer.is_valid(dataset), viewer.splits(dataset), viewer.parquet(dataset),
            return_exceptions=True,
        )  # fmt: skip
        valid, splits, parquet = (ok(r) for r in phase1)
        pairs = [
            (s.get("config", ""), s.get("split", "")) for s in (splits or {}).get("splits", [])
        ]
        config, split = _choose(dataset, args, pairs, found)
        found.config, found.split = config, split
        phase2 = await asyncio.gather(
            viewer.info(dataset, config), viewer.first_rows(dataset, config, split),
            return_exceptions=True,
        )  # fmt: skip
        info, first = (ok(r) for r in phase2)
    if len(failures) == 5:
        raise ToolError(_all_failed(dataset, failures, token))
    if valid is not None:
        flags = ", ".join(
            f"{k}: {'yes' if v else 'no'}" for k, v in valid.items() if isinstance(v, bool)
        )
        found.sections.append(("Status", flags or "no flags reported"))
        if not valid.get("preview", True):
            found.warnings.append("the viewer has no preview of this dataset (rows unavailable)")
    features = _info_block(info, config).get("features")
    counts = _split_counts(info, config)
    found.num_rows = counts.get(split)
    if pairs:
        found.sections.append(("Configs and splits", _structure(pairs, config, counts)))
    if first is not None:
        for feat in first.get("features", []):
            found.types[str(feat.get("name"))] = feature_type(feat.get("type"))
        found.rows = [r.get("row", {}) for r in first.get("rows", []) if isinstance(r, dict)]
    if not found.types and isinstance(features, dict):
        found.types = {name: feature_type(t) for name, t in features.items()}
    if parquet is not None:
        found.sections.append(("Parquet files", _parquet_groups(parquet.get("parquet_files", []))))
    return found


def _choose(
    dataset: str, args: DatasetInspectArgs, pairs: list[tuple[str, str]], found: Inspection
) -> tuple[str, str]:
    """The config and split to look at: the asked ones (checked) or the first listed."""
    if not pairs:
        found.warnings.append("splits unknown; guessing config 'default' and split 'train'")
        return args.config or "default", args.split or "train"
    configs = list(dict.fromkeys(c for c, _ in pairs))
    config = args.config or configs[0]
    if config not in configs:
        raise ToolError(f"{dataset} has no config {config!r}; configs: {', '.join(configs[:20])}")
    splits = [s for c, s in pairs if c == config]
    split = args.split or splits[0]
    if split not in splits:
        raise ToolError(
            f"config {config!r} of {dataset} has no split {split!r}; splits: {', '.join(splits)}"
        )
    return config, split


def _all_failed(dataset: str, failures: list[DatasetsServerError], token: str | None) -> str:
    statuses = {f.status for f in failures}
    if statuses <= {401, 403, 404}:
        hint = "" if token else "; if it is gated or private, set HF_TOKEN"
        return f"dataset {dataset} not found by the dataset viewer{hint} ({failures[0].message})"
    return f"the dataset viewer failed for {dataset}: {failures[0]}"


def _info_block(info: dict[str, Any] | None, config: str) -> dict[str, Any]:
    block = (info or {}).get("dataset_info") or {}
    if "features" not in block and isinstance(block.get(config), dict):
        block = block[config]  # the answer without ?config= is keyed by config
    return block if isinstance(block, dict) else {}


def _split_counts(info: dict[str, Any] | None, config: str) -> dict[str, int]:
    splits = _info_block(info, config).get("splits") or {}
    return {
        name: int(s["num_examples"])
        for name, s in splits.items()
        if isinstance(s, dict) and isinstance(s.get("num_examples"), int)
    }


def _structure(pairs: list[tuple[str, str]], config: str, counts: dict[str, int]) -> str:
    by_config: dict[str, list[str]] = {}
    for c, s in pairs:
        known = counts.get(s) if c == config else None
        by_config.setdefault(c, []).append(f"{s} ({known:,} rows)" if known is not None else s)
    lines = [f"- {c}: {', '.join(splits)}" for c, splits in list(by_config.items())[:MAX_LISTED]]
    if len(by_config) > MAX_LISTED:
        lines.append(f"- … {len(by_config) - MAX_LISTED} more configs")
    return "\n".join(lines)


def _parquet_groups(files: list[dict[str, Any]]) -> str:
    groups: dict[str, list[int]] = {}
    for f in files:
        groups.setdefault(f"{f.get('config')}/{f.get('split')}", []).append(int(f.get("size") or 0))
    lines = [
        f"- {key}: {len(sizes)} file{'s' if len(sizes) != 1 else ''}, {_mb(sum(sizes))}"
        for key, sizes in list(groups.items())[:MAX_LISTED]
    ]
    if len(groups) > MAX_LISTED:
        lines.append(f"- … {len(groups) - MAX_LISTED} more groups")
    return "\n".join(lines) or "none listed"


def _mb(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB" if size >= 100_000 else f"{size:,} bytes"


# ------------------------------------------------------------------ local files


def _refuse_credentials(path: Path) -> None:
    """A credential store is no dataset (``~/.kaggle/kaggle.json``, gcloud's JSON keys):
    its rows would go to the model's provider."""
    from ml_intern_tui.safety.credentials import credential_reason

    reason = credential_reason(path)
    if reason is not None:
        raise ToolError(f"{reason}; it is not a dataset, so it is not inspected")


def _local_path(raw: str, ctx: ToolContext) -> Path | None:
    """The local file ``raw`` names, None for a Hub id; errors for a missing or bad path."""
    path = Path(raw).expanduser()
    path = (path if path.is_absolute() else ctx.cwd / path).resolve()
    looks_local = raw.startswith(("/", ".", "~")) or Path(raw).suffix.lower() in LOCAL_SUFFIXES
    if path.is_file():
        _refuse_credentials(path)
        if path.suffix.lower() not in LOCAL_SUFFIXES:
            raise ToolError(f"{path} is not a CSV, TSV, JSONL, JSON or Parquet file")
        return path
    if path.is_dir() and looks_local:
        names = sorted(p.name for p in path.iterdir() if p.suffix.lower() in LOCAL_SUFFIXES)
        listed = ", ".join(names[:MAX_LISTED]) or "none"
        raise ToolError(f"{path} is a directory; inspect one data file in it ({listed})")
    if looks_local:
        raise ToolError(f"local dataset file {path} does not exist")
    return None


def _inspect_local(path: Path, args: DatasetInspectArgs) -> Inspection:
    suffix = path.suffix.lower()
    kind = {".tsv": "TSV", ".ndjson": "JSONL"}.get(suffix, suffix[1:].upper())
    found = Inspection(title=f"{path} (local {kind}, {_mb(path.stat().st_size)})")
    if args.config or args.split:
        found.warnings.append("config and split apply to Hub datasets only; ignored")
    if suffix in (".csv", ".tsv"):
        found.num_rows, found.rows = _read_csv(path, "\t" if suffix == ".tsv" else None)
    elif suffix == ".parquet":
        found.num_rows, found.rows, found.types = _read_parquet(path)
    else:
        found.num_rows, found.rows = _read_json(path, suffix, found.warnings)
    if not found.types:
        found.types = infer_types(found.rows, from_text=suffix in (".csv", ".tsv"))
    return found


def _read_csv(path: Path, delimiter: str | None) -> tuple[int, list[dict[str, Any]]]:
    with path.open(newline="", encoding="utf-8", errors="replace") as fh:
        if delimiter is None:
            try:
                delimiter = csv.Sniffer().sniff(fh.read(8192), delimiters=",;\t|").delimiter
            except csv.Error:
                delimiter = ","
            fh.seek(0)
        reader = csv.DictReader(fh, delimiter=delimiter)
        rows: list[dict[str, Any]] = []
        count = 0
        for count, row in enumerate(reader, start=1):
            if count <= TYPE_SAMPLE_ROWS:
                rows.append({k: v for k, v in row.items() if k is not None})
    return count, rows


def _read_json(path: Path, suffix: str, warnings: list[str]) -> tuple[int, list[dict[str, Any]]]:
    if suffix == ".json":
        if path.stat().st_size > MAX_JSON_BYTES:
            raise ToolError(
                f"{path} is too large to load as one JSON document; convert it to JSONL"
            )
        try:
            data = json.loads(path.read_text(encoding="utf-8", errors="replace"))
        except json.JSONDecodeError as exc:
            if not exc.msg.startswith("Extra data"):
                raise ToolError(
                    f"{path} is not valid JSON: {exc.msg} at line {exc.lineno}"
                ) from exc
            data = None  # JSON lines saved as .json
        if data is not None:
            records = _records(data, path, warnings)
            return len(records), records[:TYPE_SAMPLE_ROWS]
    count, rows, bad = 0, [], []
    for lineno, record in _json_lines(path):
        if not isinstance(record, dict):
            bad.append(lineno)
            continue
        count += 1
        if count <= TYPE_SAMPLE_ROWS:
            rows.append(record)
    if bad:
        warnings.append(f"{len(bad):,} lines are not JSON objects (first: line {bad[0]})")
    return count, rows


def _json_lines(path: Path) -> Iterator[tuple[int, Any]]:
    with path.open(encoding="utf-8", errors="replace") as fh:
        for lineno, line in enumerate(fh, start=1):
            if line.strip():
                try:
                    yield lineno, json.loads(line)
                except json.JSONDecodeError:
                    yield lineno, None


def _records(data: Any, path: Path, warnings: list[str]) -> list[dict[str, Any]]:
    """Rows from a JSON document: a list of objects, {key: [objects]}, or {column: [values]}."""
    if isinstance(data, dict):
        lists = {k: v for k, v in data.items() if isinstance(v, list)}
        if len(lists) == 1 and all(isinstance(x, dict) for x in next(iter(lists.values()))):
            key, data = next(iter(lists.items()))
            warnings.append(f"rows read from the top-level key {key!r}")
        elif lists and len(lists) == len(data) and len({len(v) for v in lists.values()}) == 1:
            n = len(next(iter(lists.values())))
            data = [{k: v[i] for k, v in lists.items()} for i in range(n)]
    if not isinstance(data, list) or not all(isinstance(x, dict) for x in data):
        raise ToolError(f"{path} is not a list of JSON objects (one object per row)")
    return data


def _read_parquet(path: Path) -> tuple[int, list[dict[str, Any]], dict[str, str]]:
    try:
        import pyarrow.parquet as pq  # type: ignore[import-not-found,import-untyped,unused-ignore]
    except ImportError as exc:
        raise ToolError(
            "reading local Parquet needs pyarrow, which is not installed (pip install pyarrow); "
            "CSV and JSONL files work without it"
        ) from exc
    try:
        pfile = pq.ParquetFile(path)
        types = {f.name: str(f.type) for f in pfile.schema_arrow}
        batch = next(pfile.iter_batches(batch_size=TYPE_SAMPLE_ROWS), None)
        rows = batch.to_pylist() if batch is not None else []
        return int(pfile.metadata.num_rows), rows, types
    except Exception as exc:  # pyarrow raises its own error types for corrupt files
        raise ToolError(f"cannot read {path} as Parquet: {exc}") from exc


# ------------------------------------------------------------------ report


def _report(found: Inspection, args: DatasetInspectArgs, ctx: ToolContext) -> ToolResult:
    columns = list(found.types) or list(dict.fromkeys(k for r in found.rows for k in r))
    sample = found.rows[: args.sample_rows]
    table = [[cell_text(row.get(c)) for c in columns] for row in sample]
    parts = [f"# {found.title}"]
    where = "/".join(x for x in (found.config, found.split) if x)
    if found.num_rows is not None:
        where = f"{where + ': ' if where else ''}{found.num_rows:,} rows"
    if where:
        parts.append(where)
    sections = list(found.sections)
    if found.types:
        sections.append(("Schema", "\n".join(f"- {c}: {t}" for c, t in found.types.items())))
    if sample:
        lines = []
        for i, row in enumerate(sample):
            lines.append(f"Row {i}:")
            lines += [f"  {c}: {cell_text(row.get(c))}" for c in columns]
        sections.append((f"Sample rows ({len(sample)})", "\n".join(lines)))
    sections += chat_sections(columns, found.rows)
    check, verdicts = trainer_check(found.types, found.rows)
    if columns:
        sections.append(("Trainer format check", check))
    if found.warnings:
        sections.append(("Warnings", "\n".join(f"- {w}" for w in found.warnings)))
    parts += [f"\n## {title}\n{body}" for title, body in sections]
    output, cut = cut_text("\n".join(parts), ctx.output_budget)
    rows_part = f" · {found.num_rows:,} rows" if found.num_rows is not None else ""
    summary = f"{args.dataset}{rows_part} · {len(columns)} columns · {verdicts}"
    data = {
        "dataset": args.dataset,
        "config": found.config,
        "split": found.split,
        "columns": columns,
        "rows": table,
        "num_rows": found.num_rows,
    }
    return ToolResult(summary=summary, output=output, data=data, truncated=cut)
