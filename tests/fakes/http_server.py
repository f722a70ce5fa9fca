"""A small routed HTTP server on 127.0.0.1 for fake services (Hub, dataset viewer, GitHub…).

Real HTTP, stdlib only, so huggingface_hub, httpx and fastmcp clients run their normal
code paths. Routes are registered by area modules (``hub_jobs.py``, ``hub_repos.py``…)::

    server = FakeHTTPServer()
    @server.route("GET", r"/api/whoami-v2")
    def whoami(req: FakeRequest) -> FakeResponse:
        return FakeResponse.json({"name": "tester", "type": "user", "orgs": []})

A handler may return ``FakeResponse.sse(iterable_of_data_lines)`` to stream Server-Sent
Events; the stream ends when the iterable ends (or the client disconnects). Faults are
injected per route with ``server.fail_next(method, pattern, status, body)``. Every
request is recorded in ``server.requests``.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class FakeRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    match: re.Match[str] | None = None

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def group(self, name: str) -> str:
        assert self.match is not None
        return self.match.group(name)


@dataclass
class FakeResponse:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    stream: Iterable[str] | None = None
    """Lines sent as ``data: <line>`` SSE events, flushed one by one."""
    chunks: Iterable[bytes] | None = None
    """Raw body pieces written as they come, then the connection closes (a huge or slow
    body; no Content-Length unless ``headers`` gives one)."""
    frames: Iterable[str] | None = None
    """Raw SSE frames written as given (``event: x``, ``data: {...}``, blank line), flushed
    one by one; the iterable may block to hold the stream open."""

    @classmethod
    def json(
        cls, data: Any, status: int = 200, headers: dict[str, str] | None = None
    ) -> FakeResponse:
        return cls(
            status,
            json.dumps(data).encode(),
            {"Content-Type": "application/json", **(headers or {})},
        )

    @classmethod
    def text(cls, text: str, status: int = 200, content_type: str = "text/plain") -> FakeResponse:
        return cls(status, text.encode(), {"Content-Type": content_type})

    @classmethod
    def error(
        cls, status: int, message: str, headers: dict[str, str] | None = None
    ) -> FakeResponse:
        return cls.json({"error": message}, status, headers)

    @classmethod
    def sse(cls, lines: Iterable[str]) -> FakeResponse:
        return cls(200, b"", {"Content-Type": "text/event-stream"}, stream=lines)

    @classmethod
    def sse_frames(
        cls, frames: Iterable[str], headers: dict[str, str] | None = None
    ) -> FakeResponse:
        """A stream of complete SSE frames (with ``event:`` lines, as Anthropic sends)."""
        return cls(
            200, b"", {"Content-Type": "text/event-stream", **(headers or {})}, frames=frames
        )


Handler = Callable[[FakeRequest], FakeResponse]


class FakeHTTPServer:
    """Routes requests to handlers; ``base_url`` is ``http://127.0.0.1:PORT``."""

    def __init__(self) -> None:
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self.requests: list[FakeRequest] = []
        self.failures: list[tuple[str, re.Pattern[str], FakeResponse]] = []
        self.lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def route(self, method: str, pattern: str) -> Callable[[Handler], Handler]:
        """Register ``handler`` for ``method`` and a full-match path regex (named groups)."""

        def register(handler: Handler) -> Handler:
            self.routes.append((method.upper(), re.compile(pattern), handler))
            return handler

        return register

    def fail_next(
        self, method: str, pattern: str, status: int = 500, message: str = "fake failure"
    ) -> None:
        """The next matching request gets this error instead of its handler's answer."""
        with self.lock:
            self.failures.append(
                (method.upper(), re.compile(pattern), FakeResponse.error(status, message))
            )

    def calls(self, method: str, pattern: str) -> list[FakeRequest]:
        regex = re.compile(pattern)
        with self.lock:
            return [
                r for r in self.requests if r.method == method.upper() and regex.fullmatch(r.path)
            ]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeHTTPServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- dispatch -----------------------------------------------------------------

    def dispatch(self, request: FakeRequest) -> FakeResponse:
        with self.lock:
            self.requests.append(request)
            for i, (method, regex, response) in enumerate(self.failures):
                if method == request.method and regex.fullmatch(request.path):
                    del self.failures[i]
                    return response
        for method, regex, handler in self.routes:
            if method != request.method:
                continue
            match = regex.fullmatch(request.path)
            if match:
                request.match = match
                try:
                    return handler(request)
                except Exception as exc:  # a broken fake must be loud, not hang the client
                    return FakeResponse.error(
                        500, f"fake handler crashed: {type(exc).__name__}: {exc}"
                    )
        return FakeResponse.json(
            {"error": f"no fake route for {request.method} {request.path}"},
            404,
            {"X-Error-Code": "RepoNotFound", "X-Error-Message": "not found"},
        )

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                return

            def handle(self) -> None:
                try:
                    super().handle()
                except (ConnectionResetError, BrokenPipeError):
                    pass  # the client hung up mid-body (web_fetch stops at its size limit)

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                request = FakeRequest(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
                response = fake.dispatch(request)
                self.send_response(response.status)
                for key, value in response.headers.items():
                    self.send_header(key, value)
                if response.stream is not None or response.frames is not None:
                    self.send_header("Cache-Control", "no-cache")
                    self.send_header("Connection", "close")
                    self.end_headers()
                    frames = (
                        (f"data: {line}\n\n" for line in response.stream)
                        if response.stream is not None
                        else response.frames or ()
                    )
                    try:
                        for frame in frames:
                            self.wfile.write(frame.encode())
                            self.wfile.flush()
                    except (BrokenPipeError, ConnectionResetError):
                        pass
                    self.close_connection = True
                    return
                if response.chunks is not None:
                    self.send_header("Connection", "close")
                    self.end_headers()
                    try:
                        for piece in response.chunks:
                            self.wfile.write(piece)
                            self.wfile.flush()
                    except (BrokenPipeError, ConnectionResetError):
                        pass
                    self.close_connection = True
                    return
                self.send_header("Content-Length", str(len(response.body)))
                self.end_headers()
                self.wfile.write(response.body)

            do_GET = _serve
            do_POST = _serve
            do_PUT = _serve
            do_DELETE = _serve
            do_PATCH = _serve
            do_HEAD = _serve

        return _Handler
