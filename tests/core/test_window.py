"""Every overflow wording we know, and the model listings of local servers."""

from __future__ import annotations

import pytest

from ml_intern_tui.core.window import (
    OverflowFacts,
    is_overflow_text,
    listed_window,
    overflow_facts,
    pick_listed_window,
)

# (server, message as it reaches us, window, the server's count of the prompt)
WORDINGS = [
    (
        "llama-cpp-python",
        "This model's maximum context length is 8192 tokens. However, you requested 9000 "
        "tokens (9000 in the messages, None in the completion). Please reduce the length "
        "of the messages or completion.",
        8192,
        9000,
    ),
    (
        "vLLM (old) / OpenAI-style with max_tokens",
        "This model's maximum context length is 4096 tokens. However, you requested 5000 "
        "tokens (4000 in the messages, 1000 in the completion).",
        4096,
        4000,
    ),
    (
        "OpenAI",
        "This model's maximum context length is 128000 tokens. However, your messages "
        "resulted in 130532 tokens (130000 in the messages, 532 in the functions). Please "
        "reduce the length of the messages or functions.",
        128000,
        130532,
    ),
    (
        "vLLM (new)",
        "This model's maximum context length is 32768 tokens. However, your request has "
        "40960 input tokens. Please reduce the length of the input messages.",
        32768,
        40960,
    ),
    (
        "OpenRouter",
        "This endpoint's maximum context length is 131,072 tokens. However, you requested "
        "about 150,000 tokens (149,000 in the messages, 1,000 in the completion).",
        131072,
        149000,
    ),
    (
        "llama.cpp llama-server",
        "request (9000 tokens) exceeds the available context size (8192 tokens), try increasing it",
        8192,
        9000,
    ),
    (
        "llama.cpp error body",
        "the request exceeds the available context size, try increasing it "
        '{"error": {"code": 400, "type": "exceed_context_size_error", '
        '"n_prompt_tokens": 4476, "n_ctx": 4096}}',
        4096,
        4476,
    ),
    (
        "llama.cpp body as a Python dict (litellm's str of the exception)",
        "Error code: 400 - {'error': {'code': 400, 'message': 'the request exceeds the "
        "available context size, try increasing it', 'type': 'exceed_context_size_error', "
        "'n_ctx': 8192}}",
        8192,
        None,
    ),
    ("log-style n_ctx", "context overflow (n_ctx: 8192)", 8192, None),
    (
        "llama-cpp-python exception",
        "Requested tokens (9000) exceed context window of 8192",
        8192,
        9000,
    ),
    (
        "LM Studio",
        "Trying to keep the first 9000 tokens when context the overflows. However, the "
        "model is loaded with context length of only 8192 tokens, which is not enough. "
        "Try to load the model with a larger context length, or provide a shorter input",
        8192,
        9000,
    ),
    (
        "vLLM decoder prompt",
        "The decoder prompt (length 9000) is longer than the maximum model length of 8192. "
        "Make sure that `max_model_len` is no smaller than the number of text tokens.",
        8192,
        9000,
    ),
    (
        "vLLM input prompt",
        "Input prompt (40000 tokens) is too long and exceeds limit of 32768",
        32768,
        40000,
    ),
    (
        "TGI",
        "Input validation error: `inputs` tokens + `max_new_tokens` must be <= 4096. "
        "Given: 4000 `inputs` tokens and 1000 `max_new_tokens`",
        4096,
        4000,
    ),
    (
        "TGI (inputs only)",
        "Input validation error: `inputs` must have less than 8192 tokens. Given: 9500",
        8192,
        9500,
    ),
    ("Anthropic", "prompt is too long: 210000 tokens > 200000 maximum", 200000, 210000),
    (
        "Anthropic (with max_tokens)",
        "input length and `max_tokens` exceed context limit: 198000 + 8192 > 200000, "
        "decrease input length or `max_tokens` and try again",
        200000,
        198000,
    ),
    (
        "Mistral",
        "Prompt contains 40000 tokens and 0 draft tokens, too large for model with 32768 "
        "maximum context length",
        32768,
        40000,
    ),
    (
        "Gemini",
        "The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).",
        1048576,
        1200000,
    ),
    (
        "Fireworks",
        "The prompt is too long: 200000, model maximum context length: 131072",
        131072,
        200000,
    ),
    (
        "Cohere",
        "too many tokens: total number of tokens in the prompt cannot exceed 4081 - "
        "received 5000. Try using a shorter prompt",
        4081,
        5000,
    ),
    (
        "xAI",
        "This model's maximum prompt length is 131072 but the request contains 150000 tokens.",
        131072,
        150000,
    ),
]


@pytest.mark.parametrize(
    ("message", "window", "prompt"),
    [pytest.param(m, w, p, id=server) for server, m, w, p in WORDINGS],
)
def test_each_wording_is_an_overflow_and_says_its_window(
    message: str, window: int, prompt: int | None
) -> None:
    assert is_overflow_text(message)
    assert overflow_facts(message) == OverflowFacts(window, prompt)


@pytest.mark.parametrize(
    "message",
    [
        "Rate limit reached for requests",
        "Invalid API key provided",
        "max_tokens must be at least 1, got 0",
        "The model `llama` does not exist",
        "n_ctx_train: 131072",  # the model's training length is not an overflow
    ],
)
def test_other_errors_are_not_overflows(message: str) -> None:
    assert not is_overflow_text(message)


def test_overflow_without_numbers_says_no_window() -> None:
    text = "Input is too long for requested model."
    assert is_overflow_text(text)
    assert overflow_facts(text) == OverflowFacts(None, None)


@pytest.mark.parametrize("bogus", ["maximum context length is 12 tokens", "n_ctx: 999999999999"])
def test_numbers_that_cannot_be_a_window_are_ignored(bogus: str) -> None:
    assert overflow_facts(bogus).window is None


def test_listing_fields_exact_and_upper_bound() -> None:
    assert listed_window({"id": "m", "meta": {"n_ctx": 8192, "n_ctx_train": 131072}}) == (
        listed_window({"id": "m", "meta": {"n_ctx": 8192}})
    )
    exact = listed_window({"id": "m", "meta": {"n_ctx": 8192, "n_ctx_train": 131072}})
    assert exact is not None and (exact.tokens, exact.exact, exact.field) == (
        8192,
        True,
        "meta.n_ctx",
    )
    vllm = listed_window({"id": "m", "max_model_len": 32768})
    assert vllm is not None and (vllm.tokens, vllm.exact) == (32768, True)
    trained = listed_window({"id": "m", "meta": {"n_ctx_train": 131072, "n_vocab": 32000}})
    assert trained is not None and (trained.tokens, trained.exact) == (131072, False)
    assert listed_window({"id": "m", "owned_by": "me"}) is None
    assert listed_window({"id": "m", "max_model_len": True}) is None
    assert listed_window({"id": "m", "max_model_len": "-5"}) is None


def test_listing_picks_the_named_model_or_the_only_one() -> None:
    listing = {
        "object": "list",
        "data": [
            {"id": "small", "max_model_len": 4096},
            {"id": "big", "max_model_len": 65536},
        ],
    }
    big = pick_listed_window(listing, "big")
    assert big is not None and big.tokens == 65536
    assert pick_listed_window(listing, "other") is None  # ambiguous: no guess
    only = {"data": [{"id": "served-name", "meta": {"n_ctx": 8192}}]}
    found = pick_listed_window(only, "what-the-user-typed")
    assert found is not None and found.tokens == 8192
    for junk in (None, [], {"data": "x"}, {"data": [1, "a"]}, "<html>"):
        assert pick_listed_window(junk, "m") is None
