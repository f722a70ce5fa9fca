"""Anthropic thinking blocks: kept with the assistant message, sent back as required.

With extended thinking on, Claude's answer starts with ``thinking`` blocks (text and an
opaque ``signature``) or ``redacted_thinking`` blocks (opaque ``data``). Within a tool
loop, the assistant message that made the tool calls must go back to the API with its
blocks unchanged, or the API refuses the next call. litellm hands the blocks over as
``thinking_blocks`` (on the message, or a piece per stream delta) and turns them back
into content blocks when an assistant message carries ``thinking_blocks``.

So the conversation keeps ``thinking_blocks`` on each assistant message (journaled with
it, so a resumed session has them) and ``wire`` decides, per request, what is sent:

- to a model that is not Claude on its own API (router, OpenAI, local servers): never;
- with thinking off for the call: none (the API refuses thinking blocks then);
- with thinking on: the blocks as stored, except blocks that cannot be valid (no
  signature, or a signature a redaction marker replaced); when the final assistant
  message of the current tool loop has no block left, the call goes without thinking
  (the API would refuse it otherwise).
"""

from __future__ import annotations

from typing import Any

from ml_intern_tui.core.models import ModelRoute

Message = dict[str, Any]
Block = dict[str, Any]

THINKING_KEYS = ("thinking_blocks", "reasoning_content")
"""Message keys that carry a model's thinking back to the provider."""
_MARKER = "[REDACTED"


def takes_thinking_blocks(route: ModelRoute) -> bool:
    """Whether requests to this route carry Anthropic thinking blocks back.

    Claude on the Anthropic API (or Bedrock / Vertex through litellm) does; the router
    is OpenAI-shaped, even for Claude, and so are local servers.
    """
    return route.kind == "native" and "claude" in route.litellm_model.lower()


class ThinkingCollector:
    """Gathers the thinking blocks of one answer from stream deltas or a whole message.

    litellm streams a thinking block as pieces of text, then its signature alone; a
    redacted block arrives whole. A piece after a signature starts the next block.
    """

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self._open: Block | None = None

    def add(self, raw_blocks: Any) -> None:
        for raw in raw_blocks if isinstance(raw_blocks, list) else []:
            block = raw if isinstance(raw, dict) else _as_dict(raw)
            kind = block.get("type")
            if kind == "redacted_thinking" and isinstance(block.get("data"), str):
                self._open = None
                self.blocks.append({"type": "redacted_thinking", "data": block["data"]})
            elif kind == "thinking":
                self._add_thinking(block)

    def _add_thinking(self, block: Block) -> None:
        text = block.get("thinking") if isinstance(block.get("thinking"), str) else ""
        signature = block.get("signature") if isinstance(block.get("signature"), str) else ""
        if text:
            if self._open is None:
                self._open = {"type": "thinking", "thinking": ""}
                self.blocks.append(self._open)
            self._open["thinking"] += text
        if signature:
            if self._open is None:  # a signed block with no text (display: omitted)
                self._open = {"type": "thinking", "thinking": ""}
                self.blocks.append(self._open)
            self._open["signature"] = signature
            self._open = None

    def result(self) -> list[Block]:
        """The finished blocks (a thinking block that never got a signature is left out:
        the API would refuse it)."""
        return [b for b in self.blocks if b["type"] == "redacted_thinking" or b.get("signature")]


def _as_dict(raw: Any) -> Block:
    """A block litellm gave as an object (its typed dicts are dicts; be tolerant)."""
    return {
        key: getattr(raw, key)
        for key in ("type", "thinking", "signature", "data")
        if hasattr(raw, key)
    }


def usable(block: Any) -> bool:
    """Whether a stored block can be sent back: signed, and not altered by redaction."""
    if not isinstance(block, dict):
        return False
    if block.get("type") == "redacted_thinking":
        data = block.get("data")
        return isinstance(data, str) and bool(data) and _MARKER not in data
    signature = block.get("signature")
    return (
        block.get("type") == "thinking"
        and isinstance(signature, str)
        and bool(signature)
        and _MARKER not in signature
    )


def strip(messages: list[Message]) -> list[Message]:
    """Copies of ``messages`` without any thinking carried back."""
    return [
        {k: v for k, v in m.items() if k not in THINKING_KEYS} if _carries(m) else m
        for m in messages
    ]


def _carries(message: Message) -> bool:
    return any(key in message for key in THINKING_KEYS)


def has_thinking(messages: list[Message]) -> bool:
    """Whether any message keeps thinking blocks."""
    return any(m.get("thinking_blocks") for m in messages if isinstance(m, dict))


def _final_tool_loop_assistant(messages: list[Message]) -> int | None:
    """Index of the last assistant message when it made tool calls (a tool loop is on)."""
    for index in range(len(messages) - 1, -1, -1):
        if messages[index].get("role") == "assistant":
            return index if messages[index].get("tool_calls") else None
    return None


def wire(
    route: ModelRoute, messages: list[Message], effort: str | None
) -> tuple[list[Message], str | None]:
    """The messages and the effort a request to ``route`` sends (see the module doc)."""
    if not takes_thinking_blocks(route) or effort is None:
        return (strip(messages) if any(_carries(m) for m in messages) else messages), effort
    cleaned: list[Message] = []
    for message in messages:
        blocks = message.get("thinking_blocks")
        if message.get("role") != "assistant" or not _carries(message):
            cleaned.append(message)
            continue
        kept = [b for b in blocks if usable(b)] if isinstance(blocks, list) else []
        copy = {k: v for k, v in message.items() if k not in THINKING_KEYS}
        if kept:
            copy["thinking_blocks"] = kept
        cleaned.append(copy)
    final = _final_tool_loop_assistant(cleaned)
    if final is not None and not cleaned[final].get("thinking_blocks"):
        # Thinking on, but the tool loop's assistant message has no block (stripped
        # after a signature error, made with thinking off, or by another model): the
        # API refuses thinking for this call, and any stored block with it off.
        return strip(cleaned), None
    return cleaned, effort
