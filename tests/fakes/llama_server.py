"""A fake llama-cpp-python OpenAI server: a context window, and its ways of saying "too long".

Built on :class:`fakes.openai_server.FakeOpenAI` (real HTTP and SSE; scripted replies in
a queue), it adds what decides whether a session survives on a small local model:

- ``n_ctx``: the window. The fake counts every prompt with its own tokenizer (the chat
  template rendered, tool schemas as JSON, ~3 bytes a token: more than tiktoken, so our
  count runs low as it did against the real server) and reports that count as
  ``usage.prompt_tokens``.
- A prompt of ``n_ctx`` tokens or more, streaming: HTTP 200 with an empty event stream
  (llama-cpp-python leaves the error in its log). Not streaming: HTTP 400 with code
  ``context_length_exceeded`` and "This model's maximum context length is N tokens...",
  word for word as llama-cpp-python's server writes it. Neither takes a scripted reply.
- ``GET /v1/models`` reports the window the way the chosen server family does:
  ``listing="llamacpp"`` (``meta.n_ctx`` and ``meta.n_ctx_train``), ``"vllm"``
  (``max_model_len``) or ``"plain"`` (nothing, as llama-cpp-python itself).

Usage::

    with FakeLlamaCpp(n_ctx=16_384) as fake:
        fake.enqueue(Reply(text="hello"))
        ...
        assert fake.overflows == 1 and fake.prompt_counts[-1] < fake.n_ctx
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Literal

from fakes.openai_server import FakeOpenAI, RecordedRequest, Reply

BYTES_PER_TOKEN = 3
Listing = Literal["llamacpp", "vllm", "plain"]


def render_prompt(body: dict[str, Any]) -> str:
    """The prompt as a ChatML template would lay it out (tools in the system turn)."""
    parts: list[str] = []
    tools = body.get("tools") or []
    if tools:
        parts.append("<|im_start|>system\n# Tools\n" + "\n".join(json.dumps(t) for t in tools))
    for message in body.get("messages") or []:
        content = message.get("content")
        text = content if isinstance(content, str) else json.dumps(content or "")
        for call in message.get("tool_calls") or []:
            text += "\n<tool_call>" + json.dumps(call.get("function") or {}) + "</tool_call>"
        parts.append(f"<|im_start|>{message.get('role')}\n{text}<|im_end|>")
    parts.append("<|im_start|>assistant\n")
    return "\n".join(parts)


def count_prompt(body: dict[str, Any]) -> int:
    """This server's token count of a request."""
    return len(render_prompt(body).encode()) // BYTES_PER_TOKEN + 1


class FakeLlamaCpp(FakeOpenAI):
    """The server; ``base_url`` is ``http://127.0.0.1:PORT/v1``."""

    def __init__(
        self,
        n_ctx: int = 16_384,
        *,
        model: str = "local-model",
        n_ctx_train: int = 131_072,
        listing: Listing = "llamacpp",
    ) -> None:
        self.n_ctx = n_ctx
        self.n_ctx_train = n_ctx_train
        self.listing = listing
        self.prompt_counts: list[int] = []
        """This server's count of every chat request, in order."""
        self.overflows = 0
        """Requests refused as over the window."""
        super().__init__(models=[model])

    def model_entries(self) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = []
        for name in self.models:
            entry: dict[str, Any] = {"id": name, "object": "model", "owned_by": "me"}
            if self.listing == "llamacpp":
                entry["meta"] = {"n_ctx": self.n_ctx, "n_ctx_train": self.n_ctx_train}
            elif self.listing == "vllm":
                entry["max_model_len"] = self.n_ctx
            else:
                entry["permissions"] = []
            entries.append(entry)
        return entries

    def _next_reply(self, request: RecordedRequest) -> Reply:
        tokens = count_prompt(request.body)
        self.prompt_counts.append(tokens)
        if tokens >= self.n_ctx:
            self.overflows += 1
            if request.body.get("stream"):
                return Reply(empty_stream=True)
            return Reply(status=400, error=self._overflow_body(request.body, tokens))
        reply = super()._next_reply(request)
        if reply.usage is not None or reply.status >= 400:
            return reply
        completion = max(1, len(reply.text.encode()) // BYTES_PER_TOKEN)
        usage = {
            "prompt_tokens": tokens,
            "completion_tokens": completion,
            "total_tokens": tokens + completion,
        }
        return dataclasses.replace(reply, usage=usage)

    def _overflow_body(self, body: dict[str, Any], tokens: int) -> dict[str, Any]:
        completion = body.get("max_tokens")
        message = (
            f"This model's maximum context length is {self.n_ctx} tokens. However, you "
            f"requested {tokens + (completion or 0)} tokens ({tokens} in the messages, "
            f"{completion} in the completion). Please reduce the length of the messages "
            "or completion."
        )
        return {
            "error": {
                "message": message,
                "type": "invalid_request_error",
                "param": "messages",
                "code": "context_length_exceeded",
            }
        }
