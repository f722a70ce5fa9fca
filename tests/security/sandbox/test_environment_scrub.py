"""Secrets in the app's environment never reach a tool: shell, background jobs, MCP servers.

Found in the audit: ``cat /proc/self/environ`` ran unasked and put the real ``HF_TOKEN`` and
``OPENAI_API_KEY`` into the request sent to the model. These tests set secrets in the
test's environment, run what the model would run, and look for them in what comes back.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from fakes.mcp_servers import stdio_args
from sandboxing import bash, make_ctx
from support import wait_until

from ml_intern_tui.config.schema import AppConfig, McpServerConfig
from ml_intern_tui.core.protocol import EventBase, McpStatus
from ml_intern_tui.core.tool import SessionState, ToolContext, ToolRouter, parse_arguments
from ml_intern_tui.jobs.registry import JobRegistry
from ml_intern_tui.safety.environment import (
    inherited_environment,
    is_secret_name,
    looks_like_secret,
    pass_env_problem,
    tool_environment,
    withheld_names,
)
from ml_intern_tui.safety.sandbox import Sandbox
from ml_intern_tui.services.mcp import McpManager
from ml_intern_tui.tools.bash import BashTool
from ml_intern_tui.tools.mcp_tool import McpTool

SECRETS = {
    "HF_TOKEN": "hf_" + "Q7w9E2r4T6y8U1i3O5p0" * 2,
    "OPENAI_API_KEY": "sk-proj-" + "Zx8Cv7Bn6Mm5Ll4Kk3Jj2Hh1" * 2,
    "ANTHROPIC_API_KEY": "sk-ant-api03-" + "Aa1Bb2Cc3Dd4Ee5Ff6Gg7" * 2,
    "GITHUB_TOKEN": "ghp_" + "R4nd0mT0k3nV4lu3Xy7Zq" * 2,
    "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY42",
    "SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T000/B000/XXXXsecretXXXX",
    "MY_DB_PASSWORD": "correct horse battery staple",
    "INNOCENT_LOOKING": "xoxb-" + "123456789012-abcdefghijklmnop",
    "DATABASE_MIRROR": "postgres://ml:s3cr3tpassw0rd@db.internal:5432/runs",
    "ML_INTERN_MODE": "yolo",
}
NEEDLES = [
    "Q7w9E2r4",
    "Zx8Cv7Bn",
    "Aa1Bb2Cc",
    "R4nd0mT0k3n",
    "wJalrXUtn",
    "XXXXsecretXXXX",
    "battery staple",
    "abcdefghijklmnop",
    "s3cr3tpassw0rd",
    "ML_INTERN_MODE",
]


@pytest.fixture
def secret_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("WANDB_API_KEY", "wandb-passed-on-purpose-0123456789")
    monkeypatch.setenv("ORDINARY_SETTING", "keep-me")


def _leaks(text: str) -> list[str]:
    return [needle for needle in NEEDLES if needle in text]


@pytest.mark.parametrize(
    "name",
    [
        "HF_TOKEN",
        "HUGGING_FACE_HUB_TOKEN",
        "OPENAI_API_KEY",
        "ANTHROPIC_API_KEY",
        "GH_TOKEN",
        "AWS_SESSION_TOKEN",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "WANDB_API_KEY",
        "SLACK_CHANNEL",
        "SLACK_BOT_TOKEN",
        "STRIPE_APIKEY",
        "DB_PASSWORD",
        "SMTP_PASSWD",
        "SMTP_PASS",
        "GOOGLE_APPLICATION_CREDENTIALS",
        "CLIENT_SECRET",
        "SIGNING_KEY",
        "NGROK_AUTHTOKEN",
        "SENTRY_DSN",
        "SSH_AUTH_SOCK",
        "GIT_ASKPASS",
        "ML_INTERN_BUDGET_USD",
        "hf_token",
    ],
)
def test_secret_names_are_recognised(name: str) -> None:
    assert is_secret_name(name)


@pytest.mark.parametrize(
    "name",
    [
        "PATH",
        "HOME",
        "PWD",
        "OLDPWD",
        "USER",
        "LANG",
        "TERM",
        "SHELL",
        "CUDA_VISIBLE_DEVICES",
        "TOKENIZERS_PARALLELISM",
        "HF_HOME",
        "HF_HUB_CACHE",
        "HF_ENDPOINT",
        "PYTHONPATH",
        "VIRTUAL_ENV",
        "LD_LIBRARY_PATH",
        "KEYBOARD_LAYOUT",
        "MONKEY_PATCH",
        "XDG_RUNTIME_DIR",
        "NCCL_DEBUG",
    ],
)
def test_ordinary_names_pass(name: str) -> None:
    assert not is_secret_name(name)


def test_values_that_look_like_tokens_are_withheld_whatever_their_name() -> None:
    for name in ("INNOCENT_LOOKING", "DATABASE_MIRROR", "HF_TOKEN"):
        assert looks_like_secret(SECRETS[name])
    for value in ("/usr/local/bin:/usr/bin", "1", "", "en_US.UTF-8", "https://huggingface.co"):
        assert not looks_like_secret(value)


def test_tool_environment_keeps_ordinary_variables_and_passes_named_ones() -> None:
    env = {**SECRETS, "PATH": "/usr/bin", "WANDB_API_KEY": "w" * 40, "WANDB_ENTITY": "me"}
    scrubbed = tool_environment(env, extra={"PYTHONUNBUFFERED": "1"})
    assert scrubbed == {"PATH": "/usr/bin", "WANDB_ENTITY": "me", "PYTHONUNBUFFERED": "1"}
    passed = tool_environment(env, pass_env=["WANDB_*", "HF_TOKEN"])
    assert passed["WANDB_API_KEY"] == "w" * 40 and passed["HF_TOKEN"] == SECRETS["HF_TOKEN"]
    assert "OPENAI_API_KEY" not in passed
    assert "HF_TOKEN" in withheld_names(env) and "PATH" not in withheld_names(env)


def test_inherited_environment_blanks_what_a_library_would_add_back() -> None:
    env = {"HOME": "/home/me", "LOGNAME": SECRETS["GITHUB_TOKEN"], "PATH": "/bin"}
    assert inherited_environment(["HOME", "LOGNAME", "PATH", "USER"], env) == {
        "HOME": "/home/me",
        "LOGNAME": "",
        "PATH": "/bin",
    }


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ("", "empty name"),
        ("   ", "empty name"),
        ("*", "every secret"),
        ("**", "every secret"),
        ("?*", "every secret"),
        ("A B", "not a variable name"),
        ("$(id)", "not a variable name"),
    ],
)
def test_pass_env_refuses_entries_that_pass_everything_or_nothing(entry: str, problem: str) -> None:
    assert problem in (pass_env_problem(entry) or "")
    with pytest.raises(ValueError, match=r"tools\.bash\.pass_env"):
        AppConfig.model_validate({"tools": {"bash": {"pass_env": [entry]}}})
    assert pass_env_problem("WANDB_*") is None and pass_env_problem("MY_VAR") is None


READ_ENV = "env; echo ---; cat /proc/self/environ | tr '\\000' '\\n'; echo; ps eww 2>/dev/null"


async def test_shell_commands_see_no_secret_unsandboxed(
    secret_env: None, project: Path, tmp_path: Path
) -> None:
    ctx = make_ctx(project, None)
    result = await bash(ctx, BashTool(pass_env=["WANDB_API_KEY"]), command=READ_ENV)
    assert _leaks(result.output) == []
    assert "ORDINARY_SETTING=keep-me" in result.output
    assert "WANDB_API_KEY=wandb-passed-on-purpose" in result.output


async def test_shell_commands_see_no_secret_in_the_sandbox(
    secret_env: None, ctx: ToolContext
) -> None:
    result = await bash(ctx, BashTool(pass_env=["WANDB_API_KEY"]), command=READ_ENV)
    assert _leaks(result.output) == []
    assert "ORDINARY_SETTING=keep-me" in result.output and "TMPDIR=/tmp" in result.output
    assert "WANDB_API_KEY=wandb-passed-on-purpose" in result.output


async def test_background_jobs_see_no_secret(
    secret_env: None, project: Path, tmp_path: Path
) -> None:
    registry = JobRegistry(lambda _e: None, tmp_path / "logs", batch_interval_s=0.05)
    try:
        record = await registry.start_local(READ_ENV, project, title="env")
        await registry.wait(record.id, 10)
        log = record.log_path.read_text() if record.log_path else ""
    finally:
        await registry.shutdown()
    assert "ORDINARY_SETTING=keep-me" in log
    assert _leaks(log) == []


async def test_stdio_mcp_servers_inherit_no_secret(
    secret_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOGNAME", SECRETS["GITHUB_TOKEN"])  # a value the SDK passes by default
    router = ToolRouter()
    events: list[EventBase] = []
    cfg = McpServerConfig.model_validate(
        {"command": sys.executable, "args": stdio_args(), "env": {"CHOSEN": "by-the-user"}}
    )
    manager = McpManager(
        {"fake": cfg},
        router=router,
        tool_factory=McpTool.create,
        publish=events.append,
        cwd=tmp_path,
        log_dir=tmp_path / "mcp",
        hf_token=lambda: None,
        hub_endpoint="https://huggingface.co",
    )
    try:
        await manager.run()
        await wait_until(
            lambda: any(isinstance(e, McpStatus) and e.state == "ready" for e in events), 30
        )
        tool = router.get("fake__env")
        assert tool is not None
        ctx = ToolContext("c", "s", tmp_path, SessionState(), publish=lambda _e: None)
        seen = {}
        for name in ("LOGNAME", "HF_TOKEN", "OPENAI_API_KEY", "CHOSEN", "PATH"):
            result = await tool.run(parse_arguments(tool, {"name": name}), ctx)
            seen[name] = result.output
    finally:
        await manager.aclose()
    assert "R4nd0mT0k3n" not in seen["LOGNAME"]
    assert _leaks(" ".join(seen.values())) == []
    assert seen["CHOSEN"] == "by-the-user" and "/" in seen["PATH"]


def test_sandbox_config_defaults_and_paths(tmp_path: Path) -> None:
    cfg = AppConfig().sandbox
    assert (cfg.mode, cfg.network, cfg.writable_paths) == ("auto", "ask", [])
    sandbox = Sandbox.from_config(
        AppConfig.model_validate({"sandbox": {"writable_paths": ["~/data"]}}).sandbox
    )
    assert sandbox.writable_paths == [Path.home() / "data"]
