"""A real MCP server, on the ``mcp`` SDK's low-level ``Server``, whose tools declare task support.

MCP 2025-11-25 lets a tool say in ``tools/list`` that it runs only as a *task*
(``execution.taskSupport: "required"``): a client must call it task-augmented and poll
for the result, and a plain call is refused. The 2026-07-28 protocol moved tasks to an
extension and dropped the field, and the SDK's server removes it from a 2026 answer; so
this server speaks the handshake era only (``serve_loop``), as servers built on the
2025 SDKs do, and our client falls back to it from its ``server/discover`` probe.

Tools: ``add(a, b)`` (no ``execution``), ``sweep(n)`` (``optional``: a plain call is
fine) and ``train(steps)`` (``required``: a plain call gets the spec's -32601 error).
Run as a stdio child: ``python mcp_task_server.py [--mark FILE]`` (FILE records every
call's tool name, so a test can prove ``train`` was never called).
"""

import sys
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).resolve()
METHOD_NOT_FOUND = -32601


def build_server(mark: Path | None) -> Any:
    """The low-level server with the three tools (``mark``: append called tool names)."""
    import mcp_types as types
    from mcp.server.lowlevel import Server
    from mcp.shared.exceptions import MCPError

    number = {"type": "integer"}
    tools = [
        types.Tool(
            name="add",
            description="Add two integers.",
            input_schema={
                "type": "object",
                "properties": {"a": number, "b": number},
                "required": ["a", "b"],
            },
        ),
        types.Tool(
            name="sweep",
            description="Square a number (may also run as a task).",
            input_schema={"type": "object", "properties": {"n": number}, "required": ["n"]},
            execution=types.ToolExecution(task_support="optional"),
        ),
        types.Tool(
            name="train",
            description="Train for a number of steps (runs only as a task).",
            input_schema={"type": "object", "properties": {"steps": number}},
            execution=types.ToolExecution(task_support="required"),
        ),
    ]

    async def list_tools(ctx: Any, params: Any) -> Any:
        return types.ListToolsResult(tools=tools)

    async def call_tool(ctx: Any, params: Any) -> Any:
        if mark is not None:
            with mark.open("a", encoding="utf-8") as f:
                f.write(params.name + "\n")
        args = params.arguments or {}
        if params.name == "add":
            text = str(int(args["a"]) + int(args["b"]))
        elif params.name == "sweep":
            text = str(int(args["n"]) ** 2)
        elif params.name == "train" and params.task is None:
            # What the spec asks of a server for a required-task tool called plainly.
            raise MCPError(code=METHOD_NOT_FOUND, message="train must be called as a task")
        else:
            raise MCPError(code=METHOD_NOT_FOUND, message=f"unknown tool {params.name}")
        return types.CallToolResult(content=[types.TextContent(text=text)])

    return Server("tasks", on_list_tools=list_tools, on_call_tool=call_tool)


async def _serve(mark: Path | None) -> None:
    from mcp.server.runner import serve_loop
    from mcp.server.stdio import stdio_server

    server = build_server(mark)
    async with server.lifespan(server) as state, stdio_server() as (read, write):
        await serve_loop(
            server,
            read,
            write,
            lifespan_state=state,
            init_options=server.create_initialization_options(),
        )


def stdio_args(mark: Path | None = None) -> list[str]:
    """The arguments that run this server as a stdio child of ``sys.executable``."""
    return [str(SCRIPT), *(["--mark", str(mark)] if mark is not None else [])]


if __name__ == "__main__":
    import anyio

    argv = sys.argv[1:]
    anyio.run(_serve, Path(argv[1]) if argv[:1] == ["--mark"] else None)
