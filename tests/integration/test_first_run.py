"""First run: a missing credential is named before the first message, ``/login``'s token
store goes through huggingface_hub, and a dumb terminal is sent to headless mode."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from fakes.http_server import FakeHTTPServer, FakeRequest, FakeResponse
from fakes.openai_server import FakeOpenAI, Reply

from ml_intern_tui.core.first_run import LoginError, missing_credentials, store_hf_token

TOKEN = "hf_" + "Zy9Xw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0Fe"


def no_hf(_env: object) -> bool:
    return False


def test_router_model_without_token_names_hf_token_and_the_fix() -> None:
    lines = missing_credentials(
        "Qwen/Qwen3-Coder-480B-A35B-Instruct", env={}, hf_token_present=no_hf
    )
    assert len(lines) == 1
    assert "Hugging Face token" in lines[0] and "HF_TOKEN" in lines[0] and "/login" in lines[0]
    assert missing_credentials("Qwen/Qwen3-Coder", env={"HF_TOKEN": "hf_x"}) == []


def test_provider_models_name_their_key() -> None:
    (line,) = missing_credentials("anthropic/claude-sonnet-4-5", env={})
    assert "ANTHROPIC_API_KEY" in line and "--model" in line
    (line,) = missing_credentials("gpt-4o", env={})
    assert "OPENAI_API_KEY" in line
    (line,) = missing_credentials("gemini/gemini-2.0-flash", env={})
    assert "GEMINI_API_KEY or GOOGLE_API_KEY" in line
    assert missing_credentials("gemini/gemini-2.0-flash", env={"GOOGLE_API_KEY": "k"}) == []
    assert missing_credentials("anthropic/claude-x", env={"ANTHROPIC_API_KEY": "k"}) == []


def test_local_scripted_and_bad_ids_need_nothing_said() -> None:
    for model in ("vllm/m", "ollama/llama3.1", "scripted/demo", "vllm/"):
        assert missing_credentials(model, env={}, hf_token_present=no_hf) == []


def test_headless_says_the_missing_key_on_stderr_before_the_run(tmp_path: Path) -> None:
    with FakeOpenAI() as fake:
        fake.enqueue(Reply(text="hi"))
        env = {
            **os.environ,
            "OPENAI_API_BASE": fake.base_url,
            "OPENAI_BASE_URL": fake.base_url,
            "ML_INTERN_LLM__MAX_RETRIES": "1",
        }
        env.pop("OPENAI_API_KEY", None)
        proc = subprocess.run(
            [sys.executable, "-m", "ml_intern_tui", "--model", "openai/gpt-4o", "-p", "hi"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=90,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    first = proc.stderr.splitlines()[0]
    assert first.startswith("ml-intern-tui: warning: no API key for openai/gpt-4o")
    assert "OPENAI_API_KEY" in first
    assert "Traceback" not in proc.stderr


def whoami_server() -> FakeHTTPServer:
    server = FakeHTTPServer()

    @server.route("GET", r"/api/whoami-v2")
    def whoami(req: FakeRequest) -> FakeResponse:
        if req.headers.get("authorization", req.headers.get("Authorization")) != f"Bearer {TOKEN}":
            return FakeResponse.error(401, "Invalid credentials in Authorization header")
        return FakeResponse.json(
            {
                "name": "tester",
                "type": "user",
                "orgs": [],
                "auth": {"accessToken": {"displayName": "t", "role": "write"}},
            }
        )

    return server


def login_in_subprocess(token: str, hub: str, home: Path) -> subprocess.CompletedProcess[str]:
    code = (
        "import sys\n"
        "from ml_intern_tui.core.first_run import LoginError, store_hf_token\n"
        "try:\n"
        f"    print(store_hf_token({token!r}))\n"
        "except LoginError as exc:\n"
        "    print('ERR', exc); sys.exit(2)\n"
    )
    env = {**os.environ, "HF_ENDPOINT": hub, "HF_HOME": str(home)}
    env.pop("HF_TOKEN", None)
    return subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_login_stores_the_token_through_huggingface_hub(tmp_path: Path) -> None:
    with whoami_server() as hub:
        proc = login_in_subprocess(TOKEN, hub.base_url, tmp_path / "hf")
        assert hub.calls("GET", r"/api/whoami-v2")
    assert proc.returncode == 0, proc.stderr
    assert "Logged in to the Hugging Face Hub as tester" in proc.stdout
    assert TOKEN not in proc.stdout + proc.stderr
    assert (tmp_path / "hf" / "token").read_text().strip() == TOKEN


def test_login_refused_token_is_one_line_and_nothing_stored(tmp_path: Path) -> None:
    with whoami_server() as hub:
        proc = login_in_subprocess("hf_" + "wrongwrongwrongwrongwrongwrong", hub.base_url, tmp_path)
    assert proc.returncode == 2
    assert proc.stdout.startswith("ERR the Hub refused this token (401)")
    assert not (tmp_path / "token").exists()


@pytest.mark.parametrize("bad", ["", "not a token", "ghp_abcdef", "hf_\x1b[2J"])
def test_login_rejects_what_is_not_a_token_without_the_network(bad: str) -> None:
    with pytest.raises(LoginError):
        store_hf_token(bad, endpoint="http://127.0.0.1:9")


def run_on_a_pty(env: dict[str, str], tmp_path: Path) -> tuple[int, str]:
    """The command with stdin and stdout on a pseudo-terminal (stderr captured)."""
    main_fd, child_fd = pty.openpty()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "ml_intern_tui", "--demo"],
            cwd=tmp_path,
            env=env,
            stdin=child_fd,
            stdout=child_fd,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        os.close(child_fd)
        os.close(main_fd)
    return proc.returncode, proc.stderr


@pytest.mark.parametrize("term", ["dumb", "unknown"])
def test_dumb_terminal_is_sent_to_headless_mode_exit_2(tmp_path: Path, term: str) -> None:
    code, err = run_on_a_pty({**os.environ, "TERM": term}, tmp_path)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and f"TERM={term}" in lines[0] and "-p" in lines[0]


def test_no_terminal_is_sent_to_headless_mode_exit_2(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "ml_intern_tui", "--demo"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "needs a terminal" in lines[0] and "-p" in lines[0]
    assert proc.stdout == ""
