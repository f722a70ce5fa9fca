"""A fake OpenAI-compatible chat server on 127.0.0.1, with scripted replies and faults.

Real HTTP and real SSE, stdlib only, so litellm and the openai SDK run their normal code
paths. Each request takes the next scripted :class:`Reply` from a queue (a default short
text reply when the queue is empty).

Use as a context manager (or through a fixture)::

    from fakes.openai_server import FakeOpenAI, Reply

    with FakeOpenAI() as fake:
        fake.enqueue(Reply.rate_limited(retry_after=0.2), Reply(text="hello there"))
        await litellm.acompletion(model="openai/fake", api_base=fake.base_url,
                                  api_key="sk-fake", messages=[...], stream=True)
        assert fake.requests_count == 2
        assert fake.requests[0].body["messages"][0]["content"] == "hi"

What a Reply can do:

- ``text`` split into ``chunks`` deltas, ``reasoning`` streamed as ``reasoning_content``;
- ``tool_calls``: ``[(name, arguments_json)]``; arguments stream in ``arg_fragments``
  pieces and may be malformed on purpose;
- ``finish_reason`` (default ``tool_calls`` / ``stop``) and ``usage``;
- faults: ``status`` + ``error`` (+ ``headers``, e.g. ``retry-after``); ``delay_s`` before
  answering (timeouts); ``cut_after=N`` closes the stream after N SSE chunks with no
  finish reason and no ``[DONE]``; ``hang_after=N`` sends N chunks then blocks until
  :meth:`FakeOpenAI.release` (or the client disconnects, which sets ``disconnected``);
  ``empty_stream`` answers a streaming request with HTTP 200 and no event at all (what
  llama-cpp-python sends for a prompt over its window).

Subclasses may answer otherwise than the queue (``_next_reply``) and describe their
models differently (``model_entries``): see ``llama_server.py``.

Endpoints: ``POST /v1/chat/completions`` (streaming and not) and ``GET /v1/models``.
Thread-safe; wait on ``wait_for_requests(n)``, ``hanging`` or ``disconnected`` instead
of sleeping.

``effort = EffortPolicy(...)`` makes the server refuse ``reasoning_effort`` values the
way real servers do (OpenAI's two wordings, SGLang/vLLM request validation, Groq), before
a scripted reply is taken: a refused request leaves the queue as it was.

Subclasses (``router_server.FakeRouter``) shape the answers through two hooks:
``prepare(reply, request)`` adjusts each reply (headers, usage, model) once the request
is known, and ``models_payload()`` is the ``GET /models`` answer. ``fail_models(n)``
makes the next ``n`` model listings answer 503; ``model_listings`` counts them.
"""

from __future__ import annotations

import json
import select
import socket
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DEFAULT_TEXT = "ok"
OVERFLOW_MESSAGE = "prompt is too long: 210000 tokens > 200000 maximum"


@dataclass
class Reply:
    """The answer to ONE request."""

    text: str = DEFAULT_TEXT
    chunks: int = 3
    """How many deltas the text is split into when streaming."""
    reasoning: str = ""
    tool_calls: list[tuple[str, str]] = field(default_factory=list)
    arg_fragments: int = 2
    finish_reason: str | None = None
    usage: dict[str, Any] | None = None
    status: int = 200
    error: str | dict[str, Any] | None = None
    """Error message (or a full JSON body) for ``status >= 400``."""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    cut_after: int | None = None
    hang_after: int | None = None
    empty_stream: bool = False
    """Streaming: HTTP 200 with event-stream headers, then the connection closes."""
    model: str = "fake"

    @classmethod
    def rate_limited(cls, retry_after: float | None = None) -> Reply:
        headers = {} if retry_after is None else {"retry-after": f"{retry_after:g}"}
        return cls(status=429, error="Rate limit reached, slow down", headers=headers)

    @classmethod
    def server_error(cls, status: int = 500) -> Reply:
        return cls(status=status, error="internal server error (fake)")

    @classmethod
    def context_overflow(cls, message: str = OVERFLOW_MESSAGE) -> Reply:
        return cls(status=400, error=message)

    def resolved_finish_reason(self) -> str:
        if self.finish_reason is not None:
            return self.finish_reason
        return "tool_calls" if self.tool_calls else "stop"

    def resolved_usage(self) -> dict[str, Any]:
        if self.usage is not None:
            return self.usage
        completion = max(1, len(self.text.split())) + 5 * len(self.tool_calls)
        return {
            "prompt_tokens": 20,
            "completion_tokens": completion,
            "total_tokens": 20 + completion,
        }


def _quoted(values: list[str], joiner: str) -> str:
    """``'low', 'medium', and 'high'`` (joiner ``", and"``) or ``'low', 'medium' or 'high'``."""
    items = [f"'{v}'" for v in values]
    if len(items) < 2:
        return "".join(items)
    return ", ".join(items[:-1]) + f"{joiner} " + items[-1]


def _openai_error(message: str, param: str | None, code: str | None) -> dict[str, Any]:
    return {
        "error": {
            "message": message,
            "type": "invalid_request_error",
            "param": param,
            "code": code,
        }
    }


@dataclass
class EffortPolicy:
    """Which ``reasoning_effort`` values a server takes, and how it words a refusal."""

    accepted: tuple[str, ...] | None = ("low", "medium", "high")
    """Values taken; ``None``: the model takes no ``reasoning_effort`` at all."""
    style: str = "openai"
    """``openai`` (value refused; ``openai_param`` when none is taken),
    ``openai_unrecognized``, ``sglang`` (pydantic validation) or ``groq``."""

    def refusal(self, body: dict[str, Any]) -> Reply | None:
        """The 400 for this request body, or ``None`` when its effort is taken."""
        value = body.get("reasoning_effort")
        if value is None or (self.accepted is not None and value in self.accepted):
            return None
        accepted = list(self.accepted or ())
        if self.style == "sglang":
            expected = _quoted(accepted, " or")
            detail = (
                "{'type': 'literal_error', 'loc': ('body', 'reasoning_effort'), "
                f"'msg': \"Input should be {expected}\", 'input': '{value}', "
                f"'ctx': {{'expected': \"{expected}\"}}}}"
            )
            return Reply(
                status=400,
                error={
                    "object": "error",
                    "message": f"1 validation error:\n  {detail}",
                    "type": "Bad Request",
                    "param": None,
                    "code": 400,
                },
            )
        if self.style == "groq":
            message = "reasoning_effort must be one of none or default"
            return Reply(status=400, error=_openai_error(message, None, None))
        if self.style == "openai_unrecognized":
            message = "Unrecognized request argument supplied: reasoning_effort"
            return Reply(status=400, error=_openai_error(message, None, None))
        if self.style == "openai_param" or self.accepted is None:
            message = "Unsupported parameter: 'reasoning_effort' is not supported with this model."
            return Reply(
                status=400,
                error=_openai_error(message, "reasoning_effort", "unsupported_parameter"),
            )
        message = (
            f"Unsupported value: 'reasoning_effort' does not support '{value}' with this "
            f"model. Supported values are: {_quoted(accepted, ', and')}."
        )
        return Reply(
            status=400, error=_openai_error(message, "reasoning_effort", "unsupported_value")
        )


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    raw: bytes = b""
    """The body exactly as it came (tests compare the bytes a client sends)."""


def _split(text: str, parts: int) -> list[str]:
    if not text:
        return []
    parts = max(1, min(parts, len(text)))
    size = -(-len(text) // parts)
    return [text[i : i + size] for i in range(0, len(text), size)]


class FakeOpenAI:
    """The server. ``base_url`` is ``http://127.0.0.1:PORT/v1``."""

    def __init__(self, models: list[str] | None = None) -> None:
        self.models = models or ["fake"]
        self.requests: list[RecordedRequest] = []
        self.request_event = threading.Event()
        """Set on every chat request (clear it yourself to wait for the next one)."""
        self.hanging = threading.Event()
        """Set when a ``hang_after`` reply starts blocking."""
        self.disconnected = threading.Event()
        """Set when a client hung up on a hanging or delayed reply."""
        self.models_requests: list[str] = []
        """Paths of the ``GET .../models`` requests, in order."""
        self.model_listings = 0
        """``GET /models`` requests served (or failed)."""
        self._models_failures = 0
        self.effort: EffortPolicy | None = None
        """When set, ``reasoning_effort`` values it does not take are refused."""
        self._queue: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._release = threading.Event()
        self._closing = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    # -- public API -------------------------------------------------------------------

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def requests_count(self) -> int:
        with self._lock:
            return len(self.requests)

    def enqueue(self, *replies: Reply) -> None:
        with self._lock:
            self._queue.extend(replies)

    def wait_for_requests(self, count: int, timeout: float = 5.0) -> bool:
        """Block until at least ``count`` chat requests arrived; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: len(self.requests) >= count, timeout)

    def release(self) -> None:
        """Let every hanging reply finish its stream."""
        self._release.set()

    def fail_models(self, count: int = 1) -> None:
        """The next ``count`` ``GET /models`` requests answer 503."""
        with self._lock:
            self._models_failures += count

    # -- hooks for subclasses -----------------------------------------------------------

    def prepare(self, reply: Reply, request: RecordedRequest) -> Reply:
        """The reply actually sent for ``request`` (the base server sends it unchanged)."""
        return reply

    def models_payload(self) -> dict[str, Any]:
        """The ``GET /models`` answer."""
        return {"object": "list", "data": self.model_entries()}

    def _listing(self, path: str) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.models_requests.append(path)
            self.model_listings += 1
            failing = self._models_failures > 0
            if failing:
                self._models_failures -= 1
        if failing:
            return 503, {"error": {"message": "service unavailable (fake)"}}
        return 200, self.models_payload()

    def close(self) -> None:
        self._closing.set()
        self._release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FakeOpenAI:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals --------------------------------------------------------------------

    def model_entries(self) -> list[dict[str, Any]]:
        """The ``data`` of ``GET /v1/models``."""
        return [{"id": m, "object": "model", "owned_by": "fake"} for m in self.models]

    def _next_reply(self, request: RecordedRequest) -> Reply:
        """The reply for ``request`` (called with the lock held): the next scripted one."""
        return self._queue.popleft() if self._queue else Reply()

    def _record(self, request: RecordedRequest) -> Reply:
        with self._cond:
            self.requests.append(request)
            refusal = self.effort.refusal(request.body) if self.effort is not None else None
            reply = refusal or self._next_reply(request)
            self._cond.notify_all()
        self.request_event.set()
        return reply

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(_Handler):
            server_fake = fake

        return Handler


class _Handler(BaseHTTPRequestHandler):
    server_fake: FakeOpenAI
    protocol_version = "HTTP/1.0"  # one request per connection; SSE ends on close

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        if self.path.rstrip("/").endswith("/models"):
            self._send_json(*self.server_fake._listing(self.path))
        else:
            self._send_json(404, {"error": {"message": f"no route {self.path}"}})

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            body = {"_raw": raw.decode("utf-8", "replace")}
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._send_json(404, {"error": {"message": f"no route {self.path}"}})
            return
        headers = {k.lower(): v for k, v in self.headers.items()}
        request = RecordedRequest("POST", self.path, headers, body, raw)
        reply = self.server_fake.prepare(self.server_fake._record(request), request)
        try:
            if reply.delay_s and not self._wait(reply.delay_s):
                return
            if reply.status >= 400:
                self._send_error_reply(reply)
            elif body.get("stream"):
                include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
                self._stream(reply, include_usage)
            else:
                self._send_json(200, _completion_body(reply), reply.headers)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            self.server_fake.disconnected.set()

    # -- replies ----------------------------------------------------------------------

    def _wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; False if the server closes or the client hangs up."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.server_fake._closing.wait(min(0.02, max(0.0, deadline - time.monotonic()))):
                return False
            if self._client_gone():
                self.server_fake.disconnected.set()
                return False
        return True

    def _client_gone(self) -> bool:
        sock: socket.socket = self.connection
        try:
            readable, _, _ = select.select([sock], [], [], 0)
            return bool(readable) and sock.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def _send_json(
        self, status: int, payload: dict[str, Any], extra: dict[str, str] | None = None
    ) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _send_error_reply(self, reply: Reply) -> None:
        if isinstance(reply.error, dict):
            payload = reply.error
        else:
            code = "rate_limit_exceeded" if reply.status == 429 else None
            payload = {
                "error": {
                    "message": reply.error or f"error {reply.status}",
                    "type": "invalid_request_error" if reply.status < 500 else "server_error",
                    "code": code,
                }
            }
        self._send_json(reply.status, payload, reply.headers)

    def _stream(self, reply: Reply, include_usage: bool) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        for key, value in reply.headers.items():
            self.send_header(key, value)
        self.end_headers()
        if reply.empty_stream:
            self.wfile.flush()
            return  # the connection closes: not one event, not even [DONE]
        for sent, chunk in enumerate(_stream_chunks(reply, include_usage)):
            if reply.cut_after is not None and sent >= reply.cut_after:
                self.wfile.flush()
                return  # the connection closes: no finish_reason, no [DONE]
            if reply.hang_after is not None and sent == reply.hang_after:
                self.server_fake.hanging.set()
                while not self.server_fake._release.wait(0.02):
                    if self._client_gone():
                        self.server_fake.disconnected.set()
                        return
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.flush()
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()


def _chunk(reply: Reply, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": reply.model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def _stream_chunks(reply: Reply, include_usage: bool) -> Iterator[dict[str, Any]]:
    yield _chunk(reply, {"role": "assistant", "content": ""})
    for piece in _split(reply.reasoning, reply.chunks):
        yield _chunk(reply, {"reasoning_content": piece})
    for piece in _split(reply.text, reply.chunks):
        yield _chunk(reply, {"content": piece})
    for index, (name, arguments) in enumerate(reply.tool_calls):
        head = {
            "index": index,
            "id": f"call_{index}",
            "type": "function",
            "function": {"name": name, "arguments": ""},
        }
        yield _chunk(reply, {"tool_calls": [head]})
        for fragment in _split(arguments, max(2, reply.arg_fragments)):
            yield _chunk(
                reply, {"tool_calls": [{"index": index, "function": {"arguments": fragment}}]}
            )
    yield _chunk(reply, {}, reply.resolved_finish_reason())
    if include_usage:
        final = _chunk(reply, {})
        final["choices"] = []
        final["usage"] = reply.resolved_usage()
        yield final


def _completion_body(reply: Reply) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.text or None}
    if reply.reasoning:
        message["reasoning_content"] = reply.reasoning
    if reply.tool_calls:
        message["tool_calls"] = [
            {"id": f"call_{i}", "type": "function", "function": {"name": name, "arguments": args}}
            for i, (name, args) in enumerate(reply.tool_calls)
        ]
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": reply.model,
        "choices": [
            {"index": 0, "message": message, "finish_reason": reply.resolved_finish_reason()}
        ],
        "usage": reply.resolved_usage(),
    }
