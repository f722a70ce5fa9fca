"""A fake dataset viewer (datasets-server) served from in-memory dataset descriptions.

``install(server)`` adds the five endpoints ``hf_dataset_inspect`` uses: ``/is-valid``,
``/splits``, ``/info``, ``/first-rows`` and ``/parquet``, with the JSON shapes of the real
API (``shared/reference/offline-stack.md`` §6). Datasets default to ``DATASETS``: a chat
dataset with a ``messages`` column, a DPO preference dataset and a plain text one with
two configs. A ``gated`` dataset answers 401 unless a Bearer token is sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fakes.http_server import FakeHTTPServer, FakeRequest, FakeResponse


@dataclass
class FakeSplit:
    rows: list[dict[str, Any]]
    num_examples: int | None = None
    """Rows the split claims to have (default: ``len(rows)``)."""
    parquet_sizes: list[int] = field(default_factory=lambda: [123_456])


@dataclass
class FakeDataset:
    configs: dict[str, dict[str, FakeSplit]]
    """config -> split -> rows."""
    features: dict[str, Any] | None = None
    """Column -> viewer feature type; derived from the first row when None."""
    gated: bool = False
    flags: dict[str, bool] = field(
        default_factory=lambda: dict.fromkeys(
            ("viewer", "preview", "search", "filter", "statistics"), True
        )
    )


def _value(dtype: str) -> dict[str, Any]:
    return {"dtype": dtype, "_type": "Value"}


def _feature(value: Any) -> Any:
    if isinstance(value, bool):
        return _value("bool")
    if isinstance(value, int):
        return _value("int64")
    if isinstance(value, float):
        return _value("float64")
    if isinstance(value, list):
        return {"feature": _feature(value[0]) if value else _value("null"), "_type": "List"}
    if isinstance(value, dict):
        return {k: _feature(v) for k, v in value.items()}
    return _value("string")


def _chat_rows() -> list[dict[str, Any]]:
    rows = []
    for i in range(12):
        messages: list[dict[str, Any]] = [
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": f"Question {i}: what is {i} + {i}?"},
            {"role": "assistant", "content": f"{i} + {i} = {2 * i}. " + "Long answer. " * 20},
        ]
        rows.append({"messages": messages, "source": "synthetic"})
    return rows


def _dpo_rows() -> list[dict[str, Any]]:
    return [
        {
            "prompt": f"Write a haiku about {topic}.",
            "chosen": f"A calm {topic} rests / under an autumn moon / silence fills the air",
            "rejected": f"{topic} is nice.",
        }
        for topic in ("the sea", "a cat", "rain", "code")
    ]


def _plain_rows(n: int) -> list[dict[str, Any]]:
    return [{"text": f"Sentence number {i}.", "label": i % 2} for i in range(n)]


DATASETS: dict[str, FakeDataset] = {
    "org/chat": FakeDataset(
        {"default": {"train": FakeSplit(_chat_rows(), 2_000, [400_000, 350_000])}}
    ),
    "org/prefs": FakeDataset(
        {"default": {"train": FakeSplit(_dpo_rows(), 4), "test": FakeSplit(_dpo_rows()[:2], 2)}}
    ),
    "org/plain": FakeDataset(
        {
            "en": {
                "train": FakeSplit(_plain_rows(8), 10_000),
                "test": FakeSplit(_plain_rows(3), 500),
            },
            "fr": {"train": FakeSplit(_plain_rows(4), 3_000)},
        },
        features={
            "text": _value("string"),
            "label": {"names": ["neg", "pos"], "_type": "ClassLabel"},
        },
    ),
    "org/gated": FakeDataset({"default": {"train": FakeSplit(_plain_rows(2))}}, gated=True),
}


class FakeDatasetsServer:
    """The viewer's state; ``datasets`` may be changed by a test before the call."""

    def __init__(self, datasets: dict[str, FakeDataset]) -> None:
        self.datasets = datasets

    def _lookup(self, req: FakeRequest) -> FakeDataset | FakeResponse:
        name = req.arg("dataset")
        if not name:
            return FakeResponse.error(422, "Parameter 'dataset' is required")
        dataset = self.datasets.get(name)
        if dataset is None:
            return FakeResponse.error(
                404,
                "The dataset does not exist, or is not accessible without authentication (private or gated). Please check the spelling of the dataset name or retry with authentication.",
            )
        if dataset.gated and not req.headers.get("authorization", "").startswith("Bearer "):
            return FakeResponse.error(401, "The dataset is gated: authentication is required")
        return dataset

    def _config(
        self, req: FakeRequest, dataset: FakeDataset
    ) -> dict[str, FakeSplit] | FakeResponse:
        config = req.arg("config")
        if config not in dataset.configs:
            return FakeResponse.error(404, f"Not found: config {config!r}")
        return dataset.configs[config]

    def is_valid(self, req: FakeRequest) -> FakeResponse:
        dataset = self._lookup(req)
        return dataset if isinstance(dataset, FakeResponse) else FakeResponse.json(dataset.flags)

    def splits(self, req: FakeRequest) -> FakeResponse:
        dataset = self._lookup(req)
        if isinstance(dataset, FakeResponse):
            return dataset
        name = req.arg("dataset")
        items = [
            {"dataset": name, "config": config, "split": split}
            for config, splits in dataset.configs.items()
            for split in splits
        ]
        return FakeResponse.json({"splits": items, "pending": [], "failed": []})

    def info(self, req: FakeRequest) -> FakeResponse:
        dataset = self._lookup(req)
        if isinstance(dataset, FakeResponse):
            return dataset
        if req.arg("config") is None:
            infos = {c: self._config_info(dataset, s) for c, s in dataset.configs.items()}
            return FakeResponse.json(
                {"dataset_info": infos, "pending": [], "failed": [], "partial": False}
            )
        splits = self._config(req, dataset)
        if isinstance(splits, FakeResponse):
            return splits
        info = self._config_info(dataset, splits)
        return FakeResponse.json({"dataset_info": info, "partial": False})

    def _config_info(self, dataset: FakeDataset, splits: dict[str, FakeSplit]) -> dict[str, Any]:
        return {
            "description": "",
            "features": self._features(dataset, splits),
            "splits": {
                name: {
                    "name": name,
                    "num_bytes": 1000,
                    "num_examples": s.num_examples or len(s.rows),
                }
                for name, s in splits.items()
            },
        }

    def _features(self, dataset: FakeDataset, splits: dict[str, FakeSplit]) -> dict[str, Any]:
        if dataset.features is not None:
            return dataset.features
        first = next((s.rows[0] for s in splits.values() if s.rows), {})
        return {k: _feature(v) for k, v in first.items()}

    def first_rows(self, req: FakeRequest) -> FakeResponse:
        dataset = self._lookup(req)
        if isinstance(dataset, FakeResponse):
            return dataset
        splits = self._config(req, dataset)
        if isinstance(splits, FakeResponse):
            return splits
        split = splits.get(req.arg("split") or "")
        if split is None:
            return FakeResponse.error(404, f"Not found: split {req.arg('split')!r}")
        features = [
            {"feature_idx": i, "name": name, "type": spec}
            for i, (name, spec) in enumerate(self._features(dataset, splits).items())
        ]
        rows = [
            {"row_idx": i, "row": row, "truncated_cells": []}
            for i, row in enumerate(split.rows[:100])
        ]
        return FakeResponse.json(
            {
                "dataset": req.arg("dataset"),
                "config": req.arg("config"),
                "split": req.arg("split"),
                "features": features,
                "rows": rows,
                "truncated": False,
            }
        )

    def parquet(self, req: FakeRequest) -> FakeResponse:
        dataset = self._lookup(req)
        if isinstance(dataset, FakeResponse):
            return dataset
        name = req.arg("dataset")
        wanted = req.arg("config")
        files = [
            {
                "dataset": name,
                "config": config,
                "split": split,
                "url": f"https://fake/{name}/{config}/{split}/{i:04d}.parquet",
                "filename": f"{i:04d}.parquet",
                "size": size,
            }
            for config, splits in dataset.configs.items()
            if wanted in (None, config)
            for split, data in splits.items()
            for i, size in enumerate(data.parquet_sizes)
        ]
        return FakeResponse.json(
            {"parquet_files": files, "pending": [], "failed": [], "partial": False}
        )


def install(
    server: FakeHTTPServer, datasets: dict[str, FakeDataset] | None = None
) -> FakeDatasetsServer:
    """Serve the viewer endpoints on ``server``; returns the state a test may change."""
    state = FakeDatasetsServer(dict(DATASETS) if datasets is None else datasets)
    server.route("GET", r"/is-valid")(state.is_valid)
    server.route("GET", r"/splits")(state.splits)
    server.route("GET", r"/info")(state.info)
    server.route("GET", r"/first-rows")(state.first_rows)
    server.route("GET", r"/parquet")(state.parquet)
    return state
