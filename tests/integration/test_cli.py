"""The real ``ml-intern-tui`` command in a subprocess: headless runs, exit codes, crash safety."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fakes.openai_server import FakeOpenAI, Reply

from ml_intern_tui.core.protocol import event_from_json


def cli(
    args: list[str], *, cwd: Path, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "ML_INTERN_SCRIPTED_DELAY": "0", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "ml_intern_tui.cli", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def events_of(stdout: str) -> list:
    return [event_from_json(line) for line in stdout.splitlines() if line.strip()]


def fast_llm_env() -> dict[str, str]:
    return {"ML_INTERN_LLM__MAX_RETRIES": "1", "ML_INTERN_LLM__RETRY_BASE_DELAY_S": "0.01"}


def test_demo_headless_auto_runs_real_tools(tmp_path: Path) -> None:
    proc = cli(["--demo", "-p", "go", "--mode", "auto", "--json"], cwd=tmp_path, timeout=90)
    assert proc.returncode == 0, proc.stderr[-2000:]
    events = events_of(proc.stdout)
    kinds = [e.type for e in events]
    bash_calls = {e.call_id for e in events if e.type == "tool_call" and e.tool == "bash"}
    assert bash_calls
    assert any(e.type == "tool_result" and e.call_id in bash_calls and e.ok for e in events)
    assert "plan_updated" in kinds and "job_log" in kinds
    final = [e for e in events if e.type == "turn_complete"][-1]
    assert final.reason == "done" and "validation accuracy" in final.final_text
    assert kinds[-1] == "shutdown"


def test_demo_in_ask_mode_stops_for_the_approval_with_exit_3(tmp_path: Path) -> None:
    proc = cli(["--demo", "-p", "go", "--mode", "ask"], cwd=tmp_path, timeout=90)
    assert proc.returncode == 3, proc.stderr[-2000:]
    assert "bash needs approval" in proc.stderr and "python3 train.py" in proc.stderr


def test_vllm_model_streams_through_the_fake_server(tmp_path: Path) -> None:
    with FakeOpenAI() as fake:
        fake.enqueue(Reply(text="Hello from the local model.", chunks=5))
        proc = cli(
            ["--model", "vllm/some-model", "-p", "hi", "--json"],
            cwd=tmp_path,
            env={"VLLM_BASE_URL": fake.base_url},
        )
        assert proc.returncode == 0, proc.stderr
        events = events_of(proc.stdout)
        deltas = [e.text for e in events if e.type == "assistant_delta"]
        assert len(deltas) >= 3 and "".join(deltas) == "Hello from the local model."
        assert fake.requests[0].body["model"] == "some-model"
        assert fake.requests[0].body["stream"] is True


def test_unreachable_local_server_is_one_clear_line_and_exit_1(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = cli(
        ["--model", "vllm/some-model", "-p", "hi"],
        cwd=tmp_path,
        env={"VLLM_BASE_URL": f"http://127.0.0.1:{port}/v1", **fast_llm_env()},
    )
    assert proc.returncode == 1
    lines = [line for line in proc.stderr.splitlines() if line.startswith("ml-intern-tui:")]
    assert len(lines) == 1 and "127.0.0.1" in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr


def test_config_with_wrong_type_exits_2_naming_the_key(tmp_path: Path) -> None:
    (tmp_path / ".ml-intern").mkdir()
    (tmp_path / ".ml-intern" / "config.toml").write_text('max_iterations = "lots"\n')
    proc = cli(["-p", "hi"], cwd=tmp_path)
    assert proc.returncode == 2
    assert "max_iterations" in proc.stderr and "config.toml" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


def test_bad_flag_and_bad_model_exit_2(tmp_path: Path) -> None:
    assert cli(["--budget", "lots", "-p", "x"], cwd=tmp_path).returncode == 2
    proc = cli(["--model", "vllm/", "-p", "x"], cwd=tmp_path)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1


def test_help_and_version(tmp_path: Path) -> None:
    help_proc = cli(["--help"], cwd=tmp_path)
    assert help_proc.returncode == 0 and "exit codes" in help_proc.stdout
    version = cli(["--version"], cwd=tmp_path)
    assert version.returncode == 0 and version.stdout.startswith("ml-intern-tui ")


@pytest.mark.slow
def test_sigkill_mid_turn_then_resume_keeps_completed_messages(tmp_path: Path) -> None:
    """Every message completed before a SIGKILL is in the resumed session's history."""
    env = {**os.environ, "ML_INTERN_SCRIPTED_DELAY": "0"}
    with FakeOpenAI() as fake:
        env["VLLM_BASE_URL"] = fake.base_url
        fake.enqueue(
            Reply(
                text="Checking first.",
                tool_calls=[("bash", json.dumps({"command": "echo marker-42"}))],
            ),
            Reply(text="this reply never finishes", chunks=5, hang_after=2),
        )
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ml_intern_tui.cli",
                "--model",
                "vllm/m",
                "-p",
                "remember me",
                "--mode",
                "auto",
            ],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
        )
        try:
            assert fake.hanging.wait(60), "the second model call never started"
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
        finally:
            if proc.poll() is None:
                proc.kill()
        fake.release()
        fake.enqueue(Reply(text="Resumed and ready."))
        start = time.monotonic()
        resumed = cli(
            ["--model", "vllm/m", "--resume", "last", "-p", "what did you find?", "--json"],
            cwd=tmp_path,
            env={"VLLM_BASE_URL": fake.base_url},
        )
        assert resumed.returncode == 0, resumed.stderr
        assert time.monotonic() - start < 60
        history = fake.requests[-1].body["messages"]
        contents = [str(m.get("content")) for m in history]
        assert any(c == "remember me" for c in contents)
        assert any("Checking first." in c for c in contents)
        assert any("marker-42" in c for c in contents if c)
        assert contents[-1] == "what did you find?"
        ready = next(e for e in events_of(resumed.stdout) if e.type == "ready")
        assert ready.resumed and ready.messages >= 3  # user, assistant+tool call, tool result


def test_resume_of_an_unknown_session_is_a_usage_error(tmp_path: Path) -> None:
    proc = cli(["--resume", "nosuch", "-p", "hi"], cwd=tmp_path)
    assert proc.returncode == 2
    assert "no session 'nosuch'" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_list_sessions_shows_a_finished_demo_run(tmp_path: Path) -> None:
    assert cli(["--demo", "-p", "go", "--mode", "auto"], cwd=tmp_path, timeout=90).returncode == 0
    listing = cli(["--list-sessions", "--all"], cwd=tmp_path)  # demo sessions: only with --all
    assert listing.returncode == 0
    assert "scripted/demo" in listing.stdout and " go" in listing.stdout
