"""``read`` and ``write``: files on this machine, plus the helpers ``edit`` shares.

The read set lives in the session (``ctx.state.files_read``: path -> mtime), not in the
process, and a write or edit checks the file has not changed since it was read. Sizes
are real byte counts. Disk work runs in a thread so the event loop never blocks.
"""

from __future__ import annotations

import ast
import asyncio
import difflib
import io
import os
import re
from pathlib import Path
from typing import BinaryIO, Literal

from pydantic import BaseModel, ConfigDict, Field

from ml_intern_tui.core.tool import ApprovalRequest, Tool, ToolContext, ToolError, ToolResult
from ml_intern_tui.tools.local_writes import ProtectedTargets, atomic_write, write_approval

__all__ = ["atomic_write", "write_approval"]  # edit shares them

DEFAULT_READ_LIMIT = 2000
MAX_LINE_CHARS = 2000
_SNIFF_BYTES = 8192
_COUNT_ALL_BYTES = 50_000_000
_TRAINING_CONFIG_RE = re.compile(r"\b(TrainingArguments|SFTConfig|DPOConfig|GRPOConfig)\s*\(")


# ------------------------------------------------------------------ helpers


def resolve_path(raw: str, ctx: ToolContext) -> Path:
    """``raw`` made absolute (relative to the project directory) with symlinks resolved.

    A path no file can have (a NUL byte, a loop of symbolic links) is a ``ToolError``
    for the model, never a crash of the turn.
    """
    if "\0" in raw:
        raise ToolError(f"path {raw!r} contains a NUL byte; no file can have that name")
    try:
        path = Path(raw).expanduser()
        if not path.is_absolute():
            path = ctx.cwd / path
        return path.resolve()
    except (RuntimeError, OSError, ValueError) as exc:  # RuntimeError: a symlink loop
        raise ToolError(f"cannot resolve path {raw!r}: {exc}") from exc


def inside_project(path: Path, ctx: ToolContext) -> bool:
    return path.is_relative_to(ctx.cwd.resolve())


def display_path(path: Path, ctx: ToolContext) -> str:
    """The path relative to the project when it is inside, else absolute."""
    return str(path.relative_to(ctx.cwd.resolve())) if inside_project(path, ctx) else str(path)


def check_fresh(path: Path, ctx: ToolContext, verb: str) -> None:
    """Refuse to change an existing file the agent has not read, or that changed since."""
    key = str(path)
    if key not in ctx.state.files_read:
        raise ToolError(
            f"{path} exists but has not been read in this session; read it before you {verb} it"
        )
    if path.stat().st_mtime != ctx.state.files_read[key]:
        raise ToolError(
            f"{path} changed on disk since you last read it; read it again before you {verb} it"
        )


def remember_read(path: Path, ctx: ToolContext) -> None:
    ctx.state.files_read[str(path)] = path.stat().st_mtime


def unified_diff(before: str, after: str, label: str) -> str:
    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            fromfile=f"a/{label}",
            tofile=f"b/{label}",
        )
    )


PREVIEW_HEAD_LINES = 1500
PREVIEW_TAIL_LINES = 100


def approval_preview(content: str) -> str:
    """What a person approving a write sees of the content: all of it up to
    ``PREVIEW_HEAD_LINES + PREVIEW_TAIL_LINES`` lines (the drawer scrolls), else the
    head and the tail with the cut said in between. Forty lines once hid a 41st
    (``fsmonitor = …`` in a ``.git/config``)."""
    lines = content.splitlines()
    if len(lines) <= PREVIEW_HEAD_LINES + PREVIEW_TAIL_LINES:
        return content
    left_out = len(lines) - PREVIEW_HEAD_LINES - PREVIEW_TAIL_LINES
    return "\n".join(
        [
            *lines[:PREVIEW_HEAD_LINES],
            f"[… {plural(left_out, 'line')} not shown here …]",
            *lines[-PREVIEW_TAIL_LINES:],
        ]
    )


def count_lines(text: str) -> int:
    return text.count("\n") + (1 if text and not text.endswith("\n") else 0)


def plural(count: int, noun: str) -> str:
    """``1 line``, ``2 lines``."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def python_warnings(path: Path, text: str) -> list[str]:
    """Problems worth telling the model right after it wrote a Python file."""
    if path.suffix != ".py":
        return []
    warnings: list[str] = []
    try:
        ast.parse(text, filename=str(path))
    except SyntaxError as exc:
        warnings.append(f"warning: syntax error at line {exc.lineno}: {exc.msg}")
    found = sorted(set(_TRAINING_CONFIG_RE.findall(text)))
    missing = [key for key in ("push_to_hub", "hub_model_id") if key not in text]
    if found and missing:
        warnings.append(
            f"hint: {', '.join(found)} without {' and '.join(missing)}; a model trained in a "
            "job is lost when the job ends unless it is pushed to the Hub"
        )
    return warnings


def _looks_binary(head: bytes) -> bool:
    if b"\0" in head:
        return True
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start < len(head) - 4  # a multi-byte char cut by the sniff is fine
    return False


# --------------------------------------------------------------------- read


class ReadArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str = Field(
        min_length=1, description="File to read, absolute or relative to the project."
    )
    offset: int | None = Field(None, ge=1, description="First line to show, 1-based (default 1).")
    limit: int | None = Field(
        None, ge=1, description=f"How many lines to show (default {DEFAULT_READ_LIMIT})."
    )
    target: Literal["local", "sandbox"] = Field(
        "local",
        description='"sandbox": in the remote sandbox Space made by sandbox_create '
        "(paths relative to /app there); default: this machine.",
    )


def _credential_reason(path: Path, ctx: ToolContext) -> str | None:
    from ml_intern_tui.safety.credentials import credential_reason

    return credential_reason(path)


class ReadTool(Tool):
    """Show a text file with line numbers."""

    name = "read"
    description = (
        "Read a text file, shown with line numbers (cat -n style). Long files: use offset and "
        "limit to page. Read a file before you write or edit it."
    )
    Args = ReadArgs
    read_only = True

    def __init__(self) -> None:
        self.protected = ProtectedTargets(_credential_reason, "nothing was read")

    def approval(self, args: ReadArgs, ctx: ToolContext) -> ApprovalRequest | None:
        """Credential stores (``~/.ssh``, ``~/.aws``, token files…) ask, in every mode:
        what the model reads goes to its provider."""
        if args.target == "sandbox":
            return None  # the sandbox holds no credential of this machine
        path = resolve_path(args.path, ctx)
        reason = _credential_reason(path, ctx)
        if reason is None:
            return None
        request = ApprovalRequest(
            kind="protected",
            title=f"Read a credential file: {path}",
            details=f"read {path}\n\nIts content would be sent to the model's provider.",
            risk="high",
            operation="read",
            scope_value=str(path),
            reason=reason,
        )
        self.protected.note(ctx.call_id, request, path)
        return request

    async def run(self, args: ReadArgs, ctx: ToolContext) -> ToolResult:
        if args.target == "sandbox":
            from ml_intern_tui.spaces import remote

            return await remote.read(args, ctx)
        path = resolve_path(args.path, ctx)
        return await asyncio.to_thread(self._read, path, args, ctx)

    def _read(self, path: Path, args: ReadArgs, ctx: ToolContext) -> ToolResult:
        from ml_intern_tui.safety.local_files import NotReadable, open_regular

        self.protected.check(ctx.call_id, path, ctx)
        if not path.exists():
            raise ToolError(f"{path} does not exist{_similar_names(path)}")
        if path.is_dir():
            entries = sorted(p.name + ("/" if p.is_dir() else "") for p in path.iterdir())
            shown = ", ".join(entries[:15]) + (", …" if len(entries) > 15 else "")
            raise ToolError(
                f"{path} is a directory ({len(entries)} entries: {shown or 'empty'}); "
                "read a file inside it, or list it with bash ls"
            )
        try:
            # Only a regular file: a FIFO would block forever, /dev/zero never ends and
            # /dev/tty would take the keys the user types.
            fd = open_regular(path)
        except NotReadable as exc:
            raise ToolError(f"{exc}; read only files") from None
        except OSError as exc:
            raise ToolError(f"cannot read {path}: {exc.strerror or exc}") from exc
        with open(fd, "rb") as raw:
            return self._read_open(raw, path, args, ctx)

    def _read_open(self, raw: BinaryIO, path: Path, args: ReadArgs, ctx: ToolContext) -> ToolResult:
        stat = os.fstat(raw.fileno())  # before reading: a change while we read must look stale
        size = stat.st_size
        if _looks_binary(raw.read(_SNIFF_BYTES)):
            raise ToolError(
                f"{path} is a binary file ({size:,} bytes) and cannot be shown as text; "
                "inspect it with a Python snippet via bash"
            )
        raw.seek(0)
        offset = args.offset or 1
        limit = args.limit or DEFAULT_READ_LIMIT
        shown_lines: list[str] = []
        total = 0
        counted_all = True
        with io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline="") as fh:
            for total, line in enumerate(fh, start=1):
                if total >= offset + limit:
                    if size > _COUNT_ALL_BYTES:
                        counted_all = False  # do not scan gigabytes just to count lines
                        break
                    continue
                if total >= offset:
                    text = line.rstrip("\r\n")
                    if len(text) > MAX_LINE_CHARS:
                        extra = len(text) - MAX_LINE_CHARS
                        text = f"{text[:MAX_LINE_CHARS]}… [{extra:,} more characters]"
                    shown_lines.append(f"{total:>6}\t{text}")
        ctx.state.files_read[str(path)] = stat.st_mtime
        _hide_settings_secrets(path, shown_lines, ctx)
        label = display_path(path, ctx)
        if total == 0:
            return ToolResult(summary=f"{label}: empty", output=f"{path} is empty (0 lines).")
        if offset > total:
            raise ToolError(f"offset {offset} is past the end of {path} ({total} lines)")
        last = offset + len(shown_lines) - 1
        of_total = str(total) if counted_all else f"more ({size:,} bytes)"
        output = "\n".join(shown_lines)
        if last < total:
            output += (
                f"\n\n(showing lines {offset}-{last} of {of_total}; "
                f"continue with offset={last + 1})"
            )
        summary = f"{label}: lines {offset}-{last} of {of_total}"
        return ToolResult(summary=summary, output=output, data={"path": str(path)})


def _hide_settings_secrets(path: Path, lines: list[str], ctx: ToolContext) -> None:
    """Register the secret values of a ``.env`` (or an approved credential file) the
    model reads: they become ``[REDACTED_NAME]`` in this output (the conversation
    scrubs known values), in anything a later command prints, and everywhere written."""
    from ml_intern_tui.safety.credentials import is_env_file, register_text_secrets

    if is_env_file(path) or _credential_reason(path, ctx) is not None:
        register_text_secrets("\n".join(line.split("\t", 1)[-1] for line in lines))


def _similar_names(path: Path) -> str:
    parent = path.parent
    if not parent.is_dir():
        return f" (nor does its directory {parent})"
    names = [p.name for p in parent.iterdir()]
    close = difflib.get_close_matches(path.name, names, n=3, cutoff=0.6)
    return f"; did you mean {', '.join(close)}?" if close else ""


# -------------------------------------------------------------------- write


class WriteArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str = Field(
        min_length=1, description="File to write, absolute or relative to the project."
    )
    content: str = Field(description="The complete new content of the file.")
    target: Literal["local", "sandbox"] = Field(
        "local",
        description='"sandbox": in the remote sandbox Space made by sandbox_create '
        "(paths relative to /app there); default: this machine.",
    )


class WriteTool(Tool):
    """Create or overwrite a file atomically."""

    name = "write"
    description = (
        "Create a file, or overwrite one with new complete content (parent directories are "
        "created). An existing file must be read first. For small changes prefer edit."
    )
    Args = WriteArgs

    def __init__(self) -> None:
        self.protected = ProtectedTargets()

    def approval(self, args: WriteArgs, ctx: ToolContext) -> ApprovalRequest | None:
        if args.target == "sandbox":
            from ml_intern_tui.spaces import remote

            return remote.write_approval(args, ctx, "Write")
        path = resolve_path(args.path, ctx)
        size = len(args.content.encode("utf-8"))
        details = (
            f"write {path} ({plural(size, 'byte')}, {plural(count_lines(args.content), 'line')})"
        )
        details += f"\n\n{approval_preview(args.content)}"
        request = write_approval(path, ctx, "write", details)
        self.protected.note(ctx.call_id, request, path)
        return request

    async def run(self, args: WriteArgs, ctx: ToolContext) -> ToolResult:
        if args.target == "sandbox":
            from ml_intern_tui.spaces import remote

            return await remote.write(args, ctx)
        path = resolve_path(args.path, ctx)
        return await asyncio.to_thread(self._write, path, args.content, ctx)

    def _write(self, path: Path, content: str, ctx: ToolContext) -> ToolResult:
        self.protected.check(ctx.call_id, path, ctx)
        if path.is_dir():
            raise ToolError(f"{path} is a directory; give a file path")
        existed = path.exists()
        before = ""
        if existed:
            check_fresh(path, ctx, "overwrite")
            before = path.read_text(encoding="utf-8", errors="replace")
        data = content.encode("utf-8")
        try:
            atomic_write(path, data)
        except OSError as exc:
            raise ToolError(f"could not write {path}: {exc.strerror or exc}") from exc
        remember_read(path, ctx)
        label = display_path(path, ctx)
        lines = count_lines(content)
        verb = "Overwrote" if existed else "Created"
        output = f"{verb} {path} ({plural(len(data), 'byte')}, {plural(lines, 'line')})"
        result_data: dict[str, object] = {"path": str(path), "created": not existed}
        if existed:
            diff = unified_diff(before, content, label)
            result_data["diff"] = diff
            if not diff:
                output += " - content unchanged"
        output = "\n".join([output, *python_warnings(path, content)])
        return ToolResult(
            summary=f"{verb.lower()} {label} · {plural(len(data), 'byte')} · {plural(lines, 'line')}",
            output=output,
            data=result_data,
        )
