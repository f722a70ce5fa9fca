"""The catalogue of real reasoning refusals: every example classified, nothing else."""

from __future__ import annotations

import httpx
import pytest

from ml_intern_tui.core.llm_errors import classify_error as classify_llm_error
from ml_intern_tui.core.models import ModelRoute
from ml_intern_tui.core.reasoning_errors import (
    WORDINGS,
    allowed_values,
    classify,
    classify_error,
)
from ml_intern_tui.core.window import is_overflow_text


@pytest.mark.parametrize("wording", WORDINGS, ids=lambda w: f"{w.kind}:{w.source[:40]}")
def test_every_real_wording_is_classified_as_its_kind(wording) -> None:
    problem = classify(wording.example)
    assert problem is not None and problem.kind == wording.kind
    assert wording.source  # each one says where it was seen


def test_every_kind_has_real_wordings() -> None:
    kinds = {w.kind for w in WORDINGS}
    assert kinds == {
        "effort_level",
        "effort_param",
        "thinking_signature",
        "thinking_required",
        "thinking_forbidden",
    }


@pytest.mark.parametrize(
    ("text", "allowed"),
    [
        (
            "Unsupported value: 'reasoning_effort' does not support 'xhigh' with this model. "
            "Supported values are: 'minimal', 'low', 'medium', and 'high'.",
            {"minimal", "low", "medium", "high"},
        ),
        ("reasoning_effort must be one of none or default", {"none", "default"}),
        (
            'level "max" not supported, valid levels: low, medium, high, xhigh',
            {"low", "medium", "high", "xhigh"},
        ),
        ("effort='xhigh' is not supported by this model. Got model: claude-opus-4-6", None),
    ],
)
def test_the_values_a_provider_lists_are_read(text: str, allowed: set[str] | None) -> None:
    assert allowed_values(text) == (frozenset(allowed) if allowed is not None else None)


def test_openai_invalid_value_names_the_parameter_only_in_its_body() -> None:
    body = (
        '{"error": {"message": "Invalid value: \'max\'. Supported values are: \'low\', '
        '\'medium\', and \'high\'.", "type": "invalid_request_error", '
        '"param": "reasoning_effort", "code": "invalid_value"}}'
    )
    problem = classify(body)
    assert problem is not None and problem.kind == "effort_level"
    assert problem.allowed == {"low", "medium", "high"}


@pytest.mark.parametrize(
    "text",
    [
        "Rate limit reached for requests",
        "prompt is too long: 210000 tokens > 200000 maximum",
        "Invalid API key provided",
        "The requested model 'x' is not supported by any provider you have enabled.",
        "max_tokens: 100000 > 64000, which is the maximum allowed number of output tokens",
        "Supported values are: 'json_object', 'text'",  # another parameter's list
        "the model is thinking too hard: overloaded",
    ],
)
def test_other_errors_are_not_reasoning_problems(text: str) -> None:
    assert classify(text) is None


def test_a_reasoning_refusal_is_not_mistaken_for_a_context_overflow() -> None:
    for wording in WORDINGS:
        assert not is_overflow_text(wording.example), wording.example


def test_the_litellm_exception_chain_and_its_body_are_read() -> None:
    """As the turn sees it: our LLMError caused by litellm's exception with the body."""
    import litellm

    request = httpx.Request("POST", "https://api.openai.com/v1/chat/completions")
    response = httpx.Response(400, request=request)
    original = litellm.BadRequestError(
        message="litellm.BadRequestError: OpenAIException - Invalid value: 'max'.",
        model="gpt-5",
        llm_provider="openai",
        response=response,
        body={"error": {"message": "Invalid value: 'max'.", "param": "reasoning_effort"}},
    )
    route = ModelRoute("openai/gpt-5", "openai/gpt-5", None, None, "native", True)
    error = classify_llm_error(original, route)
    error.__cause__ = original
    assert error.kind == "bad_request"
    problem = classify_error(error)
    assert problem is not None and problem.kind == "effort_level"
