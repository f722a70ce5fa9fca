"""``hf_repo_git`` with the real huggingface_hub client against a fake Hub on 127.0.0.1."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
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
from ml_intern_tui.tools.hf_repo_git import ASKING_OPS, HfRepoGitTool, RepoGitArgs

TOOL = HfRepoGitTool()


@pytest.fixture
def server() -> Iterator[FakeHTTPServer]:
    with FakeHTTPServer() as fake:
        yield fake


@pytest.fixture
def hub(server: FakeHTTPServer) -> hub_repos.FakeHubRepos:
    state = hub_repos.install(server)
    state.add_repo("org/model", files={"README.md": "# hi\n"})
    state.add_repo("org/data", "dataset", files={"a.csv": "x\n1\n"})
    return state


@pytest.fixture
def hub_ctx(ctx: ToolContext, server: FakeHTTPServer, hub: hub_repos.FakeHubRepos) -> ToolContext:
    ctx.services = replace(ctx.services, hub=HubClient(server.base_url, token="hf_fake"))
    return ctx


def args(**raw: Any) -> RepoGitArgs:
    parsed = parse_arguments(TOOL, raw)
    assert isinstance(parsed, RepoGitArgs)
    return parsed


async def call(ctx: ToolContext, **raw: Any) -> ToolResult:
    return await TOOL.run(args(**raw), ctx)


# ------------------------------------------------------------------ branches, tags, refs


async def test_branches_tags_and_refs(
    hub_ctx: ToolContext, hub: hub_repos.FakeHubRepos, server: FakeHTTPServer
) -> None:
    result = await call(hub_ctx, operation="create_branch", repo_id="org/model", branch="dev")
    assert (
        result.output
        == f"Created branch dev from main on model repo org/model.\n{server.base_url}/org/model/tree/dev"
    )
    await call(
        hub_ctx,
        operation="create_tag",
        repo_id="org/model",
        tag="v1",
        revision="dev",
        tag_message="first",
    )
    refs = await call(hub_ctx, operation="list_refs", repo_id="org/model")
    assert refs.output.splitlines()[0] == "Branches:"
    assert "  main  " in refs.output and "  dev  " in refs.output
    assert "Tags:\n  v1  " in refs.output
    assert refs.summary == "2 branches, 1 tags, 0 pull requests"
    assert refs.data == {"branches": ["main", "dev"], "tags": ["v1"]}
    assert (
        await call(hub_ctx, operation="delete_tag", repo_id="org/model", tag="v1")
    ).summary == "Deleted tag v1"
    await call(hub_ctx, operation="delete_branch", repo_id="org/model", branch="dev")
    assert list(hub.repo("org/model").branches) == ["main"] and hub.repo("org/model").tags == {}


async def test_ref_errors(hub_ctx: ToolContext) -> None:
    await call(hub_ctx, operation="create_branch", repo_id="org/model", branch="dev")
    with pytest.raises(
        ToolError,
        match=r"conflict \(409\) on model repo org/model: Reference refs/heads/dev already exists",
    ):
        await call(hub_ctx, operation="create_branch", repo_id="org/model", branch="dev")
    with pytest.raises(ToolError, match="revision 'gone' not found in model repo org/model"):
        await call(hub_ctx, operation="delete_branch", repo_id="org/model", branch="gone")
    with pytest.raises(ToolError, match="revision 'nope' not found"):
        await call(
            hub_ctx, operation="create_branch", repo_id="org/model", branch="x", from_rev="nope"
        )
    with pytest.raises(ToolError, match="dataset repo org/missing not found"):
        await call(hub_ctx, operation="list_refs", repo_id="org/missing", repo_type="dataset")


# ------------------------------------------------------------------ pull requests


async def test_pull_request_lifecycle(
    hub_ctx: ToolContext, hub: hub_repos.FakeHubRepos, server: FakeHTTPServer
) -> None:
    created = await call(
        hub_ctx,
        operation="create_pr",
        repo_id="org/model",
        title="Add eval",
        description="Adds eval results",
    )
    assert created.output.startswith(
        f"Opened draft pull request #1 on model repo org/model: {server.base_url}/org/model/discussions/1"
    )
    assert "revision='refs/pr/1'" in created.output
    assert created.data == {"pr_num": 1, "url": f"{server.base_url}/org/model/discussions/1"}
    hub.repo("org/model").branches["refs/pr/1"]["eval.json"] = b"{}"
    refs = await call(hub_ctx, operation="list_refs", repo_id="org/model")
    assert "Pull requests:\n  refs/pr/1  " in refs.output
    await call(hub_ctx, operation="comment_pr", repo_id="org/model", pr_num=1, comment="Looks good")
    listed = await call(hub_ctx, operation="list_prs", repo_id="org/model")
    assert listed.output.splitlines()[1].startswith(
        "#1  [draft]  Add eval  (by tester, 2026-01-02)"
    )
    assert listed.summary == "1 pull requests"
    details = await call(hub_ctx, operation="get_pr", repo_id="org/model", pr_num=1)
    for part in ("#1 Add eval", "Status: draft", "Author: tester", "Target: refs/heads/main", "Push to: refs/pr/1",
                 "Events (last 2 of 2):", "tester: Adds eval results", "tester: Looks good"):  # fmt: skip
        assert part in details.output, part
    merged = await call(hub_ctx, operation="merge_pr", repo_id="org/model", pr_num=1)
    assert merged.output == "Merged pull request #1 on model repo org/model."
    assert hub.repo("org/model").branches["main"]["eval.json"] == b"{}"
    details = await call(hub_ctx, operation="get_pr", repo_id="org/model", pr_num=1)
    assert "Status: merged" in details.output and "Merge commit: " in details.output
    assert (
        await call(hub_ctx, operation="list_prs", repo_id="org/model", status="open")
    ).summary == "0 open pull requests"


async def test_close_pr_and_missing_pr(hub_ctx: ToolContext, hub: hub_repos.FakeHubRepos) -> None:
    await call(hub_ctx, operation="create_pr", repo_id="org/data", repo_type="dataset", title="WIP")
    result = await call(
        hub_ctx,
        operation="close_pr",
        repo_id="org/data",
        repo_type="dataset",
        pr_num=1,
        comment="superseded",
    )
    assert result.summary == "Closed pull request #1"
    assert hub.repo("org/data", "dataset").discussions[0]["status"] == "closed"
    details = await call(
        hub_ctx, operation="get_pr", repo_id="org/data", repo_type="dataset", pr_num=1
    )
    assert "set status to closed" in details.output
    with pytest.raises(ToolError, match=r"Hub request failed \(404\)"):
        await call(hub_ctx, operation="get_pr", repo_id="org/data", repo_type="dataset", pr_num=7)


# ------------------------------------------------------------------ repos


async def test_create_repo_private_by_default(
    hub_ctx: ToolContext, hub: hub_repos.FakeHubRepos, server: FakeHTTPServer
) -> None:
    result = await call(hub_ctx, operation="create_repo", repo_id="tester/new-model")
    assert (
        result.output
        == f"Created private model repo tester/new-model: {server.base_url}/tester/new-model"
    )
    assert hub.repo("tester/new-model").private is True
    body = server.calls("POST", "/api/repos/create")[-1].json()
    assert body["visibility"] == "private"
    public = await call(
        hub_ctx,
        operation="create_repo",
        repo_id="org/space",
        repo_type="space",
        space_sdk="gradio",
        private=False,
    )
    assert public.summary == "created org/space (public)"
    assert (
        hub.repo("org/space", "space").sdk == "gradio"
        and hub.repo("org/space", "space").private is False
    )
    with pytest.raises(ToolError, match=r"conflict \(409\) on model repo tester/new-model"):
        await call(hub_ctx, operation="create_repo", repo_id="tester/new-model")


async def test_update_repo_sends_a_real_false(
    hub_ctx: ToolContext, hub: hub_repos.FakeHubRepos, server: FakeHTTPServer
) -> None:
    hub.repo("org/model").gated = "manual"
    result = await call(
        hub_ctx, operation="update_repo", repo_id="org/model", gated="false", private=True
    )
    assert (
        result.output
        == "Updated settings (visibility: private, gated: no) on model repo org/model."
    )
    raw = json.loads(server.calls("PUT", "/api/models/org/model/settings")[-1].body)
    assert raw == {"gated": False, "visibility": "private"}
    assert hub.repo("org/model").gated is False and hub.repo("org/model").private
    await call(hub_ctx, operation="update_repo", repo_id="org/model", gated="auto")
    assert hub.repo("org/model").settings[-1] == {"gated": "auto"}
    assert args(operation="update_repo", repo_id="o/r", gated=False).gated == "false"


async def test_write_operations_need_a_token(
    ctx: ToolContext, server: FakeHTTPServer, hub: hub_repos.FakeHubRepos
) -> None:
    ctx.services = replace(
        ctx.services, hub=HubClient(server.base_url, token=None, token_from_env=False)
    )
    for raw in (
        {"operation": "create_repo"},
        {"operation": "delete_tag", "tag": "v1"},
        {"operation": "comment_pr", "pr_num": 1, "comment": "x"},
    ):
        with pytest.raises(ToolError) as err:
            await call(ctx, repo_id="org/model", **raw)
        assert str(err.value) == NO_TOKEN
    assert server.requests == []
    refs = await call(ctx, operation="list_refs", repo_id="org/model")  # reads work without one
    assert "main" in refs.output


async def test_server_error(hub_ctx: ToolContext, server: FakeHTTPServer) -> None:
    server.fail_next("POST", r"/api/models/org/model/branch/.*", 500, "internal error")
    with pytest.raises(ToolError, match=r"^Hub request failed \(500\): .*internal error"):
        await call(hub_ctx, operation="create_branch", repo_id="org/model", branch="dev")


# ------------------------------------------------------------------ arguments and approval


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ({"operation": "create_branch"}, "create_branch needs branch"),
        ({"operation": "delete_tag"}, "delete_tag needs tag"),
        ({"operation": "create_pr"}, "create_pr needs title"),
        ({"operation": "comment_pr", "pr_num": 2}, "comment_pr needs comment"),
        ({"operation": "comment_pr"}, "comment_pr needs pr_num and comment"),
        ({"operation": "merge_pr", "pr_num": 0}, "pr_num"),
        ({"operation": "create_repo", "repo_type": "space"}, "needs space_sdk"),
        ({"operation": "update_repo"}, "update_repo needs private and/or gated"),
        ({"operation": "update_repo", "gated": "sometimes"}, "gated"),
        ({"operation": "update_repo", "gated": True}, "gated"),
        ({"operation": "rebase"}, "operation"),
    ],
)
def test_bad_arguments(raw: dict[str, Any], problem: str) -> None:
    with pytest.raises(BadArguments, match=problem):
        parse_arguments(TOOL, {"repo_id": "o/r", **raw})


@pytest.mark.parametrize(
    ("raw", "kind", "risk"),
    [
        ({"operation": "list_refs"}, None, None),
        ({"operation": "list_prs"}, None, None),
        ({"operation": "get_pr", "pr_num": 1}, None, None),
        ({"operation": "create_branch", "branch": "b"}, None, None),
        ({"operation": "create_tag", "tag": "t"}, None, None),
        ({"operation": "create_pr", "title": "t"}, None, None),
        ({"operation": "close_pr", "pr_num": 1}, None, None),
        ({"operation": "comment_pr", "pr_num": 1, "comment": "c"}, None, None),
        ({"operation": "delete_branch", "branch": "b"}, "irreversible", "high"),
        ({"operation": "delete_tag", "tag": "t"}, "irreversible", "high"),
        ({"operation": "merge_pr", "pr_num": 1}, "irreversible", "medium"),
        ({"operation": "create_repo"}, "irreversible", "low"),
        ({"operation": "create_repo", "private": False}, "irreversible", "medium"),
        ({"operation": "update_repo", "private": False}, "irreversible", "high"),
        ({"operation": "update_repo", "gated": "auto"}, "irreversible", "medium"),
    ],
)
def test_approval_matrix(
    ctx: ToolContext, raw: dict[str, Any], kind: str | None, risk: str | None
) -> None:
    request = TOOL.approval(args(repo_id="org/x", **raw), ctx)
    if kind is None:
        assert request is None
        return
    assert request is not None
    assert (request.kind, request.risk, request.operation) == (kind, risk, raw["operation"])
    assert (request.scope_value, request.scope_pattern) == ("org/x", "org/x")
    assert "Repository: org/x" in request.details


def test_approval_titles(ctx: ToolContext) -> None:
    assert {"delete_branch", "delete_tag", "merge_pr", "create_repo", "update_repo"} == ASKING_OPS
    public = TOOL.approval(
        args(operation="update_repo", repo_id="o/r", private=False, gated="false"), ctx
    )
    assert (
        public is not None
        and public.title == "Change settings of model repo o/r: visibility → PUBLIC, gated → false"
    )
    new = TOOL.approval(
        args(operation="create_repo", repo_id="o/s", repo_type="space", space_sdk="docker"), ctx
    )
    assert (
        new is not None
        and new.title == "Create private space repo o/s"
        and "Space SDK: docker" in new.details
    )


def test_spec() -> None:
    params = TOOL.spec()["function"]["parameters"]
    assert params["additionalProperties"] is False
    assert sorted(params["required"]) == ["operation", "repo_id"]
    assert all(prop.get("description") for prop in params["properties"].values())
