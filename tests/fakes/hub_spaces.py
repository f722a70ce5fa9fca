"""A fake Hub that creates sandbox Spaces, builds them and runs the uploaded API server.

``install_spaces(server)`` serves the Space routes huggingface_hub 1.33 calls (create
through ``/api/repos/create``, the upload commit from ``hub_repos``, ``/runtime``, space
info with its ``host``, the SSE build log, delete, listing, ``/api/spaces/hardware``)
and returns a :class:`FakeSpaces` the test drives::

    spaces = install_spaces(server, build_polls=2)   # RUNNING after 2 runtime polls
    spaces.last().build_lines                        # what the build log said
    spaces.deleted                                   # repo ids deleted, in order

When a Space with ``space_server.py`` uploaded turns ``RUNNING``, the fake starts THAT
uploaded file in a subprocess (``python space_server.py``) with the Space's secrets as
its environment, a free port and a temporary ``SANDBOX_ROOT``: the sandbox API the app
talks to is our shipped server, run as the Space would run it.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from fakes.http_server import FakeHTTPServer, FakeRequest, FakeResponse
from fakes.hub_repos import FakeHubRepos, install
from ml_intern_tui.spaces.manager import Timing

REPO = r"(?P<repo>[^/]+/[^/]+)"
FAST = Timing(runtime_poll_s=0.05, health_poll_s=0.05, health_timeout_s=20, meter_s=0.05,
              delete_backoff_s=0.01)  # fmt: skip
"""Polling fast enough for tests (the app polls the Hub every few seconds)."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class FakeSpace:
    repo_id: str
    hardware: str
    secrets: dict[str, str]
    sleep_time: int | None
    private: bool
    stage: str = "NO_APP_FILE"
    polls: int = 0
    build_lines: list[str] = field(default_factory=list)
    error_message: str = ""
    process: subprocess.Popen[bytes] | None = None
    host: str = ""
    root: Path | None = None
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))


class FakeSpaces:
    """The test's remote control of the fake Spaces."""

    def __init__(
        self,
        server: FakeHTTPServer,
        repos: FakeHubRepos,
        *,
        build_polls: int = 3,
        fail_build: str | None = None,
        hold: bool = False,
    ) -> None:
        self.server = server
        self.repos = repos
        self.build_polls = build_polls
        self.fail_build = fail_build
        self.hold = hold
        """Stay BUILDING until ``release()`` (a test cancels during creation)."""
        self.spaces: dict[str, FakeSpace] = {}
        self.deleted: list[str] = []
        self.lock = threading.Lock()
        self.released = threading.Event()

    def last(self) -> FakeSpace:
        return list(self.spaces.values())[-1]

    def release(self) -> None:
        self.hold = False
        self.released.set()

    def wait_created(self, timeout: float = 30.0) -> FakeSpace:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if self.spaces:
                    return self.last()
            time.sleep(0.02)
        raise AssertionError("no Space was created")

    def close(self) -> None:
        self.released.set()
        for space in self.spaces.values():
            self._kill(space)

    # -------------------------------------------------------------- inside

    def _kill(self, space: FakeSpace) -> None:
        if space.process is not None and space.process.poll() is None:
            space.process.kill()
            space.process.wait(10)

    def _start(self, space: FakeSpace) -> None:
        """Run the uploaded server as the Space would."""
        files = self.repos.repo(space.repo_id, "space").branches["main"]
        workdir = Path(tempfile.mkdtemp(prefix="fake-space-"))
        (workdir / "space_server.py").write_bytes(files["space_server.py"])
        space.root = workdir / "app"
        space.root.mkdir()
        port = _free_port()
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(workdir),
            "PORT": str(port),
            "SANDBOX_HOST": "127.0.0.1",
            "SANDBOX_ROOT": str(space.root),
            "SANDBOX_LOG_DIR": str(workdir / "logs"),
            **space.secrets,
        }
        space.process = subprocess.Popen(
            [sys.executable, str(workdir / "space_server.py")],
            env=env,
            cwd=space.root,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        space.host = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                httpx.post(f"{space.host}/api/health", timeout=1)
                return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise AssertionError("the uploaded sandbox server did not start")

    def _advance(self, space: FakeSpace) -> None:
        files = self.repos.repo(space.repo_id, "space").branches["main"]
        if space.stage == "NO_APP_FILE" and "space_server.py" in files:
            space.stage = "BUILDING"
            space.build_lines += ["Step 1/8 : FROM python:3.12-slim", "Step 2/8 : RUN apt-get"]
        if space.stage != "BUILDING":
            return
        space.polls += 1
        if self.hold or space.polls < self.build_polls:
            return
        if self.fail_build:
            space.stage = "BUILD_ERROR"
            space.error_message = self.fail_build
            space.build_lines.append(f"ERROR: {self.fail_build}")
            return
        space.build_lines.append("Successfully built; pushing image")
        self._start(space)
        space.stage = "RUNNING"

    # -------------------------------------------------------------- routes

    def create(self, req: FakeRequest) -> FakeResponse:
        body = req.json()
        answer = self.repos.create_repo(req)
        if body.get("type") == "space" and answer.status == 200:
            repo_id = f"{body.get('organization') or self.repos.user}/{body['name']}"
            secrets = {item["key"]: item["value"] for item in body.get("secrets") or []}
            with self.lock:
                self.spaces[repo_id] = FakeSpace(
                    repo_id,
                    body.get("hardware") or "cpu-basic",
                    secrets,
                    body.get("sleepTimeSeconds"),
                    body.get("visibility") == "private",
                )
        return answer

    def _space(self, req: FakeRequest) -> FakeSpace | None:
        if req.headers.get("authorization") != f"Bearer {self.repos.token}":
            return None
        return self.spaces.get(req.group("repo"))

    def runtime(self, req: FakeRequest) -> FakeResponse:
        space = self._space(req)
        if space is None:
            return FakeResponse.error(404, "Repository not found")
        with self.lock:
            self._advance(space)
        current = space.hardware if space.stage == "RUNNING" else None
        data: dict[str, Any] = {
            "stage": space.stage,
            "hardware": {"current": current, "requested": space.hardware},
            "gcTimeout": space.sleep_time,
        }
        if space.error_message:
            data["errorMessage"] = space.error_message
        return FakeResponse.json(data)

    def info(self, req: FakeRequest) -> FakeResponse:
        space = self._space(req)
        if space is None:
            return FakeResponse.error(404, "Repository not found")
        return FakeResponse.json(
            {
                "id": space.repo_id,
                "author": space.repo_id.split("/")[0],
                "private": space.private,
                "sdk": "docker",
                "host": space.host or None,
                "subdomain": space.repo_id.replace("/", "-"),
                "createdAt": space.created_at.isoformat().replace("+00:00", "Z"),
            }
        )

    def build_log(self, req: FakeRequest) -> FakeResponse:
        space = self._space(req)
        if space is None:
            return FakeResponse.error(404, "Repository not found")

        def lines() -> Iterator[str]:
            sent = 0
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                while sent < len(space.build_lines):
                    stamp = datetime.now(UTC).isoformat()
                    yield json.dumps({"data": space.build_lines[sent], "timestamp": stamp})
                    sent += 1
                if space.stage not in ("BUILDING", "NO_APP_FILE") or self.released.is_set():
                    return
                time.sleep(0.02)

        return FakeResponse.sse(lines())

    def delete(self, req: FakeRequest) -> FakeResponse:
        body = req.json()
        repo_id = f"{body.get('organization') or self.repos.user}/{body['name']}"
        if body.get("type") == "space":
            with self.lock:
                space = self.spaces.pop(repo_id, None)
                self.repos.repos.pop(("space", repo_id), None)
            if space is None:
                return FakeResponse.error(404, "Repository not found")
            self._kill(space)
            self.deleted.append(repo_id)
        return FakeResponse.json({})

    def listing(self, req: FakeRequest) -> FakeResponse:
        author, search = req.arg("author"), req.arg("search") or ""
        items = [
            {
                "id": s.repo_id,
                "author": s.repo_id.split("/")[0],
                "private": s.private,
                "createdAt": s.created_at.isoformat().replace("+00:00", "Z"),
            }
            for s in self.spaces.values()
            if s.repo_id.split("/")[0] == author and search in s.repo_id
        ]
        return FakeResponse.json(items)


def install_spaces(server: FakeHTTPServer, *, whoami: bool = True, **options: Any) -> FakeSpaces:
    """Serve the Spaces routes (and the repository ones they build on) on ``server``."""
    spaces_holder: list[FakeSpaces] = []
    if whoami:

        @server.route("GET", r"/api/whoami-v2")
        def whoami_v2(req: FakeRequest) -> FakeResponse:
            if req.headers.get("authorization") != "Bearer hf_fake":
                return FakeResponse.error(401, "Invalid credentials in Authorization header")
            return FakeResponse.json({"type": "user", "name": "tester", "orgs": []})

    routes = [
        ("POST", r"/api/repos/create", lambda r: spaces_holder[0].create(r)),
        ("DELETE", r"/api/repos/delete", lambda r: spaces_holder[0].delete(r)),
        ("GET", rf"/api/spaces/{REPO}/runtime", lambda r: spaces_holder[0].runtime(r)),
        ("GET", rf"/api/spaces/{REPO}/logs/build", lambda r: spaces_holder[0].build_log(r)),
        ("GET", rf"/api/spaces/{REPO}", lambda r: spaces_holder[0].info(r)),
        ("GET", r"/api/spaces", lambda r: spaces_holder[0].listing(r)),
    ]
    for method, pattern, handler in routes:
        server.route(method, pattern)(handler)
    repos = install(server)
    spaces = FakeSpaces(server, repos, **options)
    spaces_holder.append(spaces)
    return spaces
