"""``edit``: replace a piece of a file, tolerant of the whitespace slips models make.

Matching tries the exact text first, then whole lines compared after trimming trailing
whitespace, after trimming both ends, and after normalising unicode punctuation (dashes,
quotes, odd spaces). A tolerant match replaces the original lines it matched.
"""

from __future__ import annotations

import asyncio
import difflib
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ml_intern_tui.core.tool import ApprovalRequest, Tool, ToolContext, ToolError, ToolResult
from ml_intern_tui.tools.files import (
    atomic_write,
    check_fresh,
    display_path,
    plural,
    python_warnings,
    remember_read,
    resolve_path,
    unified_diff,
    write_approval,
)
from ml_intern_tui.tools.local_writes import ProtectedTargets

_UNICODE_MAP = str.maketrans(
    {
        "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-",
        "\u2015": "-", "\u2212": "-", "\u2018": "'", "\u2019": "'", "\u201a": "'",
        "\u201b": "'", "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"',
        "\u00a0": " ", "\u2002": " ", "\u2003": " ", "\u2009": " ", "\u202f": " ",
        "\u200b": "", "\ufeff": "",
    }
)  # fmt: skip

Span = tuple[int, int]


def _normalise_unicode(line: str) -> str:
    return line.translate(_UNICODE_MAP).strip()


_PASSES: list[tuple[str, Callable[[str], str]]] = [
    ("after trimming trailing whitespace", str.rstrip),
    ("after trimming leading and trailing whitespace", str.strip),
    ("after normalising unicode dashes, quotes and spaces", _normalise_unicode),
]


def find_matches(text: str, old: str) -> tuple[list[Span], str]:
    """Non-overlapping spans of ``old`` in ``text`` and how they were found."""
    spans: list[Span] = []
    start = text.find(old)
    while start != -1:
        spans.append((start, start + len(old)))
        start = text.find(old, start + len(old))
    if spans:
        return spans, "exact match"
    pattern = old.split("\n")
    ends_with_newline = old.endswith("\n")
    if ends_with_newline:
        pattern.pop()
    lines = text.split("\n")
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line) + 1)
    for how, norm in _PASSES:
        wanted = [norm(p) for p in pattern]
        if not any(wanted):
            break  # whitespace-only text would match everywhere
        found: list[Span] = []
        i = 0
        while i + len(wanted) <= len(lines):
            if [norm(line) for line in lines[i : i + len(wanted)]] == wanted:
                end = offsets[i + len(wanted)] - 1  # end of the last line, before its \n
                if ends_with_newline and end < len(text):
                    end += 1
                found.append((offsets[i], end))
                i += len(wanted)
            else:
                i += 1
        if found:
            return found, how
    return [], ""


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _closest_line(text: str, old: str) -> str:
    first = next((line.strip() for line in old.splitlines() if line.strip()), "")
    lines = text.splitlines()
    stripped = [line.strip() for line in lines]
    close = difflib.get_close_matches(first, stripped, n=1, cutoff=0.6)
    if not close:
        return ""
    number = stripped.index(close[0]) + 1
    return f"; the closest line is {number}: {lines[number - 1].strip()[:120]!r}"


class EditArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str = Field(
        min_length=1, description="File to edit, absolute or relative to the project."
    )
    old_str: str = Field(
        min_length=1,
        description="The text to replace, copied from the file. Include enough surrounding "
        "lines to make it unique.",
    )
    new_str: str = Field(description="The text to put in its place.")
    replace_all: bool = Field(
        False, description="Replace every occurrence instead of requiring a unique match."
    )
    target: Literal["local", "sandbox"] = Field(
        "local",
        description='"sandbox": in the remote sandbox Space made by sandbox_create '
        "(paths relative to /app there); default: this machine.",
    )


class EditTool(Tool):
    """Replace text in a file the agent has read."""

    name = "edit"
    description = (
        "Replace old_str with new_str in a file you have read. old_str must match one place "
        "(or set replace_all); small whitespace differences are tolerated. Returns a diff."
    )
    Args = EditArgs

    def __init__(self) -> None:
        self.protected = ProtectedTargets()

    def approval(self, args: EditArgs, ctx: ToolContext) -> ApprovalRequest | None:
        if args.target == "sandbox":
            from ml_intern_tui.spaces import remote

            return remote.write_approval(args, ctx, "Edit")
        path = resolve_path(args.path, ctx)
        details = f"edit {path}\n\n--- replace:\n{args.old_str}\n--- with:\n{args.new_str}"
        request = write_approval(path, ctx, "edit", details)
        self.protected.note(ctx.call_id, request, path)
        return request

    async def run(self, args: EditArgs, ctx: ToolContext) -> ToolResult:
        if args.target == "sandbox":
            from ml_intern_tui.spaces import remote

            return await remote.edit(args, ctx)
        path = resolve_path(args.path, ctx)
        return await asyncio.to_thread(self._edit, path, args, ctx)

    def _edit(self, path: Path, args: EditArgs, ctx: ToolContext) -> ToolResult:
        self.protected.check(ctx.call_id, path, ctx)
        if args.old_str == args.new_str:
            raise ToolError("old_str and new_str are the same; nothing to change")
        if not path.exists():
            raise ToolError(f"{path} does not exist; create it with write")
        if path.is_dir():
            raise ToolError(f"{path} is a directory; give a file path")
        check_fresh(path, ctx, "edit")
        try:
            raw = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ToolError(f"{path} is not UTF-8 text; it cannot be edited here") from exc
        crlf = "\r\n" in raw
        before = raw.replace("\r\n", "\n") if crlf else raw
        old = args.old_str.replace("\r\n", "\n")
        new = args.new_str.replace("\r\n", "\n")
        spans, how = find_matches(before, old)
        if not spans:
            raise ToolError(
                f"old_str was not found in {path} (also tried ignoring whitespace and unicode "
                f"punctuation){_closest_line(before, old)}; read the file and copy the text exactly"
            )
        if len(spans) > 1 and not args.replace_all:
            where = ", ".join(str(_line_of(before, s)) for s, _ in spans[:10])
            raise ToolError(
                f"old_str matches {len(spans)} places in {path} (lines {where}); include more "
                "surrounding lines to make it unique, or set replace_all=true"
            )
        after = before
        for start, end in reversed(spans):
            after = after[:start] + new + after[end:]
        written = after.replace("\n", "\r\n") if crlf else after
        try:
            atomic_write(path, written.encode("utf-8"))
        except OSError as exc:
            raise ToolError(f"could not write {path}: {exc.strerror or exc}") from exc
        remember_read(path, ctx)
        label = display_path(path, ctx)
        diff = unified_diff(before, after, label)
        count = len(spans)
        replaced = plural(count, "replacement")
        first_line = _line_of(before, spans[0][0])
        lines = [f"Edited {path}: {replaced} at line {first_line} ({how})"]
        diff_lines = diff.splitlines()
        if len(diff_lines) > 60:
            diff_lines = [*diff_lines[:60], f"… ({len(diff_lines) - 60} more diff lines)"]
        lines.append("\n".join(diff_lines))
        lines.extend(python_warnings(path, after))
        return ToolResult(
            summary=f"{label} · {replaced}"
            + ("" if how == "exact match" else " (whitespace-tolerant)"),
            output="\n".join(lines),
            data={"diff": diff, "path": str(path), "replacements": count, "match": how},
        )
