"""Scripting conventions of headless runs: piped stdin, ``-p -``, stdout holds only the
answer, ``python -m ml_intern_tui`` — through the real command in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from fakes.openai_server import FakeOpenAI, Reply

from ml_intern_tui.stdin_prompt import MAX_STDIN_BYTES, fence, with_piped_input


def run(
    args: list[str],
    cwd: Path,
    fake: FakeOpenAI,
    *,
    stdin: bytes | None = None,
    module: str = "ml_intern_tui.cli",
) -> subprocess.CompletedProcess[bytes]:
    env = {
        **os.environ,
        "VLLM_BASE_URL": fake.base_url,
        "ML_INTERN_LLM__MAX_RETRIES": "1",
    }
    return subprocess.run(
        [sys.executable, "-m", module, "--model", "vllm/m", *args],
        cwd=cwd,
        env=env,
        input=stdin if stdin is not None else None,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        timeout=90,
        check=False,
    )


def user_text(fake: FakeOpenAI) -> str:
    messages = fake.requests[0].body["messages"]
    return str([m for m in messages if m["role"] == "user"][-1]["content"])


def test_piped_stdin_is_appended_to_the_prompt_as_a_fenced_block(tmp_path: Path) -> None:
    with FakeOpenAI() as fake:
        fake.enqueue(Reply(text="It says hello."))
        proc = run(["-p", "summarize"], tmp_path, fake, stdin=b"hello from a pipe\n")
        assert proc.returncode == 0, proc.stderr.decode()
        text = user_text(fake)
    assert text.startswith("summarize\n")
    assert "```\nhello from a pipe\n```" in text
    assert proc.stdout.decode().strip() == "It says hello."


def test_dash_reads_the_prompt_from_stdin_and_is_never_prompt_text(tmp_path: Path) -> None:
    with FakeOpenAI() as fake:
        fake.enqueue(Reply(text="ok"), Reply(text="ok"))
        proc = run(["-p", "-"], tmp_path, fake, stdin=b"what is 2+2?\n")
        assert proc.returncode == 0, proc.stderr.decode()
        assert user_text(fake) == "what is 2+2?"
        positional = run(["-"], tmp_path, fake, stdin=b"and 3+3?")
        assert positional.returncode == 0, positional.stderr.decode()
        last = [m for m in fake.requests[1].body["messages"] if m["role"] == "user"][-1]
        assert last["content"] == "and 3+3?"


def test_dash_with_nothing_piped_is_one_line_exit_2(tmp_path: Path) -> None:
    with FakeOpenAI() as fake:
        proc = run(["-p", "-"], tmp_path, fake)
        assert fake.requests_count == 0
    err = proc.stderr.decode()
    assert proc.returncode == 2 and len(err.strip().splitlines()) == 1
    assert "nothing is piped" in err and "Traceback" not in err


def test_binary_stdin_is_refused_with_one_line(tmp_path: Path) -> None:
    with FakeOpenAI() as fake:
        proc = run(["-p", "look"], tmp_path, fake, stdin=b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR")
        assert fake.requests_count == 0
    err = proc.stderr.decode()
    assert proc.returncode == 2 and len(err.strip().splitlines()) == 1
    assert "binary" in err and "Traceback" not in err


def test_huge_stdin_is_capped_with_a_notice(tmp_path: Path) -> None:
    big = ("é" * 1000 + "\n") * ((MAX_STDIN_BYTES // 2000) + 50)  # over the cap, 2-byte chars
    with FakeOpenAI() as fake:
        fake.enqueue(Reply(text="long"))
        proc = run(["-p", "count"], tmp_path, fake, stdin=big.encode())
        assert proc.returncode == 0, proc.stderr.decode()
        text = user_text(fake)
    assert "KiB" in proc.stderr.decode() and "first" in proc.stderr.decode()
    assert len(text.encode()) < MAX_STDIN_BYTES + 200  # cut, and no broken character
    assert text.count("é") < big.count("é")


def test_tool_lines_go_to_stderr_the_answer_alone_to_stdout(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("the answer is 42\n")
    with FakeOpenAI() as fake:
        fake.enqueue(
            Reply(text="", tool_calls=[("read", json.dumps({"path": "notes.txt"}))]),
            Reply(text="The notes say 42."),
        )
        proc = run(["--mode", "auto", "-p", "read notes.txt"], tmp_path, fake)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout.decode() == "The notes say 42.\n"
    err = proc.stderr.decode()
    assert "▸ read  notes.txt" in err and "✓" in err


def test_json_mode_is_unchanged_everything_on_stdout(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("x\n")
    with FakeOpenAI() as fake:
        fake.enqueue(
            Reply(text="", tool_calls=[("read", json.dumps({"path": "notes.txt"}))]),
            Reply(text="done"),
        )
        proc = run(["--mode", "auto", "--json", "-p", "go"], tmp_path, fake)
    assert proc.returncode == 0, proc.stderr.decode()
    kinds = [json.loads(line)["type"] for line in proc.stdout.decode().splitlines()]
    assert "tool_call" in kinds and "tool_result" in kinds and "turn_complete" in kinds
    assert "▸" not in proc.stderr.decode()


def test_python_dash_m_package_runs_the_cli(tmp_path: Path) -> None:
    with FakeOpenAI() as fake:
        fake.enqueue(Reply(text="from python -m"))
        proc = run(["-p", "hi"], tmp_path, fake, module="ml_intern_tui")
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout.decode().strip() == "from python -m"


def test_fence_outgrows_backticks_inside_the_input() -> None:
    text = "see:\n```python\nx = 1\n```\n"
    block = fence(text)
    assert block.startswith("````\n") and block.endswith("\n````")
    assert with_piped_input("p", "   \n") == "p"
