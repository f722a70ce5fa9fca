"""Warm the model call path before the first call: it then costs what later calls cost.

The first call of a process otherwise pays for litellm's lazy set-up between Enter and
the first token: the tokenizer file, the provider's modules (a request with tools loads
litellm's MCP gateway code, ~1 s), the OpenAI SDK's client, its HTTP transport and the
model classes of a streamed answer. The app starts this in a thread after its first
frame, headless mode while the session starts.

For OpenAI-compatible routes (local servers, the HF router, OpenAI) one streamed request
with a tool goes through litellm to a stub on 127.0.0.1 that answers at once, in an
event loop of the warming thread's own: the whole path is walked, nothing leaves the
machine. Other providers get litellm's ``mock_response`` (their own protocol is not
spoken here), which walks everything but their HTTP client.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from ml_intern_tui.core.llm import load_litellm
from ml_intern_tui.core.models import ModelRoute

log = logging.getLogger(__name__)

WARM_MESSAGES = ({"role": "user", "content": "warm up"},)
WARM_TOOLS = (
    {
        "type": "function",
        "function": {
            "name": "noop",
            "description": "Does nothing.",
            "parameters": {"type": "object", "properties": {}},
        },
    },
)
FALLBACK_MODEL = "openai/gpt-4o"
"""Whose tokenizer is loaded when the model is not known yet."""
STUB_TIMEOUT_S = 10.0


def warm_provider(route: ModelRoute | None) -> None:
    """Walk litellm's code path for ``route`` once, sending nothing off the machine
    (blocking: run it in a thread). ``None`` (no usable model id) loads litellm and a
    tokenizer only. Never raises: the real call reports real problems."""
    litellm = load_litellm()
    model = route.litellm_model if route is not None else FALLBACK_MODEL
    with contextlib.suppress(Exception):  # a model litellm cannot count: chars/4 later
        litellm.token_counter(model=model, messages=list(WARM_MESSAGES))
    if route is None or route.kind == "scripted":
        return
    try:
        asyncio.run(_walk(litellm, model))
    except Exception as exc:
        log.debug("warming the %s call path failed: %s", model, exc)


async def _walk(litellm: Any, model: str) -> None:
    import httpx

    # httpx's own transport (httpcore, h11: ~0.3 s to import) serves the model listing
    # and the Hub clients; imported later, it would hold the GIL while a call is due.
    async with httpx.AsyncClient():
        pass
    request: dict[str, Any] = {
        "model": model,
        "messages": list(WARM_MESSAGES),
        "tools": [dict(tool) for tool in WARM_TOOLS],
        "tool_choice": "auto",
        "stream": True,
        "stream_options": {"include_usage": True},
        "num_retries": 0,
        "max_retries": 0,
        "timeout": STUB_TIMEOUT_S,
    }
    if not model.startswith("openai/"):
        await _drain(await litellm.acompletion(**request, mock_response="ok"))
        return
    server = await asyncio.start_server(_answer, "127.0.0.1", 0)
    try:
        port = server.sockets[0].getsockname()[1]
        base = f"http://127.0.0.1:{port}/v1"
        await _drain(await litellm.acompletion(**request, api_base=base, api_key="warm-up"))
    finally:
        server.close()
        await server.wait_closed()


async def _drain(stream: Any) -> None:
    async for _chunk in stream:
        pass
    with contextlib.suppress(Exception):
        await stream.aclose()


def _event(delta: dict[str, Any], finish: str | None = None) -> bytes:
    chunk = {
        "id": "warm-up",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "warm-up",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(chunk)}\n\n".encode()


def _answer_body() -> bytes:
    """A short streamed answer: text, a tool call, the finish, usage, ``[DONE]``."""
    call = {"index": 0, "id": "call_0", "type": "function"}
    call["function"] = {"name": "noop", "arguments": "{}"}
    usage = {
        "id": "warm-up",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "warm-up",
        "choices": [],
        "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
    }
    return b"".join(
        [
            _event({"role": "assistant", "content": "ok"}),
            _event({"tool_calls": [call]}),
            _event({}, "tool_calls"),
            f"data: {json.dumps(usage)}\n\n".encode(),
            b"data: [DONE]\n\n",
        ]
    )


async def _answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """The stub: one HTTP request in, one streamed answer out, connection closed."""
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), STUB_TIMEOUT_S)
        length = 0
        for line in head.split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip() or 0)
        if length:
            await asyncio.wait_for(reader.readexactly(length), STUB_TIMEOUT_S)
        body = _answer_body()
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
            + f"content-length: {len(body)}\r\nconnection: close\r\n\r\n".encode()
            + body
        )
        await writer.drain()
    except Exception as exc:  # a client that went away: nothing to warm any more
        log.debug("warm-up stub: %s", exc)
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()
