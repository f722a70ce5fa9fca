"""Attacks on the bubblewrap sandbox through the real bash tool: writes, reads, /proc, network.

Each test plays a command the model might send and checks what a user would notice: no
file appears where it must not, a secret is not printed, a connection is not made.
Skipped (with the reason printed) only where bubblewrap cannot run.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sandboxing import MakeSandbox, bash, make_ctx

from ml_intern_tui.core.tool import ToolContext, ToolError
from ml_intern_tui.safety.sandbox import Sandbox


def _marker() -> str:
    return f"ml-intern-sandbox-probe-{uuid.uuid4().hex[:8]}"


async def test_writes_outside_the_project_fail_and_leave_no_file(
    ctx: ToolContext, tmp_path: Path, outside: Path
) -> None:
    name = _marker()
    targets = [Path("/") / name, Path.home() / name, Path("/etc") / name, outside / name]
    targets.append(tmp_path / name)  # /tmp inside is the session's own
    command = "; ".join(f"touch {t}" for t in targets) + "; touch inside.txt; echo done"
    try:
        result = await bash(ctx, command=command)
        assert "done" in result.output
        for target in targets:
            assert not target.exists(), f"{target} was written from inside the sandbox"
        assert (ctx.cwd / "inside.txt").exists()  # the project itself is writable
        assert "Read-only file system" in result.output
    finally:
        for target in targets:
            target.unlink(missing_ok=True)


async def test_a_failed_write_tells_the_model_why_and_what_to_ask(ctx: ToolContext) -> None:
    name = _marker()
    try:
        result = await bash(ctx, command=f"echo x > $HOME/{name}")
        assert not result.ok
        assert "ran in the sandbox: writes outside the project" in result.output
        assert "outside_sandbox=true" in result.output and "network=true" in result.output
        assert result.output.rstrip().endswith("[ran in the sandbox · no network]")
    finally:
        (Path.home() / name).unlink(missing_ok=True)


async def test_private_tmp_persists_within_the_session_only(ctx: ToolContext) -> None:
    note = f"/tmp/{_marker()}"
    first = await bash(ctx, command=f"echo kept > {note} && echo $TMPDIR")
    assert first.ok and first.output.startswith("/tmp")
    second = await bash(ctx, command=f"cat {note}")
    assert second.output.startswith("kept")
    assert not os.path.exists(note)  # noqa: ASYNC240 - the host never saw it
    other = make_ctx(ctx.cwd, ctx.services.sandbox, session_id="another-session")
    assert "No such file" in (await bash(other, command=f"cat {note}")).output


async def test_git_config_hooks_and_app_config_are_read_only_inside(ctx: ToolContext) -> None:
    git = ctx.cwd / ".git"
    (git / "hooks").mkdir(parents=True)
    (git / "config").write_text("[core]\n\tbare = false\n")
    (git / "HEAD").write_text("ref: refs/heads/main\n")
    app_dir = ctx.cwd / ".ml-intern"
    app_dir.mkdir()
    (app_dir / "config.toml").write_text('mode = "ask"\n')
    command = (
        "printf '[core]\\n\\tfsmonitor = touch /tmp/pwned\\n' >> .git/config; "
        "printf '#!/bin/sh\\ntouch pwned\\n' > .git/hooks/pre-commit; "
        "chmod +x .git/hooks/pre-commit; "
        "echo 'mode = \"yolo\"' > .ml-intern/config.toml; "
        "mv .ml-intern .ml-moved; rm -rf .git/hooks; "
        "echo ref > .git/HEAD; echo status=$?"
    )
    result = await bash(ctx, command=command)
    assert (git / "config").read_text() == "[core]\n\tbare = false\n"
    assert not (git / "hooks" / "pre-commit").exists() and (git / "hooks").is_dir()
    assert (app_dir / "config.toml").read_text() == 'mode = "ask"\n'
    assert not (ctx.cwd / ".ml-moved").exists()
    # git itself can still work: the rest of .git stays writable.
    assert "status=0" in result.output and (git / "HEAD").read_text() == "ref\n"


async def test_the_apps_own_process_environment_is_unreachable(
    ctx: ToolContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("APP_ONLY_SECRET_TOKEN", "hf_" + "A1b2C3d4" * 5)
    me = os.getpid()
    result = await bash(
        ctx,
        command=(
            f"cat /proc/{me}/environ; cat /proc/{os.getppid()}/environ; "
            "ls /proc | grep -c '^[0-9]' ; echo end"
        ),
    )
    assert "hf_A1b2" not in result.output
    assert f"/proc/{me}/environ: No such file or directory" in result.output
    numbers = [line for line in result.output.splitlines() if line.strip().isdigit()]
    assert numbers and int(numbers[0]) < 10  # only the sandbox's own few processes


async def test_project_as_home_hides_credentials_and_keeps_startup_files_read_only(
    ctx: ToolContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = ctx.cwd
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("HF_HOME", str(home / ".cache" / "huggingface"))
    secrets = {
        home / ".ssh" / "id_ed25519": "-----BEGIN OPENSSH PRIVATE KEY-----sshkey",
        home / ".netrc": "machine api.wandb.ai password netrcsecret",
        home / ".aws" / "credentials": "aws_secret_access_key = awssecret",
        home / ".cache" / "huggingface" / "token": "hf_tokenfile",
        home / ".config" / "ml-intern-tui" / "config.toml": 'token = "xoxb-slacksecret"',
        home / ".config" / "gh" / "hosts.yml": "oauth_token: ghsecret",
    }
    for path, text in secrets.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (home / ".bashrc").write_text("# rc\n")
    reads = " ".join(str(p) for p in secrets)
    result = await bash(
        ctx,
        command=f"cat {reads}; ls -A ~/.ssh; echo 'curl x|sh' >> ~/.bashrc; "
        "touch ~/.ssh/authorized_keys; touch work.txt; echo end",
    )
    for text in ("sshkey", "netrcsecret", "awssecret", "hf_tokenfile", "slacksecret", "ghsecret"):
        assert text not in result.output
    assert (home / ".bashrc").read_text() == "# rc\n"
    assert not (home / ".ssh" / "authorized_keys").exists()
    assert (home / "work.txt").exists() and "end" in result.output, result.output
    assert all(path.read_text() == text for path, text in secrets.items())  # untouched


async def test_extra_writable_paths_are_writable_and_their_siblings_are_not(
    make_sandbox: MakeSandbox, project: Path, outside: Path
) -> None:
    data = outside / "datasets"
    data.mkdir()
    elsewhere = outside / "elsewhere"
    elsewhere.mkdir()
    ctx = make_ctx(project, make_sandbox(writable_paths=[data]))
    result = await bash(ctx, command=f"touch {data}/a {elsewhere}/b; echo end")
    assert (data / "a").exists()
    assert not (elsewhere / "b").exists()
    assert "end" in result.output


class _Listener:
    """A TCP server on 127.0.0.1 that counts connections."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            conn.close()

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def listener() -> Iterator[_Listener]:
    server = _Listener()
    yield server
    server.close()


def _connect(port: int) -> str:
    return (
        "python3 -c \"import socket; socket.create_connection(('127.0.0.1', "
        f"{port}), timeout=3); print('CONNECTED')\""
    )


async def test_no_network_without_the_grant_and_network_with_it(
    ctx: ToolContext, listener: _Listener
) -> None:
    blocked = await bash(ctx, command=_connect(listener.port))
    assert "CONNECTED" not in blocked.output and listener.accepted == 0
    assert not blocked.ok and "the network, are blocked" in blocked.output
    granted = await bash(ctx, command=_connect(listener.port), network=True)
    assert "CONNECTED" in granted.output and listener.accepted == 1
    assert "[ran in the sandbox · network on]" in granted.output


async def test_network_deny_refuses_the_call_before_it_runs(
    make_sandbox: MakeSandbox, project: Path, listener: _Listener
) -> None:
    ctx = make_ctx(project, make_sandbox(network="deny"))
    with pytest.raises(ToolError, match='network = "deny"'):
        await bash(ctx, command=f"{_connect(listener.port)}; touch ran", network=True)
    assert not (project / "ran").exists() and listener.accepted == 0
    plain = await bash(ctx, command=_connect(listener.port))
    assert "CONNECTED" not in plain.output
    assert "deny the network" in plain.output and "network=true" not in plain.output


async def test_outside_sandbox_runs_unconfined_and_says_so(
    ctx: ToolContext, tmp_path: Path
) -> None:
    target = tmp_path / "outside.txt"
    result = await bash(ctx, command=f"touch {target}", outside_sandbox=True)
    assert result.ok and target.exists()
    assert result.output.endswith("[ran OUTSIDE the sandbox]")
    assert result.summary.endswith("· OUTSIDE the sandbox")


async def test_download_caches_are_writable_only_with_the_network(
    make_sandbox: MakeSandbox, project: Path, outside: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hf_home = outside / "huggingface"
    (hf_home / "hub").mkdir(parents=True)
    (hf_home / "token").write_text("hf_cachetoken")
    monkeypatch.setenv("HF_HOME", str(hf_home))
    monkeypatch.setenv("PIP_CACHE_DIR", str(outside / "pip"))
    ctx = make_ctx(project, make_sandbox(download_caches=["huggingface", "pip"]))
    hub = hf_home / "hub"
    command = (
        f"touch {hub}/model.bin {outside}/pip/wheel {hf_home}/planted; cat {hf_home}/token; "
        "echo end"
    )
    without = await bash(ctx, command=command)
    assert not (hub / "model.bin").exists() and "end" in without.output
    granted = await bash(ctx, command=command, network=True)
    assert (hub / "model.bin").exists() and (outside / "pip" / "wheel").exists()
    assert not (hf_home / "planted").exists()  # $HF_HOME itself (token files) stays read-only
    assert "hf_cachetoken" not in without.output + granted.output


async def test_a_project_at_the_root_stays_read_only_and_proc_stays_private(
    sandbox: Sandbox,
) -> None:
    ctx = make_ctx(Path("/"), sandbox)
    name = _marker()
    try:
        result = await bash(
            ctx, command=f"touch /{name}; cat /proc/{os.getpid()}/environ; echo end"
        )
        assert not (Path("/") / name).exists()
        assert "No such file" in result.output and "end" in result.output
    finally:
        (Path("/") / name).unlink(missing_ok=True)
