"""``hf_repo_files``: list, read, upload and delete files in a Hub repository.

Reads never ask; an upload publishes data and a delete removes it, so both ask
(``irreversible``). Hub failures become one line each (``hf_repo_common.hub_call``).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ml_intern_tui.core.services import HubService
from ml_intern_tui.core.tool import (
    ApprovalRequest,
    Tool,
    ToolContext,
    ToolError,
    ToolResult,
    cut_text,
    require,
)
from ml_intern_tui.tools.files import resolve_path
from ml_intern_tui.tools.hf_repo_common import RepoType, hub_call, human_size, repo_label, repo_url

MAX_READ_BYTES = 2_000_000
MAX_LISTED = 1000
PREVIEW_LINES = 20
_SNIFF = 8192


class RepoFilesArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    operation: Literal["list", "read", "upload", "delete"] = Field(
        description="list: files with sizes; read: a text file; upload: text content or a "
        "local file/folder; delete: a file, exact paths, or glob patterns."
    )
    repo_id: str = Field(min_length=1, description="Repository id, e.g. 'org/name'.")
    repo_type: RepoType = Field("model", description="model, dataset or space.")
    revision: str | None = Field(
        None, description="Branch, tag, commit or 'refs/pr/N' (default main)."
    )
    path: str | None = Field(
        None,
        description="list: folder to list; read: file to read; upload: destination path in "
        "the repo; delete: one file.",
    )
    paths: list[str] | None = Field(None, description="delete: exact file paths to delete.")
    patterns: list[str] | None = Field(
        None,
        description="delete: glob patterns ('*.bin', 'logs/'); upload of a folder: only the "
        "files matching these patterns.",
    )
    content: str | None = Field(None, description="upload: text content of the file to write.")
    local_path: str | None = Field(
        None, description="upload: a local file or folder (relative to the project) to upload."
    )
    commit_message: str | None = Field(None, description="upload/delete: commit message.")
    create_pr: bool = Field(
        False, description="upload/delete: open a pull request instead of committing directly."
    )

    @model_validator(mode="after")
    def _needs(self) -> RepoFilesArgs:
        op = self.operation
        if op == "read" and not self.path:
            raise ValueError("read needs path (the file to read)")
        if op == "upload":
            if (self.content is None) == (self.local_path is None):
                raise ValueError("upload needs exactly one of content (text) or local_path")
            if self.content is not None and not self.path:
                raise ValueError("upload of content needs path (where to write it in the repo)")
        if op == "delete" and not (self.path or self.paths or self.patterns):
            raise ValueError("delete needs path, paths or patterns")
        return self


class HfRepoFilesTool(Tool):
    """Files of a Hub repository: list, read, upload, delete."""

    name = "hf_repo_files"
    description = (
        "Work with the files of a Hugging Face Hub repository (model, dataset or space): "
        "list files with sizes, read a text file, upload text content or a local file or "
        "folder (optionally as a pull request), delete files by path or glob pattern. "
        "Uploads and deletes ask the user first."
    )
    Args = RepoFilesArgs

    def approval(self, args: RepoFilesArgs, ctx: ToolContext) -> ApprovalRequest | None:
        if args.operation in ("list", "read"):
            return None
        rev = args.revision or "main"
        where = f"a new pull request against {rev}" if args.create_pr else rev
        details = [f"Repository: {args.repo_id}", f"Type: {args.repo_type}", f"Revision: {where}"]
        if args.operation == "upload":
            protected = _protected_upload(args, ctx)
            target, size, preview = _upload_plan(args, ctx)
            details += [f"Target: {target}", f"Size: {size}", f"Create PR: {args.create_pr}"]
            details += [f"Commit message: {args.commit_message}"] if args.commit_message else []
            details += ["", "Preview:", preview] if preview else []
            title, risk = f"Upload {target} to {repo_label(args.repo_id, args.repo_type)}", "medium"
            if protected:
                # Credentials and start-up files leave this machine: ask in every mode.
                return ApprovalRequest(
                    kind="protected", title=title, details="\n".join(details), risk="high",
                    operation=args.operation, scope_value=args.repo_id, reason=protected,
                )  # fmt: skip
        else:
            targets = ", ".join(
                [*([args.path] if args.path else []), *(args.paths or []), *(args.patterns or [])]
            )
            details += [
                f"Delete: {targets}",
                "(patterns are matched against the repo's files when the call runs)",
            ]
            title, risk = (
                f"Delete {targets} from {repo_label(args.repo_id, args.repo_type)}",
                "high",
            )
        return ApprovalRequest(
            kind="irreversible", title=title, details="\n".join(details), risk=risk,  # type: ignore[arg-type]
            operation=args.operation, scope_value=args.repo_id, scope_pattern=args.repo_id,
        )  # fmt: skip

    async def run(self, args: RepoFilesArgs, ctx: ToolContext) -> ToolResult:
        hub: HubService = require(ctx.services.hub, "hub")
        if args.operation == "list":
            return await self._list(hub, args)
        if args.operation == "read":
            return await self._read(hub, args, ctx)
        hub.require_token()
        if args.operation == "upload":
            return await self._upload(hub, args, ctx)
        return await self._delete(hub, args)

    async def _list(self, hub: HubService, args: RepoFilesArgs) -> ToolResult:
        from huggingface_hub.hf_api import RepoFolder

        def listing() -> list[Any]:
            tree = hub.api.list_repo_tree(
                args.repo_id, path_in_repo=args.path or None, recursive=True,
                revision=args.revision, repo_type=args.repo_type,
            )  # fmt: skip
            return sorted(tree, key=lambda e: e.path)

        where = (args.repo_id, args.repo_type)
        entries = await hub_call(
            hub, listing, where=where, about_path=args.path, about_revision=args.revision
        )
        files = [e for e in entries if not isinstance(e, RepoFolder)]
        total = sum(int(f.size or 0) for f in files)
        at = f"{args.revision or 'main'}{'/' + args.path.strip('/') if args.path else ''}"
        counts = f"{len(files)} files, {len(entries) - len(files)} folders, {human_size(total)}"
        lines = [f"{args.repo_id}@{at}: {counts}", f"{repo_url(hub, *where)}/tree/{at}", ""]
        for e in entries[:MAX_LISTED]:
            lines.append(
                f"{e.path}/"
                if isinstance(e, RepoFolder)
                else f"{e.path}  ({human_size(int(e.size or 0))})"
            )
        if len(entries) > MAX_LISTED:
            lines.append(f"… {len(entries) - MAX_LISTED} more entries; list a sub-folder with path")
        data = {
            "repo_id": args.repo_id,
            "files": [{"path": f.path, "size": int(f.size or 0)} for f in files],
        }
        return ToolResult(summary=counts, output="\n".join(lines), data=data)

    async def _read(self, hub: HubService, args: RepoFilesArgs, ctx: ToolContext) -> ToolResult:
        path, where = args.path or "", (args.repo_id, args.repo_type)
        body, size, partial = await hub_call(
            hub,
            _download_head,
            hub,
            args,
            where=where,
            about_path=path,
            about_revision=args.revision,
        )
        shown = human_size(size if size is not None else len(body))
        if _is_binary(body[:_SNIFF]):
            text = f"Binary file {path} ({shown}); not shown as text."
            return ToolResult(summary=f"{path}: binary, {shown}", output=text)
        text = body.decode("utf-8", errors="replace")
        output, cut = cut_text(text, ctx.output_budget, hint="the file is longer than the budget")
        if partial:
            output += f"\n\n[only the first {human_size(len(body))} of {shown} were read]"
        summary = f"{path}: {text.count(chr(10)) + 1:,} lines, {shown}"
        data = {"repo_id": args.repo_id, "path": path, "revision": args.revision or "main"}
        return ToolResult(summary=summary, output=output, data=data, truncated=cut or partial)

    async def _upload(self, hub: HubService, args: RepoFilesArgs, ctx: ToolContext) -> ToolResult:
        kwargs: dict[str, Any] = {
            "repo_id": args.repo_id, "repo_type": args.repo_type, "revision": args.revision,
            "create_pr": args.create_pr, "commit_message": args.commit_message,
        }  # fmt: skip
        fn: Callable[..., Any] = hub.api.upload_file
        if args.content is not None:
            target, size = args.path or "", len(args.content.encode())
            kwargs.update(path_or_fileobj=args.content.encode(), path_in_repo=target)
        else:
            local = resolve_path(args.local_path or "", ctx)
            if local.is_file():
                target, size = args.path or local.name, local.stat().st_size
                kwargs.update(path_or_fileobj=str(local), path_in_repo=target)
            elif local.is_dir():
                fn, target, size = (
                    hub.api.upload_folder,
                    (args.path or "").strip("/") + "/",
                    _folder_size(local, args.patterns)[1],
                )
                kwargs.update(
                    folder_path=str(local),
                    path_in_repo=args.path or None,
                    allow_patterns=args.patterns,
                )
            else:
                raise ToolError(f"local_path {local} does not exist")
        kwargs["commit_message"] = args.commit_message or f"Upload {target}"
        info = await hub_call(hub, fn, where=(args.repo_id, args.repo_type), **kwargs)
        return _commit_result(f"Uploaded {target} ({human_size(size)})", info, args)

    async def _delete(self, hub: HubService, args: RepoFilesArgs) -> ToolResult:
        from huggingface_hub import CommitOperationDelete

        where = (args.repo_id, args.repo_type)
        common: dict[str, Any] = {
            "repo_type": args.repo_type,
            "revision": args.revision,
            "where": where,
        }
        if args.path and not (args.paths or args.patterns):
            info = await hub_call(
                hub, hub.api.delete_file, args.path, args.repo_id, create_pr=args.create_pr,
                commit_message=args.commit_message or f"Delete {args.path}", about_path=args.path, **common,
            )  # fmt: skip
            return _commit_result(f"Deleted {args.path}", info, args)
        existing = await hub_call(hub, hub.api.list_repo_files, args.repo_id, **common)
        exact = [*([args.path] if args.path else []), *(args.paths or [])]
        missing = [p for p in exact if p not in existing]
        if missing:
            raise ToolError(f"not in {args.repo_id}: {', '.join(missing)}; nothing deleted")
        patterns = [p + "*" if p.endswith("/") else p for p in args.patterns or []]
        matched = {f for f in existing for p in patterns if fnmatch.fnmatchcase(f, p)}
        targets = sorted({*exact, *matched})
        if not targets:
            raise ToolError(
                f"no file in {args.repo_id} matches {', '.join(args.patterns or [])}; nothing deleted"
            )
        operations = [CommitOperationDelete(path_in_repo=p) for p in targets]
        message = args.commit_message or f"Delete {len(targets)} files"
        info = await hub_call(
            hub, hub.api.create_commit, args.repo_id, operations, commit_message=message,
            create_pr=args.create_pr, **common,
        )  # fmt: skip
        shown = ", ".join(targets[:20]) + (
            f" and {len(targets) - 20} more" if len(targets) > 20 else ""
        )
        return _commit_result(f"Deleted {len(targets)} files ({shown})", info, args)


def _commit_result(done: str, info: Any, args: RepoFilesArgs) -> ToolResult:
    commit_url = str(getattr(info, "commit_url", "") or info)
    pr_url = getattr(info, "pr_url", None)
    lines = [f"{done} in {repo_label(args.repo_id, args.repo_type)}.", f"Commit: {commit_url}"]
    if pr_url:
        lines.append(f"Pull request: {pr_url} (merge it with hf_repo_git merge_pr)")
    summary = f"{done.split(' (')[0]} · {'PR opened' if pr_url else 'committed'}"
    data = {"repo_id": args.repo_id, "commit_url": commit_url, "pr_url": pr_url}
    return ToolResult(summary=summary, output="\n".join(lines), data=data)


def _download_head(hub: HubService, args: RepoFilesArgs) -> tuple[bytes, int | None, bool]:
    """The first ``MAX_READ_BYTES`` of a repo file, its full size when known, and whether cut."""
    from huggingface_hub import get_session, hf_hub_url, hf_raise_for_status
    from huggingface_hub.utils import build_hf_headers  # type: ignore[attr-defined]

    url = hf_hub_url(
        args.repo_id,
        args.path or "",
        repo_type=args.repo_type,
        revision=args.revision,
        endpoint=hub.endpoint,
    )
    headers = build_hf_headers(token=hub.token or False)
    with get_session().stream("GET", url, headers=headers, follow_redirects=True) as response:
        hf_raise_for_status(response)
        length = response.headers.get("content-length")
        buf = bytearray()
        for chunk in response.iter_bytes():
            buf += chunk
            if len(buf) > MAX_READ_BYTES:
                break
    partial = len(buf) > MAX_READ_BYTES
    return (
        bytes(buf[:MAX_READ_BYTES]),
        int(length) if length and length.isdigit() else None,
        partial,
    )


def _is_binary(head: bytes) -> bool:
    if b"\0" in head:
        return True
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start < len(head) - 4  # a character cut by the sniff is fine
    return False


def _folder_size(folder: Path, patterns: list[str] | None, limit: int = 10_000) -> tuple[int, int]:
    """(file count, bytes) of what an upload of ``folder`` would send (stops at ``limit`` files)."""
    count = total = 0
    for path in folder.rglob("*"):
        rel = path.relative_to(folder).as_posix()
        if path.is_file() and (not patterns or any(fnmatch.fnmatchcase(rel, p) for p in patterns)):
            count, total = count + 1, total + path.stat().st_size
            if count >= limit:
                break
    return count, total


def _protected_upload(args: RepoFilesArgs, ctx: ToolContext) -> str | None:
    """Why uploading ``local_path`` sends a protected file (or a folder holding one) away."""
    from ml_intern_tui.safety.credentials import credential_below, credential_reason
    from ml_intern_tui.safety.protected import protected_below, protected_reason

    if args.local_path is None:
        return None
    local = resolve_path(args.local_path, ctx)
    reason = protected_reason(local, project=ctx.cwd) or credential_reason(local)
    if reason is not None:
        return f"uploads {reason}"
    inside = (protected_below(local) or credential_below(local)) if local.is_dir() else None
    if inside is not None:
        return f"{local} holds {inside}, a protected credential, start-up or app-settings path"
    return None


def _upload_plan(args: RepoFilesArgs, ctx: ToolContext) -> tuple[str, str, str]:
    """What an upload will write: target, size, and a preview of text content."""
    if args.content is not None:
        lines = args.content.splitlines()
        preview = "\n".join(line[:200] for line in lines[:PREVIEW_LINES])
        if len(lines) > PREVIEW_LINES:
            preview += f"\n… {len(lines) - PREVIEW_LINES} more lines"
        return args.path or "", human_size(len(args.content.encode())), preview
    local = resolve_path(args.local_path or "", ctx)
    if local.is_file():
        return f"{args.path or local.name} (from {local})", human_size(local.stat().st_size), ""
    if local.is_dir():
        count, total = _folder_size(local, args.patterns)
        dest = (args.path or "").strip("/") or "the repo root"
        return f"{count} files from {local} into {dest}", human_size(total), ""
    return f"{local} (does not exist)", "unknown", ""
