"""Headless runs wait for the configured MCP servers before the first prompt.

Real fastmcp stdio servers (``fakes/mcp_servers.py``), the real runtime and the fake
OpenAI server: the model's very first reply calls an MCP tool, which only works when
the server's tools were on the router before the prompt went out.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from fakes.mcp_servers import stdio_args
from fakes.openai_server import FakeOpenAI, Reply

from ml_intern_tui import headless
from ml_intern_tui.config.schema import AppConfig
from ml_intern_tui.core.protocol import event_from_json
from ml_intern_tui.headless import _run
from ml_intern_tui.runtime.agent import build_runtime

FAST_LLM = {"ML_INTERN_LLM__MAX_RETRIES": "1", "ML_INTERN_LLM__RETRY_BASE_DELAY_S": "0.01"}


def cli(
    args: list[str], *, cwd: Path, env: dict[str, str], timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """The real command, as a script runs it (no terminal anywhere)."""
    return subprocess.run(
        [sys.executable, "-m", "ml_intern_tui.cli", *args],
        cwd=cwd,
        env={**os.environ, **FAST_LLM, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def settings_with(servers: dict[str, dict[str, Any]]) -> AppConfig:
    return AppConfig.model_validate(
        {
            "model": "vllm/fake",
            "mcp": {"servers": servers},
            "llm": {"max_retries": 1, "retry_base_delay_s": 0.01},
        }
    )


def tool_names(fake: FakeOpenAI, request: int) -> set[str]:
    body = fake.requests[request].body
    return {t["function"]["name"] for t in body.get("tools") or []}


def write_project_config(cwd: Path, servers: dict[str, dict[str, Any]]) -> None:
    """``.ml-intern/config.toml`` with ``[mcp.servers.NAME]`` tables (JSON values are TOML).

    MCP servers need the project to be trusted: the runs here pass ``--trust-project``.
    """
    lines = []
    for name, table in servers.items():
        lines.append(f"[mcp.servers.{name}]")
        lines.extend(f"{key} = {json.dumps(value)}" for key, value in table.items())
    (cwd / ".ml-intern").mkdir()
    (cwd / ".ml-intern" / "config.toml").write_text("\n".join(lines) + "\n")


class Terminal(io.StringIO):
    """stderr as a person's terminal: status lines are shown."""

    def isatty(self) -> bool:
        return True


def slow_calc(sleep_s: float = 1.5, **extra: Any) -> dict[str, Any]:
    """A trusted stdio server with ``add`` that takes ``sleep_s`` before it answers at all."""
    args = stdio_args("--tools", "add", "--sleep-first", str(sleep_s))
    return {"command": sys.executable, "args": args, "trusted": True, **extra}


@pytest.mark.slow
def test_a_one_shot_run_can_call_a_slow_mcp_servers_tool_in_its_first_turn(
    tmp_path: Path,
) -> None:
    write_project_config(tmp_path, {"calc": slow_calc()})
    with FakeOpenAI() as fake:
        fake.enqueue(
            Reply(text="", tool_calls=[("calc__add", json.dumps({"a": 2, "b": 3}))]),
            Reply(text="The sum is 5."),
        )
        proc = cli(
            ["--model", "vllm/m", "-p", "add 2 and 3", "--json", "--trust-project"],
            cwd=tmp_path,
            env={"VLLM_BASE_URL": fake.base_url},
            timeout=90,
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert "calc__add" in tool_names(fake, 0)  # on the router before the first call
    events = [event_from_json(line) for line in proc.stdout.splitlines() if line.strip()]
    statuses = [e.state for e in events if e.type == "mcp_status"]
    assert statuses[-1] == "ready"
    first_turn = next(i for i, e in enumerate(events) if e.type == "turn_started")
    assert "ready" in statuses and [e.type for e in events[:first_turn]].count("mcp_status") >= 2
    [result] = [e for e in events if e.type == "tool_result"]
    assert result.ok and result.output == "5"
    assert [e for e in events if e.type == "turn_complete"][-1].final_text == "The sum is 5."
    assert proc.stderr.strip() == ""  # nothing to say on a non-terminal stderr


def test_a_server_that_fails_is_one_warning_and_the_run_goes_on(tmp_path: Path) -> None:
    write_project_config(tmp_path, {"broken": {"command": "no-such-mcp-server-xyz"}})
    with FakeOpenAI() as fake:
        fake.enqueue(Reply(text="Hello without MCP."))
        proc = cli(
            ["--model", "vllm/m", "-p", "hi", "--trust-project"],
            cwd=tmp_path,
            env={"VLLM_BASE_URL": fake.base_url},
        )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "Hello without MCP."
    assert proc.stderr.splitlines() == [
        "ml-intern-tui: warning: MCP server 'broken' failed: command not found: "
        "no-such-mcp-server-xyz; going on without its tools"
    ]


async def test_on_a_terminal_one_status_line_then_one_warning_per_failed_server(
    fake_openai: FakeOpenAI, workspace: Path
) -> None:
    fake_openai.enqueue(
        Reply(text="", tool_calls=[("calc__add", json.dumps({"a": 20, "b": 22}))]),
        Reply(text="It is 42."),
    )
    settings = settings_with({"calc": slow_calc(1.0), "broken": {"command": "no-such-mcp-server"}})
    out, err = io.StringIO(), Terminal()
    code = await _run(build_runtime(settings, cwd=workspace), "what is 20+22?", False, out, err)
    assert code == 0, err.getvalue()
    assert "calc__add" in tool_names(fake_openai, 0)
    assert "✓ 42" in err.getvalue() and out.getvalue() == "It is 42.\n"
    lines = err.getvalue().splitlines()
    waiting = [line for line in lines if line.startswith("· waiting for MCP servers")]
    assert len(waiting) == 1 and waiting[0].endswith("(up to 60s)")
    assert "calc" in waiting[0]  # ("broken" too, unless it failed before the wait began)
    warnings = [line for line in lines if "broken" in line and "waiting" not in line]
    assert warnings == [
        "ml-intern-tui: warning: MCP server 'broken' failed: command not found: "
        "no-such-mcp-server; going on without its tools"
    ]  # the app's notice about it ("press r in /mcp") is not repeated here
    assert sorted(line for line in lines if "MCP" in line) == sorted([*waiting, *warnings])
    assert not any("/mcp" in line for line in lines)


async def test_the_wait_is_capped_and_a_server_still_starting_is_one_warning(
    fake_openai: FakeOpenAI, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(headless, "MCP_WAIT_CAP_S", 1.5)
    fake_openai.enqueue(Reply(text="Answered without the tool."))
    settings = settings_with({"sleepy": slow_calc(100.0)})
    out, err = io.StringIO(), io.StringIO()
    started = time.monotonic()
    code = await _run(build_runtime(settings, cwd=workspace), "hi", False, out, err)
    assert code == 0, err.getvalue()
    assert 1.4 < time.monotonic() - started < 20
    assert "sleepy__add" not in tool_names(fake_openai, 0)
    assert out.getvalue().strip() == "Answered without the tool."
    assert err.getvalue().splitlines() == [
        "ml-intern-tui: warning: MCP server 'sleepy' is not ready after 1.5s; going on "
        "without its tools for now"
    ]


async def test_without_mcp_servers_the_prompt_goes_out_at_once(
    fake_openai: FakeOpenAI, workspace: Path
) -> None:
    fake_openai.enqueue(Reply(text="quick"))
    settings = settings_with({})
    err = Terminal()
    out = io.StringIO()
    assert await _run(build_runtime(settings, cwd=workspace), "hi", False, out, err) == 0
    assert "MCP" not in err.getvalue() and out.getvalue().strip() == "quick"
