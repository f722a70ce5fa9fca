"""Chat requests reach the OpenAI SDK without its walk over the whole history.

litellm sends every OpenAI-compatible chat request (the HF router, local servers,
OpenAI itself and the other providers it serves through the OpenAI SDK) through
``AsyncCompletions.create``, which first walks the whole body against the SDK's typed
dicts (``async_maybe_transform``): about 100 ms for a 150k-token history, on the event
loop, on every model call. For the chat parameters that walk renames no key and formats
no value (none of their types carries an alias or a format: a test checks it on the
installed SDK), so on plain JSON data (dicts, lists, strings, numbers, booleans, null) it
only copies. ``install`` wraps the SDK's function: plain ``messages`` and ``tools`` are
set aside, the rest of the body goes through the SDK's own transform, and they are put
back in their places. The bytes sent are the same (a test compares them); anything not
plain (a pydantic object, a file, an omitted value) goes through the SDK as before.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

log = logging.getLogger(__name__)

PLAIN_KEYS = ("messages", "tools")
"""The body keys that grow with the session (and are set aside when plain)."""

_MODULE = "openai.resources.chat.completions.completions"
_ASYNC = "async_maybe_transform"
_SYNC = "maybe_transform"
_originals: dict[str, Any] = {}


def is_plain_json(value: object) -> bool:
    """Whether ``value`` holds only dicts, lists, strings, numbers, booleans and ``None``
    (exact types). Dict keys are not looked at: the SDK passes keys it has no type for
    through unchanged, whatever they are."""
    stack = [value]
    pop, extend = stack.pop, stack.extend
    while stack:
        item = pop()
        kind = type(item)
        if kind is str:
            continue
        if kind is dict:
            extend(item.values())  # type: ignore[attr-defined]
        elif kind is list:
            extend(item)  # type: ignore[arg-type]
        elif not (kind is int or kind is float or kind is bool or item is None):
            return False
    return True


def _chat_params() -> tuple[Any, ...]:
    from openai.types.chat import completion_create_params as params

    return (
        params.CompletionCreateParamsStreaming,
        params.CompletionCreateParamsNonStreaming,
        params.CompletionCreateParamsBase,
    )


def _split(data: object, expected_type: object, chat: tuple[Any, ...]) -> dict[str, Any]:
    """The plain parts of a chat body (empty for anything else)."""
    if expected_type not in chat or type(data) is not dict:
        return {}
    assert isinstance(data, dict)
    return {
        key: data[key]
        for key in PLAIN_KEYS
        if type(data.get(key)) is list and is_plain_json(data[key])
    }


def _put_back(body: Any, kept: dict[str, Any]) -> Any:
    # The SDK transformed an empty list in each kept key's place, so the key keeps its
    # position in the body (and in the JSON sent).
    if isinstance(body, dict):
        for key, value in kept.items():
            if key in body:
                body[key] = value
    return body


def _async_wrapper(
    original: Callable[[object, object], Awaitable[Any]], chat: tuple[Any, ...]
) -> Callable[[object, object], Awaitable[Any]]:
    async def async_maybe_transform(data: object, expected_type: object) -> Any:
        kept = _split(data, expected_type, chat)
        if not kept:
            return await original(data, expected_type)
        assert isinstance(data, dict)
        body = await original({**data, **{key: [] for key in kept}}, expected_type)
        return _put_back(body, kept)

    async_maybe_transform.__wrapped__ = original  # type: ignore[attr-defined]
    return async_maybe_transform


def _sync_wrapper(
    original: Callable[[object, object], Any], chat: tuple[Any, ...]
) -> Callable[[object, object], Any]:
    def maybe_transform(data: object, expected_type: object) -> Any:
        kept = _split(data, expected_type, chat)
        if not kept:
            return original(data, expected_type)
        assert isinstance(data, dict)
        return _put_back(original({**data, **{key: [] for key in kept}}, expected_type), kept)

    maybe_transform.__wrapped__ = original  # type: ignore[attr-defined]
    return maybe_transform


def install() -> bool:
    """Wrap the SDK's chat-body transform (once; blocking imports). False if the SDK
    does not have it where expected: requests then go the SDK's own way."""
    if _originals:
        return True
    try:
        import importlib

        module = importlib.import_module(_MODULE)
        chat = _chat_params()
        async_original = getattr(module, _ASYNC)
        sync_original = getattr(module, _SYNC)
    except Exception as exc:  # another SDK layout: correct, only slower
        log.debug("the OpenAI SDK fast path is not installed: %s", exc)
        return False
    setattr(module, _ASYNC, _async_wrapper(async_original, chat))
    setattr(module, _SYNC, _sync_wrapper(sync_original, chat))
    _originals.update({_ASYNC: async_original, _SYNC: sync_original})
    return True


def installed() -> bool:
    """Whether :func:`install` wrapped the SDK."""
    return bool(_originals)


@contextlib.contextmanager
def sdk_transform() -> Iterator[None]:
    """The SDK's own transform for the duration (tests compare the two paths)."""
    if not _originals:
        yield
        return
    import importlib

    module = importlib.import_module(_MODULE)
    wrapped = {name: getattr(module, name) for name in _originals}
    for name, original in _originals.items():
        setattr(module, name, original)
    try:
        yield
    finally:
        for name, wrapper in wrapped.items():
            setattr(module, name, wrapper)
