"""Red-team round on the bubblewrap sandbox, the kernel's shared doors: daemons reached
over Unix sockets outside ``/run`` or abstract sockets when the network is granted, and
the user's kernel keyring. Each attack runs through the real ``bash`` tool in a real
sandbox and is judged by what a listener or the keyring saw outside it; every family has
a control showing the attack works when nothing stops it.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sandboxing import bash

from ml_intern_tui.core.tool import ToolContext
from ml_intern_tui.safety.sandbox_kernel import SCOPED_ABI, landlock_abi

# ----------------------------------------------------------------- reach daemons


@pytest.fixture
def host_unix_socket(outside: Path) -> Iterator[tuple[Path, list[bytes]]]:
    """A daemon's socket outside /run and /tmp (Docker Desktop, kubelet, a DB)."""
    path = outside / "daemon.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(4)
    server.settimeout(0.1)
    received: list[bytes] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            with conn:
                received.append(conn.recv(100))

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield path, received
    stop.set()
    thread.join(2)
    server.close()


CONNECT = (
    'python3 -c "import socket,sys; s=socket.socket(socket.AF_UNIX); '
    "s.connect(sys.argv[1]); s.send(b'from-sandbox'); print('CONNECTED')\" {address}"
)


async def test_host_unix_sockets_outside_run_are_unreachable(
    ctx: ToolContext, host_unix_socket: tuple[Path, list[bytes]]
) -> None:
    path, received = host_unix_socket
    probe = socket.socket(socket.AF_UNIX)  # the control: the daemon answers the host
    probe.connect(str(path))
    probe.send(b"from-host")
    probe.close()
    for network in (False, True):
        result = await bash(ctx, command=CONNECT.format(address=path), network=network)
        assert "CONNECTED" not in result.output, result.output
    await asyncio.sleep(0)
    assert b"from-sandbox" not in received


@pytest.fixture
def abstract_listener() -> Iterator[tuple[str, list[bytes]]]:
    if landlock_abi() < SCOPED_ABI:
        pytest.skip(f"Landlock ABI {landlock_abi()} cannot scope abstract sockets (needs 6)")
    name = f"ml-intern-test-{uuid.uuid4().hex[:8]}"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind("\0" + name)
    server.listen(4)
    server.settimeout(5)
    received: list[bytes] = []

    def accept() -> None:
        try:
            conn, _ = server.accept()
        except OSError:
            return
        with conn:
            received.append(conn.recv(100))

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield name, received
    server.close()
    thread.join(6)


def _virtualenv_python(where: Path) -> Path:
    """A virtualenv's ``python``: a link to the real interpreter, under WHERE."""
    link = where / "venv" / "bin" / "python"
    link.parent.mkdir(parents=True)
    link.symlink_to(Path(sys.executable).resolve())
    return link


async def test_the_scoping_helper_runs_from_a_virtualenv_under_tmp(
    ctx: ToolContext,
    abstract_listener: tuple[str, list[bytes]],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """/tmp is replaced inside the sandbox: a virtualenv there (a fresh clone in /tmp, CI
    scratch space) must not stop the helper from starting (it used to fail with execvp)."""
    import ml_intern_tui.safety.sandbox as sandbox_module

    monkeypatch.setattr(sys, "executable", str(_virtualenv_python(tmp_path)))
    monkeypatch.setattr(sandbox_module, "_setuid", lambda _program: True)
    name, received = abstract_listener
    connect = (
        'python3 -c "import socket,sys; s=socket.socket(socket.AF_UNIX); '
        f"s.connect(chr(0)+sys.argv[1]); print('CONNECTED')\" {name}"
    )
    result = await bash(ctx, command=connect, network=True)
    assert "execvp" not in result.output
    assert "CONNECTED" not in result.output and "Operation not permitted" in result.output
    assert received == []


@pytest.mark.parametrize("setuid_bwrap", [False, True], ids=["scoped-before-bwrap", "helper"])
async def test_abstract_sockets_of_the_host_are_unreachable_with_the_network(
    setuid_bwrap: bool,
    ctx: ToolContext,
    abstract_listener: tuple[str, list[bytes]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Landlock scopes bubblewrap from the forked child; where bubblewrap is set-uid
    (no-new-privileges would disarm it) a helper inside the sandbox does it instead."""
    import ml_intern_tui.safety.sandbox as sandbox_module

    monkeypatch.setattr(sandbox_module, "_setuid", lambda _program: setuid_bwrap)
    name, received = abstract_listener
    connect = (
        'python3 -c "import socket,sys; s=socket.socket(socket.AF_UNIX); '
        f"s.connect(chr(0)+sys.argv[1]); print('CONNECTED')\" {name}"
    )
    result = await bash(ctx, command=connect, network=True)
    assert "CONNECTED" not in result.output and "Operation not permitted" in result.output
    # Inside one sandbox, processes still talk over abstract sockets (NCCL, torch).
    inner = (
        'python3 -c "import socket,threading; s=socket.socket(socket.AF_UNIX); '
        "s.bind(chr(0)+'inner-test'); s.listen(1); "
        "threading.Thread(target=lambda: s.accept()).start(); "
        "c=socket.socket(socket.AF_UNIX); c.connect(chr(0)+'inner-test'); print('INNER-OK')\""
    )
    assert "INNER-OK" in (await bash(ctx, command=inner, network=True)).output
    assert received == []


# ------------------------------------------------------------------ kernel keyring

_KEY_SPEC_USER_KEYRING = -4
_NR = {"x86_64": (248, 250), "aarch64": (217, 219)}.get(os.uname().machine)


def _keyring_syscalls() -> tuple[ctypes.CDLL, int, int]:
    if _NR is None:
        pytest.skip(f"keyring syscall numbers unknown for {os.uname().machine}")
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return libc, _NR[0], _NR[1]


KEY_READER = """
import ctypes, sys
c = ctypes.CDLL(None, use_errno=True); c.syscall.restype = ctypes.c_long
add, keyctl = int(sys.argv[1]), int(sys.argv[2])
key = c.syscall(keyctl, 10, -4, b"user", sys.argv[3].encode(), 0)  # KEYCTL_SEARCH
buf = ctypes.create_string_buffer(200)
n = c.syscall(keyctl, 11, key, buf, 200) if key > 0 else -1  # KEYCTL_READ
print("READ", buf.raw[: max(n, 0)].decode(errors="replace"))
made = c.syscall(add, b"user", sys.argv[3].encode() + b"-planted", b"x", 1, -4)
print("PLANTED", made > 0)
"""


async def test_the_users_kernel_keyring_is_out_of_reach(ctx: ToolContext) -> None:
    libc, add_key, keyctl = _keyring_syscalls()
    name = f"ml-intern-test-{uuid.uuid4().hex[:8]}"
    secret = b"keyring-secret-" + uuid.uuid4().hex[:8].encode()
    key = libc.syscall(add_key, b"user", name.encode(), secret, len(secret), _KEY_SPEC_USER_KEYRING)
    if key < 0:
        pytest.skip(f"no user keyring here (errno {ctypes.get_errno()})")
    try:
        script = ctx.cwd / "keys.py"
        script.write_text(KEY_READER)
        done = subprocess.run(  # noqa: ASYNC221 - the control, unsandboxed
            ["python3", str(script), str(add_key), str(keyctl), name],
            capture_output=True,
            text=True,
            check=False,
        )
        assert secret.decode() in done.stdout, "the control: the keyring is readable"
        planted = libc.syscall(
            keyctl, 10, _KEY_SPEC_USER_KEYRING, b"user", (name + "-planted").encode(), 0
        )
        assert planted > 0
        libc.syscall(keyctl, 21, planted)  # KEYCTL_INVALIDATE the control's key

        result = await bash(ctx, command=f"python3 keys.py {add_key} {keyctl} {name}")
        assert secret.decode() not in result.output and "PLANTED False" in result.output
        again = libc.syscall(
            keyctl, 10, _KEY_SPEC_USER_KEYRING, b"user", (name + "-planted").encode(), 0
        )
        assert again < 0, "the sandbox planted a key in the user's keyring"
    finally:
        libc.syscall(keyctl, 21, key)
