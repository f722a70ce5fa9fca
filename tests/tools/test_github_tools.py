"""GitHub tools against a fake GitHub API on 127.0.0.1: search, listing, reading, faults."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fakes.github_api import VALID_TOKEN, FakeGithub, repo_listing

from ml_intern_tui.config.schema import AppConfig
from ml_intern_tui.core.tool import BadArguments, ToolContext, ToolError, parse_arguments
from ml_intern_tui.integrations.github import GithubAccess, notebook_to_text, score_path
from ml_intern_tui.tools.github import (
    GithubFindExamplesTool,
    GithubListReposTool,
    GithubReadFileTool,
)

GRPO_SCRIPT = '''"""Train a model with GRPO."""
from trl import GRPOConfig, GRPOTrainer

trainer = GRPOTrainer(model="Qwen/Qwen2-0.5B-Instruct", reward_funcs=reward_len)
trainer.train()
'''

NOTEBOOK = {
    "metadata": {"kernelspec": {"language": "python", "name": "python3"}},
    "nbformat": 4,
    "cells": [
        {"cell_type": "markdown", "source": ["# Fine-tune with SFT\n", "Load the data first."]},
        {
            "cell_type": "code",
            "source": ["from datasets import load_dataset\n", "ds = load_dataset('imdb')"],
            "outputs": [
                {"output_type": "stream", "text": [f"line {i}\n" for i in range(8)]},
                {"output_type": "display_data", "data": {"image/png": "iVBORw0KGgo="}},
            ],
        },
        {
            "cell_type": "code",
            "source": "1 / 0",
            "outputs": [
                {"output_type": "error", "ename": "ZeroDivisionError", "evalue": "division by zero"}
            ],
        },
    ],
}


@pytest.fixture
def github(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGithub]:
    fake = FakeGithub()
    monkeypatch.setenv("GITHUB_API_BASE", fake.base_url)
    fake.add_repo(
        "huggingface/trl",
        {
            "README.md": "# TRL",
            "trl/trainer/grpo_trainer.py": "class GRPOTrainer:\n    pass\n",
            "examples/scripts/grpo.py": GRPO_SCRIPT,
            "examples/scripts/sft.py": "from trl import SFTTrainer\n",
            "examples/notebooks/sft_imdb.ipynb": json.dumps(NOTEBOOK),
            "tests/test_grpo_trainer.py": "def test_grpo(): pass\n",
            "assets/logo.png": b"\x89PNG\x00\x00binary",
            "docs/long.txt": "".join(f"row {i}\n" for i in range(1, 1001)),
        },
        refs=("v0.9",),
    )
    fake.add_account("huggingface", "Organization", repo_listing("huggingface", 250))
    fake.add_account("someone", "User", repo_listing("someone", 3))
    yield fake
    fake.close()


@pytest.fixture
def with_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", VALID_TOKEN)


async def call(tool: Any, ctx: ToolContext, **raw: Any) -> Any:
    """Validate like the loop does, then run."""
    return await tool.run(parse_arguments(tool, raw), ctx)


# ------------------------------------------------------------------ access


def test_access_prefers_env_then_settings_then_github() -> None:
    settings = AppConfig.model_validate({"github": {"api_base": "http://127.0.0.1:9/api/v3/"}})
    assert GithubAccess.resolve(None, env={}).api_base == "https://api.github.com"
    assert GithubAccess.resolve(settings, env={}).api_base == "http://127.0.0.1:9/api/v3"
    env = {"GITHUB_API_BASE": "http://127.0.0.1:8", "GITHUB_TOKEN": "t"}
    access = GithubAccess.resolve(settings, env=env)
    assert (access.api_base, access.token) == ("http://127.0.0.1:8", "t")


def test_tools_are_read_only_with_described_schemas() -> None:
    for tool in (GithubFindExamplesTool(), GithubListReposTool(), GithubReadFileTool()):
        assert tool.read_only
        params = tool.spec()["function"]["parameters"]
        assert params["additionalProperties"] is False
        assert all(prop.get("description") for prop in params["properties"].values())
    required = GithubReadFileTool().spec()["function"]["parameters"]["required"]
    assert sorted(required) == ["path", "repo"]


# ------------------------------------------------------------ find examples


def test_path_scoring_prefers_example_folders_over_tests() -> None:
    query = "GRPO trainer example"
    assert score_path("examples/scripts/grpo.py", query) > score_path(
        "tests/test_grpo_trainer.py", query
    )
    assert score_path("examples/scripts/sft.py", query) == 0


async def test_find_examples_without_token_matches_tree_names_and_says_so(
    github: FakeGithub, ctx: ToolContext
) -> None:
    result = await call(
        GithubFindExamplesTool(), ctx, query="GRPO trainer example", repo="huggingface/trl"
    )
    assert result.ok
    paths = [r["path"] for r in result.data["results"]]
    assert paths[0] == "examples/scripts/grpo.py"
    assert "examples/scripts/sft.py" not in paths and "assets/logo.png" not in paths
    assert result.data["method"] == "file names"
    assert "No GITHUB_TOKEN" in result.output
    assert f"{github.base_url}/huggingface/trl/blob/main/examples/scripts/grpo.py" in result.output
    assert '"path": "examples/scripts/grpo.py"' in result.output  # ready for github_read_file
    assert github.requests_to(r"/search/code") == []


async def test_find_examples_with_token_uses_code_search_with_snippets(
    github: FakeGithub, with_token: None, ctx: ToolContext
) -> None:
    result = await call(
        GithubFindExamplesTool(), ctx, query="GRPOTrainer", repo="huggingface/trl", max_results=5
    )
    assert result.data["method"] == "code search"
    paths = [r["path"] for r in result.data["results"]]
    assert paths[0] == "examples/scripts/grpo.py"  # example folder first
    assert "trl/trainer/grpo_trainer.py" in paths
    assert "   from trl import GRPOConfig, GRPOTrainer" in result.output  # the matching line
    (search,) = github.requests_to(r"/search/code")
    assert search.headers["authorization"] == f"Bearer {VALID_TOKEN}"
    assert "repo:huggingface/trl" in (search.arg("q") or "")
    assert "language:python" in (search.arg("q") or "")


async def test_find_examples_falls_back_to_the_tree_when_search_fails(
    github: FakeGithub, with_token: None, ctx: ToolContext
) -> None:
    github.server.fail_next("GET", r"/search/code", 503, "search is down")
    result = await call(GithubFindExamplesTool(), ctx, query="grpo", repo="huggingface/trl")
    assert result.ok and result.data["method"] == "file names"
    assert "Code search failed (GitHub API error 503" in result.output


async def test_find_examples_needs_a_repo_or_a_token(github: FakeGithub, ctx: ToolContext) -> None:
    with pytest.raises(ToolError, match="needs GITHUB_TOKEN; give a repo"):
        await call(GithubFindExamplesTool(), ctx, query="grpo")


async def test_find_examples_unknown_repo_suggests_similar(
    github: FakeGithub, ctx: ToolContext
) -> None:
    with pytest.raises(ToolError, match=r"not found on GitHub: repository huggingface/trll.*"):
        await call(GithubFindExamplesTool(), ctx, query="grpo", repo="huggingface/trll")
    with pytest.raises(ToolError, match="similar repositories: huggingface/trl"):
        await call(GithubFindExamplesTool(), ctx, query="grpo", repo="huggingface/trll")


async def test_find_examples_reports_server_errors(github: FakeGithub, ctx: ToolContext) -> None:
    github.server.fail_next("GET", r"/repos/huggingface/trl/git/trees/.*", 502, "bad gateway")
    with pytest.raises(ToolError, match=r"GitHub API error 502 .*bad gateway; try again later"):
        await call(GithubFindExamplesTool(), ctx, query="grpo", repo="huggingface/trl")


def test_find_examples_bad_arguments_are_clear() -> None:
    tool = GithubFindExamplesTool()
    with pytest.raises(BadArguments, match="repo must look like owner/name"):
        parse_arguments(tool, {"query": "x", "repo": "trl"})
    with pytest.raises(BadArguments, match="max_results"):
        parse_arguments(tool, {"query": "x", "max_results": 0})
    with pytest.raises(BadArguments, match="query"):
        parse_arguments(tool, {"repo": "a/b"})


# ---------------------------------------------------------------- list repos


async def test_list_repos_ranks_stars_across_every_page(
    github: FakeGithub, ctx: ToolContext
) -> None:
    # The most-starred repos live on the last page: ranking only page one was the bug.
    result = await call(GithubListReposTool(), ctx, owner="huggingface", limit=3)
    names = [r["full_name"] for r in result.data["repos"]]
    assert names == ["huggingface/repo-249", "huggingface/repo-248", "huggingface/repo-247"]
    assert len(github.requests_to(r"/orgs/huggingface/repos")) == 3  # 100 + 100 + 50
    assert result.data["complete"] is True
    assert result.output.splitlines()[1].startswith("1. huggingface/repo-249 ★249 · Python")


async def test_list_repos_by_name_stops_paging_when_it_has_enough(
    github: FakeGithub, ctx: ToolContext
) -> None:
    result = await call(GithubListReposTool(), ctx, owner="huggingface", sort="name", limit=5)
    assert [r["full_name"] for r in result.data["repos"]][:2] == [
        "huggingface/repo-000",
        "huggingface/repo-001",
    ]
    (listing,) = github.requests_to(r"/orgs/huggingface/repos")
    assert listing.arg("sort") == "full_name"


async def test_list_repos_filters_by_query_and_handles_users(
    github: FakeGithub, ctx: ToolContext
) -> None:
    result = await call(GithubListReposTool(), ctx, owner="huggingface", query="Number 19")
    names = [r["full_name"] for r in result.data["repos"]]
    assert names[:3] == ["huggingface/repo-219", "huggingface/repo-199", "huggingface/repo-198"]
    assert all("19" in name for name in names)
    user = await call(GithubListReposTool(), ctx, owner="someone", sort="updated")
    assert "someone (user): 3 repositories" in user.output
    assert github.requests_to(r"/users/someone/repos")
    none = await call(GithubListReposTool(), ctx, owner="someone", query="nothing-like-this")
    assert "has no public repositories matching" in none.output


async def test_list_repos_errors_are_one_clear_line(github: FakeGithub, ctx: ToolContext) -> None:
    with pytest.raises(ToolError, match="not found on GitHub: account nobody"):
        await call(GithubListReposTool(), ctx, owner="nobody")
    github.server.fail_next("GET", r"/orgs/huggingface/repos", 500, "boom")
    with pytest.raises(ToolError, match="GitHub API error 500"):
        await call(GithubListReposTool(), ctx, owner="huggingface")
    with pytest.raises(BadArguments, match="owner"):
        parse_arguments(GithubListReposTool(), {"owner": "bad/owner"})
    with pytest.raises(BadArguments, match="sort"):
        parse_arguments(GithubListReposTool(), {"owner": "x", "sort": "forks"})


async def test_rate_limit_becomes_a_clear_message(github: FakeGithub, ctx: ToolContext) -> None:
    github.exhaust_rate_limit(reset_in_s=300)
    with pytest.raises(ToolError) as info:
        await call(GithubListReposTool(), ctx, owner="huggingface")
    message = str(info.value)
    assert message.startswith("GitHub API rate limit reached (60 requests an hour; it resets at")
    assert "(in about 5 min)" in message or "(in about 6 min)" in message
    assert "set GITHUB_TOKEN for 5,000 requests an hour" in message


async def test_a_bad_token_is_named(
    github: FakeGithub, monkeypatch: pytest.MonkeyPatch, ctx: ToolContext
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_wrong")
    with pytest.raises(ToolError, match=r"GitHub rejected GITHUB_TOKEN \(401 Bad credentials\)"):
        await call(GithubReadFileTool(), ctx, repo="huggingface/trl", path="README.md")


# ------------------------------------------------------------------ read file


async def test_read_file_decodes_base64_and_fences_it(github: FakeGithub, ctx: ToolContext) -> None:
    result = await call(
        GithubReadFileTool(), ctx, repo="huggingface/trl", path="examples/scripts/grpo.py"
    )
    assert result.ok
    assert result.output.startswith("huggingface/trl:examples/scripts/grpo.py (lines 1-5 of 5)")
    assert f"```py\n{GRPO_SCRIPT.rstrip()}\n```" in result.output
    assert result.data["url"].endswith("/huggingface/trl/blob/main/examples/scripts/grpo.py")


async def test_read_file_line_ranges_and_default_cut(github: FakeGithub, ctx: ToolContext) -> None:
    tool = GithubReadFileTool()
    part = await call(
        tool, ctx, repo="huggingface/trl", path="docs/long.txt", start_line=10, end_line=12
    )
    assert "```\nrow 10\nrow 11\nrow 12\n```" in part.output
    assert "(cut at line 12 of 1000; continue with start_line=13)" in part.output
    whole = await call(tool, ctx, repo="huggingface/trl", path="docs/long.txt", ref="v0.9")
    assert whole.data["lines"] == [1, 400]
    assert "continue with start_line=401" in whole.output
    assert (
        github.requests_to(r"/repos/huggingface/trl/contents/docs/long.txt")[-1].arg("ref")
        == "v0.9"
    )
    with pytest.raises(ToolError, match=r"start_line 2000 is past the end .* \(1000 lines\)"):
        await call(tool, ctx, repo="huggingface/trl", path="docs/long.txt", start_line=2000)


async def test_read_file_cuts_to_the_output_budget(github: FakeGithub, ctx: ToolContext) -> None:
    ctx.output_budget = 3000
    result = await call(
        GithubReadFileTool(), ctx, repo="huggingface/trl", path="docs/long.txt", end_line=1000
    )
    assert len(result.output) < 3000
    last = result.data["lines"][1]
    assert 100 < last < 1000
    assert f"continue with start_line={last + 1}" in result.output


async def test_read_file_converts_notebooks_to_text(github: FakeGithub, ctx: ToolContext) -> None:
    result = await call(
        GithubReadFileTool(), ctx, repo="huggingface/trl", path="examples/notebooks/sft_imdb.ipynb"
    )
    text = result.output
    assert "# Fine-tune with SFT\nLoad the data first." in text
    assert "```python\nfrom datasets import load_dataset\nds = load_dataset('imdb')\n```" in text
    assert "    line 4\n    … (4 more output lines)" in text  # 8 stream lines + image
    assert "[image/png output]" not in text  # the 6th output line is beyond the 5 shown
    assert "ZeroDivisionError: division by zero" in text
    assert '"cells"' not in text  # no raw JSON


def test_notebook_outputs_are_summarized_briefly() -> None:
    nb = {
        "cells": [
            {
                "cell_type": "code",
                "source": "plot()",
                "outputs": [{"output_type": "display_data", "data": {"image/png": "x"}}],
            }
        ]
    }
    assert (
        notebook_to_text(json.dumps(nb))
        == "```python\nplot()\n```\n\nOutput:\n    [image/png output]"
    )
    with pytest.raises(ToolError, match="not a valid notebook"):
        notebook_to_text("{not json")


async def test_read_file_large_files_come_through_the_raw_media_type(
    github: FakeGithub, ctx: ToolContext
) -> None:
    github.inline_limit = 100
    result = await call(
        GithubReadFileTool(), ctx, repo="huggingface/trl", path="examples/scripts/grpo.py"
    )
    assert "trainer.train()" in result.output
    raw = github.requests_to(r"/repos/huggingface/trl/contents/examples/scripts/grpo.py")
    assert [r.headers.get("accept") for r in raw][-1] == "application/vnd.github.raw"


async def test_read_file_directory_binary_and_missing(github: FakeGithub, ctx: ToolContext) -> None:
    tool = GithubReadFileTool()
    listing = await call(tool, ctx, repo="huggingface/trl", path="examples")
    assert listing.data["entries"] == ["notebooks/", "scripts/"]
    with pytest.raises(ToolError, match="binary file"):
        await call(tool, ctx, repo="huggingface/trl", path="assets/logo.png")
    with pytest.raises(ToolError, match=r"not found on GitHub: nope\.py in huggingface/trl"):
        await call(tool, ctx, repo="huggingface/trl", path="nope.py")
    with pytest.raises(ToolError, match=r"not found on GitHub: README\.md in huggingface/trl@v9"):
        await call(tool, ctx, repo="huggingface/trl", path="README.md", ref="v9")


async def test_read_file_server_error_and_bad_arguments(
    github: FakeGithub, ctx: ToolContext
) -> None:
    github.server.fail_next("GET", r"/repos/huggingface/trl/contents/.*", 500, "oops")
    with pytest.raises(
        ToolError, match=r"GitHub API error 500 for README\.md in huggingface/trl: oops"
    ):
        await call(GithubReadFileTool(), ctx, repo="huggingface/trl", path="README.md")
    with pytest.raises(BadArguments, match="end_line must be at least start_line"):
        parse_arguments(
            GithubReadFileTool(), {"repo": "a/b", "path": "x", "start_line": 5, "end_line": 2}
        )
    with pytest.raises(BadArguments, match="repo"):
        parse_arguments(GithubReadFileTool(), {"repo": "no-slash", "path": "x"})


async def test_unreachable_api_is_reported(
    monkeypatch: pytest.MonkeyPatch, ctx: ToolContext
) -> None:
    fake = FakeGithub()
    base = fake.base_url
    fake.close()  # nothing listens there any more
    monkeypatch.setenv("GITHUB_API_BASE", base)
    with pytest.raises(ToolError, match=f"could not reach the GitHub API at {base}"):
        await call(GithubReadFileTool(), ctx, repo="a/b", path="x")
