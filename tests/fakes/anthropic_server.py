"""A fake Anthropic Messages API on 127.0.0.1: real HTTP, real SSE, scripted replies.

litellm's own ``anthropic/`` provider talks to it (point ``ANTHROPIC_API_BASE`` or
``api_base`` at ``base_url``), so requests and streams go through the real conversion
code. Each ``POST /v1/messages`` takes the next :class:`AnthropicReply` (a short text
answer when none is queued). Every request is recorded with its headers and JSON body.

What a reply can carry, streamed the way the API streams it (``message_start``, then per
content block ``content_block_start`` / ``content_block_delta`` / ``content_block_stop``,
``message_delta`` with the stop reason and usage, ``message_stop``; ``ping`` on the way):

- ``thinking`` text (``thinking_delta``) closed by a ``signature_delta``; the signature is
  recorded as issued, and a later request that sends back a thinking block with a
  signature this server never issued gets a 400 "Invalid `signature` in `thinking`
  block", as the real API answers (``check_signatures=False`` turns that off);
- ``redacted_thinking`` blocks (opaque ``data``);
- ``text`` (``text_delta``) and ``tool_calls`` (``tool_use`` blocks whose input arrives
  as ``input_json_delta`` fragments);
- usage from the prompt-cache simulation (``cache_control`` breakpoints, see
  ``prompt_cache_sim.py``): ``input_tokens``, ``cache_creation_input_tokens``,
  ``cache_read_input_tokens`` in ``message_start`` and again in ``message_delta``;
- faults: ``status`` + ``error_type`` (``overloaded_error`` with 529, ...), an ``error``
  event after ``error_after`` events (overloaded mid-stream), ``delay_s``.

More than four ``cache_control`` blocks get the API's 400, and so do the reasoning
settings the real API refuses, with its wording (``core/reasoning_errors.py`` lists the
sources): ``max_tokens`` not above ``thinking.budget_tokens``; ``output_config.effort``
for a model without effort (``takes_effort=False``); ``thinking.type: enabled`` for an
adaptive-only model (``adaptive_only=True``); with thinking on, a tool loop whose final
assistant message does not start with a thinking block; with thinking off, a final
assistant message carrying one (``check_thinking=False`` turns the last two off).
"""

from __future__ import annotations

import itertools
import json
import secrets
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from fakes.http_server import FakeHTTPServer, FakeRequest, FakeResponse
from fakes.prompt_cache_sim import PromptCacheSim, blocks_of_anthropic

MAX_CACHE_BREAKPOINTS = 4


@dataclass
class AnthropicReply:
    """The answer to ONE ``/v1/messages`` request."""

    text: str = "ok"
    thinking: str = ""
    signature: str | None = None
    """The thinking block's signature (a fresh one is issued when ``None``)."""
    signature_valid: bool = True
    """False: the server does not honour the signature it sends (as after a key rotation,
    or for a block another model signed): a later request carrying it gets the 400."""
    redacted_thinking: str | None = None
    tool_calls: list[tuple[str, str]] = field(default_factory=list)
    """``(name, input JSON text)``; the text is streamed in ``arg_fragments`` pieces."""
    chunks: int = 3
    arg_fragments: int = 3
    stop_reason: str | None = None
    usage: dict[str, int] | None = None
    """Overrides the simulated usage (keys as the API names them)."""
    output_tokens: int | None = None
    status: int = 200
    error_type: str | None = None
    error_message: str | None = None
    error_after: int | None = None
    """Send an ``error`` event after this many events of the stream (then stop)."""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0

    @classmethod
    def overloaded(cls, *, mid_stream: bool = False) -> AnthropicReply:
        if mid_stream:
            return cls(text="partial answer", error_after=4, error_type="overloaded_error")
        return cls(status=529, error_type="overloaded_error", error_message="Overloaded")

    @classmethod
    def error(cls, status: int, error_type: str, message: str) -> AnthropicReply:
        return cls(status=status, error_type=error_type, error_message=message)

    def resolved_stop_reason(self) -> str:
        if self.stop_reason:
            return self.stop_reason
        return "tool_use" if self.tool_calls else "end_turn"


@dataclass
class RecordedRequest:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


def _split(text: str, parts: int) -> list[str]:
    if not text:
        return []
    parts = max(1, min(parts, len(text)))
    size = -(-len(text) // parts)
    return [text[i : i + size] for i in range(0, len(text), size)]


def _frame(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n"


class FakeAnthropic:
    """The server; ``base_url`` is ``http://127.0.0.1:PORT`` (litellm adds ``/v1/messages``)."""

    def __init__(
        self,
        *,
        check_signatures: bool = True,
        min_cache_tokens: int = 1024,
        check_thinking: bool = True,
        takes_effort: bool = True,
        adaptive_only: bool = False,
    ) -> None:
        self.check_signatures = check_signatures
        self.check_thinking = check_thinking
        self.takes_effort = takes_effort
        self.adaptive_only = adaptive_only
        self.cache = PromptCacheSim("breakpoints", min_tokens=min_cache_tokens)
        self.requests: list[RecordedRequest] = []
        self.issued_signatures: set[str] = set()
        self._queue: deque[AnthropicReply] = deque()
        self._cond = threading.Condition()
        self._ids = itertools.count(1)
        self.http = FakeHTTPServer()
        self.http.route("POST", r"/v1/messages")(self._messages)
        self.http.route("GET", r"/v1/models")(self._models)

    # -- public API -------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return self.http.base_url

    def enqueue(self, *replies: AnthropicReply) -> None:
        with self._cond:
            self._queue.extend(replies)

    def wait_for_requests(self, count: int, timeout: float = 5.0) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: len(self.requests) >= count, timeout)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> FakeAnthropic:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- handlers -----------------------------------------------------------------------

    def _models(self, request: FakeRequest) -> FakeResponse:
        return FakeResponse.json({"data": [{"id": "claude-fake", "type": "model"}]})

    def _messages(self, request: FakeRequest) -> FakeResponse:
        try:
            body = request.json()
        except json.JSONDecodeError:
            return self._error(400, "invalid_request_error", "request body is not JSON")
        # A request the API refuses is refused before it reaches the model: it leaves
        # the scripted replies for the requests that do.
        problem = self._validate(body)
        with self._cond:
            self.requests.append(RecordedRequest(request.path, request.headers, body))
            reply = self._queue.popleft() if self._queue and problem is None else AnthropicReply()
            self._cond.notify_all()
        if problem is not None:
            return self._error(400, "invalid_request_error", problem)
        if reply.delay_s:
            time.sleep(reply.delay_s)
        if reply.status >= 400:
            return self._error(
                reply.status,
                reply.error_type or "api_error",
                reply.error_message or f"error {reply.status}",
                reply.headers,
            )
        usage = self._usage(body, reply)
        headers = {"request-id": f"req_fake{next(self._ids)}", **reply.headers}
        if body.get("stream"):
            return FakeResponse.sse_frames(self._stream(body, reply, usage), headers)
        return FakeResponse.json(self._message(body, reply, usage), headers=headers)

    def _error(
        self, status: int, kind: str, message: str, headers: dict[str, str] | None = None
    ) -> FakeResponse:
        payload = {"type": "error", "error": {"type": kind, "message": message}}
        return FakeResponse.json(payload, status, headers)

    def _validate(self, body: dict[str, Any]) -> str | None:
        """The checks of the real API our client could trip over."""
        marks = sum(1 for t in body.get("tools") or [] if "cache_control" in t)
        system = body.get("system")
        if isinstance(system, list):
            marks += sum(1 for b in system if isinstance(b, dict) and "cache_control" in b)
        for message in body.get("messages") or []:
            content = message.get("content")
            if isinstance(content, list):
                marks += sum(1 for b in content if isinstance(b, dict) and "cache_control" in b)
        if marks > MAX_CACHE_BREAKPOINTS:
            return (
                f"A maximum of {MAX_CACHE_BREAKPOINTS} blocks with cache_control may be "
                f"provided. Found {marks}."
            )
        problem = self._reasoning_problem(body)
        if problem is not None or not self.check_signatures:
            return problem
        for m, message in enumerate(body.get("messages") or []):
            content = message.get("content")
            for c, block in enumerate(content if isinstance(content, list) else []):
                thinking = isinstance(block, dict) and block.get("type") == "thinking"
                if thinking and block.get("signature") not in self.issued_signatures:
                    return f"messages.{m}.content.{c}: Invalid `signature` in `thinking` block"
        return None

    def _reasoning_problem(self, body: dict[str, Any]) -> str | None:
        """The real API's refusals of reasoning settings (wordings seen from it)."""
        thinking = body.get("thinking") if isinstance(body.get("thinking"), dict) else None
        effort = (body.get("output_config") or {}).get("effort")
        if effort is not None and not self.takes_effort:
            return "This model does not support the effort parameter."
        if thinking is not None and thinking.get("type") == "enabled":
            if self.adaptive_only:
                return (
                    '"thinking.type.enabled" is not supported for this model. Use '
                    '"thinking.type.adaptive" and "output_config.effort" to control '
                    "thinking behavior."
                )
            if int(body.get("max_tokens") or 0) <= int(thinking.get("budget_tokens") or 0):
                return (
                    "`max_tokens` must be greater than `thinking.budget_tokens`. Please "
                    "consult our documentation at https://docs.claude.com/en/docs/"
                    "build-with-claude/extended-thinking#max-tokens-and-context-window-size"
                )
        if not self.check_thinking:
            return None
        messages = body.get("messages") or []
        last = max(
            (i for i, m in enumerate(messages) if m.get("role") == "assistant"), default=None
        )
        if last is None:
            return None
        content = messages[last].get("content")
        blocks = content if isinstance(content, list) else [{"type": "text"}]
        first = blocks[0].get("type") if blocks and isinstance(blocks[0], dict) else "text"
        enabled = thinking is not None and thinking.get("type") in ("enabled", "adaptive")
        in_tool_loop = any(isinstance(b, dict) and b.get("type") == "tool_use" for b in blocks)
        if enabled and in_tool_loop and first not in ("thinking", "redacted_thinking"):
            return (
                f"messages.{last}.content.0.type: Expected `thinking` or `redacted_thinking`, "
                f"but found `{first}`. When `thinking` is enabled, a final `assistant` message "
                "must start with a thinking block (preceeding the lastmost set of `tool_use` "
                "and `tool_result` blocks). We recommend you include thinking blocks from "
                "previous turns. To avoid this requirement, disable `thinking`. Please consult "
                "our documentation at https://docs.claude.com/en/docs/build-with-claude/"
                "extended-thinking"
            )
        final = last == len(messages) - 1
        if not enabled and final and first in ("thinking", "redacted_thinking"):
            return (
                f"messages.{last}.content.0: When thinking is disabled, an `assistant` message "
                "in the final position cannot contain `thinking`. To use thinking blocks, "
                "enable `thinking` in your request."
            )
        return None

    def _usage(self, body: dict[str, Any], reply: AnthropicReply) -> dict[str, int]:
        use = self.cache.account(blocks_of_anthropic(body))
        text = reply.thinking + reply.text + "".join(a for _, a in reply.tool_calls)
        output = reply.output_tokens or max(1, len(text) // 4)
        usage = {
            "input_tokens": use.fresh,
            "cache_creation_input_tokens": use.written,
            "cache_read_input_tokens": use.read,
            "output_tokens": output,
        }
        usage.update(reply.usage or {})
        return usage

    def _signature(self, reply: AnthropicReply) -> str:
        signature = reply.signature or "sig_" + secrets.token_urlsafe(24)
        if reply.signature_valid:
            self.issued_signatures.add(signature)
        return signature

    def _content(self, reply: AnthropicReply) -> list[dict[str, Any]]:
        """The reply's content blocks, as a non-streamed message carries them."""
        blocks: list[dict[str, Any]] = []
        if reply.thinking:
            blocks.append(
                {
                    "type": "thinking",
                    "thinking": reply.thinking,
                    "signature": self._signature(reply),
                }
            )
        if reply.redacted_thinking is not None:
            blocks.append({"type": "redacted_thinking", "data": reply.redacted_thinking})
        if reply.text:
            blocks.append({"type": "text", "text": reply.text})
        for n, (name, arguments) in enumerate(reply.tool_calls):
            try:
                parsed = json.loads(arguments) if arguments.strip() else {}
            except json.JSONDecodeError:
                parsed = {"_raw": arguments}
            blocks.append(
                {"type": "tool_use", "id": f"toolu_fake{n}", "name": name, "input": parsed}
            )
        return blocks

    def _envelope(self, body: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": f"msg_fake{next(self._ids)}",
            "type": "message",
            "role": "assistant",
            "model": body.get("model", "claude-fake"),
            "stop_sequence": None,
        }

    def _message(
        self, body: dict[str, Any], reply: AnthropicReply, usage: dict[str, int]
    ) -> dict[str, Any]:
        return {
            **self._envelope(body),
            "content": self._content(reply),
            "stop_reason": reply.resolved_stop_reason(),
            "usage": usage,
        }

    def _stream(
        self, body: dict[str, Any], reply: AnthropicReply, usage: dict[str, int]
    ) -> Iterator[str]:
        start_usage = {**usage, "output_tokens": 1}
        events = list(self._events(body, reply, usage, start_usage))
        for sent, frame in enumerate(events):
            if reply.error_after is not None and sent == reply.error_after:
                error = {
                    "type": "error",
                    "error": {
                        "type": reply.error_type or "overloaded_error",
                        "message": reply.error_message or "Overloaded",
                    },
                }
                yield _frame("error", error)
                return
            yield frame

    def _events(
        self,
        body: dict[str, Any],
        reply: AnthropicReply,
        usage: dict[str, int],
        start_usage: dict[str, int],
    ) -> Iterator[str]:
        message = {**self._envelope(body), "content": [], "stop_reason": None, "usage": start_usage}
        yield _frame("message_start", {"type": "message_start", "message": message})
        yield _frame("ping", {"type": "ping"})
        index = 0
        if reply.thinking:
            start = {"type": "thinking", "thinking": "", "signature": ""}
            yield self._block_start(index, start)
            for piece in _split(reply.thinking, reply.chunks):
                yield self._delta(index, {"type": "thinking_delta", "thinking": piece})
            signature = {"type": "signature_delta", "signature": self._signature(reply)}
            yield self._delta(index, signature)
            yield self._block_stop(index)
            index += 1
        if reply.redacted_thinking is not None:
            yield self._block_start(
                index, {"type": "redacted_thinking", "data": reply.redacted_thinking}
            )
            yield self._block_stop(index)
            index += 1
        if reply.text:
            yield self._block_start(index, {"type": "text", "text": ""})
            for piece in _split(reply.text, reply.chunks):
                yield self._delta(index, {"type": "text_delta", "text": piece})
            yield self._block_stop(index)
            index += 1
        for n, (name, arguments) in enumerate(reply.tool_calls):
            start = {"type": "tool_use", "id": f"toolu_fake{n}", "name": name, "input": {}}
            yield self._block_start(index, start)
            for piece in _split(arguments, reply.arg_fragments):
                yield self._delta(index, {"type": "input_json_delta", "partial_json": piece})
            yield self._block_stop(index)
            index += 1
        delta = {"stop_reason": reply.resolved_stop_reason(), "stop_sequence": None}
        yield _frame("message_delta", {"type": "message_delta", "delta": delta, "usage": usage})
        yield _frame("message_stop", {"type": "message_stop"})

    @staticmethod
    def _block_start(index: int, block: dict[str, Any]) -> str:
        data = {"type": "content_block_start", "index": index, "content_block": block}
        return _frame("content_block_start", data)

    @staticmethod
    def _delta(index: int, delta: dict[str, Any]) -> str:
        data = {"type": "content_block_delta", "index": index, "delta": delta}
        return _frame("content_block_delta", data)

    @staticmethod
    def _block_stop(index: int) -> str:
        return _frame("content_block_stop", {"type": "content_block_stop", "index": index})
