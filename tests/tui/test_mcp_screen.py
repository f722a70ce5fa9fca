"""``/mcp``: server states, tools and errors from ``mcp_status`` events; ``r`` reconnects.

The last test runs the real runtime with dead servers in its config: the first frame,
the focused prompt and the session are there while a server still hangs, ``/mcp`` then
shows the dead ones as failed, and quitting kills the hanging child.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from fakes.mcp_servers import free_port, stdio_args
from support import pid_gone
from textual.pilot import Pilot

from ml_intern_tui.core import protocol as p
from ml_intern_tui.tui.app import MLInternApp
from ml_intern_tui.tui.screens.mcp import McpScreen
from tui.conftest import fixed_clock, wait_for
from tui.fake_runtime import FakeRuntime

SnapCompare = Callable[..., bool]


def ready_hub() -> p.McpStatus:
    return p.McpStatus(
        server="hub",
        state="ready",
        transport="http",
        target="https://huggingface.co/mcp",
        trusted=True,
        tools=[
            p.McpToolInfo(name="hub__space_search", description="Find Spaces by keyword."),
            p.McpToolInfo(name="hub__hub_repo_details", description="Details of a model repo."),
        ],
    )


def failed_local() -> p.McpStatus:
    return p.McpStatus(
        server="local",
        state="failed",
        transport="stdio",
        target="uvx my-mcp-server --port 0",
        error="command not found: uvx (check command in the config)",
    )


def screen_of(app: MLInternApp) -> McpScreen:
    screen = app.screen
    assert isinstance(screen, McpScreen)
    return screen


def detail_text(app: MLInternApp) -> str:
    return str(screen_of(app).query_one("#mcp-tools").render())


async def test_mcp_screen_lists_servers_and_follows_updates(
    app: MLInternApp, runtime: FakeRuntime
) -> None:
    async with app.run_test(size=(130, 40)) as pilot:
        await wait_for(pilot, lambda: app.header.session_id == "s-test")
        runtime.publish(
            p.McpStatus(server="hub", state="connecting", transport="http", attempt=1),
            failed_local(),
            p.McpStatus(server="off", state="disabled", transport="http"),
        )
        await wait_for(pilot, lambda: len(app.mcp_board.servers) == 3)
        await pilot.press(*"/mcp", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, McpScreen))
        screen = screen_of(app)
        assert screen.table.row_count == 3 and screen.names == ["hub", "local", "off"]
        assert screen.highlighted == "hub"

        runtime.publish(ready_hub())  # arrives while the screen is open
        await wait_for(pilot, lambda: "hub__space_search" in detail_text(app))
        assert "Find Spaces by keyword." in detail_text(app)
        assert screen.highlighted == "hub"

        await pilot.press("down")
        await wait_for(pilot, lambda: "command not found: uvx" in detail_text(app))
        await pilot.press("r")
        await wait_for(pilot, lambda: runtime.ops_of(p.McpReconnect))
        assert runtime.ops_of(p.McpReconnect)[0].server == "local"

        await pilot.press("down")
        await wait_for(pilot, lambda: "Disabled" in detail_text(app))
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, McpScreen))
        assert not app.mcp_board._listeners  # the closed screen stopped listening


async def test_mcp_screen_says_why_a_tool_is_withheld(
    app: MLInternApp, runtime: FakeRuntime
) -> None:
    note = 'runs only as an MCP task (execution.taskSupport = "required"), not offered'
    async with app.run_test(size=(130, 40)) as pilot:
        runtime.publish(
            p.McpStatus(
                server="tasks",
                state="ready",
                transport="stdio",
                tools=[p.McpToolInfo(name="tasks__add", description="Add two integers.")],
                withheld=[p.McpToolInfo(name="tasks__train", description="Train.", note=note)],
            ),
            p.McpStatus(
                server="only",
                state="ready",
                transport="stdio",
                withheld=[p.McpToolInfo(name="only__train", note=note)],
            ),
        )
        await wait_for(pilot, lambda: len(app.mcp_board.servers) == 2)
        app.run_slash("mcp")
        await wait_for(pilot, lambda: isinstance(app.screen, McpScreen))
        await wait_for(pilot, lambda: "tasks__train" in detail_text(app))
        text = detail_text(app)
        assert "tasks__add" in text and note in text
        await pilot.press("down")
        await wait_for(pilot, lambda: "only__train" in detail_text(app))
        assert "offers no tools" not in detail_text(app)  # it has one, just not for the model


async def test_mcp_screen_without_servers(app: MLInternApp) -> None:
    async with app.run_test(size=(120, 30)) as pilot:
        app.run_slash("mcp")
        await wait_for(pilot, lambda: isinstance(app.screen, McpScreen))
        await wait_for(pilot, lambda: "No MCP servers configured" in detail_text(app))
        await pilot.press("r")  # nothing to reconnect: nothing happens
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, McpScreen))


def test_mcp_screen_snapshot(snap_compare: SnapCompare) -> None:
    """A ready trusted server with its tools, and a failed local one with its error."""
    runtime = FakeRuntime()
    app = MLInternApp(runtime, clock=fixed_clock)

    async def run_before(pilot: Pilot[Any]) -> None:
        app.prompt.cursor_blink = False
        await wait_for(pilot, lambda: app.header.session_id == "s-test")
        runtime.publish(ready_hub(), failed_local())
        await wait_for(pilot, lambda: len(app.mcp_board.servers) == 2)
        app.run_slash("mcp")
        await wait_for(pilot, lambda: isinstance(app.screen, McpScreen))
        await wait_for(pilot, lambda: "hub__space_search" in detail_text(app))
        await pilot.pause()

    assert snap_compare(app, terminal_size=(120, 34), run_before=run_before)


# ----------------------------------------------------------- the real runtime, dead servers


@pytest.mark.slow
async def test_dead_servers_never_delay_start_up(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    wait_until: Callable[..., Awaitable[None]],
) -> None:
    from ml_intern_tui.config.loader import load_config
    from ml_intern_tui.integrations import mcp
    from ml_intern_tui.runtime.agent import build_runtime

    monkeypatch.setattr(mcp, "DEFAULT_BACKOFF_S", (0.05, 0.05))
    hang = json.dumps(stdio_args("--sleep-first", "300"))  # a JSON list is a TOML array
    config = tmp_path / ".ml-intern" / "config.toml"
    config.parent.mkdir()
    config.write_text(
        f"""
model = "scripted/demo"
[sessions]
dir = {json.dumps(str(tmp_path / "sessions"))}
[mcp.servers.hang]
command = {json.dumps(sys.executable)}
args = {hang}
connect_timeout_s = 120
[mcp.servers.gone]
url = "http://127.0.0.1:{free_port()}/mcp"
[mcp.servers.missing]
command = "/nonexistent/mcp-server"
"""
    )
    settings = load_config(cwd=tmp_path, trust="trust").settings  # as with --trust-project
    runtime = build_runtime(settings, cwd=tmp_path)
    app = MLInternApp(runtime)
    started = time.monotonic()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.focused is app.prompt, tries=300)
        assert time.monotonic() - started < 5.0  # the first frame does not wait for MCP
        # The session is ready while "hang" is still connecting.
        await wait_for(pilot, lambda: app.header.session_id != "", tries=3000)
        assert app.mcp_board.servers["hang"].state == "connecting"
        await wait_for(
            pilot,
            lambda: all(
                app.mcp_board.servers.get(n) is not None
                and app.mcp_board.servers[n].state == "failed"
                for n in ("gone", "missing")
            ),
            tries=2000,
        )
        manager = next(s for s in runtime.background if s.name == "mcp")
        pid_file = tmp_path / "mcp" / "hang.pid"
        assert manager.log_dir == tmp_path / "mcp"
        await wait_until(pid_file.exists, 15, "the hanging child")
        pid = int(pid_file.read_text())

        app.run_slash("mcp")
        await wait_for(pilot, lambda: isinstance(app.screen, McpScreen))
        screen = screen_of(app)
        # The shipped Hugging Face server comes first, disabled; then the config's own.
        await wait_for(pilot, lambda: len(screen.names) == 4)
        assert screen.names == ["huggingface", "hang", "gone", "missing"]
        assert app.mcp_board.servers["huggingface"].state == "disabled"
        await pilot.press("down", "down", "down")
        await wait_for(pilot, lambda: "command not found" in detail_text(app))
        await pilot.press("escape")

        quit_at = time.monotonic()
        await pilot.press("ctrl+q")
        await wait_until(lambda: not app._serving, 5, "the runtime to stop")
        assert time.monotonic() - quit_at < 5
    await wait_until(lambda: pid_gone(pid), 3, "the hanging MCP child to be killed")
