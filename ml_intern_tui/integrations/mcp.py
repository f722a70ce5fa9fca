"""MCP client side: one connection to a configured server, and its entry (state, tools).

``services/mcp.py`` (the ``McpManager`` background service) supervises them.

Each enabled ``[mcp.servers.NAME]`` gets a supervisor task. It connects (stdio child or
HTTP/SSE), lists the tools and registers them as ``NAME__<tool>``; the model sees them
on its next call, because the loop asks the router for specs on every call. A slow or
dead server therefore never delays start-up. A call that finds the connection gone
(process died, server went away) fails with a clear message and the supervisor
reconnects with backoff; after the last attempt the server is ``failed``, its tools are
removed and one notice says what to do. ``/mcp`` shows the states (``McpStatus``
events) and can ask for a reconnect (``McpReconnect`` op).

Secrets: the HF token goes only to servers that ask for it (``send_hf_token``), and of
remote ones only to huggingface.co, its subdomains or the configured Hub endpoint.
A stdio child starts with the MCP SDK's minimal environment (HOME, PATH, …), scrubbed of
secrets like the shell's (``safety.environment``), plus the server's ``env`` as the user
wrote it: nothing else of ours leaks into it.

fastmcp is imported when the first connection starts, never at import of this module.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from ml_intern_tui.core.protocol import McpToolInfo, Notice
from ml_intern_tui.core.redact import redact_text
from ml_intern_tui.core.tool import Tool, ToolError
from ml_intern_tui.integrations.mcp_rules import (
    HttpError,
    PermanentError,
    describe_error,
    describe_target,
    is_connection_error,
    is_timeout,
    may_send_hf_token,
    resolve_command,
)

if TYPE_CHECKING:
    from ml_intern_tui.config.schema import McpServerConfig
    from ml_intern_tui.services.mcp import McpManager

log = logging.getLogger(__name__)

DEFAULT_BACKOFF_S: tuple[float, ...] = (1.0, 2.0, 4.0)
"""Pauses between connection attempts: 1 + len() attempts, then the server has failed."""
CLOSE_GRACE_S = 2.0
"""How long shutdown waits for servers to close before their processes are killed."""
QUIET_CHILD_ENV = {"FASTMCP_SHOW_SERVER_BANNER": "false", "FASTMCP_CHECK_FOR_UPDATES": "off"}
"""Defaults for stdio children (a fastmcp server would otherwise check for updates)."""
_SH = "/bin/sh"
_PID_WRAPPER = 'echo $$ > "$0"; exec "$@"'
"""Runs the server through ``sh`` so we learn its pid (exec keeps it): a child that
hangs at start-up or ignores a closed stdin can then be killed, with its process group."""

State = Literal["connecting", "ready", "failed", "disabled"]
ToolFactory = Callable[["ServerEntry", str, str, Any], Tool]
"""``(server, remote name, description, input schema) -> Tool`` (``McpTool.create``)."""


# ---------------------------------------------------------------------- connection


def _load_fastmcp() -> None:
    """Import fastmcp (about half a second the first time): called in a thread, so the
    UI loop never stalls on it."""
    import fastmcp.client.transports  # noqa: F401


class Connection:
    """One live session with a server (a fastmcp ``Client``); a new one per attempt."""

    def __init__(self, entry: ServerEntry) -> None:
        self.entry = entry
        self.client: Any = None
        self.ready = False
        self.lost = asyncio.Event()
        self.lost_reason = ""
        self.pid_file: Path | None = None
        self.http_status: tuple[int, str] | None = None

    async def open(self) -> list[Any]:
        """Connect, handshake and list the tools (the caller bounds the time)."""
        await asyncio.to_thread(_load_fastmcp)
        from fastmcp import Client

        entry = self.entry
        transport = await self._transport()
        self.client = Client(
            transport,
            name=f"ml-intern:{entry.name}",
            # No client-wide ``timeout``: over HTTP it becomes the read timeout of the
            # server's idle event stream and drops the session. Calls pass their own.
            # Ours (``McpManager._open``) fires first and names the limit in its message.
            init_timeout=entry.cfg.connect_timeout_s + 5,
            log_handler=self._on_log,
        )
        try:
            await self.client.__aenter__()
            tools: list[Any] = await self.client.list_tools()
        except Exception as exc:
            if self.http_status is not None:
                raise HttpError(*self.http_status) from exc
            raise
        self.ready = True
        return tools

    async def _transport(self) -> Any:
        entry, cfg = self.entry, self.entry.cfg
        token = await entry.manager.hf_token() if cfg.send_hf_token else None
        if cfg.url is not None:
            return self._remote_transport(cfg.url, token)
        return await asyncio.to_thread(self._stdio_transport, token)

    def _remote_transport(self, url: str, token: str | None) -> Any:
        from fastmcp.client.transports import SSETransport, StreamableHttpTransport

        entry, cfg = self.entry, self.entry.cfg
        headers = dict(cfg.headers)
        if token and not may_send_hf_token(url, entry.manager.hub_endpoint):
            entry.warn_once(
                f"MCP server {entry.name!r}: the HF token is not sent to "
                f"{urlsplit(url).hostname} (only to huggingface.co or the Hub endpoint); "
                f"remove send_hf_token from [mcp.servers.{entry.name}]."
            )
        elif token and not any(k.lower() == "authorization" for k in headers):
            headers["Authorization"] = f"Bearer {token}"
        if cfg.effective_transport == "sse":
            return SSETransport(url, headers=headers, httpx_client_factory=self._http_client)
        return StreamableHttpTransport(url, headers=headers, httpx_client_factory=self._http_client)

    def _http_client(
        self, headers: Any = None, timeout: Any = None, auth: Any = None, **_ignored: Any
    ) -> Any:
        """An HTTP client like the MCP SDK's own that remembers error statuses.

        Redirects stay off (fastmcp asks a factory for them): the SDK follows those
        within the server's origin itself, so a header never travels to another host.
        The read timeout outlasts the longest call (``timeout_s``), which the MCP layer
        enforces with a clear message; the session and its idle streams survive it.
        """
        import httpx2

        read = max(300.0, self.entry.cfg.timeout_s + 30)
        client = httpx2.AsyncClient(
            headers=headers, timeout=httpx2.Timeout(30.0, read=read), auth=auth
        )
        client.event_hooks["response"].append(self._on_response)
        return client

    async def _on_response(self, response: Any) -> None:
        if response.status_code >= 400 and response.status_code != 405:  # 405: no GET stream
            self.http_status = (response.status_code, response.reason_phrase)

    def _stdio_transport(self, token: str | None) -> Any:
        """The child's command line, environment and directory (runs in a thread)."""
        from fastmcp.client.transports import StdioTransport
        from mcp.client.stdio import DEFAULT_INHERITED_ENV_VARS

        from ml_intern_tui.safety.environment import inherited_environment

        entry, cfg = self.entry, self.entry.cfg
        cwd = entry.cwd
        if not cwd.is_dir():
            raise PermanentError(f"cwd {cwd} is not a directory")
        env = {**inherited_environment(DEFAULT_INHERITED_ENV_VARS), **QUIET_CHILD_ENV, **cfg.env}
        if token and "HF_TOKEN" not in cfg.env:
            env["HF_TOKEN"] = token
        command = resolve_command(cfg.command or "", cwd, env.get("PATH", os.environ.get("PATH")))
        args = list(cfg.args)
        if os.path.exists(_SH):
            self.pid_file = entry.log_path.with_suffix(".pid")
            self.pid_file.unlink(missing_ok=True)
            args = ["-c", _PID_WRAPPER, str(self.pid_file), command, *args]
            command = _SH
        return StdioTransport(
            command=command, args=args, env=env, cwd=str(cwd), log_file=entry.log_path
        )

    async def _on_log(self, message: Any) -> None:
        """Log notifications from the server go to its log file, never the terminal."""
        self.entry.write_log(
            f"[{getattr(message, 'level', 'info')}] {getattr(message, 'data', '')}"
        )

    async def call(
        self, tool: str, arguments: dict[str, Any], on_progress: Callable[[str], None]
    ) -> Any:
        cfg = self.entry.cfg

        async def progress(done: float, total: float | None, message: str | None) -> None:
            amount = f"{done:g}/{total:g}" if total else f"{done:g}"
            on_progress(f"{amount} {message or ''}".strip())

        try:
            return await asyncio.wait_for(
                self.client.call_tool_mcp(
                    tool, arguments, timeout=cfg.timeout_s, progress_handler=progress
                ),
                cfg.timeout_s + 10,
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if is_timeout(exc):
                raise ToolError(
                    f"{tool} on MCP server {self.entry.name!r} took longer than "
                    f"{cfg.timeout_s:g}s and was abandoned (timeout_s in "
                    f"[mcp.servers.{self.entry.name}])"
                ) from exc
            if is_connection_error(exc):
                self.mark_lost(describe_error(exc))
                raise ToolError(
                    f"the MCP server {self.entry.name!r} dropped the connection "
                    f"({describe_error(exc)}); it is reconnecting in the background — "
                    "try again in a few seconds"
                ) from exc
            raise ToolError(f"MCP server {self.entry.name!r}: {describe_error(exc)}") from exc

    def mark_lost(self, reason: str) -> None:
        if self.ready:
            self.ready = False
            self.lost_reason = reason
            self.lost.set()

    def pid(self) -> int | None:
        if self.pid_file is None:
            return None
        try:
            return int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None

    def kill(self, sig: int = signal.SIGTERM) -> None:
        """Signal the stdio child's process group (it leads its own session)."""
        pid = self.pid()
        if pid is not None and pid > 1:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, sig)

    async def close(self, *, kill: bool = False) -> None:
        """End the session; ``kill`` first stops a child that may not be listening."""
        self.ready = False
        if kill:
            self.kill()
        client, self.client = self.client, None
        if client is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.close(), CLOSE_GRACE_S + 3)
        self.kill(signal.SIGKILL)  # whatever of its group is left
        if self.pid_file is not None:
            self.pid_file.unlink(missing_ok=True)


# -------------------------------------------------------------------------- server


@dataclass
class ServerEntry:
    """A configured server: its settings, current connection and what /mcp shows."""

    name: str
    cfg: McpServerConfig
    manager: McpManager
    state: State = "disabled"
    error: str = ""
    attempt: int = 0
    tools: list[McpToolInfo] = field(default_factory=list)
    withheld: list[McpToolInfo] = field(default_factory=list)
    conn: Connection | None = None
    task: asyncio.Task[None] | None = None
    refused: set[str] = field(default_factory=set)
    warned: set[str] = field(default_factory=set)

    @property
    def trusted(self) -> bool:
        return self.cfg.trusted

    @property
    def transport(self) -> str:
        return self.cfg.effective_transport

    @property
    def target(self) -> str:
        return describe_target(self.cfg)

    @property
    def log_path(self) -> Path:
        return self.manager.log_dir / f"{self.name}.log"

    @property
    def cwd(self) -> Path:
        """The directory a local server runs in (its relative paths count from there)."""
        cwd = Path(self.cfg.cwd).expanduser() if self.cfg.cwd else self.manager.cwd
        return cwd if cwd.is_absolute() else self.manager.cwd / cwd

    def warn_once(self, text: str) -> None:
        if text not in self.warned:
            self.warned.add(text)
            self.manager.publish(Notice(level="warning", text=text))

    def write_log(self, line: str) -> None:
        with contextlib.suppress(OSError), self.log_path.open("a", encoding="utf-8") as f:
            f.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {redact_text(line)}\n")

    async def call(
        self, tool: str, arguments: dict[str, Any], on_progress: Callable[[str], None]
    ) -> Any:
        """Call ``tool`` on the live connection (``ToolError`` when there is none)."""
        conn = self.conn
        if conn is None or not conn.ready or self.state != "ready":
            state = "reconnecting" if self.state in ("ready", "connecting") else self.state
            why = f" (last error: {self.error})" if self.error else ""
            raise ToolError(
                f"the MCP server {self.name!r} is {state}{why}; "
                "try again shortly, or ask the user to check /mcp"
            )
        return await conn.call(tool, arguments, on_progress)
