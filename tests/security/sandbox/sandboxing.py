"""Helpers for the sandbox tests: contexts with a sandbox, running the bash tool."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ml_intern_tui.core.services import Services
from ml_intern_tui.core.tool import SessionState, ToolContext, ToolResult, parse_arguments
from ml_intern_tui.safety.sandbox import Sandbox
from ml_intern_tui.tools.bash import BashArgs, BashTool


async def bash(ctx: ToolContext, tool: BashTool | None = None, **raw: Any) -> ToolResult:
    """Run the bash tool (approval not consulted) with JSON-like arguments."""
    tool = tool or BashTool()
    args = parse_arguments(tool, raw)
    assert isinstance(args, BashArgs)
    return await tool.run(args, ctx)


MakeSandbox = Callable[..., Sandbox]
"""The ``make_sandbox`` fixture: builds an active sandbox from ``Sandbox`` keyword arguments."""


def make_ctx(project: Path, sandbox: Sandbox | None, session_id: str = "sess-1") -> ToolContext:
    """A tool context in ``project`` whose shell commands run in ``sandbox``."""
    services = Services(spill_dir=project.parent / "spill", sandbox=sandbox)
    return ToolContext(
        call_id="call-1",
        session_id=session_id,
        cwd=project,
        state=SessionState(),
        publish=lambda _event: None,
        services=services,
    )
