"""Auto mode end to end with the OS sandbox: a fake model sends the attacks, the real runtime
runs them (litellm, HTTP, loop, policy, bash in bubblewrap).

In ``auto``, ``touch /outside/x`` must fail inside the sandbox with no file appearing, a
connection to a local port must fail (or ask, when the call says it needs the network),
and no secret of the app's environment may reach the model. Where bubblewrap is missing
or broken, the app says so once and auto asks for every command that is not read-only.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes.openai_server import FakeOpenAI, Reply

from ml_intern_tui.core.protocol import UserInput
from ml_intern_tui.safety.sandbox import detect


@pytest.fixture
def bwrap() -> None:
    found = detect()
    if found.problem is not None:
        pytest.skip(f"no working bubblewrap here: {found.problem}")


@pytest.fixture
def broken_bwrap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A ``bwrap`` first on PATH that cannot start a sandbox (as in a locked-down container).

    Outside the directory the app runs in: a ``bwrap`` found inside the project is never
    used (it would be the sandbox itself)."""
    bin_dir = tmp_path.parent / f"{tmp_path.name}-system-bin"
    bin_dir.mkdir()
    script = bin_dir / "bwrap"
    script.write_text("#!/bin/sh\necho 'bwrap: Creating new namespace failed: nope' >&2\nexit 1\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return str(bin_dir)


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    yield server
    server.close()


def bash_call(command: str, **flags: bool) -> Reply:
    return Reply(text="", tool_calls=[("bash", json.dumps({"command": command, **flags}))])


def connect(port: int) -> str:
    return (
        "python3 -c \"import socket; socket.create_connection(('127.0.0.1', "
        f"{port}), timeout=3); print('CONNECTED')\""
    )


def tool_outputs(fake: FakeOpenAI, request: int) -> list[str]:
    body = fake.requests[request].body
    return [m["content"] for m in body["messages"] if m["role"] == "tool"]


async def test_auto_contains_writes_outside_and_keeps_the_network_off(
    bwrap: None, fake_openai: FakeOpenAI, harness_factory, listener: socket.socket
) -> None:
    outside = Path("/") / f"ml-intern-e2e-{uuid.uuid4().hex[:8]}"
    port = listener.getsockname()[1]
    fake_openai.enqueue(
        bash_call(f"touch {outside}/x || touch {outside}; mkdir -p {outside}"),
        bash_call(connect(port)),
        Reply(text="done"),
    )
    try:
        h = await harness_factory(mode="auto")
        h.submit(UserInput(text="go"))
        done = await h.wait_for("turn_complete")
        assert done.reason == "done" and not h.of("approval_required")
        assert not outside.exists()
        first = tool_outputs(fake_openai, 1)[0]
        assert "Read-only file system" in first and "outside_sandbox=true" in first
        second = tool_outputs(fake_openai, 2)[-1]
        assert "CONNECTED" not in second and "[ran in the sandbox · no network]" in second
        with pytest.raises(TimeoutError):
            listener.accept()
    finally:
        if outside.is_dir():
            outside.rmdir()
        outside.unlink(missing_ok=True)


async def test_auto_asks_before_granting_the_network(
    bwrap: None, fake_openai: FakeOpenAI, harness_factory, listener: socket.socket
) -> None:
    fake_openai.enqueue(bash_call(connect(listener.getsockname()[1]), network=True))
    h = await harness_factory(mode="auto")
    h.submit(UserInput(text="download it"))
    asked = await h.wait_for("approval_required")
    item = asked.items[0]
    assert "needs the network" in (item.blocked_reason or "")
    assert "runs in the sandbox · network on" in item.details


async def test_no_secret_reaches_the_model_through_the_shell(
    bwrap: None, fake_openai: FakeOpenAI, harness_factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = "hf_" + "S3cr3tValueForTheTest0123456789"
    key = "sk-proj-" + "AnotherS3cretValue9876543210abc"
    monkeypatch.setenv("HF_TOKEN", token)
    monkeypatch.setenv("OPENAI_API_KEY", key)
    fake_openai.enqueue(
        bash_call("env; cat /proc/self/environ; cat /proc/$PPID/environ; ps eww"),
        Reply(text="done"),
    )
    h = await harness_factory(mode="auto")
    h.submit(UserInput(text="show me the environment"))
    await h.wait_for("turn_complete")
    sent = json.dumps(fake_openai.requests[1].body)
    assert "PATH=" in sent  # the command ran and its output went to the model
    assert token not in sent and key not in sent


async def test_without_bubblewrap_auto_says_so_once_and_asks(
    broken_bwrap: str, fake_openai: FakeOpenAI, harness_factory, workspace: Path
) -> None:
    fake_openai.enqueue(bash_call("ls"), bash_call("touch made.txt"))
    h = await harness_factory(mode="auto")
    status = await h.wait_for("sandbox_status")
    assert not status.active and "Creating new namespace failed" in (status.problem or "")
    notice = await h.wait_for("notice", lambda n: n.text.startswith("No OS sandbox:"))
    assert notice.level == "warning" and "auto mode asks" in notice.text
    h.submit(UserInput(text="go"))
    asked = await h.wait_for("approval_required")
    assert "no OS sandbox here" in (asked.items[0].blocked_reason or "")
    assert not (workspace / "made.txt").exists()
    ls_results = [r for r in h.of("tool_result") if r.ok]
    assert ls_results and "OUTSIDE the sandbox" in ls_results[0].summary  # read-only ran
    warnings = [n for n in h.of("notice") if n.text.startswith("No OS sandbox:")]
    assert len(warnings) == 1


def test_headless_prints_the_missing_sandbox_on_stderr_and_stops(
    broken_bwrap: str, tmp_path: Path
) -> None:
    with FakeOpenAI() as fake:
        fake.enqueue(bash_call("touch made.txt"))
        env = {
            **os.environ,
            "VLLM_BASE_URL": fake.base_url,
            "ML_INTERN_LLM__MAX_RETRIES": "1",
            "ML_INTERN_SCRIPTED_DELAY": "0",
        }
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "ml_intern_tui.cli",
                "--model",
                "vllm/m",
                "-p",
                "go",
                "--mode",
                "auto",
            ],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    assert proc.returncode == 3, proc.stderr
    warnings = [line for line in proc.stderr.splitlines() if line.startswith("ml-intern-tui: warn")]
    assert len(warnings) == 1 and warnings[0].startswith("ml-intern-tui: warning: no OS sandbox")
    assert "stopped: bash needs approval" in proc.stderr
    assert not (tmp_path / "made.txt").exists()
