"""The litellm adapter: one model call with streaming, retries, error mapping and cost.

litellm is imported lazily (it takes ~3 s): :func:`ensure_litellm` imports it in a
thread so the event loop keeps running. Nothing here imports litellm at module import.

A streamed answer is only accepted when the provider really finished it: litellm turns
a stream that is cut off (no finish reason, no ``[DONE]``) into a normal ``"stop"``,
so :meth:`LLMClient.complete` checks the stream wrapper's ``received_finish_reason``
(set only from the provider's own chunks) and retries a broken stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ml_intern_tui import envdefaults
from ml_intern_tui.core.llm_errors import (
    ContextOverflowError,
    LLMError,
    classify_error,
    stream_error,
)
from ml_intern_tui.core.models import ModelRoute

__all__ = [
    "ContextOverflowError",
    "LLMClient",
    "LLMError",
    "LLMResponse",
    "RetryPolicy",
    "ToolCallRequest",
    "Usage",
    "classify_error",
    "context_limit",
    "count_tokens",
    "ensure_litellm",
    "load_litellm",
]

_litellm: Any = None
_load_lock = threading.Lock()
_LITELLM_LOGGERS = ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy", "litellm")


def load_litellm() -> Any:
    """Import and configure litellm (blocking, ~3 s the first time); cached afterwards."""
    global _litellm
    if _litellm is not None:
        return _litellm
    with _load_lock:
        if _litellm is None:
            envdefaults.apply()  # no cost-map fetch, no .env loading, before the import
            module: Any = importlib.import_module("litellm")
            module.suppress_debug_info = True
            module.disable_hf_tokenizer_download = True
            module.drop_params = True
            for name in _LITELLM_LOGGERS:
                logging.getLogger(name).setLevel(logging.ERROR)
            _litellm = module
    return _litellm


async def ensure_litellm() -> Any:
    """Return the configured litellm module, importing it in a thread the first time."""
    if _litellm is not None:
        return _litellm
    return await asyncio.to_thread(load_litellm)


# -- results ----------------------------------------------------------------------------


@dataclass
class ToolCallRequest:
    """One tool call the model asked for; ``arguments`` is the raw JSON text (may be bad)."""

    id: str
    name: str
    arguments: str


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cached_tokens: int = 0


@dataclass
class LLMResponse:
    """One complete model answer (only the successful attempt's output)."""

    content: str
    reasoning: str
    tool_calls: list[ToolCallRequest]
    finish_reason: str
    usage: Usage
    cost_usd: float
    model: str


@dataclass
class RetryPolicy:
    """Exponential backoff with jitter; a server's ``retry-after`` wins (capped)."""

    max_retries: int = 3
    base_delay_s: float = 2.0
    max_delay_s: float = 30.0
    rate_limit_delay_s: float = 10.0

    def delay_s(self, attempt: int, error: LLMError) -> float:
        """Seconds to wait before retry number ``attempt + 1`` (attempt counts from 0)."""
        if error.retry_after_s is not None:
            return max(0.0, min(error.retry_after_s, self.max_delay_s))
        base = self.rate_limit_delay_s if error.kind == "rate_limit" else self.base_delay_s
        delay = min(base * (2**attempt), self.max_delay_s)
        return float(delay * random.uniform(0.75, 1.0))


# -- streaming accumulation ---------------------------------------------------------------


@dataclass
class _PartialCall:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)


class _StreamState:
    """Collects one streamed answer: text, reasoning, tool-call fragments, usage."""

    def __init__(self) -> None:
        self.text: list[str] = []
        self.reasoning: list[str] = []
        self.calls: dict[int, _PartialCall] = {}
        self.finish_reason: str | None = None
        self.usage: Any = None

    def add(
        self,
        chunk: Any,
        on_text: Callable[[str], None] | None,
        on_reasoning: Callable[[str], None] | None,
    ) -> None:
        usage = getattr(chunk, "usage", None)
        if usage is not None:
            self.usage = usage
        choices = getattr(chunk, "choices", None) or []
        if not choices:
            return
        choice = choices[0]
        if getattr(choice, "finish_reason", None):
            self.finish_reason = str(choice.finish_reason)
        delta = getattr(choice, "delta", None)
        if delta is None:
            return
        reasoning = _reasoning_of(delta)
        if reasoning:
            self.reasoning.append(reasoning)
            if on_reasoning is not None:
                on_reasoning(reasoning)
        text = getattr(delta, "content", None)
        if text:
            self.text.append(text)
            if on_text is not None:
                on_text(text)
        for position, fragment in enumerate(getattr(delta, "tool_calls", None) or []):
            self._add_tool_fragment(position, fragment)

    def _add_tool_fragment(self, position: int, fragment: Any) -> None:
        index = getattr(fragment, "index", None)
        index = position if index is None else int(index)
        frag_id = getattr(fragment, "id", None) or ""
        function = getattr(fragment, "function", None)
        name = (getattr(function, "name", None) or "") if function is not None else ""
        args = (getattr(function, "arguments", None) or "") if function is not None else ""
        current = self.calls.get(index)
        if current is not None and frag_id and current.id and frag_id != current.id and name:
            # Some servers reuse index 0 for every call; a new id + name is a new call.
            index = max(self.calls) + 1
            current = None
        if current is None:
            current = self.calls[index] = _PartialCall()
        if frag_id and not current.id:
            current.id = frag_id
        if name and not current.name:
            current.name = name
        if args:
            current.arguments.append(args)

    def tool_calls(self) -> list[ToolCallRequest]:
        return [
            ToolCallRequest(call.id or f"call_{n}", call.name, "".join(call.arguments))
            for n, (_, call) in enumerate(sorted(self.calls.items()))
        ]


def _reasoning_of(delta: Any) -> str:
    for attr in ("reasoning_content", "reasoning"):
        value = getattr(delta, attr, None)
        if isinstance(value, str) and value:
            return value
    return ""


def _provider_finished(stream: Any, state: _StreamState) -> bool:
    """True when the provider itself sent a finish reason (not litellm's synthetic one)."""
    if not hasattr(stream, "received_finish_reason"):
        return state.finish_reason is not None
    return (
        stream.received_finish_reason is not None
        or getattr(stream, "intermittent_finish_reason", None) is not None
    )


def _int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def _usage_of(raw: Any) -> Usage:
    if raw is None:
        return Usage()
    get: Callable[[str], Any]
    get = raw.get if isinstance(raw, dict) else lambda key: getattr(raw, key, None)
    details = get("prompt_tokens_details")
    cached = (
        details.get("cached_tokens")
        if isinstance(details, dict)
        else getattr(details, "cached_tokens", None)
    )
    prompt, completion = _int(get("prompt_tokens")), _int(get("completion_tokens"))
    total = _int(get("total_tokens")) or prompt + completion
    return Usage(prompt, completion, total, _int(cached))


def _cost_usd(litellm: Any, model: str, usage: Usage) -> float:
    if not usage.prompt_tokens and not usage.completion_tokens:
        return 0.0
    try:
        prompt_cost, completion_cost = litellm.cost_per_token(
            model=model,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            cache_read_input_tokens=usage.cached_tokens,
        )
        return float(prompt_cost) + float(completion_cost)
    except Exception:
        return 0.0  # unknown price (router, local, scripted models)


async def _aclose(obj: Any) -> None:
    closer = getattr(obj, "aclose", None)
    if closer is None:
        return
    with contextlib.suppress(Exception):
        await closer()


# -- the client -------------------------------------------------------------------------


class LLMClient:
    """Calls one model route; owns retries (litellm's and the SDK's are switched off)."""

    def __init__(
        self,
        route: ModelRoute,
        *,
        timeout_s: float = 600,
        retry: RetryPolicy | None = None,
        reasoning_effort: str | None = None,
        max_output_tokens: int | None = None,
    ) -> None:
        self.route = route
        self.timeout_s = timeout_s
        self.retry = retry or RetryPolicy()
        self.reasoning_effort = reasoning_effort
        self.max_output_tokens = max_output_tokens

    def request_kwargs(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None, stream: bool
    ) -> dict[str, Any]:
        """The keyword arguments passed to ``litellm.acompletion`` (public for tests/debug)."""
        kwargs: dict[str, Any] = {
            "model": self.route.litellm_model,
            "messages": messages,
            "stream": stream,
            "timeout": self.timeout_s,
            "num_retries": 0,
            "max_retries": 0,
        }
        if self.route.api_base is not None:
            kwargs["api_base"] = self.route.api_base
        if self.route.api_key is not None:
            kwargs["api_key"] = self.route.api_key
        if tools:
            kwargs["tools"] = tools
            kwargs["tool_choice"] = "auto"
        if stream:
            kwargs["stream_options"] = {"include_usage": True}
        if self.route.send_effort and self.reasoning_effort:
            kwargs["reasoning_effort"] = self.reasoning_effort
        if self.max_output_tokens:
            kwargs["max_tokens"] = self.max_output_tokens
        return kwargs

    async def complete(
        self,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]] | None,
        *,
        stream: bool = True,
        on_text: Callable[[str], None] | None = None,
        on_reasoning: Callable[[str], None] | None = None,
        on_retry: Callable[[str], None] | None = None,
    ) -> LLMResponse:
        """One answer, retried on transient failures. Raises :class:`LLMError`."""
        litellm = await ensure_litellm()
        kwargs = self.request_kwargs(messages, tools, stream)
        attempt = 0
        while True:
            try:
                if stream:
                    return await self._streamed(litellm, kwargs, on_text, on_reasoning)
                return await self._whole(litellm, kwargs, on_text, on_reasoning)
            except LLMError as err:
                error = err
            except Exception as exc:  # litellm / SDK exceptions, mapped here
                error = classify_error(exc, self.route)
                error.__cause__ = exc
            if not error.retryable or attempt >= self.retry.max_retries:
                raise error
            delay = self.retry.delay_s(attempt, error)
            attempt += 1
            if on_retry is not None:
                on_retry(
                    f"{error} (retry {attempt} of {self.retry.max_retries} in {delay:.1f}s)"
                )
            await asyncio.sleep(delay)

    async def _whole(
        self,
        litellm: Any,
        kwargs: dict[str, Any],
        on_text: Callable[[str], None] | None,
        on_reasoning: Callable[[str], None] | None,
    ) -> LLMResponse:
        response = await litellm.acompletion(**kwargs)
        choice = response.choices[0]
        message = choice.message
        content = message.content or ""
        reasoning = _reasoning_of(message)
        if reasoning and on_reasoning is not None:
            on_reasoning(reasoning)
        if content and on_text is not None:
            on_text(content)
        calls = [
            ToolCallRequest(
                call.id or f"call_{n}", call.function.name or "", call.function.arguments or ""
            )
            for n, call in enumerate(message.tool_calls or [])
        ]
        usage = _usage_of(getattr(response, "usage", None))
        return LLMResponse(
            content=content,
            reasoning=reasoning,
            tool_calls=calls,
            finish_reason=str(choice.finish_reason or ("tool_calls" if calls else "stop")),
            usage=usage,
            cost_usd=_cost_usd(litellm, self.route.litellm_model, usage),
            model=self.route.model_id,
        )

    async def _streamed(
        self,
        litellm: Any,
        kwargs: dict[str, Any],
        on_text: Callable[[str], None] | None,
        on_reasoning: Callable[[str], None] | None,
    ) -> LLMResponse:
        response = await litellm.acompletion(**kwargs)
        state = _StreamState()
        try:
            iterator = response.__aiter__()
            while True:
                try:
                    chunk = await iterator.__anext__()
                except StopAsyncIteration:
                    break
                except Exception as exc:
                    error = stream_error(exc, self.route)
                    error.__cause__ = exc
                    raise error from exc
                state.add(chunk, on_text, on_reasoning)
        finally:
            await _aclose(response)  # also on cancellation: release the HTTP stream now
        if not _provider_finished(response, state):
            raise LLMError(
                "broken_stream",
                "the model's answer stream ended before it finished",
                retryable=True,
            )
        usage = _usage_of(state.usage)
        calls = state.tool_calls()
        return LLMResponse(
            content="".join(state.text),
            reasoning="".join(state.reasoning),
            tool_calls=calls,
            finish_reason=state.finish_reason or ("tool_calls" if calls else "stop"),
            usage=usage,
            cost_usd=_cost_usd(litellm, self.route.litellm_model, usage),
            model=self.route.model_id,
        )


# -- token accounting -------------------------------------------------------------------


def count_tokens(
    model: str, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None
) -> int:
    """Tokens of a request (tool calls and tool outputs included); chars/4 if litellm fails.

    Loads litellm synchronously if it is not loaded yet: call :func:`ensure_litellm` first
    from async code.
    """
    try:
        litellm = load_litellm()
        return int(litellm.token_counter(model=model, messages=messages, tools=tools or None))
    except Exception:
        text = json.dumps(messages, default=str) + json.dumps(tools or [], default=str)
        return max(1, len(text) // 4)


def _model_candidates(model: str) -> list[str]:
    names = [model]
    bare = model.removeprefix("openai/")
    for name in (bare, model.split(":", 1)[0], bare.split(":", 1)[0]):
        if name and name not in names:
            names.append(name)
    return names


def context_limit(model: str, override: int | None = None, fallback: int = 128_000) -> int:
    """Input-token limit: the override, else litellm's model map, else ``fallback``."""
    if override:
        return override
    try:
        litellm = load_litellm()
    except Exception:
        return fallback
    for name in _model_candidates(model):
        try:
            info = litellm.get_model_info(name)
        except Exception:
            continue
        limit = info.get("max_input_tokens") if isinstance(info, dict) else None
        if limit:
            return int(limit)
    return fallback
