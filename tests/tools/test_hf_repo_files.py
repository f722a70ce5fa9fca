"""``hf_repo_files`` with the real huggingface_hub client against a fake Hub on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fakes import hub_repos
from fakes.http_server import FakeHTTPServer

from ml_intern_tui.core.tool import (
    BadArguments,
    ToolContext,
    ToolError,
    ToolResult,
    parse_arguments,
)
from ml_intern_tui.integrations.hub import NO_TOKEN, HubClient
from ml_intern_tui.tools.hf_repo_files import HfRepoFilesTool, RepoFilesArgs

TOOL = HfRepoFilesTool()
BINARY = bytes(range(256)) * 8


@pytest.fixture
def server() -> Iterator[FakeHTTPServer]:
    with FakeHTTPServer() as fake:
        yield fake


@pytest.fixture
def hub(server: FakeHTTPServer) -> hub_repos.FakeHubRepos:
    state = hub_repos.install(server)
    state.add_repo(
        "org/model",
        files={"README.md": "# Model\n", "config.json": '{"a": 1}\n', "weights/model.bin": BINARY,
               "logs/a.txt": "a", "logs/b.txt": "b", "notes.md": "line\n" * 5000},
    )  # fmt: skip
    state.add_repo("org/data", "dataset", files={"train.jsonl": '{"text": "hi"}\n'})
    state.add_repo("org/secret", files={"x.txt": "hidden"}, private=True)
    return state


@pytest.fixture
def hub_ctx(ctx: ToolContext, server: FakeHTTPServer, hub: hub_repos.FakeHubRepos) -> ToolContext:
    ctx.services = replace(ctx.services, hub=HubClient(server.base_url, token="hf_fake"))
    return ctx


def args(**raw: Any) -> RepoFilesArgs:
    parsed = parse_arguments(TOOL, raw)
    assert isinstance(parsed, RepoFilesArgs)
    return parsed


async def call(ctx: ToolContext, **raw: Any) -> ToolResult:
    return await TOOL.run(args(**raw), ctx)


# ------------------------------------------------------------------ list / read


async def test_list_files_with_sizes(hub_ctx: ToolContext, server: FakeHTTPServer) -> None:
    result = await call(hub_ctx, operation="list", repo_id="org/model")
    lines = result.output.splitlines()
    assert lines[0] == "org/model@main: 6 files, 2 folders, 27.1 KB"
    assert lines[1] == f"{server.base_url}/org/model/tree/main"
    assert "weights/" in lines and "weights/model.bin  (2.0 KB)" in lines
    assert "config.json  (9 bytes)" in lines
    assert result.summary == "6 files, 2 folders, 27.1 KB"
    assert result.data is not None
    assert {"path": "README.md", "size": 8} in result.data["files"]


async def test_list_a_folder_of_a_dataset(
    hub_ctx: ToolContext, hub: hub_repos.FakeHubRepos
) -> None:
    result = await call(hub_ctx, operation="list", repo_id="org/model", path="logs")
    assert result.output.splitlines()[0] == "org/model@main/logs: 2 files, 0 folders, 2 bytes"
    result = await call(hub_ctx, operation="list", repo_id="org/data", repo_type="dataset")
    assert (
        "/datasets/org/data/tree/main" in result.output
        and "train.jsonl  (15 bytes)" in result.output
    )


async def test_read_text_file(hub_ctx: ToolContext) -> None:
    result = await call(hub_ctx, operation="read", repo_id="org/model", path="config.json")
    assert result.output == '{"a": 1}\n'
    assert result.summary == "config.json: 2 lines, 9 bytes"
    assert result.data == {"repo_id": "org/model", "path": "config.json", "revision": "main"}


async def test_read_binary_and_long_files(hub_ctx: ToolContext) -> None:
    result = await call(hub_ctx, operation="read", repo_id="org/model", path="weights/model.bin")
    assert result.output == "Binary file weights/model.bin (2.0 KB); not shown as text."
    hub_ctx.output_budget = 1000
    result = await call(hub_ctx, operation="read", repo_id="org/model", path="notes.md")
    assert result.truncated and "characters cut here" in result.output and len(result.output) < 1200


async def test_read_errors_are_one_line(hub_ctx: ToolContext) -> None:
    cases = [
        ({"repo_id": "org/nope"}, "model repo org/nope not found (check the id and repo_type)"),
        (
            {"repo_id": "org/model", "path": "missing.txt"},
            "missing.txt not found in model repo org/model at main",
        ),
        (
            {"repo_id": "org/model", "revision": "dev"},
            "revision 'dev' not found in model repo org/model",
        ),
        ({"repo_id": "org/data"}, "model repo org/data not found"),
    ]
    for raw, message in cases:
        raw = {"operation": "read", "path": "config.json", **raw}
        with pytest.raises(ToolError) as err:
            await call(hub_ctx, **raw)
        assert str(err.value).startswith(message), str(err.value)
        assert "\n" not in str(err.value)


async def test_private_repo_without_token(
    ctx: ToolContext, server: FakeHTTPServer, hub: hub_repos.FakeHubRepos
) -> None:
    ctx.services = replace(
        ctx.services, hub=HubClient(server.base_url, token=None, token_from_env=False)
    )
    with pytest.raises(ToolError, match=r"org/secret not found .*; if it is private, set HF_TOKEN"):
        await call(ctx, operation="list", repo_id="org/secret")
    ctx.services = replace(ctx.services, hub=HubClient(server.base_url, token="hf_fake"))
    result = await call(ctx, operation="read", repo_id="org/secret", path="x.txt")
    assert result.output == "hidden"


async def test_server_error(hub_ctx: ToolContext, server: FakeHTTPServer) -> None:
    server.fail_next("GET", r"/api/models/org/model/tree/.*", 500, "database on fire")
    with pytest.raises(ToolError, match=r"^Hub request failed \(500\): .*database on fire"):
        await call(hub_ctx, operation="list", repo_id="org/model")


async def test_unreachable_hub(ctx: ToolContext) -> None:
    gone = FakeHTTPServer()
    url = gone.base_url
    gone.close()
    ctx.services = replace(ctx.services, hub=HubClient(url, token="hf_fake"))
    with pytest.raises(ToolError, match=f"cannot reach the Hub at {url}"):
        await call(ctx, operation="list", repo_id="org/model")


async def test_no_hub_service(ctx: ToolContext) -> None:
    with pytest.raises(ToolError, match="'hub' service is not available"):
        await call(ctx, operation="list", repo_id="org/model")


# ------------------------------------------------------------------ upload / delete


async def test_upload_text_content(
    hub_ctx: ToolContext, hub: hub_repos.FakeHubRepos, server: FakeHTTPServer
) -> None:
    result = await call(
        hub_ctx, operation="upload", repo_id="org/model", path="docs/usage.md", content="how to\n"
    )
    repo = hub.repo("org/model")
    assert repo.branches["main"]["docs/usage.md"] == b"how to\n"
    assert repo.commits[-1] == {
        "revision": "main",
        "summary": "Upload docs/usage.md",
        "added": ["docs/usage.md"],
        "deleted": [],
        "create_pr": False,
    }
    assert result.output.startswith("Uploaded docs/usage.md (7 bytes) in model repo org/model.")
    assert f"Commit: {server.base_url}/org/model/commit/" in result.output
    assert result.summary == "Uploaded docs/usage.md · committed"
    assert result.data is not None and result.data["pr_url"] is None


async def test_upload_as_pull_request(
    hub_ctx: ToolContext, hub: hub_repos.FakeHubRepos, server: FakeHTTPServer
) -> None:
    result = await call(
        hub_ctx, operation="upload", repo_id="org/data", repo_type="dataset", path="extra.txt",
        content="more", create_pr=True, commit_message="Add extra data",
    )  # fmt: skip
    repo = hub.repo("org/data", "dataset")
    assert "extra.txt" not in repo.branches["main"]
    assert repo.branches["refs/pr/1"]["extra.txt"] == b"more"
    assert repo.discussions[0]["title"] == "Add extra data"
    assert f"Pull request: {server.base_url}/datasets/org/data/discussions/1" in result.output
    assert result.summary.endswith("PR opened")


async def test_upload_local_file_and_folder(
    hub_ctx: ToolContext, hub: hub_repos.FakeHubRepos, project: Path
) -> None:
    (project / "train.py").write_text("print('hi')\n")
    out = project / "out"
    (out / "ckpt").mkdir(parents=True)
    (out / "ckpt" / "a.json").write_text("{}")
    (out / "b.json").write_text("[]")
    (out / "skip.log").write_text("noise")
    await call(hub_ctx, operation="upload", repo_id="org/model", local_path="train.py")
    result = await call(
        hub_ctx,
        operation="upload",
        repo_id="org/model",
        local_path="out",
        path="run1",
        patterns=["*.json"],
    )
    files = hub.repo("org/model").branches["main"]
    assert files["train.py"] == b"print('hi')\n"
    assert files["run1/ckpt/a.json"] == b"{}" and files["run1/b.json"] == b"[]"
    assert "run1/skip.log" not in files
    assert result.output.startswith("Uploaded run1/ (4 bytes)")


async def test_upload_needs_a_token(
    ctx: ToolContext, server: FakeHTTPServer, hub: hub_repos.FakeHubRepos
) -> None:
    ctx.services = replace(
        ctx.services, hub=HubClient(server.base_url, token=None, token_from_env=False)
    )
    with pytest.raises(ToolError) as err:
        await call(ctx, operation="upload", repo_id="org/model", path="a.txt", content="x")
    assert str(err.value) == NO_TOKEN
    with pytest.raises(ToolError, match="no Hugging Face token"):
        await call(ctx, operation="delete", repo_id="org/model", path="a.txt")
    assert server.requests == []


async def test_upload_rejected_token_and_missing_local_file(
    ctx: ToolContext, server: FakeHTTPServer, hub: hub_repos.FakeHubRepos
) -> None:
    ctx.services = replace(ctx.services, hub=HubClient(server.base_url, token="hf_wrong"))
    with pytest.raises(ToolError, match=r"the Hub rejected the token \(401\)"):
        await call(ctx, operation="upload", repo_id="org/model", path="a.txt", content="x")
    with pytest.raises(ToolError, match=r"local_path .*nothing\.bin does not exist"):
        await call(ctx, operation="upload", repo_id="org/model", local_path="nothing.bin")


async def test_commit_server_error(hub_ctx: ToolContext, server: FakeHTTPServer) -> None:
    server.fail_next("POST", r"/api/models/org/model/commit/main", 502, "bad gateway")
    with pytest.raises(ToolError, match=r"Hub request failed \(502\)"):
        await call(hub_ctx, operation="upload", repo_id="org/model", path="a.txt", content="x")


async def test_delete_one_file(hub_ctx: ToolContext, hub: hub_repos.FakeHubRepos) -> None:
    result = await call(hub_ctx, operation="delete", repo_id="org/model", path="notes.md")
    assert "notes.md" not in hub.repo("org/model").branches["main"]
    assert result.output.startswith("Deleted notes.md in model repo org/model.")
    with pytest.raises(ToolError, match=r"notes\.md not found in model repo org/model"):
        await call(hub_ctx, operation="delete", repo_id="org/model", path="notes.md")


async def test_delete_by_patterns_and_paths(
    hub_ctx: ToolContext, hub: hub_repos.FakeHubRepos
) -> None:
    result = await call(
        hub_ctx,
        operation="delete",
        repo_id="org/model",
        patterns=["logs/", "*.md"],
        paths=["config.json"],
    )
    files = hub.repo("org/model").branches["main"]
    assert sorted(files) == ["weights/model.bin"]
    assert result.output.startswith(
        "Deleted 5 files (README.md, config.json, logs/a.txt, logs/b.txt, notes.md)"
    )
    assert hub.repo("org/model").commits[-1]["deleted"] == [
        "README.md",
        "config.json",
        "logs/a.txt",
        "logs/b.txt",
        "notes.md",
    ]


async def test_delete_nothing_matching(hub_ctx: ToolContext, hub: hub_repos.FakeHubRepos) -> None:
    with pytest.raises(ToolError, match=r"no file in org/model matches \*.ckpt; nothing deleted"):
        await call(hub_ctx, operation="delete", repo_id="org/model", patterns=["*.ckpt"])
    with pytest.raises(ToolError, match=r"not in org/model: nope\.txt; nothing deleted"):
        await call(
            hub_ctx, operation="delete", repo_id="org/model", paths=["nope.txt", "README.md"]
        )
    assert len(hub.repo("org/model").branches["main"]) == 6


# ------------------------------------------------------------------ arguments and approval


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ({"operation": "read", "repo_id": "o/r"}, "read needs path"),
        ({"operation": "upload", "repo_id": "o/r", "path": "a"}, "exactly one of content"),
        (
            {
                "operation": "upload",
                "repo_id": "o/r",
                "path": "a",
                "content": "x",
                "local_path": "b",
            },
            "exactly one of content",
        ),
        ({"operation": "upload", "repo_id": "o/r", "content": "x"}, "needs path"),
        ({"operation": "delete", "repo_id": "o/r"}, "delete needs path, paths or patterns"),
        ({"operation": "move", "repo_id": "o/r"}, "operation"),
        ({"operation": "list", "repo_id": "o/r", "repo_type": "kernel"}, "repo_type"),
        ({"operation": "list"}, "repo_id"),
    ],
)
def test_bad_arguments(raw: dict[str, Any], problem: str) -> None:
    with pytest.raises(BadArguments, match=problem):
        parse_arguments(TOOL, raw)


def test_approval_matrix(ctx: ToolContext, project: Path) -> None:
    assert TOOL.approval(args(operation="list", repo_id="o/r"), ctx) is None
    assert TOOL.approval(args(operation="read", repo_id="o/r", path="a"), ctx) is None
    content = "\n".join(f"line {i}" for i in range(30))
    up = TOOL.approval(
        args(
            operation="upload",
            repo_id="o/r",
            repo_type="dataset",
            path="a.txt",
            content=content,
            create_pr=True,
        ),
        ctx,
    )
    assert up is not None
    assert (up.kind, up.risk, up.operation) == ("irreversible", "medium", "upload")
    assert (up.scope_value, up.scope_pattern) == ("o/r", "o/r")
    assert up.title == "Upload a.txt to dataset repo o/r"
    for part in (
        "Repository: o/r",
        "Type: dataset",
        "Revision: a new pull request against main",
        "Target: a.txt",
        "Size: 229 bytes",
        "Create PR: True",
        "line 0\nline 1",
        "… 10 more lines",
    ):
        assert part in up.details, part
    assert "line 25" not in up.details
    (project / "d").mkdir()
    (project / "d" / "x.bin").write_bytes(b"0" * 2500)
    folder = TOOL.approval(args(operation="upload", repo_id="o/r", local_path="d"), ctx)
    assert (
        folder is not None
        and "Target: 1 files from" in folder.details
        and "Size: 2.5 KB" in folder.details
    )
    rm = TOOL.approval(
        args(operation="delete", repo_id="o/r", patterns=["*.bin"], revision="dev"), ctx
    )
    assert rm is not None
    assert (rm.kind, rm.risk, rm.operation, rm.scope_value) == (
        "irreversible",
        "high",
        "delete",
        "o/r",
    )
    assert rm.title == "Delete *.bin from model repo o/r" and "Revision: dev" in rm.details


def test_spec_and_flags() -> None:
    spec = TOOL.spec()["function"]
    params = spec["parameters"]
    assert spec["name"] == "hf_repo_files" and params["additionalProperties"] is False
    assert sorted(params["required"]) == ["operation", "repo_id"]
    assert all(prop.get("description") for prop in params["properties"].values())
    assert not TOOL.read_only
