"""MCP servers from the config: connected in the background, their tools on the router.

Each enabled ``[mcp.servers.NAME]`` gets a supervisor task. It connects (stdio child or
HTTP/SSE, ``integrations/mcp.py``), lists the tools and registers them as
``NAME__<tool>``; the model sees them on its next call, because the loop asks the router
for specs on every call. A slow or dead server therefore never delays start-up. A call
that finds the connection gone fails with a clear message and the supervisor reconnects
with backoff; after the last attempt the server is ``failed``, its tools are removed and
one notice says what to do. ``/mcp`` shows the states (``McpStatus`` events) and can ask
for a reconnect (``McpReconnect`` op).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ml_intern_tui.core.protocol import EventBase, McpReconnect, McpStatus, McpToolInfo, Notice
from ml_intern_tui.core.tool import Tool, ToolRouter
from ml_intern_tui.integrations.mcp import (
    CLOSE_GRACE_S,
    DEFAULT_BACKOFF_S,
    Connection,
    ServerEntry,
    State,
    ToolFactory,
)
from ml_intern_tui.integrations.mcp_rules import describe_error, is_permanent, withheld_note

if TYPE_CHECKING:
    from ml_intern_tui.config.schema import McpServerConfig

log = logging.getLogger(__name__)


class McpManager:
    """The background service that keeps the configured MCP servers connected."""

    name = "mcp"

    def __init__(
        self,
        servers: dict[str, McpServerConfig],
        *,
        router: ToolRouter,
        tool_factory: ToolFactory,
        publish: Callable[[EventBase], None],
        cwd: Path,
        log_dir: Path,
        hf_token: Callable[[], str | None] = lambda: None,
        hub_endpoint: str = "https://huggingface.co",
        backoff: Sequence[float] | None = None,
    ) -> None:
        self.router = router
        self.tool_factory = tool_factory
        self.publish = publish
        self.cwd = cwd
        self.log_dir = log_dir
        self.hub_endpoint = hub_endpoint
        self.backoff = tuple(DEFAULT_BACKOFF_S if backoff is None else backoff)
        self._hf_token = hf_token
        self._owner: dict[str, str] = {}
        """Registered tool name -> server that owns it."""
        self._closing = False
        self.servers = {name: ServerEntry(name, cfg, self) for name, cfg in servers.items()}

    async def hf_token(self) -> str | None:
        """The HF token (read in a thread: it may import huggingface_hub)."""
        try:
            return await asyncio.to_thread(self._hf_token)
        except Exception:  # a broken token store means "no token"
            return None

    # ---------------------------------------------------------------- lifecycle

    async def run(self) -> None:
        """Announce every server and start a supervisor for each enabled one."""
        with contextlib.suppress(OSError):
            self.log_dir.mkdir(parents=True, exist_ok=True)
        for entry in self.servers.values():
            if entry.cfg.enabled:
                self._start(entry)
            else:
                self._status(entry, "disabled")

    def handle_op(self, op: Any) -> bool:
        """Take the ops meant for MCP (``McpReconnect``); False for any other op."""
        if not isinstance(op, McpReconnect):
            return False
        entry = self.servers.get(op.server)
        if entry is None:
            self.publish(Notice(level="warning", text=f"No MCP server named {op.server!r}."))
        elif not self._closing:
            entry.write_log("reconnect requested")
            self._start(entry)
        return True

    def _start(self, entry: ServerEntry) -> None:
        """(Re)start the supervisor of ``entry``: the old one closes its connection."""
        old = entry.task
        entry.attempt, entry.error = 1, ""
        self._status(entry, "connecting")  # at once: /mcp shows it before the task runs
        entry.task = asyncio.create_task(self._supervise(entry, old), name=f"mcp:{entry.name}")

    async def aclose(self) -> None:
        """Stop every server: children that never became ready are killed at once."""
        self._closing = True
        tasks = [e.task for e in self.servers.values() if e.task is not None]
        for entry in self.servers.values():
            if entry.conn is not None and not entry.conn.ready:
                entry.conn.kill()
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=CLOSE_GRACE_S + 1)
        for entry in self.servers.values():
            if entry.conn is not None:
                entry.conn.kill(signal.SIGKILL)

    # --------------------------------------------------------------- supervisor

    async def _supervise(self, entry: ServerEntry, previous: asyncio.Task[None] | None) -> None:
        if previous is not None and not previous.done():
            previous.cancel()
            await asyncio.wait({previous})
        try:
            await self._keep_connected(entry)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug here must not take the app down
            log.exception("MCP supervisor for %s crashed", entry.name)
            entry.error = describe_error(exc)
            self._fail(entry)
        finally:
            conn = entry.conn
            if conn is not None:  # cleared only once closed: aclose() may still kill it
                await asyncio.shield(conn.close(kill=not conn.ready))
                entry.conn = None

    async def _keep_connected(self, entry: ServerEntry) -> None:
        attempt = 0
        while True:
            attempt += 1
            if entry.state != "connecting":  # a lost connection; _start or a retry announced
                entry.attempt = attempt  # the others: one mcp_status per attempt
                self._status(entry, "connecting")
            conn = entry.conn = Connection(entry)
            try:
                tools = await self._open(entry, conn)
            except Exception as exc:
                await conn.close(kill=True)
                entry.conn = None
                entry.error = describe_error(exc)
                entry.write_log(f"connection attempt {attempt} failed: {entry.error}")
                if is_permanent(exc) or attempt > len(self.backoff):
                    self._fail(entry)
                    return
                entry.attempt = attempt + 1  # the next attempt, with the last one's error
                self._status(entry, "connecting")
                await asyncio.sleep(self.backoff[attempt - 1])
                continue
            attempt = entry.attempt = 0
            entry.error = ""
            self._register(entry, tools)
            await conn.lost.wait()
            entry.error = conn.lost_reason
            entry.write_log(f"connection lost: {entry.error}")
            await conn.close(kill=True)
            entry.conn = None

    async def _open(self, entry: ServerEntry, conn: Connection) -> list[Any]:
        """``conn.open()`` within the connect timeout; a child that overruns is killed."""
        task = asyncio.create_task(conn.open())
        try:
            done, _ = await asyncio.wait({task}, timeout=entry.cfg.connect_timeout_s)
        except asyncio.CancelledError:
            conn.kill()
            task.cancel()
            await asyncio.wait({task})
            raise
        if not done:
            conn.kill()
            task.cancel()
            await asyncio.wait({task})
            raise TimeoutError(f"no answer within {entry.cfg.connect_timeout_s:g}s")
        return task.result()

    def _fail(self, entry: ServerEntry) -> None:
        self._unregister(entry)
        entry.attempt = 0
        self._status(entry, "failed")
        if not self._closing:
            log_hint = f" (log: {entry.log_path})" if entry.transport == "stdio" else ""
            self.publish(
                Notice(
                    level="warning",
                    text=f"MCP server {entry.name!r} failed: {entry.error}. Fix "
                    f"[mcp.servers.{entry.name}] in your config, then press r in /mcp{log_hint}.",
                )
            )

    # -------------------------------------------------------------------- tools

    def _register(self, entry: ServerEntry, remote_tools: list[Any]) -> None:
        """Put the server's tools on the router; a name already taken is refused, and a
        tool we cannot call (``withheld_note``) is only listed in ``/mcp``."""
        wanted: dict[str, Tool] = {}
        refused: list[str] = []
        entry.withheld = []
        for remote in remote_tools:
            tool = self.tool_factory(
                entry, remote.name, remote.description or "", remote.input_schema
            )
            if note := withheld_note(remote):
                entry.withheld.append(
                    McpToolInfo(name=tool.name, description=remote.description or "", note=note)
                )
                entry.warn_once(f"MCP server {entry.name!r}: {tool.name} {note} (see /mcp).")
                continue
            owner = self._owner.get(tool.name)
            if tool.name in wanted:
                refused.append(f"{remote.name} ({tool.name} is already one of its tools)")
            elif owner is not None and owner != entry.name:
                refused.append(f"{remote.name} ({tool.name} belongs to MCP server {owner!r})")
            elif owner is None and self.router.get(tool.name) is not None:
                refused.append(f"{remote.name} ({tool.name} is a built-in tool)")
            else:
                wanted[tool.name] = tool
        for name in [n for n, o in self._owner.items() if o == entry.name and n not in wanted]:
            self._remove_tool(name)
        for name, tool in wanted.items():
            try:
                self.router.add(tool)
            except ValueError as exc:  # a built-in: never shadowed
                refused.append(f"{name} ({exc})")
                continue
            self._owner[name] = entry.name
        entry.tools = [
            McpToolInfo(name=n, description=getattr(t, "remote_description", t.description))
            for n, t in wanted.items()
            if self._owner.get(n) == entry.name
        ]
        new_refusals = set(refused) - entry.refused
        entry.refused |= set(refused)
        if new_refusals:
            self.publish(
                Notice(
                    level="warning",
                    text=f"MCP server {entry.name!r}: not added, the name is taken: "
                    + "; ".join(sorted(new_refusals)),
                )
            )
        self._status(entry, "ready")

    def _remove_tool(self, name: str) -> None:
        self._owner.pop(name, None)
        with contextlib.suppress(ValueError):
            self.router.remove(name)

    def _unregister(self, entry: ServerEntry) -> None:
        for name in [n for n, o in self._owner.items() if o == entry.name]:
            self._remove_tool(name)
        entry.tools, entry.withheld = [], []

    def _status(self, entry: ServerEntry, state: State) -> None:
        entry.state = state
        self.publish(
            McpStatus(
                server=entry.name,
                state=state,
                transport=entry.transport,
                target=entry.target,
                trusted=entry.trusted,
                tools=list(entry.tools),
                withheld=list(entry.withheld),
                error=entry.error,
                attempt=entry.attempt if state == "connecting" else 0,
            )
        )
