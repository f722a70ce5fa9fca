"""``hf_repo_git``: branches, tags, refs, pull requests and repo settings on the Hub.

Read operations never ask. Deleting a branch or tag, merging a PR, creating a repo and
changing its settings ask (``irreversible``); a visibility change is high risk. Unlike
upstream, ``update_repo`` sends ``gated=False`` as a real boolean, never ``"false"``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ml_intern_tui.core.services import HubService
from ml_intern_tui.core.tool import ApprovalRequest, Tool, ToolContext, ToolResult, require
from ml_intern_tui.tools.hf_repo_common import RepoType, hub_call, repo_label, repo_url

GitOperation = Literal[
    "list_refs", "create_branch", "delete_branch", "create_tag", "delete_tag",
    "create_pr", "list_prs", "get_pr", "merge_pr", "close_pr", "comment_pr",
    "create_repo", "update_repo",
]  # fmt: skip
READ_OPS = {"list_refs", "list_prs", "get_pr"}
ASKING_OPS = {"delete_branch", "delete_tag", "merge_pr", "create_repo", "update_repo"}
MAX_PRS = 50
MAX_EVENTS = 10
MAX_DIFF_CHARS = 4000
_NEEDS: dict[str, tuple[str, ...]] = {
    "create_branch": ("branch",), "delete_branch": ("branch",), "create_tag": ("tag",),
    "delete_tag": ("tag",), "create_pr": ("title",), "get_pr": ("pr_num",),
    "merge_pr": ("pr_num",), "close_pr": ("pr_num",), "comment_pr": ("pr_num", "comment"),
}  # fmt: skip


class RepoGitArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    operation: GitOperation = Field(
        description="list_refs | create_branch | delete_branch | create_tag | delete_tag | "
        "create_pr | list_prs | get_pr | merge_pr | close_pr | comment_pr | create_repo | "
        "update_repo."
    )
    repo_id: str = Field(min_length=1, description="Repository id, e.g. 'org/name'.")
    repo_type: RepoType = Field("model", description="model, dataset or space.")
    branch: str | None = Field(None, description="create_branch / delete_branch: branch name.")
    from_rev: str | None = Field(None, description="create_branch: start from (default main).")
    tag: str | None = Field(None, description="create_tag / delete_tag: tag name.")
    revision: str | None = Field(None, description="create_tag: what to tag (default main).")
    tag_message: str | None = Field(None, description="create_tag: annotation message.")
    title: str | None = Field(None, description="create_pr: pull request title.")
    description: str | None = Field(None, description="create_pr: pull request description.")
    pr_num: int | None = Field(None, ge=1, description="get/merge/close/comment_pr: PR number.")
    comment: str | None = Field(
        None, description="comment_pr: the comment; merge_pr / close_pr: optional comment."
    )
    status: Literal["open", "closed", "all"] = Field(
        "all", description="list_prs: which pull requests to list."
    )
    private: bool | None = Field(
        None, description="create_repo: private (default true); update_repo: new visibility."
    )
    gated: Literal["auto", "manual", "false"] | None = Field(
        None, description="update_repo: access gating: auto, manual, or false (not gated)."
    )
    space_sdk: Literal["gradio", "streamlit", "docker", "static"] | None = Field(
        None, description="create_repo of a space: its SDK (required for spaces)."
    )

    @field_validator("gated", mode="before")
    @classmethod
    def _gated_false(cls, value: Any) -> Any:
        if value is False or (isinstance(value, str) and value.lower() in ("false", "none", "off")):
            return "false"
        return value

    @model_validator(mode="after")
    def _needs(self) -> RepoGitArgs:
        missing = [name for name in _NEEDS.get(self.operation, ()) if not getattr(self, name)]
        if missing:
            raise ValueError(f"{self.operation} needs {' and '.join(missing)}")
        if self.operation == "create_repo" and self.repo_type == "space" and not self.space_sdk:
            raise ValueError("create_repo of a space needs space_sdk")
        if self.operation == "update_repo" and self.private is None and self.gated is None:
            raise ValueError("update_repo needs private and/or gated")
        return self


class HfRepoGitTool(Tool):
    """Git-like operations and settings of a Hub repository."""

    name = "hf_repo_git"
    description = (
        "Manage a Hugging Face Hub repository: list refs; create/delete branches and tags; "
        "pull requests (create a draft, list, get details, merge, close, comment); create a "
        "repo (private by default); update its visibility or gating. Deleting, merging, "
        "creating repos and changing settings ask the user first."
    )
    Args = RepoGitArgs

    def approval(self, args: RepoGitArgs, ctx: ToolContext) -> ApprovalRequest | None:
        if args.operation not in ASKING_OPS:
            return None
        label = repo_label(args.repo_id, args.repo_type)
        details = [f"Repository: {args.repo_id}", f"Type: {args.repo_type}"]
        risk = "medium"
        if args.operation == "delete_branch":
            title, risk = f"Delete branch {args.branch} of {label}", "high"
        elif args.operation == "delete_tag":
            title, risk = f"Delete tag {args.tag} of {label}", "high"
        elif args.operation == "merge_pr":
            title = f"Merge pull request #{args.pr_num} of {label}"
            details += [f"Comment: {args.comment}"] if args.comment else []
        elif args.operation == "create_repo":
            private = args.private is not False
            title = f"Create {'private' if private else 'PUBLIC'} {label}"
            details += [f"Visibility: {'private' if private else 'public'}"]
            details += [f"Space SDK: {args.space_sdk}"] if args.space_sdk else []
            risk = "low" if private else "medium"
        else:
            changes = []
            if args.private is not None:
                changes.append(f"visibility → {'private' if args.private else 'PUBLIC'}")
                risk = "high"
            if args.gated is not None:
                changes.append(f"gated → {args.gated}")
            title = f"Change settings of {label}: {', '.join(changes)}"
            details += [f"Change: {c}" for c in changes]
        return ApprovalRequest(
            kind="irreversible", title=title, details="\n".join(details), risk=risk,  # type: ignore[arg-type]
            operation=args.operation, scope_value=args.repo_id, scope_pattern=args.repo_id,
        )  # fmt: skip

    async def run(self, args: RepoGitArgs, ctx: ToolContext) -> ToolResult:
        hub: HubService = require(ctx.services.hub, "hub")
        if args.operation not in READ_OPS:
            hub.require_token()
        handler = getattr(self, f"_{args.operation}")
        result: ToolResult = await handler(hub, args)
        return result

    # -- refs ----------------------------------------------------------------------

    async def _list_refs(self, hub: HubService, args: RepoGitArgs) -> ToolResult:
        refs = await _call(
            hub, args, hub.api.list_repo_refs, args.repo_id, include_pull_requests=True
        )
        groups = [("Branches", refs.branches), ("Tags", refs.tags),
                  ("Pull requests", refs.pull_requests or []), ("Converts", refs.converts)]  # fmt: skip
        lines: list[str] = []
        for kind, items in groups:
            if items or kind in ("Branches", "Tags"):
                lines.append(f"{kind}:")
                lines += [f"  {r.name}  {r.target_commit[:12]}" for r in items] or ["  (none)"]
        summary = ", ".join(f"{len(items)} {kind.lower()}" for kind, items in groups[:3])
        data = {"branches": [r.name for r in refs.branches], "tags": [r.name for r in refs.tags]}
        return ToolResult(summary=summary, output="\n".join(lines), data=data)

    async def _create_branch(self, hub: HubService, args: RepoGitArgs) -> ToolResult:
        start = args.from_rev or "main"
        await _call(
            hub, args, hub.api.create_branch, args.repo_id, branch=args.branch, revision=start
        )
        url = f"{repo_url(hub, args.repo_id, args.repo_type)}/tree/{args.branch}"
        return _done(f"Created branch {args.branch} from {start}", args, url)

    async def _delete_branch(self, hub: HubService, args: RepoGitArgs) -> ToolResult:
        await _call(hub, args, hub.api.delete_branch, args.repo_id, branch=args.branch)
        return _done(f"Deleted branch {args.branch}", args)

    async def _create_tag(self, hub: HubService, args: RepoGitArgs) -> ToolResult:
        rev = args.revision or "main"
        await _call(
            hub,
            args,
            hub.api.create_tag,
            args.repo_id,
            tag=args.tag,
            tag_message=args.tag_message,
            revision=rev,
        )
        return _done(f"Tagged {rev} as {args.tag}", args)

    async def _delete_tag(self, hub: HubService, args: RepoGitArgs) -> ToolResult:
        await _call(hub, args, hub.api.delete_tag, args.repo_id, tag=args.tag)
        return _done(f"Deleted tag {args.tag}", args)

    # -- pull requests -------------------------------------------------------------

    async def _create_pr(self, hub: HubService, args: RepoGitArgs) -> ToolResult:
        pr = await _call(
            hub,
            args,
            hub.api.create_pull_request,
            args.repo_id,
            title=args.title,
            description=args.description,
        )
        ref = pr.git_reference or f"refs/pr/{pr.num}"
        text = (
            f"Opened draft pull request #{pr.num} on {repo_label(args.repo_id, args.repo_type)}: {pr.url}\n"
            f"Push changes to it with hf_repo_files upload revision='{ref}', then merge_pr."
        )
        return ToolResult(
            summary=f"PR #{pr.num} opened", output=text, data={"pr_num": pr.num, "url": pr.url}
        )

    async def _list_prs(self, hub: HubService, args: RepoGitArgs) -> ToolResult:
        def fetch() -> list[Any]:
            found = hub.api.get_repo_discussions(
                args.repo_id,
                discussion_type="pull_request",
                discussion_status=args.status,
                repo_type=args.repo_type,
            )
            return [d for _, d in zip(range(MAX_PRS + 1), found, strict=False)]

        prs = await hub_call(hub, fetch, where=(args.repo_id, args.repo_type))
        lines = [
            f"#{p.num}  [{p.status}]  {p.title}  (by {p.author}, {p.created_at:%Y-%m-%d})"
            for p in prs[:MAX_PRS]
        ]
        if len(prs) > MAX_PRS:
            lines.append(f"… more than {MAX_PRS}; narrow with status")
        which = "" if args.status == "all" else f"{args.status} "
        head = f"{min(len(prs), MAX_PRS)} {which}pull requests"
        output = "\n".join([f"{head} on {repo_label(args.repo_id, args.repo_type)}", *lines])
        return ToolResult(summary=head, output=output, data={"prs": [p.num for p in prs[:MAX_PRS]]})

    async def _get_pr(self, hub: HubService, args: RepoGitArgs) -> ToolResult:
        pr = await _call(hub, args, hub.api.get_discussion_details, args.repo_id, args.pr_num)
        lines = [
            f"#{pr.num} {pr.title}", f"Status: {pr.status}", f"Author: {pr.author}",
            f"Created: {pr.created_at:%Y-%m-%d %H:%M} UTC", f"URL: {pr.url}",
        ]  # fmt: skip
        if pr.is_pull_request:
            lines += [f"Target: {pr.target_branch}", f"Push to: {pr.git_reference}"]
            lines += [f"Merge commit: {pr.merge_commit_oid}"] if pr.merge_commit_oid else []
            lines += (
                [f"Conflicts: {', '.join(pr.conflicting_files)}"] if pr.conflicting_files else []
            )
        events = [e for e in pr.events if e.type in ("comment", "status-change", "commit")]
        if events:
            lines.append(f"\nEvents (last {min(len(events), MAX_EVENTS)} of {len(events)}):")
            lines += [f"- {_event_text(e)}" for e in events[-MAX_EVENTS:]]
        if pr.diff:
            diff = (
                pr.diff
                if len(pr.diff) <= MAX_DIFF_CHARS
                else pr.diff[:MAX_DIFF_CHARS] + "\n… diff cut"
            )
            lines += ["\nDiff:", diff]
        data = {"pr_num": pr.num, "status": pr.status, "url": pr.url}
        return ToolResult(
            summary=f"#{pr.num} [{pr.status}] {pr.title}", output="\n".join(lines), data=data
        )

    async def _merge_pr(self, hub: HubService, args: RepoGitArgs) -> ToolResult:
        await _call(
            hub, args, hub.api.merge_pull_request, args.repo_id, args.pr_num, comment=args.comment
        )
        return _done(f"Merged pull request #{args.pr_num}", args)

    async def _close_pr(self, hub: HubService, args: RepoGitArgs) -> ToolResult:
        await _call(
            hub,
            args,
            hub.api.change_discussion_status,
            args.repo_id,
            args.pr_num,
            "closed",
            comment=args.comment,
        )
        return _done(f"Closed pull request #{args.pr_num}", args)

    async def _comment_pr(self, hub: HubService, args: RepoGitArgs) -> ToolResult:
        await _call(hub, args, hub.api.comment_discussion, args.repo_id, args.pr_num, args.comment)
        return _done(f"Commented on pull request #{args.pr_num}", args)

    # -- repos ---------------------------------------------------------------------

    async def _create_repo(self, hub: HubService, args: RepoGitArgs) -> ToolResult:
        private = args.private is not False
        url = await _call(
            hub, args, hub.api.create_repo, args.repo_id, private=private, space_sdk=args.space_sdk
        )
        repo_id = getattr(url, "repo_id", None) or args.repo_id
        visibility = "private" if private else "public"
        text = f"Created {visibility} {repo_label(repo_id, args.repo_type)}: {url}"
        return ToolResult(
            summary=f"created {repo_id} ({visibility})",
            output=text,
            data={"repo_id": repo_id, "url": str(url)},
        )

    async def _update_repo(self, hub: HubService, args: RepoGitArgs) -> ToolResult:
        gated: Literal["auto", "manual", False] | None = (
            False if args.gated == "false" else args.gated
        )  # the Hub wants a real boolean False, never the string "false"
        await _call(
            hub, args, hub.api.update_repo_settings, args.repo_id, private=args.private, gated=gated
        )
        changes = []
        if args.private is not None:
            changes.append(f"visibility: {'private' if args.private else 'public'}")
        if gated is not None:
            changes.append(f"gated: {gated if gated else 'no'}")
        return _done(f"Updated settings ({', '.join(changes)})", args)


async def _call(
    hub: HubService, args: RepoGitArgs, fn: Any, *positional: Any, **kwargs: Any
) -> Any:
    """Run ``fn(*positional, repo_type=..., **kwargs)`` for this repo, errors as one line."""
    ref = {"delete_branch": args.branch, "delete_tag": args.tag}.get(args.operation, args.from_rev)
    return await hub_call(
        hub, fn, *positional, repo_type=args.repo_type, where=(args.repo_id, args.repo_type),
        about_revision=ref, **kwargs,
    )  # fmt: skip


def _done(what: str, args: RepoGitArgs, url: str | None = None) -> ToolResult:
    label = repo_label(args.repo_id, args.repo_type)
    return ToolResult(summary=what, output=f"{what} on {label}." + (f"\n{url}" if url else ""))


def _event_text(event: Any) -> str:
    when = f"{event.created_at:%Y-%m-%d}"
    if event.type == "comment":
        content = " ".join(str(getattr(event, "content", "")).split())
        return f"{when} {event.author}: {content[:300]}{'…' if len(content) > 300 else ''}"
    if event.type == "status-change":
        return f"{when} {event.author} set status to {getattr(event, 'new_status', '?')}"
    return f"{when} {event.author} committed: {getattr(event, 'summary', '')}"
