"""A hostile dataset behind a "trackio Space": every attack ends in one clean line.

The files are served by the fake Hub and fetched through the real huggingface_hub client;
the parquet files are built with pyarrow, as trackio itself writes them.
"""

from __future__ import annotations

import importlib.util
import io
import json
import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from fakes import hub_repos
from fakes.http_server import FakeHTTPServer, FakeRequest, FakeResponse

from ml_intern_tui.core.tool import ToolContext, ToolError, ToolResult, parse_arguments
from ml_intern_tui.integrations import trackio_remote
from ml_intern_tui.integrations.hub import HubClient
from ml_intern_tui.tools.trackio_metrics import TrackioArgs, TrackioMetricsTool

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("pyarrow") is None, reason="pyarrow is a dev dependency"
)
ESC = "\x1b"


def parquet(columns: dict[str, list[Any]]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    out = io.BytesIO()
    pq.write_table(pa.table(columns), out)
    return out.getvalue()


def metrics(n: int = 3, **extra: list[Any]) -> dict[str, list[Any]]:
    return {
        "id": list(range(1, n + 1)),
        "timestamp": ["2026-01-01T00:00:00"] * n,
        "run_name": ["r"] * n,
        "step": list(range(n)),
        "loss": [1.0 / (i + 1) for i in range(n)],
        **extra,
    }


@pytest.fixture
def server() -> Iterator[FakeHTTPServer]:
    with FakeHTTPServer() as fake:
        yield fake


@pytest.fixture
def hub(server: FakeHTTPServer) -> hub_repos.FakeHubRepos:
    return hub_repos.install(server)


@pytest.fixture
def tctx(ctx: ToolContext, server: FakeHTTPServer) -> ToolContext:
    ctx.services = replace(
        ctx.services, hub=HubClient(server.base_url, token="hf_fake", token_from_env=False)
    )
    return ctx


async def call(ctx: ToolContext, **raw: Any) -> ToolResult:
    args = parse_arguments(TrackioMetricsTool(), raw)
    assert isinstance(args, TrackioArgs)
    return await TrackioMetricsTool().run(args, ctx)


async def failure(ctx: ToolContext, **raw: Any) -> str:
    with pytest.raises(ToolError) as caught:
        await call(ctx, **raw)
    message = str(caught.value)
    assert "\n" not in message and ESC not in message and "Traceback" not in message
    return message


async def test_terminal_escapes_in_names_are_never_passed_through(
    tctx: ToolContext, hub: hub_repos.FakeHubRepos
) -> None:
    evil_key = f"{ESC}]0;owned{ESC}\\loss{ESC}[2J"
    files = {
        "p.parquet": parquet(
            {**metrics(), evil_key: [0.1, 0.2, 0.3], "run_name": [f"r{ESC}[31m", "r", "r"]}
        ),
        f"x{ESC}[2J.parquet": parquet(metrics()),
    }
    hub.add_repo("org/evil", "dataset", files=files)
    outputs = [
        (await call(tctx, operation="projects", dataset_id="org/evil")).output,
        (await call(tctx, operation="runs", project="p", dataset_id="org/evil")).output,
        (await call(tctx, operation="summary", project="p", run="r", dataset_id="org/evil")).output,
    ]
    for output in outputs:
        assert ESC not in output and "\x07" not in output
    assert "?]0;owned?\\loss?[2J" in outputs[2]
    assert "r?[31m" in outputs[1]
    message = await failure(tctx, operation="runs", project="nope", dataset_id="org/evil")
    assert "x?[2J" in message


async def test_a_file_listed_too_big_is_not_downloaded(
    tctx: ToolContext, server: FakeHTTPServer, hub: hub_repos.FakeHubRepos, monkeypatch: pytest.MonkeyPatch
) -> None:  # fmt: skip
    monkeypatch.setattr(trackio_remote, "MAX_FILE_BYTES", 2000)
    hub.add_repo("org/big", "dataset", files={"p.parquet": b"\0" * 5000})
    message = await failure(tctx, operation="runs", project="p", dataset_id="org/big")
    assert message == (
        "p.parquet in dataset org/big is 5,000 bytes, over the 2,000 bytes this tool "
        "downloads; open it on the Hub instead"
    )
    assert not [r for r in server.requests if "/resolve/" in r.path]


async def test_a_server_that_lies_about_the_size_is_cut_off(
    tctx: ToolContext, server: FakeHTTPServer, hub: hub_repos.FakeHubRepos, monkeypatch: pytest.MonkeyPatch
) -> None:  # fmt: skip
    monkeypatch.setattr(trackio_remote, "MAX_FILE_BYTES", 100_000)
    hub.add_repo("org/liar", "dataset", files={"p.parquet": b"PAR1" + b"\0" * 1_000_000})

    def small_listing(req: FakeRequest) -> FakeResponse:
        entry = {"type": "file", "path": "p.parquet", "oid": "ab" * 20, "size": 10}
        return FakeResponse.json([entry])

    server.routes.insert(0, ("GET", re.compile(r"/api/datasets/org/liar/tree/.*"), small_listing))
    message = await failure(tctx, operation="runs", project="p", dataset_id="org/liar")
    assert message.startswith("p.parquet in dataset org/liar is larger than the 100,000 bytes")
    leftovers = list((tctx.cwd.parent).rglob("*.part"))
    assert not leftovers


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"PAR1 not really parquet", "cannot read p.parquet as trackio parquet: "),
        (b"\x00" * 64, "cannot read p.parquet as trackio parquet: "),
        (None, "p.parquet is not a trackio project (no run_name/step columns)"),
    ],
)
async def test_malformed_files_are_one_line(
    tctx: ToolContext, hub: hub_repos.FakeHubRepos, content: bytes | None, expected: str
) -> None:
    body = content if content is not None else parquet({"a": [1, 2], "b": ["x", "y"]})
    hub.add_repo("org/bad", "dataset", files={"p.parquet": body})
    assert (await failure(tctx, operation="runs", project="p", dataset_id="org/bad")).startswith(
        expected
    )


async def test_too_many_columns_and_decompression_bombs_are_refused(
    tctx: ToolContext, hub: hub_repos.FakeHubRepos, monkeypatch: pytest.MonkeyPatch
) -> None:
    wide = metrics(**{f"m{i}": [0.0, 0.0, 0.0] for i in range(40)})
    bomb = metrics(200_000)
    hub.add_repo(
        "org/wide", "dataset", files={"w.parquet": parquet(wide), "b.parquet": parquet(bomb)}
    )
    monkeypatch.setattr(trackio_remote, "MAX_COLUMNS", 20)
    message = await failure(tctx, operation="runs", project="w", dataset_id="org/wide")
    assert message == "w.parquet has 45 columns (at most 20)"
    monkeypatch.setattr(trackio_remote, "MAX_UNCOMPRESSED_BYTES", 1_000_000)
    message = await failure(tctx, operation="runs", project="b", dataset_id="org/wide")
    assert message.startswith("b.parquet holds 200,000 rows (")
    assert message.endswith("over the 1,000,000 rows / 1,000,000 bytes read here")


async def test_odd_values_and_columns_are_skipped_not_fatal(
    tctx: ToolContext, hub: hub_repos.FakeHubRepos
) -> None:
    columns = metrics(
        4,
        media=[json.dumps({"_type": "trackio.image"})] * 4,
        flag=[True, False, True, False],
        big=[float("inf"), float("-inf"), 1e308, None],
    )
    columns["run_name"] = ["r", None, "r", "r"]  # a row without a run is dropped
    columns["step"] = [0, 1, None, 3]
    hub.add_repo("org/odd", "dataset", files={"p.parquet": parquet(columns)})
    result = await call(
        tctx, operation="series", project="p", metric="big", run="r", dataset_id="org/odd"
    )
    assert result.output.splitlines()[1:] == ["0\tinf"]
    runs = (await call(tctx, operation="runs", project="p", dataset_id="org/odd")).output
    assert "metrics: big, flag, loss" in runs and "media" not in runs


async def test_without_pyarrow_the_fix_is_named(
    tctx: ToolContext, hub: hub_repos.FakeHubRepos, monkeypatch: pytest.MonkeyPatch
) -> None:
    import builtins

    real_import = builtins.__import__

    def no_pyarrow(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.startswith("pyarrow"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    hub.add_repo("org/fine", "dataset", files={"p.parquet": parquet(metrics())})
    monkeypatch.setattr(builtins, "__import__", no_pyarrow)
    message = await failure(tctx, operation="runs", project="p", dataset_id="org/fine")
    assert message == (
        "reading a Space-backed trackio project needs pyarrow: `pip install pyarrow` "
        "(or `pip install 'ml-intern-tui[trackio]'`)"
    )
