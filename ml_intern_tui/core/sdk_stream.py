"""An OpenAI-compatible answer stream read straight from the OpenAI SDK.

litellm sends the request (its parameter mapping, client, error mapping on the way
out) and wraps the SDK's stream in its own; reading through that wrapper costs about a
quarter of a millisecond per chunk (half a second for a 2,000-word answer streamed at
once) and, once the stream ends, a second pass over every chunk in a thread before the
usage arrives (a fifth of a second for the same answer, a few milliseconds for a short
one). For routes served through the OpenAI SDK (the HF router, local servers, OpenAI)
the SDK's own stream underneath yields the provider's chunks as they are: text,
reasoning, tool-call fragments, the finish reason and the usage chunk, which is all the
adapter reads. Other providers keep litellm's wrapper.
"""

from __future__ import annotations

from typing import Any


def sdk_stream(stream: Any) -> Any | None:
    """The OpenAI SDK stream under litellm's wrapper, or ``None`` for another provider."""
    inner = getattr(stream, "completion_stream", None)
    if inner is None:
        return None
    try:
        from openai import AsyncStream
    except ImportError:  # pragma: no cover - litellm depends on openai
        return None
    return inner if isinstance(inner, AsyncStream) else None


def estimated_usage(
    counter: Any, model: str, request: dict[str, Any], text: str, arguments: list[str]
) -> dict[str, int]:
    """Token counts for a server that sent none (what litellm's own pass estimated):
    the request's messages and tools, and the answer's text and tool arguments."""
    prompt = int(counter(model, request.get("messages") or [], request.get("tools")))
    answer = text + "".join(arguments)
    completion = int(counter(model, [{"role": "assistant", "content": answer}])) if answer else 0
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def served_model(chunk: Any) -> dict[str, Any] | None:
    """litellm's hidden-params shape for a raw chunk's model (``org/model:provider``)."""
    model = getattr(chunk, "model", None)
    return {"provider_response_model": model} if isinstance(model, str) and model else None
