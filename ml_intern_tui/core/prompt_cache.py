"""Prompt caching: what a request carries so the provider can reuse the prompt's prefix.

A long agent session sends the same growing prefix (tools, system prompt, history) on
every call; providers bill a cached prefix at about a tenth of the input price.

- **Router** requests carry ``X-HF-Session-id``: the router keeps a session's calls on
  the same provider replica (cache affinity).
- **Anthropic** models (native ``anthropic/…`` and Claude models on the router) cache only
  up to explicit ``cache_control`` breakpoints, at most four per request. We place them
  on the last tool spec and on the system prompt (stable for the whole session), on the
  message that ended the previous call's prompt (so this call reads the prefix that call
  wrote, however many blocks were added since: the provider looks back only about 20
  blocks from a breakpoint) and on the newest message (so the next call can read all of
  this one). History is append-only within a turn, so each call's prefix is the previous
  call's plus the new messages. Tool results carry the marker on the message, which
  litellm turns into a marked ``tool_result`` block.
- **OpenAI** models cache automatically; a stable ``prompt_cache_key`` per session keeps
  a session's calls on the same cache.

The markers go on copies: the stored history never changes.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any, Literal

from ml_intern_tui.core.pricing import model_family

if TYPE_CHECKING:
    from ml_intern_tui.core.models import ModelRoute

SESSION_HEADER = "X-HF-Session-id"
EPHEMERAL: dict[str, str] = {"type": "ephemeral"}
MAX_BREAKPOINTS = 4
MAX_HEADER_CHARS = 256

Strategy = Literal["anthropic", "openai", "none"]


def strategy(route: ModelRoute) -> Strategy:
    """How a request to ``route`` asks for caching."""
    if route.kind not in ("router", "native"):
        return "none"
    family = model_family(route.model_id)
    if family == "anthropic":
        return "anthropic"
    if family == "openai":
        return "openai"
    return "none"


def cache_kwargs(
    route: ModelRoute,
    messages: list[dict[str, Any]],
    tools: list[dict[str, Any]] | None,
    session_key: str | None,
) -> dict[str, Any]:
    """The ``litellm.acompletion`` keyword arguments that turn caching on for this call
    (``messages`` and ``tools`` replaced by marked copies when markers are needed)."""
    extra: dict[str, Any] = {}
    if route.kind == "router" and session_key:
        extra["extra_headers"] = {SESSION_HEADER: session_key[:MAX_HEADER_CHARS]}
    kind = strategy(route)
    if kind == "anthropic":
        marked_messages, marked_tools = mark_anthropic(messages, tools)
        extra["messages"] = marked_messages
        if marked_tools is not None:
            extra["tools"] = marked_tools
    elif kind == "openai" and session_key:
        extra["prompt_cache_key"] = session_key[:64]
    return extra


def _with_marker(content: Any) -> list[dict[str, Any]] | None:
    """``content`` as content blocks with a breakpoint on the last text block, or
    ``None`` when it has nothing to mark (empty, or no text block)."""
    if isinstance(content, str):
        return (
            [{"type": "text", "text": content, "cache_control": dict(EPHEMERAL)}]
            if content
            else None
        )
    if not isinstance(content, list) or not content:
        return None
    blocks = [dict(block) if isinstance(block, dict) else block for block in content]
    for block in reversed(blocks):
        if isinstance(block, dict) and block.get("type") == "text" and block.get("text"):
            block["cache_control"] = dict(EPHEMERAL)
            return blocks
    return None


def _markable(message: dict[str, Any]) -> bool:
    role, content = message.get("role"), message.get("content")
    if role == "tool":
        return bool(content)
    return role in ("system", "user") and _with_marker(content) is not None


def _marked(message: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``message`` carrying one breakpoint.

    Tool results get it on the message (litellm puts it on the ``tool_result`` block,
    a cacheable block of its own); text gets it on its last text block.
    """
    if message.get("role") == "tool":
        return {**message, "cache_control": dict(EPHEMERAL)}
    return {**message, "content": _with_marker(message.get("content"))}


def breakpoint_positions(messages: list[dict[str, Any]]) -> list[int]:
    """Indexes of the messages that get a breakpoint: the system prompt, the end of the
    previous call's prompt, and the newest message (each at most once, in order)."""
    positions: list[int] = []
    if messages and messages[0].get("role") == "system" and _markable(messages[0]):
        positions.append(0)
    last_assistant = max(
        (i for i, m in enumerate(messages) if m.get("role") == "assistant"), default=None
    )
    previous_end = None
    if last_assistant is not None:
        previous_end = next(
            (i for i in range(last_assistant - 1, 0, -1) if _markable(messages[i])), None
        )
    newest = next((i for i in range(len(messages) - 1, 0, -1) if _markable(messages[i])), None)
    for index in (previous_end, newest):
        if index is not None and index not in positions:
            positions.append(index)
    return positions


def mark_anthropic(
    messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]] | None]:
    """Copies of ``messages`` and ``tools`` with at most four ``cache_control`` breakpoints."""
    marked_tools = None
    budget = MAX_BREAKPOINTS
    if tools:
        marked_tools = copy.copy(tools)
        marked_tools[-1] = {**tools[-1], "cache_control": dict(EPHEMERAL)}
        budget -= 1
    positions = breakpoint_positions(messages)
    # Over budget (cannot happen with one tool breakpoint and three message ones, but the
    # API rejects a fifth): keep the latest ones, they cover the longest prefix.
    positions = positions[-budget:] if budget > 0 else []
    marked = list(messages)
    for index in positions:
        marked[index] = _marked(messages[index])
    return marked, marked_tools


def count_breakpoints(messages: list[dict[str, Any]], tools: list[dict[str, Any]] | None) -> int:
    """How many ``cache_control`` markers a request carries (tests and checks)."""
    total = sum(1 for tool in tools or [] if isinstance(tool, dict) and "cache_control" in tool)
    for message in messages:
        total += "cache_control" in message
        content = message.get("content")
        if isinstance(content, list):
            total += sum(1 for b in content if isinstance(b, dict) and "cache_control" in b)
    return total
