"""Real fastmcp servers for the MCP tests: a stdio child process and HTTP on 127.0.0.1.

The same tool set serves both transports, so every test runs the real MCP protocol:

- ``add(a, b)``, ``echo(text, upper)``: plain results (text plus structured content);
- ``fail(message)``: an ``isError`` result;
- ``image()``: an image block; ``resource()``: an embedded resource and a resource link;
- ``slow(seconds)``: sleeps, for call timeouts and slow-start tests;
- ``env(name)``: a variable of the server's environment (what a stdio child inherited);
- ``pid()`` / ``crash()``: the server's process id, and a call that kills the process;
- ``do.thing``: a name that has to be sanitised for the OpenAI API;
- ``do_thing`` and ``_add``: only when asked for by name (``only``), to make names collide.

Run as a script for stdio: ``python mcp_servers.py stdio [--tools add,echo]`` (``--mark
FILE`` writes FILE first, to prove the process was started). In a test,
``McpHttpServer`` serves over streamable HTTP (or SSE) from a thread, records the headers
of every request, and can ``stop()`` and ``start()`` again on the same port (a server
that went away and came back). No ``from __future__ import annotations`` here: fastmcp
reads the tools' annotations at registration, and they name names local to ``build_server``.
"""

import asyncio
import base64
import os
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).resolve()
PNG_1X1 = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def build_server(name: str = "fake", only: set[str] | None = None) -> Any:
    """A FastMCP server with the test tools (``only``: keep just these tool names)."""
    import mcp_types as mt
    from fastmcp import FastMCP
    from fastmcp.exceptions import ToolError
    from fastmcp.utilities.types import Image

    server = FastMCP(name)

    def tool(fn: Any = None, *, explicit: bool = False, **kw: Any) -> Any:
        def register(f: Any) -> Any:
            tool_name = kw.get("name", f.__name__)
            if (only is None and not explicit) or (only is not None and tool_name in only):
                server.tool(f, **kw)
            return f

        return register(fn) if fn is not None else register

    @tool
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    @tool
    def echo(text: str, upper: bool = False) -> str:
        """Echo the text back (upper-cased when asked)."""
        return text.upper() if upper else text

    @tool
    def fail(message: str = "it broke") -> str:
        """Always fails with the given message."""
        raise ToolError(message)

    @tool
    def image() -> Image:
        """A 1x1 PNG image."""
        return Image(data=PNG_1X1, format="png")

    @tool
    def resource() -> list[Any]:
        """An embedded text resource, a link and a blob."""
        return [
            mt.TextContent(text="see attached"),
            mt.EmbeddedResource(
                resource=mt.TextResourceContents(
                    uri="file:///notes.txt", mime_type="text/plain", text="note body"
                )
            ),
            mt.EmbeddedResource(
                resource=mt.BlobResourceContents(
                    uri="file:///data.bin",
                    mime_type="application/octet-stream",
                    blob=base64.b64encode(b"\x00\x01\x02").decode(),
                )
            ),
            mt.ResourceLink(
                uri="https://example.invalid/report.csv", name="report", mime_type="text/csv"
            ),
        ]

    @tool
    async def slow(seconds: float) -> str:
        """Sleep, then answer."""
        await asyncio.sleep(seconds)
        return f"slept {seconds}"

    @tool
    def env(name: str) -> str:
        """The value of an environment variable of the server process ('' when unset)."""
        return os.environ.get(name, "")

    @tool
    def pid() -> int:
        """The server's process id."""
        return os.getpid()

    @tool
    def crash() -> str:
        """Kill the server process in the middle of the call."""
        os._exit(3)

    @tool(name="do.thing")
    def do_thing() -> str:
        """A tool whose name has a dot."""
        return "done"

    @tool(name="do_thing", explicit=True)
    def do_thing_again() -> str:
        """Sanitised, its name is the same as ``do.thing``'s."""
        return "done again"

    @tool(name="_add", explicit=True)
    def underscore_add(a: int, b: int) -> int:
        """``add`` under another name."""
        return a + b

    return server


# ----------------------------------------------------------------------------- stdio


def stdio_args(*extra: str) -> list[str]:
    """The ``args`` of a stdio server entry (``command`` is ``sys.executable``)."""
    return [str(SCRIPT), "stdio", *extra]


def _main(argv: list[str]) -> None:
    only: set[str] | None = None
    if "--tools" in argv:
        only = set(argv[argv.index("--tools") + 1].split(","))
    if "--mark" in argv:  # proof that the process was started (project-trust tests)
        Path(argv[argv.index("--mark") + 1]).write_text("ran")
    if "--sleep-first" in argv:
        time.sleep(float(argv[argv.index("--sleep-first") + 1]))
    build_server(only=only).run(show_banner=False)


# ------------------------------------------------------------------------------ HTTP


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class McpHttpServer:
    """A fastmcp server over HTTP on 127.0.0.1, run by uvicorn in a thread.

    ``transport`` is ``"http"`` (streamable HTTP at ``/mcp``) or ``"sse"`` (at ``/sse``).
    ``headers`` holds the lower-cased headers of every request received, in order.
    """

    def __init__(
        self, transport: str = "http", port: int | None = None, only: set[str] | None = None
    ) -> None:
        self.transport = transport
        self.only = only
        self.port = port or free_port()
        self.headers: list[dict[str, str]] = []
        self._server: Any = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        path = "/sse" if self.transport == "sse" else "/mcp"
        return f"http://127.0.0.1:{self.port}{path}"

    def _app(self) -> Any:
        inner = build_server("fake-http", self.only).http_app(transport=self.transport)  # type: ignore[arg-type]
        seen = self.headers

        async def app(scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] == "http":
                seen.append({k.decode().lower(): v.decode() for k, v in scope.get("headers", [])})
            await inner(scope, receive, send)

        return app

    def start(self, timeout: float = 10.0) -> "McpHttpServer":
        import uvicorn

        config = uvicorn.Config(
            self._app(),
            host="127.0.0.1",
            port=self.port,
            log_level="critical",
            lifespan="on",
            timeout_graceful_shutdown=1,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="mcp-http", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"the fake MCP server did not start on port {self.port}")
            time.sleep(0.02)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Shut the server down (open connections are closed)."""
        if self._server is None or self._thread is None:
            return
        self._server.should_exit = True
        self._server.force_exit = True
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise RuntimeError("the fake MCP server did not stop")
        self._server = self._thread = None

    def __enter__(self) -> "McpHttpServer":
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "stdio":
        _main(sys.argv[2:])
    else:
        raise SystemExit(
            "usage: mcp_servers.py stdio [--tools a,b] [--sleep-first S] [--mark FILE]"
        )
