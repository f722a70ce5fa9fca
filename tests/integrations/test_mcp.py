"""MCP servers against real fastmcp servers: stdio children and HTTP/SSE on 127.0.0.1.

Connect, list, call, result conversion, failures, reconnects, name collisions, call
timeouts, the HF token rules and shutdown, through ``McpManager`` and the ``ToolRouter``;
then the whole loop (fake OpenAI server, approval) with an MCP tool.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from fakes import mcp_task_server
from fakes.mcp_servers import McpHttpServer, free_port, stdio_args
from fakes.openai_server import FakeOpenAI, Reply
from pydantic import BaseModel
from support import pid_gone, wait_until

from ml_intern_tui.config.schema import AppConfig, McpServerConfig
from ml_intern_tui.core.protocol import (
    Approval,
    ApprovalDecision,
    EventBase,
    McpReconnect,
    McpStatus,
    Notice,
    UserInput,
)
from ml_intern_tui.core.tool import (
    SessionState,
    Tool,
    ToolContext,
    ToolError,
    ToolResult,
    ToolRouter,
    parse_arguments,
)
from ml_intern_tui.integrations.mcp_rules import may_send_hf_token, withheld_note
from ml_intern_tui.services.mcp import McpManager
from ml_intern_tui.tools.mcp_tool import McpTool, convert_result, mcp_tool_name

TOKEN = "hf_testTokenAbcdefghijklmnop"
STDIO = {"command": sys.executable, "args": stdio_args()}
TASKS = {"command": sys.executable, "args": mcp_task_server.stdio_args()}
"""A low-level mcp SDK server whose ``train`` tool runs only as a task."""


class Recorder:
    """The manager's events, with waits on them."""

    def __init__(self) -> None:
        self.events: list[EventBase] = []

    def __call__(self, event: EventBase) -> None:
        self.events.append(event)

    def statuses(self, server: str) -> list[McpStatus]:
        return [e for e in self.events if isinstance(e, McpStatus) and e.server == server]

    def last(self, server: str) -> McpStatus | None:
        found = self.statuses(server)
        return found[-1] if found else None

    def notices(self) -> list[str]:
        return [e.text for e in self.events if isinstance(e, Notice)]

    async def state(
        self, server: str, state: str, timeout: float = 20.0, after: int = 0
    ) -> McpStatus:
        def reached() -> bool:
            return any(s.state == state for s in self.statuses(server)[after:])

        await wait_until(reached, timeout, f"{server} {state}")
        return next(s for s in self.statuses(server)[after:] if s.state == state)


class Builtin(Tool):
    """Stands for a built-in tool whose name an MCP tool would take."""

    name = "fake__add"
    description = "a built-in"

    class Args(BaseModel):
        pass

    read_only = True

    async def run(self, args: Any, ctx: ToolContext) -> ToolResult:
        return ToolResult(summary="builtin", output="builtin")


Make = Callable[..., tuple[McpManager, Recorder, ToolRouter]]


@pytest.fixture
async def make(tmp_path: Path) -> AsyncIterator[Make]:
    made: list[McpManager] = []

    def build(
        servers: dict[str, dict[str, Any]],
        *,
        router: ToolRouter | None = None,
        hub_endpoint: str = "https://huggingface.co",
        token: str | None = TOKEN,
        backoff: tuple[float, ...] = (0.05, 0.05),
    ) -> tuple[McpManager, Recorder, ToolRouter]:
        router = router or ToolRouter()
        recorder = Recorder()
        manager = McpManager(
            {name: McpServerConfig.model_validate(cfg) for name, cfg in servers.items()},
            router=router,
            tool_factory=McpTool.create,
            publish=recorder,
            cwd=tmp_path,
            log_dir=tmp_path / "mcp",
            hf_token=lambda: token,
            hub_endpoint=hub_endpoint,
            backoff=backoff,
        )
        made.append(manager)
        return manager, recorder, router

    yield build
    for manager in made:
        await manager.aclose()


def ctx(tmp_path: Path, progress: list[str] | None = None) -> ToolContext:
    lines = progress if progress is not None else []
    return ToolContext(
        call_id="c1",
        session_id="s1",
        cwd=tmp_path,
        state=SessionState(),
        publish=lambda _e: None,
        progress=lines.append,
    )


async def call(router: ToolRouter, name: str, args: dict[str, Any], tmp_path: Path) -> ToolResult:
    tool = router.get(name)
    assert tool is not None, f"{name} not on the router: {router.names()}"
    return await tool.run(parse_arguments(tool, args), ctx(tmp_path))


# ------------------------------------------------------------------------- pure rules


def test_tool_names_are_sanitised_and_bounded() -> None:
    assert mcp_tool_name("hf", "hub_repo_details") == "hf__hub_repo_details"
    assert mcp_tool_name("fake", "do.thing") == "fake__do_thing"
    assert mcp_tool_name("s", "a b/c:d") == "s__a_b_c_d"
    long = mcp_tool_name("server", "x" * 100)
    assert len(long) == 64 and long.startswith("server__x")


@pytest.mark.parametrize(
    ("url", "hub", "allowed"),
    [
        ("https://huggingface.co/mcp", "https://huggingface.co", True),
        ("https://hf.huggingface.co/mcp", "https://huggingface.co", True),
        ("http://huggingface.co/mcp", "https://huggingface.co", False),  # not over plain http
        ("https://huggingface.co.evil.example/mcp", "https://huggingface.co", False),
        ("https://evilhuggingface.co/mcp", "https://huggingface.co", False),
        ("https://huggingface.co@evil.example/mcp", "https://huggingface.co", False),
        ("https://evil.example/huggingface.co", "https://huggingface.co", False),
        ("http://127.0.0.1:8000/mcp", "http://127.0.0.1:8000", True),  # the Hub endpoint
        ("http://127.0.0.1:8001/mcp", "http://127.0.0.1:8000", False),  # another port
        ("http://localhost:8000/mcp", "http://127.0.0.1:8000", False),  # another host
        ("https://hub.example/mcp", "https://hub.example/", True),
    ],
)
def test_hf_token_goes_only_to_hugging_face_hosts(url: str, hub: str, allowed: bool) -> None:
    assert may_send_hf_token(url, hub) is allowed


def test_only_task_only_tools_are_withheld() -> None:
    import mcp_types as mt

    def tool(support: Any) -> mt.Tool:
        execution = None if support is None else mt.ToolExecution(task_support=support)
        return mt.Tool(name="t", input_schema={"type": "object"}, execution=execution)

    assert 'taskSupport = "required"' in withheld_note(tool("required"))
    assert [withheld_note(tool(s)) for s in (None, "optional", "forbidden")] == ["", "", ""]


def test_results_are_converted_to_text() -> None:
    import mcp_types as mt

    raw = mt.CallToolResult(
        content=[
            mt.TextContent(text="hello"),
            mt.ImageContent(data="AAAA", mime_type="image/png"),
            mt.AudioContent(data="AAAAAAAA", mime_type="audio/wav"),
        ],
    )
    result = convert_result(raw)
    assert result.ok
    assert result.output == "hello\n[image: image/png, 3 bytes]\n[audio: audio/wav, 6 bytes]"
    structured = convert_result(mt.CallToolResult(content=[], structured_content={"n": 1}))
    assert json.loads(structured.output) == {"n": 1}
    empty = convert_result(mt.CallToolResult(content=[]))
    assert empty.ok and "no content" in empty.output
    failed = convert_result(mt.CallToolResult(content=[mt.TextContent(text="bad")], is_error=True))
    assert not failed.ok and failed.output == "Error: bad"


# --------------------------------------------------------------------------- stdio


async def test_stdio_server_connects_lists_calls_and_converts(
    make: Make, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", TOKEN)  # ours: it must not leak into the child
    manager, rec, router = make({"fake": STDIO})
    started = time.monotonic()
    await manager.run()
    assert time.monotonic() - started < 0.5  # connecting happens in the background
    assert rec.statuses("fake")[0].state == "connecting"
    ready = await rec.state("fake", "ready")
    names = {t.name for t in ready.tools}
    assert {"fake__add", "fake__echo", "fake__image", "fake__do_thing"} <= names
    assert set(router.names()) == names
    assert ready.transport == "stdio" and sys.executable in ready.target
    assert "Add two integers." in {t.description for t in ready.tools}

    spec = router.get("fake__add").spec()["function"]  # type: ignore[union-attr]
    assert spec["name"] == "fake__add"
    assert spec["parameters"]["required"] == ["a", "b"]
    assert "[MCP server fake]" in spec["description"]

    added = await call(router, "fake__add", {"a": 2, "b": 3}, tmp_path)
    assert added.ok and added.output == "5"
    assert added.data == {"server": "fake", "tool": "add"}
    failed = await call(router, "fake__fail", {"message": "no luck"}, tmp_path)
    assert not failed.ok and failed.output == "Error: no luck"
    image = await call(router, "fake__image", {}, tmp_path)
    assert image.output == "[image: image/png, 70 bytes]"
    resource = await call(router, "fake__resource", {}, tmp_path)
    assert resource.output.splitlines() == [
        "see attached",
        "[resource file:///notes.txt (text/plain)]",
        "note body",
        "[resource file:///data.bin: application/octet-stream, 3 bytes]",
        "[resource link: https://example.invalid/report.csv (text/csv) name report]",
    ]
    dotted = await call(router, "fake__do_thing", {}, tmp_path)
    assert dotted.output == "done"
    leaked = await call(router, "fake__env", {"name": "HF_TOKEN"}, tmp_path)
    assert leaked.output == "(the tool returned no content)", leaked.output
    bad = router.get("fake__add")
    assert bad is not None
    invalid = await bad.run(parse_arguments(bad, {"a": "x"}), ctx(tmp_path))
    assert not invalid.ok and "validation error" in invalid.output.lower(), invalid.output

    request = bad.approval(parse_arguments(bad, {"a": 2, "b": 3}), ctx(tmp_path))
    assert request is not None and request.kind == "unsandboxed"  # auto asks too
    assert request.title == "MCP fake: add"
    assert "Server: fake (stdio" in request.details and '"a": 2' in request.details

    log = (tmp_path / "mcp" / "fake.log").read_text()
    assert "Starting MCP server" in log  # the child's stderr, not our terminal

    pid = int((await call(router, "fake__pid", {}, tmp_path)).output)
    await manager.aclose()
    await wait_until(lambda: pid_gone(pid), 5, "the stdio child to exit")


async def test_task_only_tools_are_listed_not_offered(make: Make, tmp_path: Path) -> None:
    calls = tmp_path / "calls.txt"
    server = {**TASKS, "args": mcp_task_server.stdio_args(calls)}
    manager, rec, router = make({"tasks": server})
    await manager.run()
    ready = await rec.state("tasks", "ready")
    assert {t.name for t in ready.tools} == {"tasks__add", "tasks__sweep"}  # "optional" stays
    assert set(router.names()) == {"tasks__add", "tasks__sweep"}
    assert [t.name for t in ready.withheld] == ["tasks__train"]
    assert ready.withheld[0].description == "Train for a number of steps (runs only as a task)."
    assert 'taskSupport = "required"' in ready.withheld[0].note
    assert "not offered to the model" in ready.withheld[0].note
    assert [n for n in rec.notices() if "tasks__train" in n] == [
        f"MCP server 'tasks': tasks__train {ready.withheld[0].note} (see /mcp)."
    ]
    assert (await call(router, "tasks__add", {"a": 2, "b": 3}, tmp_path)).output == "5"
    assert (await call(router, "tasks__sweep", {"n": 3}, tmp_path)).output == "9"
    assert calls.read_text().split() == ["add", "sweep"]  # train never reached the server

    mark, seen = len(rec.events), len(rec.statuses("tasks"))
    manager.handle_op(McpReconnect(server="tasks"))
    again = await rec.state("tasks", "ready", after=seen)
    assert [t.name for t in again.withheld] == ["tasks__train"]
    assert not [e for e in rec.events[mark:] if isinstance(e, Notice)]  # said once


async def test_send_hf_token_puts_it_in_a_stdio_servers_env(make: Make, tmp_path: Path) -> None:
    manager, rec, router = make({"tok": {**STDIO, "send_hf_token": True, "trusted": True}})
    await manager.run()
    await rec.state("tok", "ready")
    result = await call(router, "tok__env", {"name": "HF_TOKEN"}, tmp_path)
    assert result.output == TOKEN
    tool = router.get("tok__add")
    assert tool is not None
    assert tool.approval(parse_arguments(tool, {"a": 1, "b": 2}), ctx(tmp_path)) is None


async def test_stdio_reconnects_after_the_process_dies(make: Make, tmp_path: Path) -> None:
    manager, rec, router = make({"fake": STDIO})
    await manager.run()
    await rec.state("fake", "ready")
    first_pid = int((await call(router, "fake__pid", {}, tmp_path)).output)
    mark = len(rec.statuses("fake"))
    with pytest.raises(ToolError, match="dropped the connection"):
        await call(router, "fake__crash", {}, tmp_path)
    reconnecting = await rec.state("fake", "connecting", after=mark)
    assert reconnecting.error  # why it reconnects
    # Until the new session is up, calls say so instead of hanging.
    with pytest.raises(ToolError, match="is reconnecting"):
        await call(router, "fake__add", {"a": 1, "b": 1}, tmp_path)
    await rec.state("fake", "ready", after=mark)
    assert (await call(router, "fake__add", {"a": 1, "b": 1}, tmp_path)).output == "2"
    second_pid = int((await call(router, "fake__pid", {}, tmp_path)).output)
    assert second_pid != first_pid and pid_gone(first_pid)
    assert not any("failed" in n for n in rec.notices())


async def test_dead_servers_fail_in_the_background(make: Make) -> None:
    closed = f"http://127.0.0.1:{free_port()}/mcp"
    manager, rec, router = make(
        {
            "missing": {"command": "/nonexistent/mcp-server"},
            "gone": {"url": closed},
            "off": {"url": closed, "enabled": False},
        }
    )
    started = time.monotonic()
    await manager.run()
    assert time.monotonic() - started < 0.5
    missing = await rec.state("missing", "failed", timeout=5)
    assert "command not found: /nonexistent/mcp-server" in missing.error
    assert [s.state for s in rec.statuses("missing")] == ["connecting", "failed"]
    gone = await rec.state("gone", "failed", timeout=10)
    assert "connect" in gone.error.lower()
    attempts = [s.attempt for s in rec.statuses("gone") if s.state == "connecting"]
    assert attempts == [1, 2, 3]  # 1 + len(backoff), one mcp_status per attempt
    assert [bool(s.error) for s in rec.statuses("gone") if s.state == "connecting"] == [
        False,
        True,
        True,
    ]  # a retry says why
    assert rec.last("off").state == "disabled"  # type: ignore[union-attr]
    assert router.names() == []
    notices = rec.notices()
    assert len([n for n in notices if "'missing' failed" in n]) == 1
    assert len([n for n in notices if "'gone' failed" in n]) == 1
    assert all("/mcp" in n for n in notices)


async def test_refused_credentials_fail_at_once(make: Make) -> None:
    from fakes.http_server import FakeHTTPServer, FakeRequest, FakeResponse

    with FakeHTTPServer() as server:

        @server.route("POST", r"/mcp")
        def refuse(req: FakeRequest) -> FakeResponse:
            return FakeResponse.error(401, "bad token")

        manager, rec, _router = make({"auth": {"url": f"{server.base_url}/mcp"}})
        await manager.run()
        failed = await rec.state("auth", "failed", timeout=10)
        assert failed.error == "HTTP 401 Unauthorized; check the server's headers or token"
        assert [s.attempt for s in rec.statuses("auth") if s.state == "connecting"] == [1]


async def test_connect_timeout_kills_a_silent_child(make: Make, tmp_path: Path) -> None:
    silent = {"command": sys.executable, "args": stdio_args("--sleep-first", "100")}
    manager, rec, _router = make({"silent": {**silent, "connect_timeout_s": 3}}, backoff=())
    await manager.run()
    await wait_until(lambda: (tmp_path / "mcp" / "silent.pid").exists(), 10, "the child")
    pid = int((tmp_path / "mcp" / "silent.pid").read_text())
    failed = await rec.state("silent", "failed", timeout=10)
    assert failed.error == "no answer within 3s"
    await wait_until(lambda: pid_gone(pid), 5, "the silent child to be killed")


async def test_shutdown_kills_a_hanging_stdio_server(make: Make, tmp_path: Path) -> None:
    silent = {"command": sys.executable, "args": stdio_args("--sleep-first", "100")}
    manager, rec, _router = make({"hang": silent})
    await manager.run()
    await wait_until(lambda: (tmp_path / "mcp" / "hang.pid").exists(), 10, "the child")
    pid = int((tmp_path / "mcp" / "hang.pid").read_text())
    assert rec.last("hang").state == "connecting"  # type: ignore[union-attr]
    started = time.monotonic()
    await manager.aclose()
    assert time.monotonic() - started < 3.5
    await wait_until(lambda: pid_gone(pid), 3, "the hanging child to be killed")


# ---------------------------------------------------------------------------- HTTP


async def test_http_and_sse_servers_get_headers_and_no_token_unless_asked(make: Make) -> None:
    with McpHttpServer() as http, McpHttpServer("sse") as sse:
        manager, rec, router = make(
            {
                "h": {"url": http.url, "headers": {"X-Custom": "v1"}},
                "s": {"url": sse.url, "transport": "sse"},
            },
            hub_endpoint=f"http://127.0.0.1:{http.port}",  # a Hub host, but not asked
        )
        await manager.run()
        await rec.state("h", "ready")
        await rec.state("s", "ready")
        assert (await call(router, "h__add", {"a": 2, "b": 2}, Path("."))).output == "4"
        assert (
            await call(router, "s__echo", {"text": "hi", "upper": True}, Path("."))
        ).output == "HI"
        assert http.headers and all(h.get("x-custom") == "v1" for h in http.headers)
        assert not any("authorization" in h for h in http.headers + sse.headers)
        tool = router.get("h__add")
        assert tool is not None
        request = tool.approval(parse_arguments(tool, {"a": 1, "b": 2}), ctx(Path(".")))
        assert request is not None and request.kind == "irreversible"
        await manager.aclose()


async def test_hf_token_is_sent_only_to_the_hub_host(make: Make) -> None:
    with McpHttpServer() as hub, McpHttpServer() as other:
        manager, rec, _router = make(
            {
                "hub": {"url": hub.url, "send_hf_token": True},
                "other": {"url": other.url, "send_hf_token": True},
            },
            hub_endpoint=f"http://127.0.0.1:{hub.port}",
        )
        await manager.run()
        await rec.state("hub", "ready")
        await rec.state("other", "ready")
        assert hub.headers and all(h.get("authorization") == f"Bearer {TOKEN}" for h in hub.headers)
        assert other.headers and not any("authorization" in h for h in other.headers)
        warned = [n for n in rec.notices() if "not sent to 127.0.0.1" in n]
        assert len(warned) == 1 and TOKEN not in warned[0]
        await manager.aclose()


async def test_http_server_restart_reconnects_and_down_server_fails(make: Make) -> None:
    http = McpHttpServer().start()
    try:
        manager, rec, router = make({"h": {"url": http.url}})
        await manager.run()
        await rec.state("h", "ready")
        http.stop()
        mark = len(rec.statuses("h"))
        with pytest.raises(ToolError, match="dropped the connection"):
            await call(router, "h__add", {"a": 1, "b": 1}, Path("."))
        failed = await rec.state("h", "failed", after=mark, timeout=15)
        assert failed.error and failed.tools == []
        assert router.names() == []  # a failed server's tools are gone
        assert len([n for n in rec.notices() if "'h' failed" in n]) == 1

        http.start()
        mark = len(rec.statuses("h"))
        assert manager.handle_op(McpReconnect(server="h"))
        await rec.state("h", "ready", after=mark)
        assert (await call(router, "h__add", {"a": 1, "b": 1}, Path("."))).output == "2"
        assert manager.handle_op(McpReconnect(server="nope"))
        assert "No MCP server named 'nope'." in rec.notices()
        assert not manager.handle_op(UserInput(text="hi"))
    finally:
        http.stop()


async def test_call_timeout_fails_the_call_and_keeps_the_connection(make: Make) -> None:
    with McpHttpServer() as http:
        manager, rec, router = make({"h": {"url": http.url, "timeout_s": 0.5}})
        await manager.run()
        await rec.state("h", "ready")
        for attempt in range(3):  # the session survives each abandoned call
            started = time.monotonic()
            with pytest.raises(ToolError, match=r"took longer than 0.5s.*timeout_s"):
                await call(router, "h__slow", {"seconds": 5}, Path("."))
            assert time.monotonic() - started < 3
            result = await call(router, "h__add", {"a": attempt, "b": 4}, Path("."))
            assert result.output == str(attempt + 4)
        assert rec.last("h").state == "ready"  # type: ignore[union-attr]


async def test_colliding_names_are_refused_and_never_shadow(make: Make) -> None:
    builtin = Builtin()
    with (
        McpHttpServer(only={"add", "echo", "do.thing", "do_thing"}) as fake,
        McpHttpServer(only={"_add"}) as x,
        McpHttpServer(only={"add"}) as x_,
    ):
        manager, rec, router = make(
            {"fake": {"url": fake.url}, "x": {"url": x.url}, "x_": {"url": x_.url}},
            router=ToolRouter([builtin]),
        )
        await manager.run()
        for name in ("fake", "x", "x_"):
            await rec.state(name, "ready")
        assert router.get("fake__add") is builtin  # the built-in stays
        assert {"fake__echo", "fake__do_thing", "x___add"} <= set(router.names())
        notices = " ".join(rec.notices())
        assert "add (fake__add is a built-in tool)" in notices
        assert "(fake__do_thing is already one of its tools)" in notices
        assert "belongs to MCP server" in notices  # x and x_ both want x___add
        owners = [s for s in ("x", "x_") if rec.last(s).tools]  # type: ignore[union-attr]
        assert len(owners) == 1
        result = await call(router, "x___add", {"a": 1, "b": 2}, Path("."))
        assert result.output == "3"


# ------------------------------------------------------------------- the whole loop


async def test_the_model_calls_an_mcp_tool_after_approval(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ml_intern_tui.runtime.agent import build_runtime

    events: list[EventBase] = []

    async def first(kind: str, where: Callable[[Any], bool] = lambda _e: True) -> Any:
        def found() -> bool:
            return any(getattr(e, "type", "") == kind and where(e) for e in events)

        await wait_until(found, 30, kind)
        return next(e for e in events if getattr(e, "type", "") == kind and where(e))

    with FakeOpenAI() as llm, McpHttpServer() as http:
        monkeypatch.setenv("VLLM_BASE_URL", llm.base_url)
        monkeypatch.setenv("VLLM_API_KEY", "sk-fake")
        llm.enqueue(
            Reply(text="Adding.", tool_calls=[("calc__add", json.dumps({"a": 2, "b": 3}))]),
            Reply(text="It is 5."),
        )
        settings = AppConfig.model_validate(
            {
                "model": "vllm/fake",
                "llm": {"max_retries": 0},
                "mcp": {"servers": {"calc": {"url": http.url}, "tasks": TASKS}},
            }
        )
        runtime = build_runtime(settings, cwd=tmp_path)
        runtime.bus.add_listener(events.append)
        task = asyncio.create_task(runtime.run())
        try:
            await first("ready")
            await first("mcp_status", lambda e: e.server == "calc" and e.state == "ready")
            await first("mcp_status", lambda e: e.server == "tasks" and e.state == "ready")
            runtime.submit(UserInput(text="what is 2+3?"))
            asked = await first("approval_required")
            item = asked.items[0]
            assert item.tool == "calc__add" and item.title == "MCP calc: add"
            assert '"a": 2' in item.details and "Server: calc (http" in item.details
            runtime.submit(
                Approval(decisions=[ApprovalDecision(call_id=item.call_id, approved=True)])
            )
            done = await first("turn_complete", lambda e: e.reason == "done")
            assert done.final_text == "It is 5."
            offered = [t["function"]["name"] for t in llm.requests[0].body["tools"]]
            assert {"calc__add", "tasks__add", "tasks__sweep"} <= set(offered)
            assert "tasks__train" not in offered  # task-only: listed in /mcp, never offered
            tool_messages = [m for m in llm.requests[1].body["messages"] if m["role"] == "tool"]
            assert tool_messages[-1]["content"] == "5"

            mark = len(events)
            runtime.submit(McpReconnect(server="calc"))  # handled beside the loop
            await wait_until(
                lambda: any(isinstance(e, McpStatus) and e.state == "ready" for e in events[mark:]),
                20,
                "reconnected",
            )
            assert not [e for e in events[mark:] if getattr(e, "type", "") == "error"]
        finally:
            from ml_intern_tui.core.protocol import Shutdown

            runtime.submit(Shutdown())
            await asyncio.wait_for(task, 20)
