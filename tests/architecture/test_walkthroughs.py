"""The two walk-throughs of docs/architecture.md, followed: their code is run as written."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from tui.conftest import fixed_clock, wait_for
from tui.fake_runtime import FakeRuntime

from ml_intern_tui.core import protocol as p
from ml_intern_tui.core.tool import SessionState, ToolContext, ToolError, parse_arguments
from ml_intern_tui.tui import commands as registry
from ml_intern_tui.tui.app import MLInternApp
from ml_intern_tui.tui.widgets.blocks.notice import NoticeBlock

DOC = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"


def walkthrough_code(title: str) -> str:
    """The Python block of the walk-through called ``title``."""
    text = DOC.read_text()
    section = text.split(f"## Walk-through: {title}", 1)[1].split("\n## ", 1)[0]
    [block] = re.findall(r"```python\n(.*?)```", section, re.S)
    lines = block.splitlines()
    indent = min(len(line) - len(line.lstrip()) for line in lines if line.strip())
    return "\n".join(line[indent:] for line in lines)


async def test_add_a_tool(tmp_path: Path) -> None:
    namespace: dict[str, Any] = {}
    exec(compile(walkthrough_code("add a tool"), "word_count.py", "exec"), namespace)
    tool = namespace["WordCountTool"]()
    project = tmp_path / "project"
    project.mkdir()
    (project / "notes.txt").write_text("three small words")
    (tmp_path / "secret.txt").write_text("not yours")
    ctx = ToolContext(
        call_id="c1", session_id="s1", cwd=project, state=SessionState(), publish=lambda e: None
    )
    assert tool.spec()["function"]["name"] == "word_count"
    result = await tool.run(parse_arguments(tool, {"path": "notes.txt"}), ctx)
    assert result.summary == "3 words" and tool.approval(None, ctx) is None
    with pytest.raises(ToolError, match="outside the project"):
        await tool.run(parse_arguments(tool, {"path": "../secret.txt"}), ctx)
    with pytest.raises(ToolError, match=r"cannot read missing\.txt"):
        await tool.run(parse_arguments(tool, {"path": "missing.txt"}), ctx)


async def test_add_a_slash_command() -> None:
    before = list(registry.BUILTINS)
    try:
        exec(compile(walkthrough_code("add a slash command"), "tokens.py", "exec"), {})
        runtime = FakeRuntime()
        app = MLInternApp(runtime, clock=fixed_clock)
        async with app.run_test() as pilot:
            runtime.publish(p.ContextUsage(used=1500, limit=32000, threshold=28000))
            await wait_for(pilot, lambda: app.status.limit == 32000)
            assert [c.text for c in app.commands.complete("/tok", lambda _: [])] == ["/tokens"]
            app.run_slash("tokens")
            await wait_for(
                pilot,
                lambda: any(
                    "Context 1.5k/32k tokens" in b.text for b in app.chat.query(NoticeBlock)
                ),
            )
    finally:
        registry.BUILTINS[:] = before
