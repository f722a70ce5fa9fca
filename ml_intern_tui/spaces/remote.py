"""``bash``, ``read``, ``write`` and ``edit`` with ``target="sandbox"``: run in the Space.

The local tools hand their call here when the model targets the sandbox. Approvals keep
the local rules where they mean something: a command the shell analysis shows only
reads runs without asking; any other command asks as contained work (``local``: it runs
on a machine the user rented, never on this one), and one that cannot be undone
(``git push --force``, deleting a Hub repo) asks as ``irreversible``. Operations are
named ``sandbox_*`` so a rule remembered for this machine never approves a remote call,
nor the other way round. Writes and edits need a prior read of an existing file, as
locally. A cancelled command kills its remote process group.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from typing import Any

from ml_intern_tui.core.tool import (
    ApprovalKind,
    ApprovalRequest,
    ToolContext,
    ToolError,
    ToolResult,
    cut_text,
    require,
)
from ml_intern_tui.jobs.registry import JobRecord
from ml_intern_tui.spaces.client import SandboxApiError, SandboxClient

WAIT_FOR_CREATION_S = 60.0
"""How long a remote call waits for a sandbox still being created."""
JOB_POLL_S = 2.0


def _manager(ctx: ToolContext) -> Any:
    manager = ctx.services.space_sandbox
    if manager is None:
        raise ToolError('no sandbox in this session: target="sandbox" needs sandbox_create first')
    return manager


async def _client(ctx: ToolContext) -> SandboxClient:
    try:
        client: SandboxClient = await _manager(ctx).client(wait_s=WAIT_FOR_CREATION_S)
    except SandboxApiError as exc:
        raise ToolError(str(exc)) from None
    return client


async def _call(client: SandboxClient, route: str, body: dict[str, Any], **kw: Any) -> Any:
    try:
        return await client.call(route, body, **kw)
    except SandboxApiError as exc:
        raise ToolError(str(exc)) from None


def _first_line(text: str, limit: int = 100) -> str:
    first = text.strip().splitlines()[0] if text.strip() else ""
    return first if len(first) <= limit else first[: limit - 1] + "…"


# ---------------------------------------------------------------------- bash


def bash_approval(
    args: Any, ctx: ToolContext, allowlist: tuple[str, ...]
) -> ApprovalRequest | None:
    from ml_intern_tui.safety.shell_analysis import analyse_command
    from ml_intern_tui.tools.bash import scope_pattern

    analysis = analyse_command(args.command, cwd=ctx.cwd, allowlist=allowlist, project=ctx.cwd)
    if analysis.read_only_reason is None:
        return None
    irreversible = analysis.irreversible
    kind: ApprovalKind = "irreversible" if irreversible else "local"
    how = "background job" if args.background else f"timeout {args.timeout or 'default'}"
    details = (
        f"$ {args.command}\n\nin the sandbox Space ({args.work_dir or '/app'}), {how}\n"
        f"needs approval: {analysis.read_only_reason}"
        + (f"; cannot be undone: {irreversible}" if irreversible else "")
    )
    return ApprovalRequest(
        kind=kind,
        title=f"Run in the sandbox: {_first_line(args.command)}",
        details=details,
        risk=analysis.risk,
        reason=irreversible or "",
        operation="sandbox_run_irreversible" if irreversible else "sandbox_run",
        scope_value=args.command,
        scope_pattern=scope_pattern(args.command),
        scope_parts=analysis.parts,
    )


async def bash(args: Any, ctx: ToolContext, timeout_s: int, max_timeout_s: int) -> ToolResult:
    client = await _client(ctx)
    if args.background:
        return await _start_job(args, ctx, client)
    timeout = args.timeout or timeout_s
    if timeout > max_timeout_s:
        raise ToolError(
            f"timeout {timeout}s is above the limit of {max_timeout_s}s; "
            "run long work with background=true"
        )
    call_id = f"{ctx.call_id}-{secrets.token_hex(3)}"
    body = {
        "command": args.command,
        "work_dir": args.work_dir,
        "timeout": timeout,
        "call_id": call_id,
    }
    started = time.monotonic()
    try:
        result = await _call(client, "bash", body, timeout_s=timeout + 30)
    except asyncio.CancelledError:
        # The request is gone but the command still runs there: kill its process group.
        with contextlib.suppress(Exception):
            await asyncio.shield(client.call("kill", {"call_id": call_id}, timeout_s=15))
        raise
    text = str(result.get("output") or "") or "(no output)"
    code = result.get("exit_code")
    text, cut = cut_text(text, ctx.output_budget)
    elapsed = time.monotonic() - started
    if result.get("timed_out"):
        return ToolResult(
            ok=False,
            summary=f"timed out after {timeout}s · in the sandbox",
            output=f"{text}\n\n[timed out after {timeout}s: the command and its children were "
            "stopped. Use background=true for long work.]",
            truncated=cut,
        )
    tail = f"\n\n[exit code {code}]" if code != 0 else ""
    return ToolResult(
        ok=code == 0,
        summary=f"exit {code} · {elapsed:.1f}s · in the sandbox",
        output=f"{text}{tail}\n\n(ran in the sandbox Space)",
        truncated=cut or bool(result.get("truncated")),
    )


async def _start_job(args: Any, ctx: ToolContext, client: SandboxClient) -> ToolResult:
    jobs = require(ctx.services.jobs, "jobs")
    started = await _call(
        client, "jobs/start", {"command": args.command, "work_dir": args.work_dir}
    )
    remote_id = str(started["job_id"])
    title = args.description or _first_line(args.command, 60)
    record = JobRecord(
        id=jobs.new_id(), kind="hf", title=f"{title} (sandbox)", command=args.command
    )

    async def follow() -> None:
        offset = 0
        while True:
            try:
                answer = await client.call(
                    "jobs/log", {"job_id": remote_id, "offset": offset}, timeout_s=30
                )
            except SandboxApiError as exc:
                jobs.add_lines(record.id, [f"[the sandbox stopped answering: {exc}]"])
                jobs.finish(record.id, "failed")
                return
            offset = int(answer.get("next_offset") or offset)
            text = str(answer.get("text") or "")
            if text:
                jobs.add_lines(record.id, text.splitlines())
            if not answer.get("running"):
                code = answer.get("exit_code")
                jobs.finish(record.id, "completed" if code == 0 else "failed", code)
                return
            await asyncio.sleep(JOB_POLL_S)

    async def cancel() -> None:
        with contextlib.suppress(SandboxApiError):
            await client.call("jobs/kill", {"job_id": remote_id}, timeout_s=30)

    jobs.register_external(record, follow(), canceller=cancel)
    return ToolResult(
        summary=f"started {record.id} in the sandbox",
        output=(
            f"Started background job {record.id} in the sandbox Space. Follow it with the "
            f'jobs tool: jobs(operation="logs", job_id="{record.id}"), "wait" or "cancel".'
        ),
        data={"job_id": record.id},
    )


# --------------------------------------------------------------------- files


async def read(args: Any, ctx: ToolContext) -> ToolResult:
    client = await _client(ctx)
    body = {"path": args.path, "offset": args.offset or 1, "limit": args.limit or 2000}
    answer = await _call(client, "read", body)
    lines = [str(line) for line in answer.get("lines") or []]
    first, total = int(answer.get("offset") or 1), int(answer.get("total_lines") or 0)
    _manager(ctx).read_paths.add(str(answer.get("path") or args.path))
    if not lines:
        return ToolResult(summary=f"sandbox:{args.path}: empty", output=f"{args.path} is empty.")
    shown = "\n".join(f"{first + i:>6}\t{line}" for i, line in enumerate(lines))
    last = first + len(lines) - 1
    more = f"\n\n[lines {first}-{last} of {total}; use offset to read on]" if last < total else ""
    text, cut = cut_text(shown + more, ctx.output_budget)
    return ToolResult(
        summary=f"sandbox:{args.path}: lines {first}-{last} of {total}",
        output=text,
        truncated=cut,
    )


async def read_whole(path: str, ctx: ToolContext) -> str:
    """The text of a sandbox file, read in full (an ``hf_jobs`` script from the sandbox)."""
    client = await _client(ctx)
    lines: list[str] = []
    for _ in range(1000):  # bounded: the server caps a file's size anyway
        answer = await _call(client, "read", {"path": path, "offset": len(lines) + 1})
        page = [str(line) for line in answer.get("lines") or []]
        lines += page
        if not page or len(lines) >= int(answer.get("total_lines") or 0):
            break
    return "".join(line + "\n" for line in lines)


def write_approval(args: Any, ctx: ToolContext, verb: str) -> ApprovalRequest:
    preview = getattr(args, "content", None)
    if preview is None:
        preview = f"- {args.old_str}\n+ {args.new_str}"
    return ApprovalRequest(
        kind="local",
        title=f"{verb} in the sandbox: {args.path}",
        details=f"{verb} {args.path} in the sandbox Space\n\n{preview[:2000]}",
        risk="low",
        operation=f"sandbox_{verb.lower()}",
        scope_value=args.path,
        scope_pattern=args.path,
    )


async def _require_read(client: SandboxClient, ctx: ToolContext, path: str, verb: str) -> None:
    manager = _manager(ctx)
    try:
        answer = await client.call("read", {"path": path, "limit": 1})
    except SandboxApiError as exc:
        if exc.status == 404:
            return  # a new file
        raise ToolError(str(exc)) from None
    if str(answer.get("path")) not in manager.read_paths:
        raise ToolError(
            f"{path} exists in the sandbox but has not been read in this session; read it "
            f'(target="sandbox") before you {verb} it'
        )


async def write(args: Any, ctx: ToolContext) -> ToolResult:
    client = await _client(ctx)
    await _require_read(client, ctx, args.path, "overwrite")
    answer = await _call(client, "write", {"path": args.path, "content": args.content})
    _manager(ctx).read_paths.add(str(answer.get("path")))
    size = int(answer.get("bytes") or 0)
    return ToolResult(
        summary=f"wrote sandbox:{args.path} · {size:,} bytes",
        output=f"Wrote {answer.get('path')} in the sandbox ({size:,} bytes).",
    )


async def edit(args: Any, ctx: ToolContext) -> ToolResult:
    client = await _client(ctx)
    await _require_read(client, ctx, args.path, "edit")
    body = {
        "path": args.path,
        "old_str": args.old_str,
        "new_str": args.new_str,
        "replace_all": args.replace_all,
    }
    answer = await _call(client, "edit", body)
    count = int(answer.get("replacements") or 0)
    return ToolResult(
        summary=f"edited sandbox:{args.path} · {count} replacement{'s' if count != 1 else ''}",
        output=f"Edited {answer.get('path')} in the sandbox ({count} replacement(s)).",
    )
