"""Model-call failures: the error types and how litellm's exceptions map onto them.

Each error's ``str()`` is one line a person can act on (what happened, what to do);
``kind`` and ``retryable`` drive the retry policy in ``llm.py``.
"""

from __future__ import annotations

import contextlib
import json
import re
from email.utils import parsedate_to_datetime
from typing import Literal

from ml_intern_tui.core.models import ModelRoute, local_base_env, local_key_env
from ml_intern_tui.core.window import is_overflow_text, overflow_facts

ErrorKind = Literal[
    "auth",
    "rate_limit",
    "server",
    "timeout",
    "connection",
    "broken_stream",
    "bad_request",
    "not_found",
    "billing",
    "context_overflow",
]
# fmt: on


class LLMError(Exception):
    """A failed model call; ``str()`` is one line saying what happened and what to do."""

    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        *,
        retryable: bool = False,
        status_code: int | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message)
        self.kind: ErrorKind = kind
        self.message = message
        self.retryable = retryable
        self.status_code = status_code
        self.retry_after_s = retry_after_s

    def __str__(self) -> str:
        return self.message


class ContextOverflowError(LLMError):
    """The request does not fit the model's context window: compact, never retry as is.

    ``window`` is the window the server stated (its tokens), ``prompt_tokens`` its count
    of the prompt we sent, when its message says them (``core/window.py``).
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        window: int | None = None,
        prompt_tokens: int | None = None,
    ) -> None:
        super().__init__("context_overflow", message, status_code=status_code)
        self.window = window
        self.prompt_tokens = prompt_tokens


class StreamEndedError(LLMError):
    """The answer stream ended without a finish reason and without an error.

    llama-cpp-python answers a prompt over its window this way (HTTP 200, no event; the
    error only in its log): the call is asked once more without streaming, where the
    server's real error comes through.
    """

    def __init__(self, message: str, *, empty: bool) -> None:
        super().__init__("broken_stream", message, retryable=True)
        self.empty = empty
        """Nothing at all arrived (no text, no reasoning, no tool call)."""


# Phrases seen in the wild: the overflow ones live in ``window.py`` with the window
# wordings. litellm maps most errors to a plain BadRequestError for OpenAI-compatible
# servers, so text matters.
# fmt: off
_BILLING_PHRASES = (
    "insufficient credit", "insufficient_quota", "exceeded your current quota",
    "quota exceeded", "payment required", "credits exhausted", "monthly credits", "billing",
)
_AUTH_PHRASES = ("missing credentials", "api_key client option must be set", "invalid api key",
                 "incorrect api key", "invalid x-api-key")
_TEXT_KINDS: tuple[tuple[ErrorKind, tuple[str, ...]], ...] = (
    ("rate_limit", ("rate limit", "rate_limit", "too many requests", "throttl")),
    ("timeout", ("timed out", "timeout")),
    ("connection", ("connection refused", "connection reset", "connection error",
                    "cannot connect", "name or service not known", "broken pipe",
                    "unexpected eof")),
    ("server", ("service unavailable", "bad gateway", "internal server error", "overloaded")),
)
# fmt: on
_PREFIX = re.compile(r"^(?:(?:litellm\.)?\w*(?:Error|Exception)\s*[:\-]\s*)+")


def _detail(exc: BaseException) -> str:
    """The server's own message, one line, without litellm's class-name prefixes."""
    body = getattr(exc, "body", None)
    err = body.get("error", body) if isinstance(body, dict) else None
    text = err.get("message") if isinstance(err, dict) else err
    if not isinstance(text, str) or not text:
        text = str(getattr(exc, "message", "") or exc) or type(exc).__name__
    text = _PREFIX.sub("", " ".join(text.split()))
    if text.startswith("{"):
        with contextlib.suppress(ValueError, AttributeError):
            loaded = json.loads(text)
            inner = loaded.get("error", loaded)
            text = str(inner.get("message", text) if isinstance(inner, dict) else inner)
    return text[:200] + ("…" if len(text) > 200 else "")


def _body_text(exc: BaseException) -> str:
    """The whole error body (its other fields may say the window: llama.cpp's ``n_ctx``)."""
    body = getattr(exc, "body", None)
    if body is None:
        return ""
    with contextlib.suppress(TypeError, ValueError):
        return json.dumps(body, default=str)[:4000]
    return str(body)[:4000]


def _status(exc: BaseException) -> int | None:
    for source in (exc, getattr(exc, "response", None)):
        code = getattr(source, "status_code", None)
        if isinstance(code, int | str) and str(code).isdigit():
            return int(code)
    return None


def _retry_after(exc: BaseException) -> float | None:
    """Seconds the server asked us to wait (``retry-after[-ms]``, seconds or HTTP date)."""
    response_headers = getattr(getattr(exc, "response", None), "headers", None)
    for headers in (getattr(exc, "litellm_response_headers", None), response_headers):
        with contextlib.suppress(Exception):
            if headers and headers.get("retry-after-ms"):
                return float(headers["retry-after-ms"]) / 1000
            value = str(headers.get("retry-after") or "") if headers else ""
            if value.replace(".", "", 1).isdigit():
                return float(value)
            if value:
                when = parsedate_to_datetime(value)
                return max(0.0, (when - when.now(when.tzinfo)).total_seconds())
    return None


def _where(route: ModelRoute | None) -> str:
    if route is None or route.kind == "native":
        head, slash, _ = (route.model_id if route else "").partition("/")
        return head if slash else "the model provider"
    if route.kind == "local":
        return f"the model server at {route.api_base}"
    return "the Hugging Face router" if route.kind == "router" else "the scripted model"


def _message(kind: ErrorKind, route: ModelRoute | None, detail: str, status: int | None) -> str:
    where, model = _where(route), (route.model_id if route else "the model")
    local, router = (route.kind == "local", route.kind == "router") if route else (False, False)
    if kind == "connection" and local:
        return f"cannot reach {where}: start it or set {local_base_env(model)}"
    if kind == "auth" and local:
        return f"{where} rejected the API key: set {local_key_env(model)}"
    if kind == "auth" and router:
        return "the Hugging Face router rejected the token: set HF_TOKEN or run `hf auth login`"
    if kind == "billing":
        hint = "check your plan"
        if router:
            hint = "add credits at https://huggingface.co/settings/billing"
        return f"{where} refused the request for billing reasons ({detail}): {hint} or switch model"
    if kind == "bad_request" and "provider" in detail.lower() and "support" in detail.lower():
        return f"{where} cannot serve {model!r} that way ({detail}): drop the ':provider' suffix"
    code = f"HTTP {status}: " if status else ""
    templates: dict[str, str] = {
        "connection": f"cannot reach {where} ({detail}): check your network connection",
        "auth": f"{where} rejected the API key ({detail}): set the provider's API key variable",
        "rate_limit": f"rate limited by {where} ({detail}): wait a moment or switch model with /model",
        "timeout": f"{where} did not answer in time: try again, or raise the LLM timeout",
        "not_found": f"model {model!r} was not found on {where} ({detail}): check the id or /model",
        "server": f"{where} failed ({code}{detail}): try again later or switch model with /model",
    }
    return templates.get(kind, f"{where} rejected the request ({code}{detail})")


def _names(exc: BaseException, *, chain: bool = False) -> set[str]:
    """Class names of ``exc`` (and, with ``chain``, of the exceptions that caused it)."""
    links = [exc]
    while chain and len(links) < 8 and (cause := links[-1].__cause__ or links[-1].__context__):
        links.append(cause)
    return {cls.__name__ for link in links for cls in type(link).__mro__}


def _kind_of(exc: BaseException, status: int | None, text: str) -> ErrorKind | None:
    # litellm reports a refused connection as InternalServerError("Connection error.")
    # with status 500; the cause chain still holds the SDK's APIConnectionError.
    names, chain = _names(exc), _names(exc, chain=True)
    code = status or 0
    low = text.lower()
    if "PaymentRequiredError" in names or code == 402 or any(p in low for p in _BILLING_PHRASES):
        return "billing"
    auth_names = names & {"AuthenticationError", "PermissionDeniedError"}
    if auth_names or code in (401, 403) or any(p in low for p in _AUTH_PHRASES):
        return "auth"
    if "RateLimitError" in names or code == 429:
        return "rate_limit"
    if chain & {"Timeout", "APITimeoutError", "TimeoutError", "TimeoutException"} or code == 408:
        return "timeout"
    if chain & {"APIConnectionError", "ConnectError", "ConnectionError", "NetworkError"}:
        return "connection"
    if "NotFoundError" in names or code == 404:
        return "not_found"
    if names & {"InternalServerError", "ServiceUnavailableError", "BadGatewayError"} or code >= 500:
        return "server"
    if names & {"BadRequestError", "UnprocessableEntityError"} or code >= 400:
        return "bad_request"
    return next((k for k, phrases in _TEXT_KINDS if any(p in low for p in phrases)), None)


def classify_error(exc: BaseException, route: ModelRoute | None = None) -> LLMError:
    """Map a litellm / SDK / network exception to an :class:`LLMError` (by type, then text)."""
    if isinstance(exc, LLMError):
        return exc
    original = getattr(exc, "original_exception", None)  # litellm's MidStreamFallbackError
    if isinstance(original, BaseException):
        exc = original
    status, detail = _status(exc), _detail(exc)
    text = f"{exc} {detail}"
    overflow_code = getattr(exc, "code", None) == "context_length_exceeded"
    if "ContextWindowExceededError" in _names(exc) or overflow_code or is_overflow_text(text):
        facts = overflow_facts(f"{text} {_body_text(exc)}")
        return ContextOverflowError(
            f"the conversation is larger than the model's context window ({detail}): "
            "compact it with /compact or switch to a larger model",
            status_code=status,
            window=facts.window,
            prompt_tokens=facts.prompt_tokens,
        )
    kind = _kind_of(exc, status, text)
    if kind is None:
        return LLMError("server", f"the model call failed: {detail}", status_code=status)
    retryable = kind in ("rate_limit", "timeout", "connection", "server")
    return LLMError(
        kind,
        _message(kind, route, detail, status),
        retryable=retryable,
        status_code=status,
        retry_after_s=_retry_after(exc) if retryable else None,
    )


def stream_error(exc: BaseException, route: ModelRoute | None = None) -> LLMError:
    """Classify an exception raised while reading a stream: a cut connection is a broken stream."""
    error = classify_error(exc, route)
    if error.kind not in ("connection", "server"):
        return error
    message = f"the model's answer stream broke ({_detail(exc)})"
    return LLMError("broken_stream", message, retryable=True, status_code=error.status_code)
