"""GitHub tools: find example code, list an owner's repos, read a file (notebooks as text).

All three are read-only (the research sub-agent may use them) and talk to GitHub through
:mod:`ml_intern_tui.integrations.github` with async httpx, so a slow GitHub never blocks
the event loop. A token (``GITHUB_TOKEN``) is optional: without one, code search is
refused by GitHub and ``github_find_examples`` matches file names in the repo tree.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import PurePosixPath
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ml_intern_tui.core.tool import Tool, ToolContext, ToolError, ToolResult
from ml_intern_tui.integrations.github import (
    LANGUAGE_EXTENSIONS,
    GithubAccess,
    GithubClient,
    GithubError,
    blob_url,
    in_example_dir,
    notebook_to_text,
    query_words,
    score_path,
    snippet,
)

REPO_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9._-]+$"
OWNER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}$"
FALLBACK_NOTE = "file contents were not searched"
DEFAULT_MAX_LINES = 400
"""Lines ``github_read_file`` shows when no range is asked for."""


# ------------------------------------------------------------- find examples


class FindExamplesArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str = Field(
        min_length=1, description="What to find, e.g. 'GRPO trainer example' or 'lora sft'."
    )
    repo: str | None = Field(
        None,
        description=(
            "Repository to search, as owner/name (e.g. huggingface/trl). Without it the "
            "search covers all of GitHub (needs GITHUB_TOKEN)."
        ),
    )
    language: str = Field("python", description="Programming language of the files.")
    max_results: int = Field(10, ge=1, le=50, description="How many files to return.")

    @model_validator(mode="after")
    def _repo_shape(self) -> FindExamplesArgs:
        if self.repo is not None and not re.match(REPO_PATTERN, self.repo):
            raise ValueError(f"repo must look like owner/name, got {self.repo!r}")
        return self


class GithubFindExamplesTool(Tool):
    """Find working example code on GitHub for a library or task."""

    name = "github_find_examples"
    description = (
        "Find example code on GitHub: files matching a query in a repository (its examples/, "
        "scripts/, notebooks/ folders rank first), or across GitHub with code search. "
        "Returns ranked file paths with URLs and snippets; read one with github_read_file."
    )
    Args = FindExamplesArgs
    read_only = True

    async def run(self, args: FindExamplesArgs, ctx: ToolContext) -> ToolResult:
        access = GithubAccess.for_context(ctx)
        results: list[dict[str, Any]] = []
        async with GithubClient(access) as gh:
            if gh.authenticated:
                try:
                    results = await self._search(gh, args)
                except GithubError as exc:
                    if exc.rate_limited or args.repo is None:
                        raise
                    note = f"Code search failed ({exc})"
                else:
                    note = "" if results or args.repo is None else "Code search found nothing"
            elif args.repo is None:
                raise ToolError(
                    "code search across GitHub needs GITHUB_TOKEN; give a repo (owner/name) "
                    "to search its file tree without a token"
                )
            else:
                note = "No GITHUB_TOKEN, so GitHub refuses code search"
            if note:
                results = await self._from_tree(gh, args, access.api_base)
                note += f": matched file names in the repo tree instead ({FALLBACK_NOTE})."
        return self._report(args, results, "file names" if note else "code search", note)

    async def _search(self, gh: GithubClient, args: FindExamplesArgs) -> list[dict[str, Any]]:
        language = f'"{args.language}"' if " " in args.language else args.language
        query = f"{args.query} language:{language}"
        if args.repo:
            query += f" repo:{args.repo}"
        data = await gh.search_code(query, per_page=min(args.max_results * 2, 100))
        results = [
            {
                "repo": str((item.get("repository") or {}).get("full_name") or args.repo or ""),
                "path": str(item.get("path") or ""),
                "url": str(item.get("html_url") or ""),
                "snippet": snippet(item),
            }
            for item in data.get("items") or []
        ]
        # GitHub's relevance order, with files in example folders first.
        results.sort(key=lambda r: not in_example_dir(r["path"]))
        return results[: args.max_results]

    async def _from_tree(
        self, gh: GithubClient, args: FindExamplesArgs, api_base: str
    ) -> list[dict[str, Any]]:
        assert args.repo is not None
        try:
            info = await gh.repo(args.repo)
        except GithubError as exc:
            if exc.status != 404:
                raise
            raise GithubError(f"{exc}{await self._suggest(gh, args.repo)}", status=404) from exc
        branch = str(info.get("default_branch") or "main")
        entries, truncated = await gh.tree(args.repo, branch)
        extensions = LANGUAGE_EXTENSIONS.get(args.language.lower(), ())
        scored: list[tuple[float, dict[str, Any]]] = []
        for entry in entries:
            path = str(entry.get("path") or "")
            if entry.get("type") != "blob" or (extensions and not path.endswith(extensions)):
                continue
            score = score_path(path, args.query)
            if score > 0:
                size = int(entry.get("size") or 0)
                where = "example folder · " if in_example_dir(path) else ""
                scored.append(
                    (
                        score,
                        {
                            "repo": args.repo,
                            "path": path,
                            "url": blob_url(api_base, args.repo, branch, path),
                            "snippet": f"{where}{size:,} bytes",
                            "score": round(score, 2),
                        },
                    )
                )
        scored.sort(key=lambda pair: (-pair[0], pair[1]["path"].count("/"), pair[1]["path"]))
        results = [item for _, item in scored[: args.max_results]]
        if truncated and results:
            results[-1]["snippet"] += " (GitHub truncated the tree listing)"
        return results

    async def _suggest(self, gh: GithubClient, repo: str) -> str:
        name = repo.split("/", 1)[1]
        try:
            found = await gh.search_repos(f"{name} in:name", per_page=5)
        except GithubError:
            return ""
        names = [str(r.get("full_name")) for r in found if r.get("full_name")]
        return f"; similar repositories: {', '.join(names)}" if names else ""

    def _report(
        self, args: FindExamplesArgs, results: list[dict[str, Any]], method: str, note: str
    ) -> ToolResult:
        where = args.repo or "GitHub"
        data: dict[str, Any] = {"results": results, "method": method}
        if not results:
            output = f'No {args.language} files matching "{args.query}" in {where}.'
            if note:
                output += f"\n{note}"
            output += "\nTry other words (a class or function name), or another repo."
            return ToolResult(summary=f"no examples in {where}", output=output, data=data)
        lines = [f'{len(results)} {args.language} files for "{args.query}" in {where} ({method}):']
        if note:
            lines.append(note)
        for n, item in enumerate(results, start=1):
            lines.append(f"{n}. {item['repo']}:{item['path']}  {item['url']}")
            if item.get("snippet"):
                lines.append(f"   {item['snippet']}")
        first = results[0]
        hint = json.dumps({"repo": first["repo"], "path": first["path"]})
        lines.append(f"\nRead one with github_read_file {hint}.")
        return ToolResult(
            summary=f"{len(results)} examples in {where} ({method})",
            output="\n".join(lines),
            data=data,
        )


# ---------------------------------------------------------------- list repos


class ListReposArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    owner: str = Field(
        pattern=OWNER_PATTERN, description="GitHub user or organization, e.g. huggingface."
    )
    sort: Literal["stars", "updated", "name"] = Field(
        "stars", description="stars (most first), updated (latest push first) or name."
    )
    limit: int = Field(20, ge=1, le=100, description="How many repositories to return.")
    query: str | None = Field(
        None, description="Only repos whose name, description or topics contain these words."
    )


def _matches(repo: dict[str, Any], words: list[str]) -> bool:
    haystack = " ".join(
        [str(repo.get("name") or ""), str(repo.get("description") or "")]
        + [str(t) for t in repo.get("topics") or []]
    ).lower()
    return all(w in haystack for w in words)


class GithubListReposTool(Tool):
    """List a user's or organization's repositories, ranked."""

    name = "github_list_repos"
    description = (
        "List the public repositories of a GitHub user or organization, sorted by stars, "
        "latest push or name, optionally filtered by words in the name, description or "
        "topics. Use it to find an organization's libraries before searching for examples."
    )
    Args = ListReposArgs
    read_only = True

    async def run(self, args: ListReposArgs, ctx: ToolContext) -> ToolResult:
        words = query_words(args.query or "")
        async with GithubClient(GithubAccess.for_context(ctx)) as gh:
            account = await gh.account(args.owner)
            kind = "organization" if account.get("type") == "Organization" else "user"
            path = f"/{'orgs' if kind == 'organization' else 'users'}/{args.owner}/repos"
            params: dict[str, str | int] = {"per_page": 100}
            enough = None
            if args.sort != "stars":  # the server sorts these exactly: stop once we have enough
                params["sort"] = "pushed" if args.sort == "updated" else "full_name"
                params["direction"] = "desc" if args.sort == "updated" else "asc"

                def enough(items: list[Any]) -> bool:
                    return sum(1 for r in items if _matches(r, words)) >= args.limit

            # Stars: every page first (bounded), then rank — ranking one page was a bug.
            repos, more = await gh.paginate(
                path, what=f"repositories of {args.owner}", params=params, enough=enough
            )
        matching = [r for r in repos if isinstance(r, dict) and _matches(r, words)]
        if args.sort == "stars":
            matching.sort(key=lambda r: (-int(r.get("stargazers_count") or 0), str(r["name"])))
        elif args.sort == "updated":
            matching.sort(key=lambda r: str(r.get("pushed_at") or ""), reverse=True)
        else:
            matching.sort(key=lambda r: str(r.get("name") or "").lower())
        shown = matching[: args.limit]
        keys = ("full_name", "stargazers_count", "language", "pushed_at", "description", "html_url")
        rows = [{key: r.get(key) for key in keys} for r in shown]
        filt = f' matching "{args.query}"' if args.query else ""
        if not shown:
            output = f"{args.owner} ({kind}) has no public repositories{filt}."
            return ToolResult(summary=f"{args.owner}: no repos{filt}", output=output)
        lines = [f"{args.owner} ({kind}): {len(shown)} repositories{filt}, by {args.sort}:"]
        for n, r in enumerate(shown, start=1):
            flags = "".join(f" [{flag}]" for flag in ("fork", "archived") if r.get(flag))
            pushed = str(r.get("pushed_at") or "")[:10] or "-"
            desc = " ".join(str(r.get("description") or "").split())[:140]
            lines.append(
                f"{n}. {r.get('full_name')} ★{int(r.get('stargazers_count') or 0):,} · "
                f"{r.get('language') or '-'} · pushed {pushed}{flags}"
                + (f" — {desc}" if desc else "")
            )
        if more and args.sort == "stars":
            lines.append(
                f"(only the first {len(repos):,} repositories were fetched and ranked; "
                "add a query to narrow the list)"
            )
        return ToolResult(
            summary=f"{args.owner}: {len(shown)} repos by {args.sort}",
            output="\n".join(lines),
            data={"repos": rows, "complete": not more},
        )


# ------------------------------------------------------------------ read file


class ReadFileArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    repo: str = Field(pattern=REPO_PATTERN, description="Repository as owner/name.")
    path: str = Field(min_length=1, description="File path in the repository.")
    ref: str | None = Field(
        None, description="Branch, tag or commit (default: the repository's default branch)."
    )
    start_line: int | None = Field(None, ge=1, description="First line to show, 1-based.")
    end_line: int | None = Field(None, ge=1, description="Last line to show (inclusive).")

    @model_validator(mode="after")
    def _range(self) -> ReadFileArgs:
        if self.start_line and self.end_line and self.end_line < self.start_line:
            raise ValueError("end_line must be at least start_line")
        return self


class GithubReadFileTool(Tool):
    """Read one file from a GitHub repository (notebooks converted to text)."""

    name = "github_read_file"
    description = (
        "Read a file from a GitHub repository at a branch, tag or commit; optionally a line "
        "range. Jupyter notebooks are converted to text (markdown, code, short outputs). "
        "Long files are cut; the output says how to read on."
    )
    Args = ReadFileArgs
    read_only = True

    async def run(self, args: ReadFileArgs, ctx: ToolContext) -> ToolResult:
        async with GithubClient(GithubAccess.for_context(ctx)) as gh:
            info = await gh.contents(args.repo, args.path, args.ref)
            if isinstance(info, list):
                return self._directory(args, info)
            if not isinstance(info, dict) or info.get("type") != "file":
                kind = info.get("type") if isinstance(info, dict) else "unknown"
                raise ToolError(f"{args.path} in {args.repo} is a {kind}, not a file")
            content = str(info.get("content") or "")
            if info.get("encoding") == "base64" and content:
                raw = base64.b64decode(content)
            elif int(info.get("size") or 0) > 0:  # over 1 MB: the API leaves content empty
                raw = await gh.raw_contents(args.repo, args.path, args.ref)
            else:
                raw = b""
        if b"\0" in raw[:8192]:
            raise ToolError(f"{args.path} is a binary file ({len(raw):,} bytes); not shown")
        text = raw.decode("utf-8", errors="replace")
        if args.path.endswith(".ipynb"):
            text = notebook_to_text(text)
        url = str(info.get("html_url") or "")
        return self._show(args, text, url, str(info.get("sha") or ""), ctx.output_budget)

    def _directory(self, args: ReadFileArgs, entries: list[Any]) -> ToolResult:
        names = sorted(f"{e.get('name')}{'/' if e.get('type') == 'dir' else ''}" for e in entries)
        listing = "\n".join(names)
        output = f"{args.path} in {args.repo} is a directory; read a file inside it:\n{listing}"
        summary = f"{args.repo}:{args.path}/ · {len(names)} entries"
        return ToolResult(summary=summary, output=output, data={"entries": names})

    def _show(self, args: ReadFileArgs, text: str, url: str, sha: str, budget: int) -> ToolResult:
        lines = text.splitlines()
        total = len(lines)
        start = args.start_line or 1
        if total and start > total:
            raise ToolError(f"start_line {start} is past the end of {args.path} ({total} lines)")
        end = min(args.end_line or total, total)
        if args.start_line is None and args.end_line is None:
            end = min(end, DEFAULT_MAX_LINES)
        room = max(budget - 1000, 2000)
        shown: list[str] = []
        used = 0
        for line in lines[start - 1 : end]:
            line = line if len(line) <= 2000 else f"{line[:2000]}… [{len(line) - 2000:,} more]"
            if used + len(line) + 1 > room and shown:
                break
            shown.append(line)
            used += len(line) + 1
        last = start + len(shown) - 1
        body = "\n".join(shown)
        fence = "`" * max(3, max((len(m) for m in re.findall(r"`+", body)), default=0) + 1)
        label = f"{args.repo}:{args.path}" + (f"@{args.ref}" if args.ref else "")
        span = f"lines {start}-{last} of {total}" if total else "empty file"
        suffix = PurePosixPath(args.path).suffix.lstrip(".")
        language = "" if suffix in ("ipynb", "md", "txt") else suffix
        output = f"{label} ({span})\n{fence}{language}\n{body}\n{fence}"
        if total and last < total:
            output += f"\n(cut at line {last} of {total}; continue with start_line={last + 1})"
        return ToolResult(
            summary=f"{label} · {span}",
            output=output,
            data={
                "repo": args.repo,
                "path": args.path,
                "ref": args.ref,
                "url": url,
                "sha": sha,
                "lines": [start, last],
                "total_lines": total,
            },
        )
