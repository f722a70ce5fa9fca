"""``hf_dataset_inspect`` against a fake dataset viewer on 127.0.0.1, and on local files."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from fakes import datasets_server
from fakes.http_server import FakeHTTPServer

from ml_intern_tui.config.schema import AppConfig
from ml_intern_tui.core.tool import BadArguments, ToolContext, ToolError, parse_arguments
from ml_intern_tui.integrations.datasets_server import datasets_server_url
from ml_intern_tui.integrations.hub import HubClient
from ml_intern_tui.tools.hf_dataset import DatasetInspectArgs, HfDatasetInspectTool

TOOL = HfDatasetInspectTool()


@pytest.fixture
def viewer(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHTTPServer]:
    with FakeHTTPServer() as server:
        datasets_server.install(server)
        monkeypatch.setenv("HF_DATASETS_SERVER_URL", server.base_url)
        yield server


async def inspect(ctx: ToolContext, **raw: object):  # type: ignore[no-untyped-def]
    args = parse_arguments(TOOL, raw)
    assert isinstance(args, DatasetInspectArgs)
    return await TOOL.run(args, ctx)


# ------------------------------------------------------------------ Hub


async def test_chat_dataset_full_report(viewer: FakeHTTPServer, ctx: ToolContext) -> None:
    result = await inspect(ctx, dataset="org/chat")
    out = result.output
    assert result.ok
    assert "## Status\nviewer: yes, preview: yes" in out
    assert "- default: train (2,000 rows)" in out
    assert "- messages: list<{role: string, content: string}>" in out
    assert "- source: string" in out
    assert "## Sample rows (5)" in out and "Row 4:" in out and "Row 5:" not in out
    assert "## Chat column: messages" in out
    assert "roles: system ×12, user ×12, assistant ×12" in out
    assert "role ✓, content ✓, tool_calls ✗" in out
    assert "tool calls: none" in out
    assert "- SFT: ✓ messages (conversational" in out
    assert "- DPO: ✗ missing prompt, chosen, rejected" in out
    assert "- GRPO: ✗ missing prompt; derive prompt from messages" in out
    assert "- default/train: 2 files, 0.8 MB" in out
    assert "Warnings" not in out
    assert result.summary == "org/chat · 2,000 rows · 2 columns · SFT ✓ DPO ✗ GRPO ✗"
    calls = {r.path for r in viewer.requests}
    assert calls == {"/is-valid", "/splits", "/parquet", "/info", "/first-rows"}


async def test_data_payload_is_a_table(viewer: FakeHTTPServer, ctx: ToolContext) -> None:
    result = await inspect(ctx, dataset="org/chat", sample_rows=3)
    data = result.data
    assert data is not None
    assert data["dataset"] == "org/chat" and data["split"] == "train"
    assert data["config"] == "default" and data["num_rows"] == 2000
    assert data["columns"] == ["messages", "source"]
    assert len(data["rows"]) == 3
    assert all(len(row) == 2 and all(isinstance(c, str) for c in row) for row in data["rows"])
    assert data["rows"][0][1] == "synthetic"
    assert len(data["rows"][0][0]) == 150 and data["rows"][0][0].endswith("…")


async def test_dpo_dataset_satisfies_dpo_and_grpo(viewer: FakeHTTPServer, ctx: ToolContext) -> None:
    result = await inspect(ctx, dataset="org/prefs", split="test")
    out = result.output
    assert "- default: train (4 rows), test (2 rows)" in out
    assert "- DPO: ✓ prompt + chosen + rejected" in out
    assert "- GRPO: ✓ prompt; other columns reach reward functions: chosen, rejected" in out
    assert "- SFT: ✗ needs messages, or text, or prompt + completion" in out
    assert "Chat column" not in out
    assert result.data is not None and len(result.data["rows"]) == 2
    first_rows = viewer.calls("GET", "/first-rows")[0]
    assert first_rows.arg("split") == "test" and first_rows.arg("config") == "default"


async def test_plain_dataset_other_config(viewer: FakeHTTPServer, ctx: ToolContext) -> None:
    result = await inspect(ctx, dataset="org/plain", config="fr")
    out = result.output
    assert "fr/train: 3,000 rows" in out
    assert "- en: train, test\n- fr: train (3,000 rows)" in out
    assert "- label: class_label(neg, pos)" in out
    assert "- SFT: ✓ text (plain language modelling)" in out
    assert "- en/train: 1 file, 0.1 MB" in out


async def test_settings_give_the_base_url(
    viewer: FakeHTTPServer, ctx: ToolContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HF_DATASETS_SERVER_URL")
    ctx.services = replace(
        ctx.services,
        settings=AppConfig.model_validate({"hub": {"datasets_server": viewer.base_url}}),
    )
    result = await inspect(ctx, dataset="org/prefs")
    assert result.ok and viewer.base_url in result.output
    assert datasets_server_url(None) == "https://datasets-server.huggingface.co"


async def test_unknown_config_and_split_are_bad_arguments(
    viewer: FakeHTTPServer, ctx: ToolContext
) -> None:
    with pytest.raises(ToolError, match=r"org/plain has no config 'de'; configs: en, fr"):
        await inspect(ctx, dataset="org/plain", config="de")
    with pytest.raises(ToolError, match=r"has no split 'validation'; splits: train, test"):
        await inspect(ctx, dataset="org/plain", split="validation")


async def test_unknown_dataset_is_one_clear_error(viewer: FakeHTTPServer, ctx: ToolContext) -> None:
    with pytest.raises(ToolError) as err:
        await inspect(ctx, dataset="org/missing")
    message = str(err.value)
    assert message.startswith("dataset org/missing not found by the dataset viewer")
    assert "set HF_TOKEN" in message and "\n" not in message


async def test_partial_failure_is_a_warning(viewer: FakeHTTPServer, ctx: ToolContext) -> None:
    viewer.fail_next("GET", "/parquet", 500, "parquet export broken")
    viewer.fail_next("GET", "/is-valid", 503, "busy")
    result = await inspect(ctx, dataset="org/chat")
    assert result.ok
    assert "## Warnings" in result.output
    assert "/parquet failed (HTTP 500): parquet export broken" in result.output
    assert "/is-valid failed (HTTP 503): busy" in result.output
    assert "## Parquet files" not in result.output and "## Status" not in result.output
    assert "## Sample rows" in result.output


async def test_every_endpoint_failing_is_an_error(viewer: FakeHTTPServer, ctx: ToolContext) -> None:
    for path in ("/is-valid", "/splits", "/parquet", "/info", "/first-rows"):
        viewer.fail_next("GET", path, 500, "server down")
    with pytest.raises(ToolError, match=r"the dataset viewer failed for org/chat: .*HTTP 500"):
        await inspect(ctx, dataset="org/chat")


async def test_unreachable_viewer(ctx: ToolContext, monkeypatch: pytest.MonkeyPatch) -> None:
    server = FakeHTTPServer()
    url = server.base_url
    server.close()
    monkeypatch.setenv("HF_DATASETS_SERVER_URL", url)
    with pytest.raises(ToolError, match="unreachable"):
        await inspect(ctx, dataset="org/chat")


async def test_gated_dataset_needs_the_token(viewer: FakeHTTPServer, ctx: ToolContext) -> None:
    with pytest.raises(ToolError, match="not found by the dataset viewer; if it is gated"):
        await inspect(ctx, dataset="org/gated")
    ctx.services = replace(ctx.services, hub=HubClient(viewer.base_url, token="hf_fake"))
    result = await inspect(ctx, dataset="org/gated")
    assert result.ok
    assert viewer.requests[-1].headers["authorization"] == "Bearer hf_fake"


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ({"dataset": "org/chat", "sample_rows": 51}, "sample_rows"),
        ({}, "dataset"),
        ({"dataset": "x", "rows": 2}, "rows"),
    ],
)
def test_bad_arguments(raw: dict[str, object], problem: str) -> None:
    with pytest.raises(BadArguments, match=problem):
        parse_arguments(TOOL, raw)


async def test_neither_hub_id_nor_file(ctx: ToolContext) -> None:
    with pytest.raises(ToolError, match="neither a Hub dataset id"):
        await inspect(ctx, dataset="what is this?")


def test_read_only_and_never_asks(ctx: ToolContext) -> None:
    assert TOOL.read_only
    assert TOOL.approval(parse_arguments(TOOL, {"dataset": "org/chat"}), ctx) is None


# ------------------------------------------------------------------ local files


async def test_local_csv(ctx: ToolContext, project: Path) -> None:
    lines = ["text,score,count,flag"] + [f'"row, {i}",{i / 2},{i},true' for i in range(20)]
    (project / "data.csv").write_text("\n".join(lines) + "\n")
    result = await inspect(ctx, dataset="data.csv", sample_rows=2)
    out = result.output
    assert "(local CSV," in out and "20 rows" in out
    assert "- text: string\n- score: float64\n- count: int64\n- flag: bool" in out
    assert "Row 0:\n  text: row, 0\n  score: 0.0" in out
    assert "- SFT: ✓ text" in out and "- DPO: ✗" in out
    assert result.data is not None
    assert result.data["columns"] == ["text", "score", "count", "flag"]
    assert result.data["rows"] == [["row, 0", "0.0", "0", "true"], ["row, 1", "0.5", "1", "true"]]
    assert result.data["num_rows"] == 20 and result.data["split"] is None


async def test_local_jsonl_chat_with_tool_calls(ctx: ToolContext, project: Path) -> None:
    call = {"id": "c1", "type": "function", "function": {"name": "add", "arguments": "{}"}}
    rows = [
        {"messages": [
            {"role": "user", "content": "add 1 and 2"},
            {"role": "assistant", "content": "", "tool_calls": [call]},
            {"role": "tool", "content": "3", "tool_call_id": "c1"},
            {"role": "assistant", "content": "It is 3."},
        ]}
        for _ in range(3)
    ]  # fmt: skip
    text = "\n".join(json.dumps(r) for r in rows) + "\nnot json\n"
    (project / "chat.jsonl").write_text(text)
    result = await inspect(ctx, dataset=str(project / "chat.jsonl"))
    out = result.output
    assert "3 rows" in out
    assert "roles: assistant ×6, user ×3, tool ×3" in out
    assert "tool_calls ✓, tool_call_id ✓" in out
    assert "tool calls: 3; tool results: 3" in out
    assert "- SFT: ✓ messages" in out
    assert "1 lines are not JSON objects (first: line 4)" in out


async def test_local_sharegpt_and_json_text_messages(ctx: ToolContext, project: Path) -> None:
    convo = [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "hello"}]
    (project / "sg.json").write_text(json.dumps({"data": [{"conversations": convo}] * 2}))
    out = (await inspect(ctx, dataset="./sg.json")).output
    assert "rows read from the top-level key 'data'" in out
    assert "ShareGPT style (from/value)" in out
    assert "rename conversations to messages" in out
    messages = json.dumps([{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}])
    with (project / "m.csv").open("w", newline="") as fh:
        csv.writer(fh).writerows([["messages"], [messages]])
    out = (await inspect(ctx, dataset="m.csv")).output
    assert "stored as JSON text: parse it (json.loads)" in out
    assert "- SFT: ✗ messages is not a list of {role, content} messages" in out


async def test_local_json_columns_and_prompt_completion(ctx: ToolContext, project: Path) -> None:
    (project / "pc.json").write_text(json.dumps({"prompt": ["a", "b"], "completion": ["c", "d"]}))
    result = await inspect(ctx, dataset="pc.json")
    assert "2 rows" in result.output
    assert "- SFT: ✓ prompt + completion" in result.output
    assert "- GRPO: ✓ prompt; other columns reach reward functions: completion" in result.output


async def test_local_parquet_without_pyarrow(
    ctx: ToolContext, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    (project / "d.parquet").write_bytes(b"PAR1....PAR1")
    with pytest.raises(ToolError, match="needs pyarrow, which is not installed"):
        await inspect(ctx, dataset="d.parquet")


async def test_local_errors(ctx: ToolContext, project: Path) -> None:
    with pytest.raises(ToolError, match=r"local dataset file .*missing\.jsonl does not exist"):
        await inspect(ctx, dataset="missing.jsonl")
    (project / "data").mkdir()
    (project / "data" / "a.jsonl").write_text("{}\n")
    with pytest.raises(ToolError, match=r"is a directory; inspect one data file in it \(a.jsonl\)"):
        await inspect(ctx, dataset="./data")
    (project / "bad.json").write_text("[1, 2")
    with pytest.raises(ToolError, match="is not valid JSON"):
        await inspect(ctx, dataset="bad.json")
    (project / "notes.txt").write_text("hello")
    with pytest.raises(ToolError, match="is not a CSV, TSV, JSONL, JSON or Parquet file"):
        await inspect(ctx, dataset="./notes.txt")
