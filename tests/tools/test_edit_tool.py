"""edit: exact and whitespace-tolerant matching, ambiguity, replace_all, diffs, freshness."""

from __future__ import annotations

from pathlib import Path

import pytest

from ml_intern_tui.core.tool import BadArguments, ToolContext, ToolError, parse_arguments
from ml_intern_tui.tools.edit import EditArgs, EditTool, find_matches
from ml_intern_tui.tools.files import ReadArgs, ReadTool


async def prepared(ctx: ToolContext, name: str, content: str | bytes) -> Path:
    """A file in the project that the agent has read."""
    path = ctx.cwd / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    await ReadTool().run(ReadArgs(path=name), ctx)
    return path


async def edit(ctx: ToolContext, path: str, old: str, new: str, replace_all: bool = False):  # type: ignore[no-untyped-def]
    args = EditArgs(path=path, old_str=old, new_str=new, replace_all=replace_all)
    return await EditTool().run(args, ctx)


async def test_exact_edit_returns_a_diff(ctx: ToolContext) -> None:
    path = await prepared(ctx, "train.py", "lr = 1e-3\nepochs = 3\n")
    result = await edit(ctx, "train.py", "epochs = 3", "epochs = 5")
    assert path.read_text() == "lr = 1e-3\nepochs = 5\n"
    assert result.ok
    assert result.output.startswith(f"Edited {path}: 1 replacement at line 2 (exact match)")
    assert result.data is not None
    assert result.data["path"] == str(path)
    assert "-epochs = 3\n+epochs = 5\n" in result.data["diff"]
    assert result.data["diff"].startswith("--- a/train.py\n+++ b/train.py\n")
    assert "+epochs = 5" in result.output


async def test_trailing_whitespace_in_the_file_is_tolerated(ctx: ToolContext) -> None:
    path = await prepared(ctx, "a.py", "def f():   \n    return 1  \nx = 2\n")
    result = await edit(ctx, "a.py", "def f():\n    return 1\n", "def f():\n    return 2\n")
    assert path.read_text() == "def f():\n    return 2\nx = 2\n"
    assert "after trimming trailing whitespace" in result.output
    assert "whitespace-tolerant" in result.summary


async def test_wrong_indentation_is_tolerated_and_whole_lines_are_replaced(
    ctx: ToolContext,
) -> None:
    path = await prepared(ctx, "a.py", "if x:\n        y = 1\n        z = 2\n")
    result = await edit(ctx, "a.py", "y = 1\nz = 2", "        y = 10\n        z = 20")
    assert path.read_text() == "if x:\n        y = 10\n        z = 20\n"
    assert "after trimming leading and trailing whitespace" in result.output


async def test_unicode_punctuation_is_normalised(ctx: ToolContext) -> None:
    path = await prepared(ctx, "notes.md", "Title \u2014 \u201cquoted\u201d\u00a0text\nrest\n")
    result = await edit(ctx, "notes.md", 'Title - "quoted" text', "New title")
    assert path.read_text() == "New title\nrest\n"
    assert "unicode" in result.output


async def test_ambiguous_match_is_refused_with_the_lines(ctx: ToolContext) -> None:
    path = await prepared(ctx, "a.txt", "x = 1\ny\nx = 1\n")
    with pytest.raises(ToolError, match=r"matches 2 places .* \(lines 1, 3\); include more"):
        await edit(ctx, "a.txt", "x = 1", "x = 2")
    assert path.read_text() == "x = 1\ny\nx = 1\n"


async def test_replace_all(ctx: ToolContext) -> None:
    path = await prepared(ctx, "a.txt", "x = 1\ny\nx = 1\n")
    result = await edit(ctx, "a.txt", "x = 1", "x = 2", replace_all=True)
    assert path.read_text() == "x = 2\ny\nx = 2\n"
    assert "2 replacements" in result.output and result.data["replacements"] == 2  # type: ignore[index]


async def test_same_old_and_new_is_an_error(ctx: ToolContext) -> None:
    await prepared(ctx, "a.txt", "abc\n")
    with pytest.raises(ToolError, match="old_str and new_str are the same"):
        await edit(ctx, "a.txt", "abc", "abc")


async def test_not_found_points_at_the_closest_line(ctx: ToolContext) -> None:
    await prepared(ctx, "a.py", "learning_rate = 0.001\nbatch = 8\n")
    with pytest.raises(
        ToolError, match=r"not found .* closest line is 1: 'learning_rate = 0\.001'"
    ):
        await edit(ctx, "a.py", "learning_rate = 0.01", "learning_rate = 0.1")


async def test_edit_requires_a_fresh_read(ctx: ToolContext) -> None:
    path = ctx.cwd / "a.txt"
    path.write_text("abc\n")
    with pytest.raises(ToolError, match="has not been read"):
        await edit(ctx, "a.txt", "abc", "xyz")
    with pytest.raises(ToolError, match="does not exist; create it with write"):
        await edit(ctx, "missing.txt", "abc", "xyz")


async def test_consecutive_edits_need_no_re_read(ctx: ToolContext) -> None:
    path = await prepared(ctx, "a.txt", "one\ntwo\n")
    await edit(ctx, "a.txt", "one", "1")
    await edit(ctx, "a.txt", "two", "2")
    assert path.read_text() == "1\n2\n"


async def test_crlf_files_stay_crlf(ctx: ToolContext) -> None:
    path = await prepared(ctx, "win.txt", b"a = 1\r\nb = 2\r\n")
    await edit(ctx, "win.txt", "a = 1\nb = 2", "a = 3\nb = 4")
    assert path.read_bytes() == b"a = 3\r\nb = 4\r\n"


async def test_python_warning_after_an_edit_breaks_syntax(ctx: ToolContext) -> None:
    await prepared(ctx, "a.py", "x = (1, 2)\n")
    result = await edit(ctx, "a.py", "x = (1, 2)", "x = (1, 2")
    assert "warning: syntax error" in result.output


def test_find_matches_does_not_match_whitespace_only_text_everywhere() -> None:
    assert find_matches("a\n\nb\n", "   \n") == ([], "")


def test_edit_approval_outside_the_project(ctx: ToolContext, tmp_path: Path) -> None:
    tool = EditTool()
    assert tool.approval(EditArgs(path="a.txt", old_str="a", new_str="b"), ctx) is None
    outside = tmp_path / "other" / "a.txt"
    request = tool.approval(EditArgs(path=str(outside), old_str="a", new_str="b"), ctx)
    assert request is not None and request.operation == "edit"
    assert request.title == f"Write outside the project: {outside}"
    assert request.scope_pattern == f"{outside.parent}/*"


def test_edit_bad_arguments() -> None:
    with pytest.raises(BadArguments, match="old_str: String should have at least 1 character"):
        parse_arguments(EditTool(), {"path": "a", "old_str": "", "new_str": "x"})
    with pytest.raises(BadArguments, match="new_str: Field required"):
        parse_arguments(EditTool(), {"path": "a", "old_str": "x"})
