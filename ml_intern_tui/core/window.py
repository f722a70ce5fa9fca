"""What servers say about the context window: in overflow errors and in model listings.

Every wording we know of is collected here, each with a test, so a new server's phrasing
is one line to add. From an overflow message we read the window (``window``) and, when
the server says it, its own count of the prompt (``prompt_tokens``), which calibrates
ours. From ``GET /v1/models`` of a local server we read the window it was started with.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

MIN_WINDOW = 256
MAX_WINDOW = 50_000_000
"""Numbers outside this range are not a context window (a typo, a byte count)."""

_N = r"(\d[\d,_]*)"
"""A token count as servers print it: ``8192``, ``128,000``."""


@dataclass(frozen=True)
class _Wording:
    """One server's overflow sentence: which groups hold the window and the prompt size."""

    pattern: re.Pattern[str]
    window: int | None
    prompt: int | None = None


def _w(pattern: str, window: int | None, prompt: int | None = None) -> _Wording:
    return _Wording(re.compile(pattern.replace("{n}", _N), re.IGNORECASE), window, prompt)


# fmt: off
_WORDINGS: tuple[_Wording, ...] = (
    # OpenAI, Azure, DeepSeek, Groq, OpenRouter, vLLM, llama-cpp-python:
    # "This model's maximum context length is 8192 tokens. However, you requested 9000
    # tokens (9000 in the messages, None in the completion)."
    _w(r"maximum context length is {n} tokens?\. However, you requested (?:about )?{n} tokens "
       r"\({n} in the messages", 1, 3),
    _w(r"maximum context length is {n} tokens?\. However, your messages resulted in {n}", 1, 2),
    _w(r"maximum context length is {n} tokens?(?:\.| and) (?:However, )?your request has {n} input",
       1, 2),
    _w(r"maximum context length is {n}", 1),
    # llama.cpp's llama-server: "request (9000 tokens) exceeds the available context size
    # (8192 tokens), try increasing it"; its JSON error also carries n_ctx / n_prompt_tokens.
    _w(r"request \({n} tokens\) exceeds the available context size \({n} tokens\)", 2, 1),
    _w(r"\bn_prompt_tokens\W{1,4}{n}.{0,40}?\bn_ctx\W{1,4}{n}", 2, 1),
    _w(r"\bn_ctx\W{1,4}{n}", 1),
    # llama-cpp-python's own exception (before its server rewrites it).
    _w(r"Requested tokens \({n}\) exceed context window of {n}", 2, 1),
    # LM Studio: "Trying to keep the first 9000 tokens when context the overflows. However,
    # the model is loaded with context length of only 8192 tokens".
    _w(r"keep the first {n} tokens when context the overflows.{0,80}?context length of only {n}",
       2, 1),
    _w(r"context length of only {n} tokens", 1),
    # vLLM: "The decoder prompt (length 9000) is longer than the maximum model length of 8192"
    # and "Input prompt (9000 tokens) is too long and exceeds limit of 8192".
    _w(r"prompt \(length {n}\) is longer than the maximum model length of {n}", 2, 1),
    _w(r"Input prompt \({n} tokens\) is too long and exceeds limit of {n}", 2, 1),
    # Text Generation Inference (and the providers built on it).
    _w(r"`inputs` tokens \+ `max_new_tokens` must be <= {n}\. Given: {n} `inputs` tokens", 1, 2),
    _w(r"`inputs` must have less than {n} tokens\. Given: {n}", 1, 2),
    # Anthropic: "prompt is too long: 210000 tokens > 200000 maximum" and
    # "input length and `max_tokens` exceed context limit: 198000 + 8192 > 200000".
    _w(r"prompt is too long: {n} tokens > {n} maximum", 2, 1),
    _w(r"exceed context limit: {n} \+ {n} > {n}", 3, 1),
    # Mistral: "Prompt contains 40000 tokens and 0 draft tokens, too large for model with
    # 32768 maximum context length".
    _w(r"Prompt contains {n} tokens.{0,40}?too large for model with {n} maximum context length",
       2, 1),
    # Gemini: "The input token count (1200000) exceeds the maximum number of tokens allowed
    # (1048576)".
    _w(r"input token count \({n}\) exceeds the maximum number of tokens allowed \({n}\)", 2, 1),
    # Fireworks: "The prompt is too long: 200000, model maximum context length: 131072".
    _w(r"prompt is too long: {n}, model maximum context length: {n}", 2, 1),
    # Cohere: "too many tokens: total number of tokens in the prompt cannot exceed 4081 -
    # received 5000".
    _w(r"tokens in the prompt cannot exceed {n} - received {n}", 1, 2),
    # xAI: "This model's maximum prompt length is 131072 but the request contains 150000
    # tokens".
    _w(r"maximum prompt length is {n} but the request contains {n} tokens", 1, 2),
    # Generic tails seen in proxies: "exceeds the context window of 8192 tokens".
    _w(r"context window of {n} tokens", 1),
)

OVERFLOW_PHRASES: tuple[str, ...] = (
    "context window exceeded", "context_length_exceeded", "context length exceeded",
    "maximum context length", "max context length", "prompt is too long",
    "too many input tokens", "input is too long", "exceed context limit",
    "model's maximum context limit", "is longer than the model's context length",
    "input tokens exceed the configured limit", "exceeds the available context size",
    "exceeds the maximum number of tokens allowed", "exceed context window of",
    "context length of only", "longer than the maximum model length",
    "is too long and exceeds limit of", "`max_new_tokens` must be <=",
    "`inputs` must have less than", "maximum prompt length is",
    "tokens in the prompt cannot exceed", "exceed_context_size_error",
    "exceeds the context window", "context overflow", "exceeds context size",
)
"""Phrases that say "the request is larger than the context window" (lower case)."""
# fmt: on


@dataclass(frozen=True)
class OverflowFacts:
    """What an overflow message tells: the window and the server's count of the prompt."""

    window: int | None = None
    prompt_tokens: int | None = None


def _number(text: str) -> int | None:
    try:
        value = int(text.replace(",", "").replace("_", ""))
    except ValueError:
        return None
    return value if MIN_WINDOW <= value <= MAX_WINDOW else None


def is_overflow_text(text: str) -> bool:
    """Whether an error text says the request is larger than the context window."""
    low = text.lower()
    return (
        any(phrase in low for phrase in OVERFLOW_PHRASES)
        or ("current length is" in low and "while limit is" in low)
        or ("maximum input length is" in low and "tokens" in low)
    )


def overflow_facts(text: str) -> OverflowFacts:
    """The window (and prompt size) an overflow message states; ``None`` where it says none.

    The first wording that gives a window wins, so the more specific ones come first.
    """
    for wording in _WORDINGS:
        match = wording.pattern.search(text)
        if match is None or wording.window is None:
            continue
        window = _number(match.group(wording.window))
        if window is None:
            continue
        prompt = _number(match.group(wording.prompt)) if wording.prompt else None
        return OverflowFacts(window, prompt)
    return OverflowFacts()


# ------------------------------------------------------------------ model listings


@dataclass(frozen=True)
class ListedWindow:
    """A window read from a server's model listing.

    ``exact`` is what the server runs with (llama.cpp ``n_ctx``, vLLM ``max_model_len``);
    otherwise it is only an upper bound (llama.cpp ``meta.n_ctx_train``: the server may
    have been started with less).
    """

    tokens: int
    exact: bool
    field: str


_EXACT_FIELDS = ("n_ctx", "max_model_len", "context_length", "max_context_length")


def listed_window(entry: dict[str, Any]) -> ListedWindow | None:
    """The context window one ``GET /v1/models`` entry reports, if any."""
    places: list[tuple[str, dict[str, Any]]] = [("", entry)]
    for nested in ("meta", "metadata"):
        value = entry.get(nested)
        if isinstance(value, dict):
            places.append((f"{nested}.", value))
    for prefix, place in places:
        for name in _EXACT_FIELDS:
            tokens = _int_field(place.get(name))
            if tokens is not None:
                return ListedWindow(tokens, True, prefix + name)
    for prefix, place in places:
        tokens = _int_field(place.get("n_ctx_train"))
        if tokens is not None:
            return ListedWindow(tokens, False, prefix + "n_ctx_train")
    return None


def _int_field(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if MIN_WINDOW <= value <= MAX_WINDOW else None
    if isinstance(value, str) and value.strip().isdigit():
        return _number(value.strip())
    return None


def pick_listed_window(listing: Any, model_name: str) -> ListedWindow | None:
    """The window of ``model_name`` in a ``/v1/models`` answer (the only entry if one)."""
    data = listing.get("data") if isinstance(listing, dict) else None
    if not isinstance(data, list):
        return None
    entries = [e for e in data if isinstance(e, dict)]
    named = [e for e in entries if e.get("id") == model_name]
    chosen = named[0] if named else (entries[0] if len(entries) == 1 else None)
    return listed_window(chosen) if chosen is not None else None
