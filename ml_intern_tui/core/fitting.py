"""Cutting oversized messages so a conversation fits the context window.

Compaction summarises the middle of a conversation; when there is no middle (a short
conversation with one huge paste or tool output) or the summary is not enough, the
biggest messages are cut instead: their start and end are kept with a mark between
saying how much went and that the full text is in the session journal. The newest user
message is cut last, and only when nothing else is enough (the turn says so).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

Message = dict[str, Any]

CUT_MARK = (
    "[… {cut:,} tokens cut here to fit the model's context window; "
    "the full text is in the session journal …]"
)
_MARK_RE = re.compile(
    r"\s*" + re.escape(CUT_MARK).replace(re.escape("{cut:,}"), r"[\d,]+") + r"\s*"
)
MIN_KEEP = 200
"""Tokens kept of a cut message (its start and end), so it still says what it was."""
HEAD_SHARE = 2 / 3
"""Of the kept text, the share taken from the start (the end gets the rest)."""


@dataclass(frozen=True)
class Cut:
    """One message cut to fit: where it was, its size before and after (our tokens)."""

    index: int
    role: str
    before: int
    after: int
    newest_user: bool = False


def plan_cuts(
    sizes: Sequence[int], excess: int, order: Sequence[int], floor: int = MIN_KEEP
) -> dict[int, int]:
    """Tokens to keep of each message to cut, so that about ``excess`` tokens go.

    Messages are taken in ``order`` (the biggest first, the one to spare last), each cut
    only as far as needed and never below ``floor``. Returns ``{index: tokens to keep}``.
    """
    keep: dict[int, int] = {}
    remaining = excess
    for index in order:
        if remaining <= 0:
            break
        spare = sizes[index] - floor
        if spare <= 0:
            continue
        cut = min(spare, remaining)
        keep[index] = sizes[index] - cut
        remaining -= cut
    return keep


def cut_text(text: str, keep_tokens: int, tokens: int, removed: int | None = None) -> str:
    """``text`` (``tokens`` long) cut to about ``keep_tokens``, the mark included: its
    start and end are kept. ``removed`` is what the mark says went (default: the cut)."""
    if tokens <= keep_tokens or not text:
        return text
    mark = CUT_MARK.format(cut=removed if removed is not None else tokens - keep_tokens)
    keep_chars = max(0, int(len(text) * keep_tokens / tokens) - len(mark) - 4)
    head = int(keep_chars * HEAD_SHARE)
    tail = keep_chars - head
    end = text[len(text) - tail :].lstrip() if tail > 0 else ""
    return f"{text[:head].rstrip()}\n\n{mark}\n\n{end}".rstrip()


def cut_message(message: Message, keep_tokens: int, tokens: int) -> Message:
    """A copy of ``message`` cut to about ``keep_tokens`` (text, else tool-call arguments).

    A message cut before is cut again from what is left, its mark counting from the
    original size.
    """
    cut = dict(message)
    earlier = message.get("_cut")
    original = int(earlier["before"]) if isinstance(earlier, dict) else tokens
    removed = original - keep_tokens
    content = message.get("content")
    if isinstance(content, str):
        content = _MARK_RE.sub("\n\n", content) if earlier else content
    if isinstance(content, str) and len(content) * 2 >= _payload_chars(message):
        cut["content"] = cut_text(content, keep_tokens, tokens, removed)
    elif message.get("tool_calls"):
        # The bulk is in the call arguments (a huge write): they become a note.
        note = json.dumps({"note": CUT_MARK.format(cut=original)})
        cut["tool_calls"] = [
            {**call, "function": {**(call.get("function") or {}), "arguments": note}}
            for call in message["tool_calls"]
        ]
        if isinstance(content, str) and content:
            cut["content"] = cut_text(content, max(1, keep_tokens // 2), tokens, removed)
    else:
        return message  # multi-part content: left alone
    return cut


def _payload_chars(message: Message) -> int:
    content = message.get("content")
    size = len(content) if isinstance(content, str) else 0
    for call in message.get("tool_calls") or []:
        size += len(str((call.get("function") or {}).get("arguments") or ""))
    return size


def cut_order(messages: Sequence[Message], sizes: Sequence[int], spare: int | None) -> list[int]:
    """Indices to cut, biggest first; the system prompt never, ``spare`` (if any) last."""
    candidates = [i for i in range(1, len(messages)) if i != spare]
    candidates.sort(key=lambda i: sizes[i], reverse=True)
    if spare is not None and 0 < spare < len(messages):
        candidates.append(spare)
    return candidates


def shrink(
    messages: list[Message],
    count: Callable[[list[Message]], int],
    excess: int,
    spare: int | None,
) -> tuple[list[Message], list[Cut]]:
    """Cut the biggest messages until about ``excess`` of our tokens are gone.

    ``count`` counts a list of messages (ours); ``spare`` is the index of the message cut
    last (the newest user message). Returns the new list and what was cut.
    """
    sizes = [count([m]) for m in messages]
    keep = plan_cuts(sizes, excess, cut_order(messages, sizes, spare))
    result = list(messages)
    cuts: list[Cut] = []
    for index, tokens in sorted(keep.items()):
        shortened = cut_message(messages[index], tokens, sizes[index])
        if shortened is messages[index]:
            continue
        after = count([shortened])
        earlier = messages[index].get("_cut")
        before = int(earlier["before"]) if isinstance(earlier, dict) else sizes[index]
        shortened["_cut"] = {"before": before, "after": after}
        result[index] = shortened
        role = str(messages[index].get("role") or "?")
        cuts.append(Cut(index, role, before, after, newest_user=index == spare))
    return result, cuts
