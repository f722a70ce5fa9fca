"""Provider-side prompt caching, simulated for the fake servers.

A request is cut into blocks in the order the provider reads them (tools, system,
messages, content blocks); each block counts ``len(text) // 4`` tokens. Two behaviours:

- ``breakpoints`` (Anthropic): only prefixes ending at a ``cache_control`` block are
  written; a request reads the longest stored prefix found at one of its breakpoints or
  up to ``LOOKBACK`` blocks before one; prefixes under ``min_tokens`` are never cached.
  Usage splits the prompt into fresh input, cache reads and cache writes.
- ``automatic`` (OpenAI style): every prefix of a request is stored under its affinity
  key (the session header); the next request with the same key reads the longest
  matching prefix, in 128-token steps, once the prompt has ``min_tokens``. No key, no
  hit: without affinity the request lands on another replica.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from typing import Any, Literal

LOOKBACK = 20
"""Blocks before a breakpoint that the provider checks for an earlier cache entry."""


@dataclass(frozen=True)
class Block:
    text: str
    breakpoint: bool = False

    @property
    def tokens(self) -> int:
        return max(1, len(self.text) // 4)


@dataclass(frozen=True)
class CacheUse:
    prompt: int
    read: int = 0
    written: int = 0

    @property
    def fresh(self) -> int:
        return self.prompt - self.read - self.written


def _canon(value: Any) -> str:
    if isinstance(value, dict):
        value = {k: v for k, v in value.items() if k != "cache_control"}
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def _marked(value: Any) -> bool:
    return isinstance(value, dict) and "cache_control" in value


def _content_blocks(role: str, content: Any) -> list[Block]:
    if isinstance(content, list):
        return [Block(f"{role}:{_canon(part)}", _marked(part)) for part in content]
    if content in (None, ""):
        return []
    return [Block(f"{role}:{_canon(content)}")]


def blocks_of_openai(body: dict[str, Any]) -> list[Block]:
    """An OpenAI chat-completions body as provider blocks."""
    blocks = [Block(f"tool:{_canon(t)}", _marked(t)) for t in body.get("tools") or []]
    for message in body.get("messages") or []:
        role = str(message.get("role"))
        content = _content_blocks(role, message.get("content"))
        if content and "cache_control" in message:  # litellm's spelling for a tool result
            content[-1] = Block(content[-1].text, True)
        blocks += content
        if message.get("tool_calls"):
            blocks.append(Block(f"{role}:calls:{_canon(message['tool_calls'])}"))
    return blocks


def blocks_of_anthropic(body: dict[str, Any]) -> list[Block]:
    """An Anthropic Messages body as provider blocks (tools, system, messages)."""
    blocks = [Block(f"tool:{_canon(t)}", _marked(t)) for t in body.get("tools") or []]
    blocks += _content_blocks("system", body.get("system"))
    for message in body.get("messages") or []:
        blocks += _content_blocks(str(message.get("role")), message.get("content"))
    return blocks


class PromptCacheSim:
    """The cache of one fake server (thread-safe)."""

    def __init__(
        self, mode: Literal["breakpoints", "automatic"], *, min_tokens: int = 1024
    ) -> None:
        self.mode = mode
        self.min_tokens = min_tokens
        self._store: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self._store.clear()

    def account(self, blocks: list[Block], key: str | None = None) -> CacheUse:
        """Read and write the cache for one request; the usage split it bills."""
        hashes: list[str] = []
        ends: list[int] = []
        digest = hashlib.sha256()
        total = 0
        for block in blocks:
            digest.update(block.text.encode())
            digest.update(b"\x00")
            hashes.append(digest.hexdigest())
            total += block.tokens
            ends.append(total)
        with self._lock:
            if self.mode == "breakpoints":
                return self._breakpoints(blocks, hashes, ends, total)
            return self._automatic(hashes, ends, total, key)

    def _breakpoints(
        self, blocks: list[Block], hashes: list[str], ends: list[int], total: int
    ) -> CacheUse:
        marks = [i for i, block in enumerate(blocks) if block.breakpoint]
        read_at = -1
        for mark in marks:
            for i in range(mark, max(-1, mark - LOOKBACK - 1), -1):
                if ("bp", hashes[i]) in self._store:
                    read_at = max(read_at, i)
                    break
        read = ends[read_at] if read_at >= 0 else 0
        written = 0
        for mark in marks:
            if ends[mark] >= self.min_tokens:
                self._store.add(("bp", hashes[mark]))
                if mark > read_at:
                    written = max(written, ends[mark] - read)
        return CacheUse(total, read, written)

    def _automatic(
        self, hashes: list[str], ends: list[int], total: int, key: str | None
    ) -> CacheUse:
        if not key:
            return CacheUse(total)
        read = 0
        if total >= self.min_tokens:
            for i in range(len(hashes) - 1, -1, -1):
                if (key, hashes[i]) in self._store:
                    read = ends[i] // 128 * 128
                    break
        for digest in hashes:
            self._store.add((key, digest))
        return CacheUse(total, read, 0)
