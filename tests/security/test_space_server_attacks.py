"""Attacks on the API server we ship into sandbox Spaces: it must not be an open door.

The server runs for real (in a thread, on 127.0.0.1) with a root directory of its own;
each test plays a caller without the token, with a wrong one, or one trying to leave the
root through the file routes.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ml_intern_tui.spaces import space_server

TOKEN = "t" * 40
ROUTES = ["health", "bash", "kill", "read", "write", "edit", "jobs/start", "jobs/log", "jobs/kill"]


def start(monkeypatch: pytest.MonkeyPatch, root: Path, token: str | None) -> Iterator[str]:
    monkeypatch.setenv("SANDBOX_ROOT", str(root))
    monkeypatch.setenv("SANDBOX_LOG_DIR", str(root.parent / "logs"))
    server = space_server.serve(0, token, "127.0.0.1")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    path = tmp_path / "app"
    path.mkdir()
    (tmp_path / "secret.txt").write_text("outside the root")
    return path


@pytest.fixture
def url(monkeypatch: pytest.MonkeyPatch, root: Path) -> Iterator[str]:
    yield from start(monkeypatch, root, TOKEN)


def call(
    url: str, route: str, body: dict | None = None, token: str | None = TOKEN
) -> httpx.Response:
    headers = {"X-Sandbox-Authorization": f"Bearer {token}"} if token is not None else {}
    return httpx.post(f"{url}/api/{route}", json=body or {}, headers=headers, timeout=30)


@pytest.mark.parametrize("route", ROUTES)
def test_every_route_refuses_a_caller_without_the_token(url: str, root: Path, route: str) -> None:
    body = {"command": "touch pwned", "path": "pwned", "content": "x", "job_id": "x"}
    assert call(url, route, body, token=None).status_code == 401
    assert call(url, route, body, token="t" * 39).status_code == 401
    assert call(url, route, body, token=TOKEN + "x").status_code == 401
    assert not (root / "pwned").exists()


def test_the_hf_token_header_alone_is_not_enough(url: str, root: Path) -> None:
    response = httpx.post(
        f"{url}/api/bash",
        json={"command": "touch pwned"},
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=30,
    )
    assert response.status_code == 401 and not (root / "pwned").exists()


@pytest.mark.parametrize("token", [None, "", "short-token"])
def test_a_server_without_a_real_token_is_closed(
    monkeypatch: pytest.MonkeyPatch, root: Path, token: str | None
) -> None:
    for url in start(monkeypatch, root, token):
        for guess in ("x", "short-token", "nope"):
            response = call(url, "bash", {"command": "touch pwned"}, token=guess)
            assert response.status_code == 503
        assert not (root / "pwned").exists()


def test_the_token_is_compared_in_constant_time() -> None:
    import inspect

    assert "hmac.compare_digest" in inspect.getsource(space_server.authorised)
    assert space_server.authorised(f"Bearer {TOKEN}", TOKEN)
    assert not space_server.authorised(f"Bearer {TOKEN[:-1]}", TOKEN)


@pytest.mark.parametrize(
    "path", ["../secret.txt", "/etc/passwd", "sub/../../secret.txt", "{parent}/secret.txt"]
)
def test_file_routes_stay_inside_the_root(url: str, root: Path, path: str) -> None:
    path = path.format(parent=root.parent)
    assert call(url, "read", {"path": path}).status_code == 403
    assert call(url, "write", {"path": path, "content": "pwned"}).status_code == 403
    edit = {"path": path, "old_str": "outside", "new_str": "pwned"}
    assert call(url, "edit", edit).status_code == 403
    assert (root.parent / "secret.txt").read_text() == "outside the root"


def test_a_symbolic_link_out_of_the_root_is_refused(url: str, root: Path) -> None:
    (root / "link").symlink_to(root.parent / "secret.txt")
    (root / "dirlink").symlink_to(root.parent)
    assert call(url, "read", {"path": "link"}).status_code == 403
    assert call(url, "write", {"path": "link", "content": "pwned"}).status_code == 403
    assert call(url, "write", {"path": "dirlink/secret.txt", "content": "x"}).status_code == 403
    assert (root.parent / "secret.txt").read_text() == "outside the root"


def test_work_dir_outside_the_root_and_bad_bodies_are_refused(url: str) -> None:
    assert call(url, "bash", {"command": "pwd", "work_dir": "/"}).status_code == 403
    assert call(url, "bash", {"command": "pwd", "timeout": 10**9}).status_code == 400
    assert call(url, "read", {"path": "a\u0000b"}).status_code == 400
    response = httpx.post(
        f"{url}/api/bash",
        content=b"[1, 2]",
        headers={"X-Sandbox-Authorization": f"Bearer {TOKEN}"},
        timeout=30,
    )
    assert response.status_code == 400


def test_a_huge_body_is_refused_before_it_is_read(url: str) -> None:
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        head = (
            f"POST /api/write HTTP/1.1\r\nHost: x\r\nX-Sandbox-Authorization: Bearer {TOKEN}"
            f"\r\nContent-Length: {space_server.MAX_BODY + 1}\r\n\r\n"
        )
        sock.sendall(head.encode())
        status = sock.recv(64).split(b"\r\n")[0]
    assert b" 413 " in status


def test_kill_stops_a_running_command_and_its_children(url: str, root: Path) -> None:
    result: dict[str, httpx.Response] = {}

    def run() -> None:
        body = {"command": "sleep 60 & sleep 60; echo done", "timeout": 120, "call_id": "c1"}
        result["r"] = call(url, "bash", body)

    thread = threading.Thread(target=run)
    thread.start()
    for _ in range(200):
        if call(url, "kill", {"call_id": "c1"}).json()["killed"]:
            break
        threading.Event().wait(0.02)
    thread.join(30)
    answer = result["r"].json()
    assert answer["exit_code"] != 0 and "done" not in answer["output"]
