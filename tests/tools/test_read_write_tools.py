"""read and write: numbering, ranges, binary and directory handling, freshness, approvals."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ml_intern_tui.core.tool import BadArguments, ToolContext, ToolError, parse_arguments
from ml_intern_tui.tools.files import ReadArgs, ReadTool, WriteArgs, WriteTool


async def read(ctx: ToolContext, path: str, **kw: int):  # type: ignore[no-untyped-def]
    return await ReadTool().run(ReadArgs(path=path, **kw), ctx)


async def write(ctx: ToolContext, path: str, content: str):  # type: ignore[no-untyped-def]
    return await WriteTool().run(WriteArgs(path=path, content=content), ctx)


# ------------------------------------------------------------------------ read


async def test_read_numbers_lines_and_records_the_read(ctx: ToolContext) -> None:
    target = ctx.cwd / "a.txt"
    target.write_text("alpha\nbeta\n")
    result = await read(ctx, "a.txt")
    assert result.ok
    assert result.output == "     1\talpha\n     2\tbeta"
    assert result.summary == "a.txt: lines 1-2 of 2"
    assert ctx.state.files_read[str(target)] == target.stat().st_mtime


async def test_read_ranges_say_how_to_continue(ctx: ToolContext) -> None:
    (ctx.cwd / "n.txt").write_text("".join(f"row {i}\n" for i in range(1, 11)))
    result = await read(ctx, "n.txt", offset=3, limit=2)
    assert result.output.splitlines()[:2] == ["     3\trow 3", "     4\trow 4"]
    assert "(showing lines 3-4 of 10; continue with offset=5)" in result.output
    tail = await read(ctx, "n.txt", offset=9)
    assert tail.output == "     9\trow 9\n    10\trow 10"
    with pytest.raises(ToolError, match=r"offset 11 is past the end .* \(10 lines\)"):
        await read(ctx, "n.txt", offset=11)


async def test_read_cuts_very_long_lines(ctx: ToolContext) -> None:
    (ctx.cwd / "long.txt").write_text("x" * 5000 + "\n")
    result = await read(ctx, "long.txt")
    assert result.output.endswith("x… [3,000 more characters]")


async def test_read_refuses_binary_files_clearly(ctx: ToolContext) -> None:
    (ctx.cwd / "model.bin").write_bytes(b"\x00\x01\x02binary" * 100)
    with pytest.raises(ToolError, match="binary file \\(900 bytes\\)"):
        await read(ctx, "model.bin")
    assert ctx.state.files_read == {}


async def test_read_of_a_directory_lists_some_entries(ctx: ToolContext) -> None:
    (ctx.cwd / "data").mkdir()
    (ctx.cwd / "data" / "train.csv").write_text("a\n")
    (ctx.cwd / "data" / "sub").mkdir()
    with pytest.raises(ToolError, match=r"is a directory \(2 entries: sub/, train\.csv\)"):
        await read(ctx, "data")


async def test_read_missing_file_suggests_close_names(ctx: ToolContext) -> None:
    (ctx.cwd / "train.py").write_text("")
    with pytest.raises(ToolError, match=r"does not exist; did you mean train\.py"):
        await read(ctx, "trian.py")


async def test_read_empty_file_and_crlf(ctx: ToolContext) -> None:
    (ctx.cwd / "empty.txt").write_text("")
    assert "empty" in (await read(ctx, "empty.txt")).output
    (ctx.cwd / "dos.txt").write_bytes(b"one\r\ntwo\r\n")
    assert (await read(ctx, "dos.txt")).output == "     1\tone\n     2\ttwo"


def test_read_bad_arguments() -> None:
    with pytest.raises(BadArguments, match="offset: Input should be greater than or equal to 1"):
        parse_arguments(ReadTool(), {"path": "a", "offset": 0})
    with pytest.raises(BadArguments, match="path: Field required"):
        parse_arguments(ReadTool(), {"offset": 2})


# ----------------------------------------------------------------------- write


async def test_write_creates_parents_and_counts_real_bytes(ctx: ToolContext) -> None:
    result = await write(ctx, "out/deep/notes.txt", "héllo\nwörld\n")
    target = ctx.cwd / "out" / "deep" / "notes.txt"
    assert target.read_text() == "héllo\nwörld\n"
    assert result.ok
    assert result.output == f"Created {target} (14 bytes, 2 lines)"
    assert result.data == {"path": str(target), "created": True}
    assert [p.name for p in target.parent.iterdir()] == ["notes.txt"]  # no temp file left


async def test_write_then_edit_again_needs_no_new_read(ctx: ToolContext) -> None:
    await write(ctx, "a.txt", "one\n")
    result = await write(ctx, "a.txt", "two\n")
    assert result.output.startswith("Overwrote")


async def test_overwriting_requires_a_prior_read(ctx: ToolContext) -> None:
    target = ctx.cwd / "cfg.yaml"
    target.write_text("lr: 1\n")
    with pytest.raises(ToolError, match="has not been read in this session; read it before"):
        await write(ctx, "cfg.yaml", "lr: 2\n")
    await read(ctx, "cfg.yaml")
    result = await write(ctx, "cfg.yaml", "lr: 2\n")
    assert result.ok and target.read_text() == "lr: 2\n"
    assert result.data is not None
    assert "-lr: 1\n+lr: 2\n" in result.data["diff"]
    assert result.data["diff"].startswith("--- a/cfg.yaml\n+++ b/cfg.yaml")


async def test_overwriting_a_file_changed_since_it_was_read_is_refused(ctx: ToolContext) -> None:
    target = ctx.cwd / "cfg.yaml"
    target.write_text("lr: 1\n")
    await read(ctx, "cfg.yaml")
    target.write_text("lr: 5\n")
    stat = target.stat()
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    with pytest.raises(ToolError, match="changed on disk since you last read it"):
        await write(ctx, "cfg.yaml", "lr: 2\n")
    assert target.read_text() == "lr: 5\n"


async def test_write_keeps_the_file_mode(ctx: ToolContext) -> None:
    target = ctx.cwd / "run.sh"
    target.write_text("echo 1\n")
    target.chmod(0o755)
    await read(ctx, "run.sh")
    await write(ctx, "run.sh", "echo 2\n")
    assert target.stat().st_mode & 0o777 == 0o755


async def test_python_files_get_syntax_and_hub_warnings(ctx: ToolContext) -> None:
    broken = await write(ctx, "bad.py", "def f(:\n    pass\n")
    assert "warning: syntax error at line 1" in broken.output
    train = await write(
        ctx, "train.py", "from trl import SFTConfig\ncfg = SFTConfig(output_dir='o')\n"
    )
    assert "hint: SFTConfig without push_to_hub and hub_model_id" in train.output
    ok = await write(
        ctx,
        "train2.py",
        "cfg = SFTConfig(output_dir='o', push_to_hub=True, hub_model_id='me/m')\n",
    )
    assert "hint" not in ok.output and "warning" not in ok.output


async def test_write_to_a_directory_is_refused(ctx: ToolContext) -> None:
    (ctx.cwd / "d").mkdir()
    with pytest.raises(ToolError, match="is a directory"):
        await write(ctx, "d", "x")


def test_write_approval_only_outside_the_project(ctx: ToolContext, tmp_path: Path) -> None:
    tool = WriteTool()
    assert tool.approval(WriteArgs(path="inside/file.txt", content="x"), ctx) is None
    outside = tmp_path / "elsewhere" / "file.txt"
    request = tool.approval(WriteArgs(path=str(outside), content="héllo\n"), ctx)
    assert request is not None
    assert request.kind == "local" and request.operation == "write"
    assert request.title == f"Write outside the project: {outside}"
    assert request.scope_value == str(outside)
    assert request.scope_pattern == f"{outside.parent}/*"
    assert "(7 bytes, 1 line)" in request.details
    escape = tool.approval(WriteArgs(path="../x.txt", content=""), ctx)
    assert escape is not None and escape.scope_value == str(ctx.cwd.parent / "x.txt")
