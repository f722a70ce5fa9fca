"""Asking local model servers for their context window (real httpx against fakes)."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fakes.http_server import FakeHTTPServer, FakeRequest, FakeResponse
from fakes.llama_server import FakeLlamaCpp

from ml_intern_tui.config.schema import AppConfig
from ml_intern_tui.integrations.model_server import MAX_BYTES, fetch_model_listing
from ml_intern_tui.runtime.backend import AppBackend


def backend(tmp_path: Path) -> AppBackend:
    return AppBackend(AppConfig.model_validate({"model": "llamacpp/local-model"}), cwd=tmp_path)


async def test_each_server_is_asked_once_and_each_model_finds_its_window(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeLlamaCpp(n_ctx=8192, listing="llamacpp") as fake:
        monkeypatch.setenv("LLAMACPP_BASE_URL", fake.base_url)
        app = backend(tmp_path)
        found = await asyncio.gather(
            *(app.discover_window("llamacpp/local-model") for _ in range(3))
        )
        assert all(f is not None and (f.tokens, f.exact) == (8192, True) for f in found)
        assert fake.models_requests == ["/v1/models"]
        assert fake.requests_count == 0  # no chat request was spent on it


async def test_only_local_servers_are_asked(tmp_path: Path) -> None:
    app = backend(tmp_path)
    assert await app.discover_window("scripted/demo") is None
    assert await app.discover_window("anthropic/claude-sonnet-4-5") is None
    assert await app.discover_window("Qwen/Qwen3-Coder-480B-A35B-Instruct") is None


async def test_a_server_that_is_down_answers_nothing_fast(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("LLAMACPP_BASE_URL", f"http://127.0.0.1:{port}")
    started = time.monotonic()
    assert await backend(tmp_path).discover_window("llamacpp/local-model") is None
    assert time.monotonic() - started < 3


async def test_odd_answers_are_ignored() -> None:
    server = FakeHTTPServer()

    @server.route("GET", r"/html/v1/models")
    def html(req: FakeRequest) -> FakeResponse:
        return FakeResponse.text("<html>login</html>", content_type="text/html")

    @server.route("GET", r"/list/v1/models")
    def as_list(req: FakeRequest) -> FakeResponse:
        return FakeResponse.json([{"id": "m"}])

    @server.route("GET", r"/huge/v1/models")
    def huge(req: FakeRequest) -> FakeResponse:
        return FakeResponse.json({"data": [{"id": "m", "pad": "x" * MAX_BYTES}]})

    @server.route("GET", r"/drip/v1/models")
    def drip(req: FakeRequest) -> FakeResponse:
        def forever() -> Iterator[str]:
            while True:  # a byte at a time, never the end: the lookup must not wait on it
                time.sleep(0.05)
                yield "{"

        return FakeResponse.sse(forever())

    @server.route("GET", r"/auth/v1/models")
    def auth(req: FakeRequest) -> FakeResponse:
        if req.headers.get("authorization") != "Bearer sk-local":
            return FakeResponse.error(401, "no key")
        return FakeResponse.json({"data": [{"id": "m", "max_model_len": 4096}]})

    with server:
        base = server.base_url
        for prefix in ("html", "list", "huge"):
            assert await fetch_model_listing(f"{base}/{prefix}/v1") is None
        started = time.monotonic()
        assert await fetch_model_listing(f"{base}/drip/v1", timeout_s=0.5) is None
        assert time.monotonic() - started < 2
        assert await fetch_model_listing(f"{base}/auth/v1") is None
        listing = await fetch_model_listing(f"{base}/auth/v1", "sk-local")
        assert listing == {"data": [{"id": "m", "max_model_len": 4096}]}
