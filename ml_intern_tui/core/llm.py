"""The litellm adapter: one model call with streaming, retries, error mapping and cost.

litellm is never imported at module import (it takes ~3 s): :func:`ensure_litellm`
imports it in a thread so the event loop keeps running.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import logging
import random
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ml_intern_tui import envdefaults
from ml_intern_tui.core import known_secrets, openai_body, retry, thinking
from ml_intern_tui.core.llm_errors import (
    ContextOverflowError,
    LLMError,
    StreamEndedError,
    classify_error,
    stream_error,
)
from ml_intern_tui.core.models import ModelRoute
from ml_intern_tui.core.pricing import CallCost, CallUsage, Pricer
from ml_intern_tui.core.prompt_cache import cache_kwargs
from ml_intern_tui.core.sdk_stream import estimated_usage, sdk_stream, served_model

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

log = logging.getLogger(__name__)

YIELD_EVERY_S = 0.002
"""How long the stream loop may hold the event loop before letting others run."""

RELEASE_BATCH = 1000
"""Stream chunks dropped per event-loop turn once an answer is complete."""

_litellm: Any = None
_releasing: set[asyncio.Task[None]] = set()
_load_lock = threading.Lock()
_LITELLM_LOGGERS = ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy", "litellm")


def load_litellm() -> Any:
    """Import and configure litellm (blocking, ~3 s the first time); cached afterwards."""
    global _litellm
    with _load_lock:
        if _litellm is None:
            envdefaults.apply()  # no cost-map fetch, no .env loading, before the import
            module: Any = importlib.import_module("litellm")
            module.suppress_debug_info = True
            module.disable_hf_tokenizer_download = True
            module.drop_params = True
            for name in _LITELLM_LOGGERS:
                logging.getLogger(name).setLevel(logging.ERROR)
            # The SDK's per-request walk over the whole history is skipped for plain JSON.
            openai_body.install()
            _litellm = module
    return _litellm


async def ensure_litellm() -> Any:
    """Return the configured litellm module, importing it in a thread the first time."""
    return _litellm if _litellm is not None else await asyncio.to_thread(load_litellm)


# -- errors -----------------------------------------------------------------------------

# fmt: off
# -- results ----------------------------------------------------------------------------


@dataclass
class ToolCallRequest:
    """One tool call the model asked for; ``arguments`` is the raw JSON text (may be bad)."""

    id: str
    name: str
    arguments: str


@dataclass
class Usage:
    """Token counts of one call; ``prompt_tokens`` includes cached and cache-write tokens."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cached_tokens: int = 0
    """Input tokens read from the provider's prompt cache."""
    cache_write_tokens: int = 0
    """Input tokens written to the prompt cache (Anthropic bills them above the input price)."""

    def for_pricing(self) -> CallUsage:
        return CallUsage(
            self.prompt_tokens, self.completion_tokens, self.cached_tokens, self.cache_write_tokens
        )


@dataclass
class LLMResponse:
    """One complete model answer (only the successful attempt's output)."""

    content: str
    reasoning: str
    tool_calls: list[ToolCallRequest]
    finish_reason: str
    usage: Usage
    cost_usd: float
    """USD of this call; 0.0 when unpriced (``cost.priced`` tells the two apart)."""
    model: str
    cost: CallCost | None = None
    """The full price of the call (``None`` only for responses made by hand in tests)."""
    served_by: str | None = None
    """The provider the router says served the call (``x-inference-provider``)."""
    thinking_blocks: list[dict[str, Any]] = field(default_factory=list)
    """Anthropic thinking blocks with their signatures (``core/thinking.py``)."""


@dataclass
class RetryPolicy:
    """Exponential backoff with jitter; a server's ``retry-after`` wins (capped)."""

    max_retries: int = 3
    base_delay_s: float = 2.0
    max_delay_s: float = 30.0
    rate_limit_delay_s: float = 10.0

    def delay_s(self, attempt: int, error: LLMError) -> float:
        """Seconds to wait before retry number ``attempt + 1`` (attempt counts from 0).

        The backoff and the ``Retry-After`` cap are the shared policy's (``core/retry.py``);
        the jitter here only shortens a wait, so a model call never waits past the cap."""
        base = self.rate_limit_delay_s if error.kind == "rate_limit" else self.base_delay_s
        shared = retry.RetryPolicy(
            base_delay_s=base, max_delay_s=self.max_delay_s, max_retry_after_s=self.max_delay_s
        )
        delay = shared.delay(attempt + 1, error.retry_after_s)
        if error.retry_after_s is not None:
            return delay
        return float(delay * random.uniform(0.75, 1.0))


# -- collecting one answer ----------------------------------------------------------------

TextCallback = Callable[[str], None]


@dataclass
class _PartialCall:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)


class _Answer:
    """Collects one answer (streamed deltas or a whole message): text, reasoning, calls."""

    def __init__(self, on_text: TextCallback | None, on_reasoning: TextCallback | None) -> None:
        self.on_text, self.on_reasoning = on_text, on_reasoning
        self.text: list[str] = []
        self.reasoning: list[str] = []
        self.calls: dict[int, _PartialCall] = {}
        self.finish_reason: str | None = None
        self.usage: Any = None
        self.served_by: str | None = None
        self.thinking = thinking.ThinkingCollector()

    def note_response(self, response: Any) -> None:
        """Read who served the call from litellm's copy of the response headers (or,
        on a chunk read from the SDK, from the model it names)."""
        if self.served_by is None:
            hidden = getattr(response, "_hidden_params", None)
            self.served_by = _served_by(hidden if hidden is not None else served_model(response))

    def add_chunk(self, chunk: Any) -> None:
        self.note_response(chunk)
        self.usage = getattr(chunk, "usage", None) or self.usage
        choices = getattr(chunk, "choices", None) or []
        if choices:
            self.add_choice(choices[0], getattr(choices[0], "delta", None))

    def add_choice(self, choice: Any, delta: Any) -> None:
        """Take a choice's finish reason and its delta (or whole message)."""
        if getattr(choice, "finish_reason", None):
            self.finish_reason = str(choice.finish_reason)
        if delta is None:
            return
        self.thinking.add(getattr(delta, "thinking_blocks", None))
        for value, parts, callback in (
            (_reasoning_of(delta), self.reasoning, self.on_reasoning),
            (getattr(delta, "content", None), self.text, self.on_text),
        ):
            if value:
                parts.append(value)
                if callback is not None:
                    callback(value)
        for position, fragment in enumerate(getattr(delta, "tool_calls", None) or []):
            self._add_tool_fragment(position, fragment)

    def _add_tool_fragment(self, position: int, fragment: Any) -> None:
        index = getattr(fragment, "index", None)
        index = position if index is None else int(index)
        frag_id = getattr(fragment, "id", None) or ""
        function = getattr(fragment, "function", None)
        name = getattr(function, "name", None) or ""
        args = getattr(function, "arguments", None) or ""
        current = self.calls.get(index)
        if current is not None and frag_id and current.id and frag_id != current.id and name:
            # Some servers reuse index 0 for every call; a new id + name is a new call.
            index, current = max(self.calls) + 1, None
        if current is None:
            current = self.calls[index] = _PartialCall()
        current.id = current.id or frag_id
        current.name = current.name or name
        if args:
            current.arguments.append(args)

    def response(self, pricer: Pricer, route: ModelRoute) -> LLMResponse:
        calls = [
            ToolCallRequest(call.id or f"call_{n}", call.name, "".join(call.arguments))
            for n, (_, call) in enumerate(sorted(self.calls.items()))
        ]
        usage = _usage_of(self.usage)
        cost = _cost_of(pricer, route, usage, self.served_by)
        return LLMResponse(
            content="".join(self.text),
            reasoning="".join(self.reasoning),
            tool_calls=calls,
            finish_reason=self.finish_reason or ("tool_calls" if calls else "stop"),
            usage=usage,
            cost_usd=cost.usd or 0.0,
            model=route.model_id,
            cost=cost,
            served_by=self.served_by,
            thinking_blocks=self.thinking.result(),
        )


def _reasoning_of(delta: Any) -> str:
    for attr in ("reasoning_content", "reasoning"):
        value = getattr(delta, attr, None)
        if isinstance(value, str) and value:
            return value
    return ""


def _provider_finished(stream: Any, answer: _Answer) -> bool:
    """Whether the provider itself finished the stream (else the stream is broken).

    litellm turns a stream cut off without finish reason or ``[DONE]`` into a normal
    ``"stop"`` with estimated usage; only the wrapper's ``received_finish_reason`` (set
    from provider chunks alone) tells the two apart.
    """
    if not hasattr(stream, "received_finish_reason"):
        return answer.finish_reason is not None
    return (
        stream.received_finish_reason is not None
        or getattr(stream, "intermittent_finish_reason", None) is not None
    )


SERVED_BY_HEADER = "llm_provider-x-inference-provider"
"""The router's ``x-inference-provider`` response header, as litellm passes it on."""


_PROVIDER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def _served_by(hidden: Any) -> str | None:
    """The provider the router says served the call: its ``x-inference-provider`` header,
    else a ``:provider`` suffix on the model the response names. Anything that is not a
    provider name is ignored."""
    if not isinstance(hidden, dict):
        return None
    headers = hidden.get("additional_headers")
    value = headers.get(SERVED_BY_HEADER) if isinstance(headers, dict) else None
    if not value:
        answered = hidden.get("provider_response_model")
        value = answered.rpartition(":")[2] if isinstance(answered, str) and ":" in answered else None
    if isinstance(value, str) and _PROVIDER_NAME.fullmatch(value.strip()):
        return value.strip()
    return None


def _usage_of(raw: Any) -> Usage:
    """Token counts from litellm's usage (OpenAI shape; Anthropic's cache fields too).

    litellm reports ``prompt_tokens`` with cached and cache-write tokens included, cache
    reads as ``prompt_tokens_details.cached_tokens`` (Anthropic: also
    ``cache_read_input_tokens``) and writes as ``cache_creation_input_tokens``.
    """

    def get(obj: Any, key: str) -> int:
        value = obj.get(key) if isinstance(obj, dict) else getattr(obj, key, None)
        return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0

    if isinstance(raw, dict):
        details = raw.get("prompt_tokens_details")
    else:
        details = getattr(raw, "prompt_tokens_details", None)
    prompt, completion = get(raw, "prompt_tokens"), get(raw, "completion_tokens")
    total = get(raw, "total_tokens") or prompt + completion
    cached = get(details, "cached_tokens") or get(raw, "cache_read_input_tokens")
    written = get(raw, "cache_creation_input_tokens") or get(details, "cache_write_tokens")
    return Usage(prompt, completion, total, min(cached, prompt), min(written, prompt))


def _cost_of(pricer: Pricer, route: ModelRoute, usage: Usage, served_by: str | None) -> CallCost:
    try:
        return pricer.price(route, usage.for_pricing(), served_by)
    except Exception as exc:  # a pricing bug must not lose the answer: the call is unpriced
        log.warning("pricing failed for %s: %s", route.model_id, exc)
        return CallCost(None, usage=usage.for_pricing(), reason=f"pricing failed: {exc}")


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
        pricer: Pricer | None = None,
        prompt_caching: bool = True,
        session_key: str | None = None,
    ) -> None:
        self.route = route
        self.timeout_s = timeout_s
        self.retry = retry or RetryPolicy()
        self.reasoning_effort = reasoning_effort
        self.max_output_tokens = max_output_tokens
        self.pricer = pricer or Pricer()
        self.prompt_caching = prompt_caching
        self.session_key = session_key
        """The session id: router cache affinity header and OpenAI ``prompt_cache_key``."""

    def effort_to_send(self) -> str | None:
        """The effort this client asks for (never for routes that must not get one)."""
        return self.reasoning_effort if self.route.send_effort else None

    def request_kwargs(
        self, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None, stream: bool
    ) -> dict[str, Any]:
        """The keyword arguments given to ``litellm.acompletion``."""
        route = self.route
        # Known secret values never leave in a request, whichever path put them in a message.
        messages = known_secrets.scrub_value(messages)
        # Thinking blocks go back only where the provider wants them (and can take them).
        messages, effort = thinking.wire(route, messages, self.effort_to_send())
        kwargs: dict[str, Any] = {"model": route.litellm_model, "messages": messages}
        kwargs.update(stream=stream, timeout=self.timeout_s, num_retries=0, max_retries=0)
        if route.api_base is not None:
            kwargs["api_base"] = route.api_base
        if route.api_key is not None:
            kwargs["api_key"] = route.api_key
        if tools:
            kwargs.update(tools=tools, tool_choice="auto")
        if stream:
            kwargs["stream_options"] = {"include_usage": True}
        if effort:
            kwargs["reasoning_effort"] = effort
        if self.max_output_tokens:
            kwargs["max_tokens"] = self.max_output_tokens
        if self.prompt_caching:
            kwargs.update(cache_kwargs(route, messages, tools, self.session_key))
        return kwargs

    async def complete(
        self,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]] | None,
        *,
        stream: bool = True,
        on_text: TextCallback | None = None,
        on_reasoning: TextCallback | None = None,
        on_retry: TextCallback | None = None,
    ) -> LLMResponse:
        """One answer, retried on transient failures; raises :class:`LLMError`.

        ``on_retry`` gets a one-line message before each retry: discard the text given to
        ``on_text`` so far, it belonged to the failed attempt. A stream that ends quietly
        (no finish reason, no error) with nothing in it, or quietly a second time, is
        asked once more without streaming, at once: some servers only say what went wrong
        there (llama-cpp-python answers an over-long prompt with an empty stream).
        """
        if self.route.kind == "router" and not self.route.api_key:  # never send another key
            hint = "set HF_TOKEN or run `hf auth login`, or pick a local model"
            raise LLMError("auth", f"no Hugging Face token for the router: {hint}")
        litellm = await ensure_litellm()
        kwargs = self.request_kwargs(messages, tools, stream)
        await self._settle_prices()
        attempt = 0
        plain_asked = plain_now = False
        quiet_ends = 0
        while True:
            answer = _Answer(on_text, on_reasoning)
            try:
                if stream and not plain_now:
                    await self._stream_into(answer, litellm, kwargs)
                else:
                    plain = self.request_kwargs(messages, tools, False) if stream else kwargs
                    response = await litellm.acompletion(**plain)
                    answer.usage = getattr(response, "usage", None)
                    answer.note_response(response)
                    answer.add_choice(response.choices[0], response.choices[0].message)
                return answer.response(self.pricer, self.route)
            except Exception as exc:  # our LLMError, or a litellm / SDK exception to map
                error = classify_error(exc, self.route)
                error.__cause__ = error.__cause__ if error is exc else exc
            plain_now = False
            if isinstance(error, StreamEndedError) and not plain_asked:
                quiet_ends += 1
                # Nothing at all, or quiet twice in a row: the server hides an error there
                # (a single cut midway is usually the network; the retry keeps streaming).
                if error.empty or quiet_ends >= 2:
                    plain_asked = plain_now = True
                    if on_retry is not None:
                        on_retry(f"{error}; asking again without streaming")
                    continue
            if not error.retryable or attempt >= self._max_retries_for(error):
                raise error
            delay = self.retry.delay_s(attempt, error)
            attempt += 1
            if on_retry is not None:
                on_retry(f"{error} (retry {attempt} of {self._max_retries_for(error)} in {delay:.1f}s)")
            await asyncio.sleep(delay)

    async def _settle_prices(self) -> None:
        """Before the first router call of a fresh start: let the catalog fetch finish."""
        with contextlib.suppress(Exception):
            await self.pricer.settle(self.route)

    def _max_retries_for(self, error: LLMError) -> int:
        # A refused connection to a server on this machine means it is not running:
        # one quick retry covers a server still starting; more would only keep the
        # user waiting for the same answer.
        if error.kind == "connection" and self.route.kind == "local":
            return min(1, self.retry.max_retries)
        return self.retry.max_retries

    async def _stream_into(self, answer: _Answer, litellm: Any, kwargs: dict[str, Any]) -> None:
        stream = await litellm.acompletion(**kwargs)
        # OpenAI-compatible answers are read from the SDK's own stream (sdk_stream.py).
        raw = sdk_stream(stream)
        answer.note_response(stream)
        loop = asyncio.get_running_loop()
        yielded_at = loop.time()
        try:
            iterator = (raw if raw is not None else stream).__aiter__()
            while True:
                try:
                    chunk = await iterator.__anext__()
                except StopAsyncIteration:
                    break
                except Exception as exc:  # only the stream's own failures, not callbacks'
                    raise stream_error(exc, self.route) from exc
                answer.add_chunk(chunk)
                if answer.finish_reason is not None and getattr(chunk, "usage", None):
                    break  # the usage chunk is the last thing the provider sends
                # A fast stream whose chunks are already buffered never suspends: give the
                # event loop (the UI) a turn every few milliseconds.
                if loop.time() - yielded_at > YIELD_EVERY_S:
                    await asyncio.sleep(0)
                    yielded_at = loop.time()
        finally:
            with contextlib.suppress(Exception):  # also on cancel: free the HTTP stream now
                await stream.aclose()
            _release_chunks(stream)
        finished = answer.finish_reason is not None if raw else _provider_finished(stream, answer)
        if not finished:
            empty = not (answer.text or answer.reasoning or answer.calls)
            what = "sent nothing" if empty else "ended before it finished"
            raise StreamEndedError(f"the model's answer stream {what}", empty=empty)
        if raw is not None and answer.usage is None:
            # A server that reports no usage: estimated, as litellm's own pass did.
            arguments = ["".join(call.arguments) for call in answer.calls.values()]
            answer.usage = await asyncio.to_thread(
                estimated_usage, count_tokens, self.route.litellm_model, kwargs,
                "".join(answer.text), arguments,
            )


def _release_chunks(stream: Any) -> None:
    """Free the chunks litellm kept of a finished stream, a batch per loop turn.

    litellm's stream wrapper keeps every chunk (a pydantic model each) until the wrapper
    itself is freed; freeing 20,000 of them at once held the event loop for about 40 ms
    at the end of a long answer. The wrapper is done with them once it is closed.
    """
    chunks = getattr(stream, "chunks", None)
    if not isinstance(chunks, list) or len(chunks) <= RELEASE_BATCH:
        return
    with contextlib.suppress(Exception):
        stream.chunks = []
        task = asyncio.get_running_loop().create_task(_free_gradually(chunks))
        _releasing.add(task)
        task.add_done_callback(_releasing.discard)


async def _free_gradually(items: list[Any]) -> None:
    while items:
        del items[-RELEASE_BATCH:]
        await asyncio.sleep(0)


# -- token accounting -------------------------------------------------------------------


def count_tokens(
    model: str, messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None = None
) -> int:
    """Tokens of a request (tool calls and outputs included); chars/4 if litellm fails.

    Blocks while litellm loads the first time: await :func:`ensure_litellm` before.
    """
    try:
        litellm = load_litellm()
        return int(litellm.token_counter(model=model, messages=messages, tools=tools or None))
    except Exception:
        text = json.dumps(messages, default=str) + json.dumps(tools or [], default=str)
        return max(1, len(text) // 4)


def context_limit(model: str, override: int | None = None, fallback: int = 128_000) -> int:
    """Input-token limit: the override, else litellm's model map, else ``fallback``."""
    if override:
        return override
    try:
        litellm = load_litellm()
    except Exception:
        return fallback
    bare = model.removeprefix("openai/")
    for name in dict.fromkeys((model, bare, model.split(":")[0], bare.split(":")[0])):
        try:
            info = litellm.get_model_info(name)
        except Exception:
            continue
        limit = info.get("max_input_tokens") if isinstance(info, dict) else None
        if limit:
            return int(limit)
    return fallback
